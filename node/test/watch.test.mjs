// client.watch() against a live sandbox: "sending" rows settle while the
// watch polls (delivered, invalid), a deadline passes with an email pending,
// an address's emails are found, close() stops a watch that is waiting, the
// event loop keeps turning during a poll, and bad settings fail before any
// request (the Node side of crates/sendcloud-status/tests/watch.rs).
//
// How a "sending" row ends is known in advance: the sandbox draws its
// settles from a seed in a fixed order, so a twin sandbox that settles
// everything shows each outcome.

import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'

import { Client, ValidationError, Watcher, DEFAULTS } from '../index.js'
import { startSandbox, closedPort, API_USER, API_KEY, TODAY } from './sandbox.mjs'

const ACCOUNT = ['--records', '2000', '--seed', '5', '--rate-limit', '0', '--cache', 'per-request']
const SETTLE = { settle_per_second: 2000, cache: 'per-request' }

const clientOf = (sb) => new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sb.baseUrl, rateLimitPerMinute: 0 })
const moves = (seen) => seen.map((t) => [t.from, t.to])

/** Each "sending" row's status code once it settles, by email id. */
async function settledOutcomes() {
  const twin = await startSandbox([...ACCOUNT, '--settle-per-second', '2000'])
  try {
    let seen = 0
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      const changes = await twin.changes()
      if (changes.length > 0 && changes.length === seen) {
        return new Map(changes.map((c) => [c.email_id, c.status_code]))
      }
      seen = changes.length
    }
  } finally {
    await twin.stop()
  }
}

/** Runs `body` with a fresh account (nothing settling yet), stopped afterwards. */
async function withAccount(body, args = []) {
  const sb = await startSandbox([...ACCOUNT, ...args])
  try {
    await body(sb)
  } finally {
    await sb.stop()
  }
}

/** A "sending" email of the demo apiUser that settles to `code`. */
async function sendingId(sb, outcomes, code) {
  const { email_ids: ids } = await sb.truth({ days: 30, status: 18 })
  const id = ids.find((i) => outcomes.get(i) === code)
  assert.ok(id, `a sending email that settles to ${code}`)
  return id
}

/** Watches until the end, settling every row once the first poll has seen "sending". */
async function watchUntilSettled(sb, watcher) {
  const seen = []
  for await (const t of watcher) {
    seen.push(t)
    if (t.to === 'sending') await sb.live(SETTLE)
  }
  return seen
}

describe('client.watch', () => {
  let outcomes

  before(async () => {
    outcomes = await settledOutcomes()
  })

  it('follows a sending email until it is delivered', () =>
    withAccount(async (sb) => {
      const id = await sendingId(sb, outcomes, 1)
      const watcher = clientOf(sb).watch(id, { intervalMs: 1000, timeoutMs: 60_000, jitterSeed: 3 })
      assert.ok(watcher instanceof Watcher)
      const seen = await watchUntilSettled(sb, watcher)
      assert.deepEqual(moves(seen), [
        [null, 'sending'],
        ['sending', 'delivered'],
      ])
      assert.ok(seen.every((t) => t.emailId === id && typeof t.recipient === 'string'))
      const last = seen.at(-1)
      assert.ok(last.observedAt instanceof Date && last.changedAt instanceof Date)
      assert.equal(last.subStatus, null)
      assert.deepEqual(watcher.notices, [], 'no cache warning on loopback')
      const result = watcher.result
      assert.equal(result.endedBy, 'all_delivered')
      assert.deepEqual([result.delivered, result.failed, result.pending], [[id], [], []])
      assert.equal(result.polls, (await sb.requests()).length)
      // The iterator's own return value is the result too.
      assert.deepEqual(await watcher.next(), { done: true, value: result })
    }))

  it('ends failed when an email turns invalid', () =>
    withAccount(async (sb) => {
      const id = await sendingId(sb, outcomes, 4)
      const watcher = clientOf(sb).watch([id], { intervalMs: 1000, timeoutMs: 60_000 })
      const seen = await watchUntilSettled(sb, watcher)
      assert.deepEqual(moves(seen), [
        [null, 'sending'],
        ['sending', 'invalid'],
      ])
      const last = seen.at(-1)
      assert.ok(last.subStatus >= 401 && last.subStatus <= 409, JSON.stringify(last))
      assert.equal(typeof last.subStatusDescription, 'string')
      const result = watcher.result
      assert.equal(result.endedBy, 'failed')
      assert.deepEqual([result.invalid, result.failed, result.delivered], [[id], [id], []])
    }))
})

it('ends when the deadline passes with the email pending', () =>
  withAccount(async (sb) => {
    const { email_ids: sending } = await sb.truth({ days: 3, status: 18 })
    const watcher = clientOf(sb).watch(sending[0], { intervalMs: 1000, timeoutMs: 3000 })
    const seen = []
    for await (const t of watcher) seen.push(t)
    assert.deepEqual(moves(seen), [[null, 'sending']])
    const result = watcher.result
    assert.equal(result.endedBy, 'deadline_passed')
    assert.deepEqual([result.pending, result.delivered, result.failed], [[sending[0]], [], []])
    assert.equal(result.polls, (await sb.requests()).length)
  }))

it('follows every email to an address', () =>
  withAccount(async (sb) => {
    const client = clientOf(sb)
    // An address whose mail of the last 3 days (at least two emails) is all delivered.
    const counts = new Map()
    for await (const r of client.records({ days: 3, today: TODAY })) {
      counts.set(r.recipient, (counts.get(r.recipient) ?? 0) + 1)
    }
    let address
    let expected
    for (const [a, n] of counts) {
      if (n < 2) continue
      const all = (await sb.truth({ days: 3, email: a })).email_ids
      const delivered = (await sb.truth({ days: 3, email: a, status: 1 })).email_ids
      if (JSON.stringify(all) === JSON.stringify(delivered)) {
        address = a
        expected = all
        break
      }
    }
    assert.ok(address, 'such an address')
    const watcher = client.watch({ email: address, intervalMs: 1000, timeoutMs: 20_000, today: TODAY })
    const seen = []
    for await (const t of watcher) seen.push(t)
    assert.deepEqual(seen.map((t) => t.emailId).sort(), [...expected].sort())
    assert.ok(seen.every((t) => t.recipient === address && t.from === null && t.to === 'delivered'))
    assert.equal(watcher.result.endedBy, 'all_delivered')
    assert.deepEqual([...watcher.result.delivered].sort(), [...expected].sort())
  }))

it('close() stops a watch that is waiting for its next poll', () =>
  withAccount(async (sb) => {
    const { email_ids: sending } = await sb.truth({ days: 3, status: 18 })
    // An hour between polls: only close() ends the wait (a timer left behind would keep this process alive).
    const watcher = clientOf(sb).watch(sending[0], { intervalMs: 3_600_000, timeoutMs: null })
    const first = await watcher.next()
    assert.equal(first.value.to, 'sending')
    const pending = watcher.next()
    await watcher.close()
    assert.deepEqual(await pending, { done: true, value: undefined })
    assert.ok(watcher.closed)
    assert.equal(watcher.result, null)
    assert.equal((await sb.requests()).length, 1, 'no poll after close()')
  }))

it('break in for await closes the watch', () =>
  withAccount(async (sb) => {
    const { email_ids: sending } = await sb.truth({ days: 3, status: 18 })
    const watcher = clientOf(sb).watch(sending[0], { intervalMs: 3_600_000 })
    for await (const t of watcher) {
      assert.equal(t.to, 'sending')
      break
    }
    assert.ok(watcher.closed)
    assert.deepEqual(await watcher.next(), { done: true, value: undefined })
  }))

it('the event loop keeps turning while a poll is on the thread pool', () =>
  withAccount(
    async (sb) => {
      const { email_ids: sending } = await sb.truth({ days: 3, status: 18 })
      const watcher = clientOf(sb).watch(sending[0], { intervalMs: 3_600_000 })
      let ticks = 0
      const timer = setInterval(() => ticks++, 20)
      try {
        const first = await watcher.next() // one request, answered after 800 ms
        assert.equal(first.value.to, 'sending')
      } finally {
        clearInterval(timer)
        await watcher.close()
      }
      // A blocked loop gives 0 or 1.
      assert.ok(ticks >= 5, `only ${ticks} timer ticks`)
    },
    ['--latency-ms', '800'],
  ))

it('a short interval on a remote host warns before the first poll', async () => {
  // The default region through a proxy on a closed loopback port: nothing leaves the machine.
  const client = new Client({ apiUser: 'user', apiKey: 'key', proxy: `http://127.0.0.1:${await closedPort()}`, maxRetries: 0 })
  const watcher = client.watch('1716170000000_1_2.sc-1-inbound0$a@example.com', { intervalMs: 60_000 })
  const warned = once(process, 'warning')
  const pending = watcher.next()
  const [warning] = await warned
  assert.equal(warning.code, 'SENDCLOUD_CACHED_ANSWERS')
  assert.match(warning.message, /cache for 10 minutes/)
  assert.deepEqual(watcher.notices, [warning.message])
  await watcher.close()
  assert.deepEqual(await pending, { done: true, value: undefined })
})

it('bad settings fail before any request', () =>
  withAccount(async (sb) => {
    const client = clientOf(sb)
    const cases = [
      [[], 'emailIds'],
      [[null, {}], 'emailIds'],
      [[[]], 'emailIds'],
      [['a;b'], 'emailIds'],
      [[5], 'emailIds'],
      [[['x', 7]], 'emailIds'],
      [[null, { email: 'nope' }], 'email'],
      [['x', { intervalMs: 500 }], 'intervalMs'],
      [['x', { intervalMs: '60000' }], 'intervalMs'],
      [['x', { intervalMs: -1 }], 'intervalMs'],
      [['x', { softBounceGraceMs: Number.NaN }], 'softBounceGraceMs'],
      [['x', { timeoutMs: 0 }], 'timeoutMs'],
      [['x', { timeoutMs: 2 * 86_400_000 }], 'timeoutMs'],
      [['x', { softBounceGraceMs: 2 * 86_400_000 }], 'softBounceGraceMs'],
      [['x', { today: '2024-13-01' }], 'today'],
      [['x', { jitterSeed: 1.5 }], 'jitterSeed'],
      [['x', { speed: 1 }], 'speed'],
    ]
    for (const [args, field] of cases) {
      assert.throws(
        () => client.watch(...args),
        (e) => e instanceof ValidationError && e.field === field,
        `${JSON.stringify(args)} → ${field}`,
      )
    }
    assert.deepEqual(await sb.requests(), [])
  }))

it('exposes the watch defaults', () => {
  assert.deepEqual(
    [DEFAULTS.watchIntervalMs, DEFAULTS.minWatchIntervalMs, DEFAULTS.softBounceGraceMs, DEFAULTS.watchTimeoutMs],
    [600_000, 1000, 3_600_000, 7_200_000],
  )
})
