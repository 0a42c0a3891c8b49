// verifyWebhook beyond the vectors: option forms, typed errors, repeats,
// redaction. Pure: no server.

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { inspect } from 'node:util'

import {
  DEFAULT_WEBHOOK_TOLERANCE_MS,
  ERROR_CODES,
  SendCloudError,
  ValidationError,
  WebhookError,
  WebhookMalformedError,
  WebhookSignatureError,
  WebhookStaleError,
  verifyWebhook,
} from '../index.js'

const KEY = 'SENTINEL-WEBHOOK-KEY'
const TS = 1716170000000
const NOW = new Date(TS + 5000)

function body({ event = 'deliver', ts = TS, token = 'tok-' + 'x'.repeat(46), key = KEY, ...more } = {}) {
  const signature = createHmac('sha256', key).update(`${ts}${token}`).digest('hex')
  const fields = { event, emailId: '1_2_3$a@b.com', recipient: 'a@b.com', timestamp: String(ts), token, signature, ...more }
  return new URLSearchParams(fields).toString()
}

function thrown(fn) {
  try {
    fn()
  } catch (e) {
    return e
  }
  assert.fail('did not throw')
}

describe('verifyWebhook', () => {
  it('returns a frozen, typed event', () => {
    const ev = verifyWebhook(body({ subStatus: '503', Foo: 'bar' }), KEY, { now: NOW })
    assert.equal(ev.kind, 'delivered')
    assert.equal(ev.event, 'deliver')
    assert.equal(ev.category, 'delivered')
    assert.equal(ev.subStatus, 503)
    assert.deepEqual(ev.time, new Date(TS))
    assert.deepEqual(ev.extra, { Foo: 'bar' })
    assert.equal(ev.repeated, false)
    assert.ok(Object.isFrozen(ev) && Object.isFrozen(ev.extra))
    assert.ok(!inspect(ev).includes(KEY))
    assert.equal(verifyWebhook(body({ event: 'open' }), KEY, { now: NOW }).category, null)
    assert.equal(verifyWebhook(body({ event: 'request' }), KEY, { now: NOW }).category, 'sending')
  })

  it('marks a seen token as repeated, not an error', () => {
    const b = body()
    const seen = new Set()
    const first = verifyWebhook(b, KEY, { now: NOW, seen })
    assert.equal(first.repeated, false)
    seen.add(first.token)
    assert.equal(verifyWebhook(b, KEY, { now: NOW, seen }).repeated, true)
    assert.equal(verifyWebhook(b, KEY, { now: NOW, seen: new Map([[first.token, 1]]) }).repeated, true)
  })

  it('takes now as a Date or Unix ms, and a tolerance', () => {
    const b = body()
    assert.ok(verifyWebhook(b, KEY, { now: TS + 60000, toleranceMs: 60000 }))
    const e = thrown(() => verifyWebhook(b, KEY, { now: TS + 60001, toleranceMs: 60000 }))
    assert.ok(e instanceof WebhookStaleError)
    assert.equal(DEFAULT_WEBHOOK_TOLERANCE_MS, 35 * 60 * 1000)
    const now = Date.now()
    assert.equal(verifyWebhook(body({ ts: now }), KEY).timestamp, String(now)) // default: the clock
  })

  it('throws typed errors with stable codes', () => {
    const stale = thrown(() => verifyWebhook(body(), KEY, { now: new Date(TS + 3600000) }))
    assert.ok(stale instanceof WebhookStaleError && stale instanceof WebhookError && stale instanceof SendCloudError)
    assert.equal(stale.code, 'WEBHOOK_STALE')
    assert.equal(stale.httpStatus, 403)
    assert.equal(stale.skewMs, 3600000)
    assert.equal(stale.toleranceMs, DEFAULT_WEBHOOK_TOLERANCE_MS)

    const sig = thrown(() => verifyWebhook(body({ key: 'another-key' }), KEY, { now: NOW }))
    assert.ok(sig instanceof WebhookSignatureError)
    assert.equal(sig.code, 'WEBHOOK_SIGNATURE')
    assert.equal(sig.httpStatus, 403)

    const bad = thrown(() => verifyWebhook(Buffer.from('event=deliver'), KEY, { now: NOW }))
    assert.ok(bad instanceof WebhookMalformedError)
    assert.equal(bad.code, 'WEBHOOK_MALFORMED')
    assert.equal(bad.httpStatus, 400)
    assert.match(bad.message, /emailId/)
    for (const e of [stale, sig, bad]) assert.ok(!inspect(e).includes(KEY) && !e.message.includes(KEY))
    for (const c of ['WEBHOOK_MALFORMED', 'WEBHOOK_SIGNATURE', 'WEBHOOK_STALE']) assert.ok(ERROR_CODES.includes(c))
  })

  it('refuses bad arguments', () => {
    const cases = [
      [() => verifyWebhook(body(), ' ', { now: NOW }), 'appKey'],
      [() => verifyWebhook(body(), KEY, { now: new Date(NaN) }), 'now'],
      [() => verifyWebhook(body(), KEY, { now: NOW, toleranceMs: -1 }), 'toleranceMs'],
      [() => verifyWebhook(body(), KEY, { now: NOW, seen: [] }), 'seen'],
      [() => verifyWebhook(body(), KEY, { now: NOW, tolerance: 1 }), 'tolerance'],
      [() => verifyWebhook(42, KEY), 'body'],
    ]
    for (const [fn, field] of cases) {
      const e = thrown(fn)
      assert.ok(e instanceof ValidationError, `${field}: ${e}`)
      assert.equal(e.field, field)
    }
    assert.equal(verifyWebhook(new Uint8Array(Buffer.from(body())), KEY, { now: NOW }).kind, 'delivered')
  })
})
