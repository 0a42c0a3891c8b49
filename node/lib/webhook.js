'use strict'

/**
 * Event webhooks: `verifyWebhook` over the Rust core's `webhook::Verifier`.
 * Pure and fast (no I/O): it runs on the calling thread.
 */

const native = require('./native.js')
const { ValidationError, fromNative } = require('./errors.js')

/** The default tolerance, ms (35 minutes), from the Rust core. */
const DEFAULT_WEBHOOK_TOLERANCE_MS = native.defaultWebhookToleranceMs()

const OPTIONS = new Set(['contentType', 'now', 'toleranceMs', 'seen'])

function nowMs(now) {
  if (now === undefined || now === null) return null
  const ms = now instanceof Date ? now.getTime() : now
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new ValidationError('invalid now: must be a valid Date or Unix milliseconds', { field: 'now' })
  }
  return ms
}

/**
 * Parses and checks one webhook delivery (pass the raw body): parse →
 * signature → age → seen token. Returns a frozen event (`repeated: true`
 * when `seen` holds its token: acknowledge it, store nothing), or throws a
 * `WebhookMalformedError` (400), `WebhookSignatureError` (403) or
 * `WebhookStaleError` (403). `contentType` is informative: the body decides.
 * @param {string | Uint8Array} body
 * @param {string} appKey
 * @param {{contentType?: string, now?: Date | number, toleranceMs?: number, seen?: {has(token: string): boolean}}} [opts]
 */
function verifyWebhook(body, appKey, opts = {}) {
  if (opts === null || typeof opts !== 'object') {
    throw new ValidationError('invalid options: must be an object', { field: null })
  }
  for (const k of Object.keys(opts)) {
    if (!OPTIONS.has(k)) throw new ValidationError(`verifyWebhook(): unknown option ${k}`, { field: k })
  }
  if (body instanceof Uint8Array && !Buffer.isBuffer(body)) {
    body = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  } else if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
    throw new ValidationError('invalid body: must be a string or bytes', { field: 'body' })
  }
  if (typeof appKey !== 'string') {
    throw new ValidationError('invalid appKey: must be a string', { field: 'appKey' })
  }
  const tolerance = opts.toleranceMs ?? null
  if (tolerance !== null && (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0)) {
    throw new ValidationError('invalid toleranceMs: must be a number ≥ 0', { field: 'toleranceMs' })
  }
  const seen = opts.seen ?? null
  if (seen !== null && typeof seen.has !== 'function') {
    throw new ValidationError('invalid seen: must be a Set (or have has(token))', { field: 'seen' })
  }
  let e
  try {
    e = native.verifyWebhook(body, appKey, nowMs(opts.now), tolerance)
  } catch (err) {
    throw fromNative(err)
  }
  const { timeMs, ...fields } = e
  return Object.freeze({
    ...fields,
    time: new Date(timeMs),
    extra: Object.freeze(e.extra),
    repeated: seen !== null && Boolean(seen.has(e.token)),
  })
}

module.exports = { verifyWebhook, DEFAULT_WEBHOOK_TOLERANCE_MS }
