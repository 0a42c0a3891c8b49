'use strict'

/**
 * Errors thrown by this package: `SendCloudError` and one subclass per
 * `code`, named as in the Python package (`AuthenticationError`,
 * `RateLimitError`; the earlier `AuthError` and `RateLimitedError` are
 * aliases of the same classes). The native addon throws plain `Error`s
 * carrying the same properties; `fromNative` turns them into these classes.
 * The archive's codes have `ArchiveError` subclasses (`ArchiveBusyError`,
 * …), the webhook codes `WebhookError` subclasses (`WebhookSignatureError`, …).
 */

const ERROR_CODES = Object.freeze([
  'VALIDATION',
  'AUTH',
  'RATE_LIMITED',
  'QUOTA',
  'SERVER',
  'TRANSPORT',
  'DECODE',
  'API',
  'INTERNAL',
  'ARCHIVE',
  'ARCHIVE_BUSY',
  'ARCHIVE_MISSING',
  'NOT_AN_ARCHIVE',
  'ARCHIVE_VERSION',
  'WEBHOOK_MALFORMED',
  'WEBHOOK_SIGNATURE',
  'WEBHOOK_STALE',
])

class SendCloudError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string, apiCode?: number|null, field?: string|null, reason?: string|null,
   *          httpStatus?: number|null, retryable?: boolean, cause?: unknown}} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = new.target.name
    /** One of ERROR_CODES. */
    this.code = details.code ?? new.target.code ?? 'API'
    /** The API's `statusCode`, when the server answered with one. */
    this.apiCode = details.apiCode ?? null
    /** For VALIDATION: the option at fault (`days`, `startDate`, `emailIds`…), or null. */
    this.field = details.field ?? null
    /**
     * The detail below `code`, a stable name: for VALIDATION why (`missing`, `conflict`,
     * `incomplete`, `out_of_range`, `malformed`, `unknown_name`, `contradiction`,
     * `rejected_by_server`, `other`), for TRANSPORT what failed (`dns`, `refused`, `connect`,
     * `timeout`, `connection_reset`, `body_incomplete`, `tls`, `other`, `fatal`); else null.
     */
    this.reason = details.reason ?? null
    /** The HTTP status of the answer, when there was one. */
    this.httpStatus = details.httpStatus ?? null
    /** Whether the same request may succeed if sent again. */
    this.retryable = details.retryable ?? false
  }
}

const classes = {}

/**
 * A webhook delivery refused by `verifyWebhook`: `httpStatus` is what the
 * receiver answers (400 malformed, 403 bad signature or stale).
 */
class WebhookError extends SendCloudError {
  constructor(message, details = {}) {
    super(message, details)
    if (this.code === 'WEBHOOK_STALE') {
      /** `now - timestamp`, ms (negative: in the future). */
      this.skewMs = details.skewMs ?? null
      /** The tolerance in force, ms. */
      this.toleranceMs = details.toleranceMs ?? null
    }
  }
}
for (const [code, name] of [
  ['VALIDATION', 'ValidationError'],
  ['AUTH', 'AuthenticationError'],
  ['RATE_LIMITED', 'RateLimitError'],
  ['QUOTA', 'QuotaError'],
  ['SERVER', 'ServerError'],
  ['TRANSPORT', 'TransportError'],
  ['DECODE', 'DecodeError'],
  ['API', 'ApiError'],
  ['INTERNAL', 'InternalError'],
  ['ARCHIVE', 'ArchiveError'],
  ['ARCHIVE_BUSY', 'ArchiveBusyError'],
  ['ARCHIVE_MISSING', 'ArchiveMissingError'],
  ['NOT_AN_ARCHIVE', 'NotAnArchiveError'],
  ['ARCHIVE_VERSION', 'ArchiveVersionError'],
  ['WEBHOOK_MALFORMED', 'WebhookMalformedError'],
  ['WEBHOOK_SIGNATURE', 'WebhookSignatureError'],
  ['WEBHOOK_STALE', 'WebhookStaleError'],
]) {
  // A named class per code, so `instanceof AuthenticationError` and `err.name` work;
  // the archive's cases extend ArchiveError.
  const base = code.startsWith('WEBHOOK_')
    ? WebhookError
    : code.includes('ARCHIVE') && code !== 'ARCHIVE'
      ? classes.ARCHIVE
      : SendCloudError
  const cls = {
    [name]: class extends base {
      static code = code
    },
  }[name]
  classes[code] = cls
}

/** napi's argument-conversion statuses: a value of the wrong type reached Rust. */
const NAPI_TYPE_ERRORS = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'BigintExpected',
])

/**
 * A `SendCloudError` for an error from the native addon; other errors
 * (internal ones, bugs) are returned as they are.
 * @param {unknown} e
 * @returns {unknown}
 */
function fromNative(e) {
  if (e instanceof SendCloudError || e === null || typeof e !== 'object') return e
  const err = /** @type {any} */ (e)
  if (err.name === 'SendCloudError' && ERROR_CODES.includes(err.code)) {
    return new classes[err.code](err.message, {
      apiCode: err.apiCode,
      field: err.field,
      reason: err.reason,
      httpStatus: err.httpStatus,
      retryable: err.retryable,
      skewMs: err.skewMs,
      toleranceMs: err.toleranceMs,
    })
  }
  if (NAPI_TYPE_ERRORS.has(err.code)) {
    const m = /on \w+\.(\w+)/.exec(String(err.message))
    return new classes.VALIDATION(`invalid ${m ? m[1] : 'argument'}: ${err.message}`, {
      field: m ? m[1] : null,
    })
  }
  return e
}

module.exports = {
  ERROR_CODES,
  SendCloudError,
  ValidationError: classes.VALIDATION,
  AuthenticationError: classes.AUTH,
  RateLimitError: classes.RATE_LIMITED,
  // The names before 0.2, kept as aliases of the same classes.
  AuthError: classes.AUTH,
  RateLimitedError: classes.RATE_LIMITED,
  QuotaError: classes.QUOTA,
  ServerError: classes.SERVER,
  TransportError: classes.TRANSPORT,
  DecodeError: classes.DECODE,
  ApiError: classes.API,
  InternalError: classes.INTERNAL,
  ArchiveError: classes.ARCHIVE,
  ArchiveBusyError: classes.ARCHIVE_BUSY,
  ArchiveMissingError: classes.ARCHIVE_MISSING,
  NotAnArchiveError: classes.NOT_AN_ARCHIVE,
  ArchiveVersionError: classes.ARCHIVE_VERSION,
  WebhookError,
  WebhookMalformedError: classes.WEBHOOK_MALFORMED,
  WebhookSignatureError: classes.WEBHOOK_SIGNATURE,
  WebhookStaleError: classes.WEBHOOK_STALE,
  fromNative,
}
