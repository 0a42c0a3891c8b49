// The local archive from Node: client.sync() into an SQLite file, Archive
// reading it offline, against the sandbox with live switches (rows settling
// between syncs); a busy archive, an aborted sync, the event loop during a
// sync, and the archive's errors.
//
// The sandboxes run on a fixed clock (NOW); syncs plan on it (`serverNow:`
// its `now`) and read every planned day again at once (`rescanAfterMs: 0`).

import { before, after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

import {
  Client,
  Archive,
  ArchiveRecords,
  SendCloudError,
  ValidationError,
  ArchiveError,
  ArchiveBusyError,
  ArchiveMissingError,
  NotAnArchiveError,
  ArchiveVersionError,
  ERROR_CODES,
  DEFAULTS,
} from '../index.js'
import { startSandbox, API_USER, API_KEY, TODAY } from './sandbox.mjs'

const FIRST = '2024-05-17' // four days: 05-17 .. 05-20 (TODAY)
const WINDOW = { startDate: FIRST, endDate: TODAY }
const CODES = { delivered: 1, invalid: 4, soft_bounce: 5, sending: 18 }
const SECRET = 'archive-SECRET-key-77ab'

let dir
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'sendcloud-archive-'))
})
after(() => {
  rmSync(dir, { recursive: true, force: true })
})

let n = 0
const file = (name = 'status') => path.join(dir, `${name}-${++n}.db`)
const ids = (records) => records.map((r) => r.emailId)
const clientOf = (sb, extra = {}) =>
  new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sb.baseUrl, rateLimitPerMinute: 0, ...extra })

/** Polls `condition` (a "did not hang" bound, not a timing assertion). */
async function waitFor(condition, what, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** Every history row of the archive, through the public API: the sum of each email's states. */
async function historyRows(archive) {
  const all = ids(await archive.records().toArray())
  let rows = 0
  for (let i = 0; i < all.length; i += 100) {
    const found = await Promise.all(all.slice(i, i + 100).map((id) => archive.history(id)))
    for (const [email] of found) rows += email.history.length
  }
  return rows
}

/** Runs `body` with a sandbox, stopped afterwards. */
async function withSandbox(args, body) {
  const sb = await startSandbox(args)
  try {
    await body(sb)
  } finally {
    await sb.stop()
  }
}

const LIVE = ['--records', '6000', '--days-of-data', '4', '--rate-limit', '0']
const SLOWISH = ['--records', '12000', '--rate-limit', '0', '--latency-ms', '100']

describe('client.sync() and Archive', () => {
  it('a first sync, rows settle, a second sync: the archive equals the server, history shows both states', () =>
    withSandbox(LIVE, async (sb) => {
      const db = file()
      const client = clientOf(sb)
      const truth = (await sb.truth(WINDOW)).email_ids
      const sending = (await sb.truth({ ...WINDOW, status: 18 })).email_ids
      assert.ok(truth.length > 2000 && sending.length >= 20, `${truth.length} rows, ${sending.length} sending`)

      const first = await client.sync(db, { since: FIRST, serverNow: await sb.now(), rescanAfterMs: 0 })
      assert.equal(first.outcome, 'complete')
      assert.deepEqual([first.daysRead, first.daysPlanned], [4, 4])
      assert.deepEqual(first.planned, ['2024-05-17', '2024-05-18', '2024-05-19', TODAY].map((day) => ({ day, reason: 'new' })))
      assert.deepEqual([first.recordsSeen, first.inserted, first.changed], [truth.length, truth.length, 0])
      assert.ok(first.requests > 0 && first.requests === first.stats.requests)
      assert.deepEqual([first.today, first.start, first.clampedSince, first.inexactDays], [TODAY, FIRST, null, []])

      // "Sending" rows settle on the server, then it holds still.
      await sb.live({ settle_per_second: 400 })
      await sleep(300)
      await sb.live({})
      const inWindow = new Set(truth)
      const settled = [...new Set((await sb.changes()).map((c) => c.email_id))].filter((id) => inWindow.has(id)).sort()
      assert.ok(settled.length >= 10, `${settled.length} settled`)

      const second = await client.sync(db, { since: FIRST, serverNow: await sb.now(), rescanAfterMs: 0 })
      assert.deepEqual([second.inserted, second.changed, second.outcome], [0, settled.length, 'complete'])

      const now = await sb.now()
      const archive = new Archive(db)
      try {
        // The archive equals the sandbox's truth for the synced days, status by status…
        assert.deepEqual(ids(await archive.records(WINDOW).toArray()), truth)
        for (const [status, code] of Object.entries(CODES)) {
          const want = (await sb.truth({ ...WINDOW, status: code })).email_ids
          assert.deepEqual(ids(await archive.records({ ...WINDOW, status }).toArray()), want, status)
        }
        // …and record for record what an export of the same days returns.
        const online = await client.records({ ...WINDOW, serverNow: now }).toArray()
        assert.deepEqual(await archive.records(WINDOW).toArray(), online)
        assert.deepEqual(ids(await archive.records().toArray()), truth, 'no window: every archived day')

        // A settled email's history: first seen sending, then its final state.
        for (const id of settled.slice(0, 5)) {
          const [email, more] = await archive.history(id)
          assert.equal(more, undefined)
          assert.equal(email.record.emailId, id)
          const states = email.history.map((h) => h.category)
          assert.equal(states.length, 2, JSON.stringify(states))
          assert.equal(states[0], 'sending')
          assert.notEqual(states[1], 'sending')
          assert.equal(email.record.category, states[1])
          // (The sandbox's clock stands still at NOW, so the times a sync stamps are not ordered across syncs.)
          assert.ok(email.history.every((h) => h.seenAt instanceof Date))
          assert.ok(email.firstSeenAt instanceof Date && email.lastSeenAt instanceof Date)
          assert.ok(email.history[1].modifiedTime instanceof Date && email.history[1].modifiedTimeRaw)
        }
        const [one] = await archive.history(settled[0])
        const byAddress = await archive.history(one.record.recipient.toUpperCase())
        assert.ok(byAddress.some((e) => e.record.emailId === settled[0]))
        assert.ok(byAddress.every((e) => e.record.recipient.toLowerCase() === one.record.recipient.toLowerCase()))
        assert.deepEqual(await archive.history('nobody@example.com'), [])

        // Reports from the archive equal the online reports of the same days.
        assert.deepEqual(await archive.summary(WINDOW), await client.summary({ ...WINDOW, serverNow: now }))
        assert.deepEqual(
          await archive.summary({ days: 3, today: TODAY, status: 'invalid' }),
          await client.summary({ days: 3, serverNow: now, status: 'invalid' }),
        )
        assert.deepEqual(
          await archive.suppressions({ ...WINDOW, softBounces: 1 }),
          await client.suppressions({ ...WINDOW, softBounces: 1, serverNow: now }),
        )

        // Nothing new on the server: a third sync adds no email and no history row.
        const rows = await historyRows(archive)
        assert.equal(rows, truth.length + settled.length)
        const third = await client.sync(db, { since: FIRST, serverNow: await sb.now(), rescanAfterMs: 0 })
        assert.deepEqual([third.inserted, third.changed], [0, 0])
        assert.ok(third.daysRead >= 1)
        assert.equal(await historyRows(archive), rows)
      } finally {
        await archive.close()
      }
    }))

  it('skips days read within rescanAfterMs (default: 10 minutes) without a request', () =>
    withSandbox(LIVE, async (sb) => {
      const db = file()
      const client = clientOf(sb)
      await client.sync(db, { since: TODAY, serverNow: await sb.now(), rescanAfterMs: 0 })
      await sb.clear()
      const again = await client.sync(db, { since: TODAY, serverNow: await sb.now() })
      assert.deepEqual([again.daysRead, again.requests, again.skippedRecent], [0, 0, [TODAY]])
      assert.deepEqual(await sb.requests(), [])
      assert.equal(DEFAULTS.rescanAfterMs, 600_000)
    }))

  it('records stream in batches; break closes the stream; a closed archive rejects', () =>
    withSandbox(LIVE, async (sb) => {
      const db = file()
      await clientOf(sb).sync(db, { since: FIRST, serverNow: await sb.now(), rescanAfterMs: 0 })
      const truth = (await sb.truth(WINDOW)).email_ids
      const archive = new Archive(db)
      assert.equal(archive.path, db)
      const records = archive.records(WINDOW)
      assert.ok(records instanceof ArchiveRecords)
      const head = []
      for await (const r of records) {
        head.push(r.emailId)
        if (head.length === 1500) break // past the reader's first batch
      }
      assert.deepEqual(head, truth.slice(0, 1500))
      assert.equal(records.done, true)
      assert.deepEqual(await records.next(), { value: undefined, done: true })
      // Concurrent next() calls are served in order.
      const stream = archive.records(WINDOW)
      const firsts = await Promise.all(Array.from({ length: 5 }, () => stream.next()))
      assert.deepEqual(firsts.map((r) => r.value.emailId), truth.slice(0, 5))
      await stream.close()
      await archive.close()
      await archive.close()
      assert.equal(archive.closed, true)
      await assert.rejects(archive.summary(), /closed/)
      assert.throws(() => archive.records(), /closed/)
    }))

  it('a second sync while one runs is told the archive is busy; readers are not blocked', () =>
    withSandbox(SLOWISH, async (sb) => {
      const db = file()
      const good = clientOf(sb)
      // Its key is wrong, and never shows: the lock is checked before any request.
      const other = clientOf(sb, { apiKey: SECRET })
      await sb.clear()
      const running = good.sync(db, { serverNow: await sb.now() })
      await waitFor(async () => (await sb.requests()).length > 0, "the first sync's first request")
      await assert.rejects(other.sync(db, { serverNow: await sb.now() }), (e) => {
        assert.ok(e instanceof ArchiveBusyError && e instanceof ArchiveError && e instanceof SendCloudError)
        assert.equal(e.code, 'ARCHIVE_BUSY')
        assert.equal(e.retryable, true)
        assert.match(e.message, /busy/)
        assert.ok(e.message.includes(db))
        assert.ok(!JSON.stringify(e).includes(SECRET) && !e.stack.includes(SECRET))
        return true
      })
      const reader = new Archive(db)
      await reader.summary() // the pages written so far
      await reader.close()
      const report = await running
      assert.deepEqual([report.outcome, report.daysRead], ['complete', 30])
      assert.equal((await good.sync(db, { serverNow: await sb.now(), rescanAfterMs: 0 })).outcome, 'complete')
    }))

  it('an AbortSignal stops a sync after its page; the next sync finishes the job', () =>
    withSandbox(SLOWISH, async (sb) => {
      const db = file()
      const client = clientOf(sb)
      // Aborted before the start: nothing is opened or sent.
      await sb.clear()
      const early = AbortSignal.abort(new Error('not now'))
      await assert.rejects(client.sync(db, { signal: early }), /not now/)
      assert.deepEqual(await sb.requests(), [])
      assert.equal(existsSync(db), false)

      const controller = new AbortController()
      const running = client.sync(db, { serverNow: await sb.now(), signal: controller.signal })
      await waitFor(async () => (await sb.requests()).length > 3, "the sync's first requests")
      controller.abort()
      await assert.rejects(running, (e) => e.name === 'AbortError')
      // Whole pages were kept; the next sync reads the rest (the archive is free once the
      // aborted sync's page is written: retried while it still holds the lock).
      let report
      await waitFor(async () => {
        try {
          report = await client.sync(db, { serverNow: await sb.now(), rescanAfterMs: 0 })
          return true
        } catch (e) {
          if (e.code === 'ARCHIVE_BUSY') return false
          throw e
        }
      }, 'the archive to be free')
      assert.equal(report.outcome, 'complete')
      const archive = new Archive(db)
      assert.deepEqual(ids(await archive.records().toArray()), (await sb.truth({ days: 30 })).email_ids)
      await archive.close()
    }))

  it('the event loop keeps ticking during a sync', () =>
    withSandbox(SLOWISH, async (sb) => {
      const client = clientOf(sb)
      let ticks = 0
      const timer = setInterval(() => ticks++, 20)
      const started = performance.now()
      let report
      try {
        report = await client.sync(file(), { serverNow: await sb.now() })
      } finally {
        clearInterval(timer)
      }
      const elapsed = performance.now() - started
      assert.ok(report.requests >= 30, `${report.requests} requests`)
      // ~60 pages at 100 ms: a blocked loop would tick once or not at all.
      assert.ok(ticks >= 4, `only ${ticks} timer ticks in ${Math.round(elapsed)} ms`)
    }))
})

describe('archive errors', () => {
  let sb
  before(async () => {
    sb = await startSandbox(['--records', '2000', '--rate-limit', '0'])
  })
  after(async () => {
    await sb?.stop()
  })

  it('the codes are listed and the classes nest under ArchiveError', () => {
    for (const code of ['ARCHIVE', 'ARCHIVE_BUSY', 'ARCHIVE_MISSING', 'NOT_AN_ARCHIVE', 'ARCHIVE_VERSION']) {
      assert.ok(ERROR_CODES.includes(code), code)
    }
    for (const cls of [ArchiveBusyError, ArchiveMissingError, NotAnArchiveError, ArchiveVersionError]) {
      assert.ok(cls.prototype instanceof ArchiveError && cls.prototype instanceof SendCloudError)
    }
  })

  it('ARCHIVE_MISSING: no file at the path (nothing is created)', async () => {
    const db = file('missing')
    const archive = new Archive(db) // nothing opened yet
    for (const call of [() => archive.summary(), () => archive.history('x@example.com'), () => archive.records().toArray()]) {
      await assert.rejects(call(), (e) => e instanceof ArchiveMissingError && e.code === 'ARCHIVE_MISSING' && e.field === 'path')
    }
    assert.equal(existsSync(db), false)
  })

  it('NOT_AN_ARCHIVE: another kind of file is refused untouched, nothing sent', async () => {
    const text = path.join(dir, 'notes.txt')
    writeFileSync(text, 'not a database, '.repeat(100))
    const content = readFileSync(text)
    await sb.clear()
    const matcher = (e) => e instanceof NotAnArchiveError && e.code === 'NOT_AN_ARCHIVE' && e.field === 'path'
    await assert.rejects(new Archive(text).summary(), matcher)
    await assert.rejects(clientOf(sb).sync(text, { serverNow: await sb.now() }), matcher)
    assert.deepEqual(readFileSync(text), content)
    assert.deepEqual(await sb.requests(), [])
  })

  it('VALIDATION: bad sync settings reject before anything is opened or sent', async () => {
    const client = clientOf(sb)
    await sb.clear()
    const db = file('never')
    const cases = [
      [{ lookbackDays: -1 }, 'lookbackDays'],
      [{ lookbackDays: 1.5 }, 'lookbackDays'],
      [{ sendingMaxAgeDays: -1 }, 'sendingMaxAgeDays'],
      [{ rescanAfterMs: -1 }, 'rescanAfterMs'],
      [{ rescanAfterMs: '10m' }, 'rescanAfterMs'],
      [{ since: '2024-13-01' }, 'since'],
      [{ apiUsers: [''] }, 'apiUsers'],
      [{ apiUsers: [] }, 'apiUsers'],
      [{ today: TODAY, serverNow: '2024-05-20 12:00:00' }, 'serverNow'],
      [{ serverNow: 'yesterday' }, 'serverNow'],
      [{ signal: 'stop' }, 'signal'],
      [{ lookback: 3 }, 'lookback'],
    ]
    for (const [settings, field] of cases) {
      await assert.rejects(
        client.sync(db, settings),
        (e) => e instanceof ValidationError && e.code === 'VALIDATION' && e.field === field,
        JSON.stringify(settings),
      )
    }
    for (const bad of ['', 42, null]) {
      await assert.rejects(client.sync(bad), (e) => e.code === 'VALIDATION' && e.field === 'path')
      assert.throws(() => new Archive(bad), (e) => e.code === 'VALIDATION' && e.field === 'path')
    }
    assert.equal(existsSync(db), false)
    assert.deepEqual(await sb.requests(), [])
  })

  it('VALIDATION: bad archive filters', async () => {
    const db = file()
    await clientOf(sb).sync(db, { since: TODAY, serverNow: await sb.now() })
    const archive = new Archive(db)
    const cases = [
      [{ days: 0 }, 'days'],
      [{ labelId: 3 }, 'labelId'],
      [{ labelName: 'news' }, 'labelName'],
      [{ status: 'bounced' }, 'status'],
      [{ startDate: '2024-05-17' }, 'window'],
      [{ days: 1, today: '20.05.2024' }, 'today'],
      [{ days: 1, start: 5 }, 'start'],
      [{ days: 1, limit: 5 }, 'limit'],
    ]
    for (const [filters, field] of cases) {
      const matcher = (e) => e instanceof ValidationError && e.field === field
      const what = JSON.stringify(filters)
      assert.throws(() => archive.records(filters), matcher, what)
      await assert.rejects(archive.summary(filters), matcher, what)
      await assert.rejects(archive.suppressions(filters), matcher, what)
    }
    await assert.rejects(archive.suppressions({ softBounces: 0 }), (e) => e.field === 'softBounces')
    await assert.rejects(archive.history('  '), (e) => e.field === 'addressOrId')
    assert.throws(() => new Archive(db, { serverUtcOffset: '8' }), (e) => e.field === 'serverUtcOffset')
    await archive.close()
  })

  it('ARCHIVE_VERSION: an archive from a newer version is refused', async () => {
    // Made newer by hand: the schema version is SQLite's user_version, at byte 60 of the header.
    const db = file('newer')
    await clientOf(sb).sync(db, { since: TODAY, serverNow: await sb.now() })
    const bytes = readFileSync(db)
    bytes.writeUInt32BE(999, 60)
    writeFileSync(db, bytes)
    await assert.rejects(
      new Archive(db).summary(),
      (e) => e instanceof ArchiveVersionError && e.code === 'ARCHIVE_VERSION' && /999/.test(e.message),
    )
  })
})
