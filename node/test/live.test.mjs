// Exports against a live sandbox account over loopback HTTP: "sending" rows
// settling while a status=sending export pages them, mail arriving during a
// plain export, and the server's midnight passing mid-export, in both cache
// models and both result orders (the Node side of
// crates/sendcloud-status/tests/live.rs).
//
// The account changes in real time, so how much moves differs from run to
// run; every assertion holds whatever moved: each row that was in the window
// at the start and did not change is emitted exactly once, nothing twice,
// nothing from outside the window, and the export says it is exact. The
// client plans on the sandbox's clock (`serverNow:` its `now`).

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { Client } from '../index.js'
import { startSandbox, API_USER, API_KEY } from './sandbox.mjs'

const START = '2024-05-20 15:00:00'

/**
 * 60,000 records over three days (about 600 "sending" for the demo apiUser),
 * answers slowed a little so that the account moves while it is paged. Live
 * switches off.
 */
function liveSandbox({ order = 'oldest-first', cache = 'snapshot' } = {}) {
  return startSandbox([
    '--now', START,
    '--records', '60000',
    '--days-of-data', '3',
    '--latency-ms', '2',
    '--rate-limit', '0',
    '--order', order,
    '--cache', cache,
  ])
}

const clientOf = (sb, extra = {}) =>
  new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sb.baseUrl, rateLimitPerMinute: 0, ...extra })

/** Runs the export on the sandbox's clock; calls `each` with the records taken so far. */
async function exportIds(sb, client, options, each = async () => {}) {
  const records = client.records({ ...options, serverNow: await sb.now() })
  const got = []
  for await (const r of records) {
    got.push(r.emailId)
    await each(got.length)
  }
  return { got, stats: records.stats }
}

/** Every id once; every unchanged row of `truth` present; nothing outside `possible`. */
function check(got, truth, changed, possible, stats) {
  const seen = new Set()
  for (const id of got) {
    assert.ok(!seen.has(id), `${id} emitted twice; ${JSON.stringify(stats)}`)
    assert.ok(possible.has(id), `${id} is not in the window; ${JSON.stringify(stats)}`)
    seen.add(id)
  }
  assert.deepEqual(stats.unstableUnits, [], JSON.stringify(stats))
  const lost = truth.filter((id) => !changed.has(id) && !seen.has(id))
  assert.deepEqual(lost.slice(0, 3), [], `${lost.length} unchanged rows lost; ${JSON.stringify(stats)}`)
}

/** Runs `body` with a live sandbox, stopped afterwards. */
async function withSandbox(settings, body) {
  const sb = await liveSandbox(settings)
  try {
    await body(sb)
  } finally {
    await sb.stop()
  }
}

describe('status: sending under settling loses no unchanged row', () => {
  for (const cache of ['per-request', 'snapshot']) {
    for (const order of ['oldest-first', 'newest-first']) {
      for (const parallel of [1, 4]) {
        it(`${cache}, ${order}, parallel ${parallel}`, () =>
          withSandbox({ order, cache }, async (sb) => {
            const truth = (await sb.truth({ days: 3, status: 18 })).email_ids
            assert.ok(truth.length > 400, `enough sending rows to page: ${truth.length}`)
            const settings = { order, cache, settle_per_second: 400 }
            await sb.live(settings)
            // Setting the live account again drops every cached snapshot: under the
            // snapshot cache, the pages after this read a result that moved.
            const halfway = async (n) => {
              if (n === Math.floor(truth.length / 2)) await sb.live(settings)
            }
            const options = { days: 3, status: 'sending', limit: 20, parallel }
            const { got, stats } = await exportIds(sb, clientOf(sb), options, halfway)
            const changed = new Set((await sb.changes()).map((c) => c.email_id))
            assert.ok(changed.size > 0, 'rows settled during the export')
            check(got, truth, changed, new Set(truth), stats)
            if (cache === 'per-request') {
              // Every page read the live rows: the result shrank under the paginator,
              // and the export noticed and read the window again.
              assert.ok(stats.unitsReread >= 1 && stats.passes >= 2 && stats.totalDrift > 0, JSON.stringify(stats))
            }
          }))
      }
    }
  }
})

describe('live counters', () => {
  it('stay at zero when nothing moves', () =>
    withSandbox({ cache: 'per-request' }, async (sb) => {
      const truth = (await sb.truth({ days: 3, status: 18 })).email_ids
      const { got, stats } = await exportIds(sb, clientOf(sb), { days: 3, status: 'sending', limit: 20 })
      assert.deepEqual(got, truth)
      const { passes, unitsReread, totalDrift, shortPages, emptyPages, unstableUnits, duplicates } = stats
      assert.deepEqual(
        { passes, unitsReread, totalDrift, shortPages, emptyPages, unstableUnits, duplicates },
        { passes: 1, unitsReread: 0, totalDrift: 0, shortPages: 0, emptyPages: 0, unstableUnits: [], duplicates: 0 },
      )
      assert.deepEqual(await sb.changes(), [])
    }))
})

describe('a plain export under arrivals', () => {
  it('loses nothing and repeats nothing (newest first, per-request)', () =>
    withSandbox({ order: 'newest-first', cache: 'per-request' }, async (sb) => {
      const truth = (await sb.truth({ days: 1 })).email_ids
      await sb.live({ order: 'newest-first', cache: 'per-request', arrivals_per_second: 300 })
      const { got, stats } = await exportIds(sb, clientOf(sb, { parallel: 2 }), { days: 1, limit: 50 })
      const arrived = new Set((await sb.changes()).map((c) => c.email_id))
      assert.ok(arrived.size > 0, 'mail arrived during the export')
      // Nothing that was there changed: every row of the start is due.
      check(got, truth, new Set(), new Set([...truth, ...arrived]), stats)
      // New mail ahead of the paginator (newest first) pushed the rows along: read again.
      assert.ok(stats.unitsReread >= 1, JSON.stringify(stats))
    }))
})

describe("an export across the server's midnight", () => {
  for (const parallel of [1, 3]) {
    it(`returns the window of its start (parallel ${parallel})`, () =>
      withSandbox({}, async (sb) => {
        const truth = (await sb.truth({ days: 3 })).email_ids
        await sb.live({ day_advance_after_requests: 5 }) // the server's day moves on after the fifth request
        const { got, stats } = await exportIds(sb, clientOf(sb, { parallel }), { days: 3, limit: 100 })
        assert.equal((await sb.info()).today, '2024-05-21', 'midnight passed during the export')
        assert.deepEqual(got, truth, 'exactly the window as it stood at the start')
        assert.equal(stats.unitsReread, 0, `nothing moved: no re-read; ${JSON.stringify(stats)}`)
        check(got, truth, new Set(), new Set(truth), stats)
      }))
  }
})
