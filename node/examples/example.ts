// Bounces of the last week, a suppression list and a resumable export, typed
// with the package's public types. Run from node/ after `npm run build`:
//   npx tsc -p . && node examples/example.js     (or just type-check: npx tsc --noEmit -p .)
// Uses SENDCLOUD_API_USER / SENDCLOUD_API_KEY (and SENDCLOUD_REGION or SENDCLOUD_BASE_URL).

import {
  Archive,
  ArchiveBusyError,
  Client,
  DEFAULTS,
  SendCloudError,
  ValidationError,
  type ArchivedEmail,
  type EmailRecord,
  type ErrorCode,
  type ExportStats,
  type Records,
  type RecordsOptions,
  type Summary,
  type Suppression,
  type SyncReport,
  type Watcher,
  type WatchResult,
  type WatchTransition,
} from 'sendcloud-status'

async function main(): Promise<void> {
  const client = new Client({ timeoutMs: 20_000, maxRetries: 5 }) // credentials from the environment
  console.log(client) // Client { apiUser: '…', endpoint: '…', method: 'POST' } — never the key

  // One page of today's hard bounces.
  const page = await client.page({ days: 1, status: 'invalid', limit: 20 })
  console.log(`${page.total ?? '?'} invalid emails today`)

  // Every soft bounce of the week: windows are split and pages followed for you.
  const options: RecordsOptions = { days: 7, status: 'soft_bounce', maxRecords: 1000 }
  const records: Records = client.records(options)
  for await (const record of records) {
    const r: EmailRecord = record
    const when: string = r.requestTime?.toISOString() ?? r.requestTimeRaw ?? 'unknown time'
    console.log(when, r.recipient, r.subStatus, r.subStatusDescription)
  }
  // Exact unless a window was still moving after its re-reads (a very busy live account).
  const stats: ExportStats = records.stats
  if (stats.unstableUnits.length > 0) {
    const units = stats.unstableUnits.map((u) => `${u.start}..${u.end} chunk ${u.chunk}`).join(', ')
    console.warn(`still moving after ${stats.unitsReread} re-reads: ${units}`)
  }
  // Save this to go on later (null when the export is complete).
  const cursor: string | null = records.cursor
  if (cursor !== null) {
    const rest = await client.records({ ...options, maxRecords: undefined, cursor }).toArray()
    console.log(`${rest.length} more`)
  }

  const summary: Summary = await client.summary({ days: 3 })
  console.log(`deliverability ${((summary.deliverabilityRate ?? 0) * 100).toFixed(1)} %`)
  for (const line of summary.subStatuses.slice(0, 3)) console.log(line.code, line.description, line.count)

  const suppress: Suppression[] = await client.suppressions({ days: 30, softBounces: 3 })
  console.log(suppress.map((s) => `${s.address}\t${s.reason}`).join('\n'))

  // A local archive: sync it (stop after 5 minutes at the latest), then read it offline.
  try {
    const report: SyncReport = await client.sync('status.db', { lookbackDays: DEFAULTS.lookbackDays, signal: AbortSignal.timeout(300_000) })
    console.log(`${report.daysRead} days read, ${report.inserted} new, ${report.changed} changed (${report.outcome})`)
  } catch (e) {
    if (!(e instanceof ArchiveBusyError)) throw e
    console.log('another sync is writing status.db; reading what it holds')
  }
  const archive = new Archive('status.db')
  for await (const r of archive.records({ days: 7, status: 'invalid' })) console.log(r.recipient)
  const [first]: ArchivedEmail[] = await archive.history('someone@example.com')
  console.log(first?.history.map((h) => `${h.seenAt?.toISOString()} ${h.category}`))
  console.log((await archive.summary({ days: 30 })).deliverabilityRate, client.parallel)
  await archive.close()

  // Follow an email until it is delivered or failed, for half an hour at most.
  const watcher: Watcher = client.watch('1716170000000_1_2.sc-1-inbound0$someone@example.com', { timeoutMs: 1_800_000 })
  for await (const t of watcher) {
    const change: WatchTransition = t
    console.log(change.observedAt.toISOString(), change.emailId, change.from ?? 'unseen', '→', change.to, change.subStatus)
  }
  const result: WatchResult | null = watcher.result
  if (result?.endedBy === 'failed') console.log('failed:', result.failed.join(', '))

  try {
    await client.page({ days: 0 })
  } catch (e) {
    if (e instanceof ValidationError) console.log(`bad ${e.field}: ${e.message}`)
    else if (e instanceof SendCloudError) {
      const code: ErrorCode = e.code
      console.log(code, e.apiCode, e.httpStatus, e.retryable)
    } else throw e
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
