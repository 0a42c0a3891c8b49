// Exports: full export = ground truth, maxRecords and cursor resume,
// parallel fetching, summary and suppressions.

import { before, after, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { Client, Records } from '../index.js'
import { startSandbox, truthParams, addDays, API_USER, API_KEY, TODAY } from './sandbox.mjs'

let sandbox
let client
let today

before(async () => {
  sandbox = await startSandbox(['--records', '6000'])
  client = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl })
  today = (await sandbox.info()).today
})

after(async () => {
  await sandbox?.stop()
})

const ids = (records) => records.map((r) => r.emailId)

describe('records()', () => {
  it('a full export equals the ground truth, in server order', async () => {
    const truth = await sandbox.truth({ days: 30 })
    assert.ok(truth.total > 3000)
    const records = client.records({ days: 30, today: TODAY })
    assert.ok(records instanceof Records)
    const all = []
    for await (const r of records) all.push(r)
    assert.deepEqual(ids(all), truth.email_ids)
    assert.equal(records.cursor, null, 'a complete export has no cursor')
    assert.equal(records.done, true)
    assert.equal(records.stats.records, truth.total)
    assert.equal(records.stats.duplicates, 0)
    // Iterating a finished export yields nothing more.
    assert.deepEqual(await records.next(), { value: undefined, done: true })
  })

  it('a date-range export across several windows equals the ground truth', async () => {
    const f = { startDate: addDays(today, -12), endDate: addDays(today, -2), status: 'soft_bounce' }
    const truth = await sandbox.truth(truthParams(f))
    assert.deepEqual(ids(await client.records(f).toArray()), truth.email_ids)
  })

  it('maxRecords stops the export and the cursor resumes it (concatenation = full export)', async () => {
    const f = { days: 7, today: TODAY }
    const truth = (await sandbox.truth(truthParams(f))).email_ids
    const parts = []
    let cursor
    for (const max of [150, 1, 99, 250]) {
      const records = client.records({ ...f, maxRecords: max, ...(cursor ? { cursor } : {}) })
      const part = await records.toArray()
      assert.equal(part.length, max)
      assert.equal(typeof records.cursor, 'string')
      cursor = records.cursor
      parts.push(...ids(part))
    }
    // The cursor carries the export's dates: resuming needs no `today`.
    const rest = client.records({ days: f.days, cursor })
    parts.push(...ids(await rest.toArray()))
    assert.equal(rest.cursor, null)
    assert.deepEqual(parts, truth)
  })

  it('breaking out of for-await closes the stream; the cursor resumes after the last record seen', async () => {
    const f = { days: 3, limit: 40, today: TODAY }
    const truth = (await sandbox.truth(truthParams(f))).email_ids
    const records = client.records(f)
    const seen = []
    const initial = records.cursor
    assert.match(initial, /^sc2\./)
    for await (const r of records) {
      seen.push(r.emailId)
      if (seen.length === 57) break // mid-page
    }
    const cursor = records.cursor
    // The stream is closed (its export cancelled), its cursor kept…
    assert.equal(records.done, true)
    assert.deepEqual(await records.next(), { value: undefined, done: true })
    assert.equal(records.cursor, cursor)
    // …and a new export from the saved cursor starts at the next record.
    const resumed = await client.records({ ...f, cursor }).toArray()
    assert.deepEqual([...seen, ...ids(resumed)], truth)
    // From the initial cursor: everything.
    assert.deepEqual(ids(await client.records({ ...f, cursor: initial }).toArray()), truth)
  })

  it('parallel fetching gives the same records in the same order', async () => {
    const truth = (await sandbox.truth({ days: 12 })).email_ids
    const par = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, parallel: 4 })
    assert.deepEqual(ids(await par.records({ days: 12, today: TODAY }).toArray()), truth)
    assert.deepEqual(ids(await client.records({ days: 12, parallel: 3, today: TODAY }).toArray()), truth)
  })

  it("parallel: 'auto' or a number per export, over the client's setting", async () => {
    const truth = (await sandbox.truth({ days: 5 })).email_ids
    const one = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, parallel: 1 })
    assert.equal(one.parallel, 1)
    assert.deepEqual(ids(await one.records({ days: 5, limit: 50, today: TODAY }).toArray()), truth)
    assert.deepEqual(ids(await one.records({ days: 5, limit: 50, parallel: 'auto', today: TODAY }).toArray()), truth)
    assert.deepEqual(ids(await client.records({ days: 5, limit: 50, parallel: 1, today: TODAY }).toArray()), truth)
  })

  it('concurrent next() calls are served in order', async () => {
    const truth = (await sandbox.truth({ days: 3 })).email_ids.slice(0, 150)
    assert.equal(truth.length, 150)
    const records = client.records({ days: 3, limit: 25, maxRecords: 150, today: TODAY })
    const results = await Promise.all(Array.from({ length: 151 }, () => records.next()))
    assert.deepEqual(
      results.slice(0, 150).map((r) => r.value.emailId),
      truth,
    )
    assert.equal(results[150].done, true)
  })

  it('a cursor from another query is refused', () => {
    const records = client.records({ days: 2, maxRecords: 1, today: TODAY })
    const cursor = records.cursor
    assert.throws(
      () => client.records({ days: 2, status: 'delivered', cursor }),
      (e) => e.code === 'VALIDATION' && e.field === 'cursor',
    )
  })

  for (const serverNow of ['2024-05-20 12:00:00', ' 2024-05-20T12:00:00.000 ']) {
    it(`serverNow plans the export on that server time: ${JSON.stringify(serverNow)}`, async () => {
      const truth = (await sandbox.truth({ days: 2 })).email_ids
      const records = client.records({ days: 2, limit: 50, serverNow })
      assert.deepEqual(ids(await records.toArray()), truth)
      // The sandbox's clock started at 12:00:00 and nothing arrived since: no row is newer
      // than the start, so nothing counts as a change.
      const { passes, unitsReread, totalDrift, shortPages, emptyPages, unstableUnits } = records.stats
      assert.deepEqual(
        { passes, unitsReread, totalDrift, shortPages, emptyPages, unstableUnits },
        { passes: 1, unitsReread: 0, totalDrift: 0, shortPages: 0, emptyPages: 0, unstableUnits: [] },
      )
    })
  }

  it('rows newer than serverNow count as changes: the window is read again, the output is the same', async () => {
    // At 01:00 on 2024-05-20, the rows sent between 01:00 and 12:00 look like mail that
    // arrived during the export.
    const truth = (await sandbox.truth({ days: 2 })).email_ids
    const records = client.records({ days: 2, limit: 50, serverNow: '2024-05-20 01:00:00' })
    assert.deepEqual(ids(await records.toArray()), truth)
    const stats = records.stats
    assert.deepEqual([stats.passes, stats.unitsReread, stats.unstableUnits], [2, 1, []], JSON.stringify(stats))
    assert.ok(stats.duplicates >= stats.records, 'the re-read found every row again (overlaps too)')
  })

  it('stats before the first page: every counter at zero, no unstable unit', () => {
    const records = client.records({ days: 2, today: TODAY })
    assert.deepEqual(records.stats, {
      requests: 0,
      retries: 0,
      rateLimited: 0,
      failures: 0,
      records: 0,
      duplicates: 0,
      pages: 0,
      passes: 0,
      unitsReread: 0,
      totalDrift: 0,
      shortPages: 0,
      emptyPages: 0,
      unstableUnits: [],
    })
    records.close()
  })

  it('inspecting a stream shows its position', async () => {
    const records = client.records({ days: 1, maxRecords: 3, today: TODAY })
    await records.toArray()
    const { inspect } = await import('node:util')
    assert.match(inspect(records, { breakLength: Infinity }), /^Records \{ cursor: 'sc2\./)
  })
})

describe('parallelism and pacing by default', () => {
  /** Seconds an export takes (its records checked against the truth), and its stats. */
  async function timed(c, options, truth) {
    const started = performance.now()
    const records = c.records(options)
    const got = ids(await records.toArray())
    const seconds = (performance.now() - started) / 1000
    assert.deepEqual(got, truth)
    return { seconds, stats: records.stats }
  }

  for (const rateLimitPerMinute of [3000, 0]) {
    it(`the default keeps several requests in flight (rateLimitPerMinute ${rateLimitPerMinute})`, async () => {
      // At 100 ms a request, ~25 pages take 2.5 s or more one by one; 'auto' keeps several
      // in flight (a ratio, whatever the machine's speed: both runs wait on the same latency).
      const sb = await startSandbox(['--rate-limit', '0', '--records', '3000', '--latency-ms', '100'])
      try {
        const c = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sb.baseUrl, rateLimitPerMinute })
        assert.equal(c.parallel, 'auto')
        const truth = (await sb.truth({ days: 3 })).email_ids
        const f = { days: 3, limit: 6, today: TODAY }
        const one = await timed(c, { ...f, parallel: 1 }, truth)
        const auto = await timed(c, f, truth)
        assert.ok(one.stats.requests >= 20)
        assert.equal(auto.stats.requests, one.stats.requests)
        assert.ok(auto.seconds < one.seconds * 0.6, `auto ${auto.seconds} s vs one at a time ${one.seconds} s`)
      } finally {
        await sb.stop()
      }
    })
  }

  for (const off of [0, null]) {
    it(`rateLimitPerMinute ${off} turns client pacing off`, async () => {
      // The same one-at-a-time export (~35 requests), paced at 1200/min (at least 1.7 s), then
      // unpaced, against a sandbox without a limit of its own.
      const sb = await startSandbox(['--rate-limit', '0', '--records', '4000'])
      try {
        const truth = (await sb.truth({ days: 3 })).email_ids
        const f = { days: 3, limit: 5, parallel: 1, today: TODAY }
        const make = (rateLimitPerMinute) => new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sb.baseUrl, rateLimitPerMinute })
        const paced = await timed(make(1200), f, truth)
        const unpaced = await timed(make(off), f, truth)
        assert.ok(paced.stats.requests > 30)
        assert.ok(unpaced.seconds * 2 < paced.seconds, `unpaced ${unpaced.seconds} s vs paced ${paced.seconds} s`)
      } finally {
        await sb.stop()
      }
    })
  }
})

describe('summary() and suppressions()', () => {
  it('summary counts match the ground truth per category and sub-status', async () => {
    const f = { days: 5, today: TODAY }
    const summary = await client.summary(f)
    const total = (await sandbox.truth(truthParams(f))).total
    assert.equal(summary.total, total)
    const byCategory = Object.fromEntries(summary.categories.map((c) => [c.category, c.count]))
    for (const status of ['delivered', 'invalid', 'soft_bounce', 'sending']) {
      assert.equal(byCategory[status], (await sandbox.truth(truthParams({ ...f, status }))).total, status)
    }
    assert.equal(byCategory.unknown, 0)
    const decided = byCategory.delivered + byCategory.invalid + byCategory.soft_bounce
    assert.equal(summary.deliverabilityRate, byCategory.delivered / decided)
    assert.ok(summary.subStatuses.length > 0)
    for (const line of summary.subStatuses) {
      assert.equal(line.count, (await sandbox.truth(truthParams({ ...f, subStatus: [line.code] }))).total)
      assert.equal(line.class, line.code < 500 ? 'permanent' : 'temporary')
    }
    assert.equal(summary.days.length, 5)
    assert.equal(summary.days.at(-1).date, today)
    assert.equal(
      summary.days.reduce((n, d) => n + d.total, 0),
      total,
    )
    assert.equal(summary.undated, 0)
  })

  it('summary with maxRecords counts only those; parallel changes nothing', async () => {
    const summary = await client.summary({ days: 5, maxRecords: 120, today: TODAY })
    assert.equal(summary.total, 120)
    assert.deepEqual(
      await client.summary({ days: 5, parallel: 3, today: TODAY }),
      await client.summary({ days: 5, today: TODAY }),
    )
  })

  it('suppressions: every permanent failure once; softBounces adds repeated soft bounces', async () => {
    const f = { days: 30, today: TODAY }
    const records = await client.records(f).toArray()
    const hard = new Set()
    const soft = new Map()
    for (const r of records) {
      const a = r.recipient.toLowerCase()
      if (r.category === 'invalid') hard.add(a)
      if (r.category === 'soft_bounce') soft.set(a, (soft.get(a) ?? 0) + 1)
    }
    const list = await client.suppressions(f)
    assert.deepEqual(new Set(list.map((s) => s.address.toLowerCase())), hard)
    assert.ok(list.every((s) => s.reason === 'permanent' && s.code >= 400 && s.code < 500))
    const sorted = list.map((s) => s.address.toLowerCase())
    assert.deepEqual(sorted, [...sorted].sort())

    const repeated = [...soft].filter(([a, n]) => n >= 2 && !hard.has(a)).map(([a]) => a)
    assert.ok(repeated.length > 0, 'the dataset has repeated soft bounces')
    const withSoft = await client.suppressions({ ...f, softBounces: 2 })
    assert.deepEqual(new Set(withSoft.map((s) => s.address.toLowerCase())), new Set([...hard, ...repeated]))
    const entry = withSoft.find((s) => s.reason === 'repeated_soft_bounces')
    assert.ok(entry.failures >= 2)
    assert.match(entry.lastSeen, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/)
  })
})
