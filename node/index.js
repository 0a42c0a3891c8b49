'use strict'

/**
 * sendcloud-status: delivery status, bounces and suppression lists from the
 * SendCloud / Aurora SendCloud `data/emailStatus` API, over the Rust client.
 * Types: index.d.ts.
 */

const native = require('./lib/native.js')
const { Client, Records, Watcher } = require('./lib/client.js')
const { Archive, ArchiveRecords } = require('./lib/archive.js')
const errors = require('./lib/errors.js')
const options = require('./lib/options.js')
const { verifyWebhook, DEFAULT_WEBHOOK_TOLERANCE_MS } = require('./lib/webhook.js')

const { fromNative } = errors

/** The values of the `status` filter (`soft-bounce` is accepted too; output spells `soft_bounce`). */
const STATUSES = Object.freeze(['delivered', 'invalid', 'soft_bounce', 'sending'])

/** The categories a record can have. */
const CATEGORIES = Object.freeze(['delivered', 'invalid', 'soft_bounce', 'sending', 'unknown'])

/** The Rust client's defaults (and `sync`'s), read from the addon. */
const DEFAULTS = Object.freeze(native.defaults())

/**
 * The keys of a record's canonical form (the CLI's JSON and CSV, Python's
 * `Record.to_dict()`), in order, `snake_case`: read from the Rust core.
 * JS records carry them camelCased.
 */
const RECORD_FIELDS = Object.freeze(native.recordFields())

function call(fn) {
  try {
    return fn()
  } catch (e) {
    throw fromNative(e)
  }
}

/**
 * Decodes one API answer, as the client does: `{ total, listSize, records }`,
 * or the classified SendCloudError thrown.
 * @param {number} httpStatus
 * @param {string | Uint8Array} body
 * @param {string} [serverUtcOffset] like '+08:00' (the default)
 */
function decodePage(httpStatus, body, serverUtcOffset) {
  if (!Number.isInteger(httpStatus) || httpStatus < 100 || httpStatus > 999) {
    throw new ValidationError('invalid httpStatus: must be an integer HTTP status', { field: 'httpStatus' })
  }
  if (body instanceof Uint8Array && !Buffer.isBuffer(body)) {
    body = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  } else if (typeof body !== 'string' && !Buffer.isBuffer(body)) {
    throw new ValidationError('invalid body: must be a string or bytes', { field: 'body' })
  }
  if (serverUtcOffset !== undefined && serverUtcOffset !== null && typeof serverUtcOffset !== 'string') {
    throw new ValidationError('invalid serverUtcOffset: must be a string like "+08:00"', {
      field: 'serverUtcOffset',
    })
  }
  return call(() => native.decodePage(httpStatus, body, serverUtcOffset ?? undefined))
}

/**
 * The wire parameters of the page the filters describe, credentials
 * excluded, unset filters omitted: `[['days', '1'], ['start', '0'], ['limit', '100']]`.
 */
function encodeQuery(filters) {
  const q = options.normalize(filters, options.FILTERS, 'encodeQuery()')
  return call(() => native.encodeQuery(q))
}

/**
 * The request one page becomes: `{ method, url, headers, body, params }`.
 * The body (POST) or URL (GET) holds the key you pass: do not log it.
 */
function encodeRequest(filters, settings) {
  const q = options.normalize(filters, options.FILTERS, 'encodeRequest()')
  const s = options.normalize(settings, options.ENCODE, 'encodeRequest()')
  return call(() => native.encodeRequest(q, s))
}

/** The package version. */
function version() {
  return native.version()
}

const {
  SendCloudError,
  ValidationError,
  AuthenticationError,
  RateLimitError,
  AuthError,
  RateLimitedError,
  QuotaError,
  ServerError,
  TransportError,
  DecodeError,
  ApiError,
  InternalError,
  ArchiveError,
  ArchiveBusyError,
  ArchiveMissingError,
  NotAnArchiveError,
  ArchiveVersionError,
  WebhookError,
  WebhookMalformedError,
  WebhookSignatureError,
  WebhookStaleError,
  ERROR_CODES,
} = errors

// Shorthand properties only, so that ES modules can import them by name.
module.exports = {
  Client,
  Records,
  Watcher,
  Archive,
  ArchiveRecords,
  SendCloudError,
  ValidationError,
  AuthenticationError,
  RateLimitError,
  AuthError,
  RateLimitedError,
  QuotaError,
  ServerError,
  TransportError,
  DecodeError,
  ApiError,
  InternalError,
  ArchiveError,
  ArchiveBusyError,
  ArchiveMissingError,
  NotAnArchiveError,
  ArchiveVersionError,
  WebhookError,
  WebhookMalformedError,
  WebhookSignatureError,
  WebhookStaleError,
  ERROR_CODES,
  STATUSES,
  CATEGORIES,
  DEFAULTS,
  RECORD_FIELDS,
  decodePage,
  encodeQuery,
  encodeRequest,
  verifyWebhook,
  DEFAULT_WEBHOOK_TOLERANCE_MS,
  version,
}
