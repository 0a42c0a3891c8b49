'use strict'

/**
 * Shape checks of option objects before they cross into Rust: unknown keys
 * and wrong JS types become VALIDATION errors naming the option. Every
 * semantic rule (ranges, dates, addresses, windows) is the Rust core's.
 * Values are never echoed in messages (one of them is the API key).
 */

const { ValidationError } = require('./errors.js')

const FILTERS = Object.freeze({
  days: 'number',
  startDate: 'string',
  endDate: 'string',
  email: 'string',
  emailIds: 'string[]',
  labelId: 'number',
  labelName: 'string',
  apiUsers: 'string[]',
  status: 'string',
  subStatus: 'number[]',
  start: 'number',
  limit: 'number',
})

const CLIENT = Object.freeze({
  apiUser: 'string',
  apiKey: 'string',
  region: 'string',
  baseUrl: 'string',
  maxWindowDays: 'number',
  method: 'string',
  timeoutMs: 'number',
  connectTimeoutMs: 'number',
  maxRetries: 'number',
  rateLimitPerMinute: 'number',
  parallel: 'parallel',
  serverUtcOffset: 'string',
  emailIdChunk: 'number',
  userAgent: 'string',
  proxy: 'string',
  retryBaseDelayMs: 'number',
  retryRateLimitDelayMs: 'number',
  retryMaxDelayMs: 'number',
  retryDeadlineMs: 'number',
  jitterSeed: 'number',
})

// `today` / `serverNow`: where an export plans its window (the server's
// clock as this machine reads it, by default).
const PLAN = Object.freeze({ today: 'string', serverNow: 'string' })
const RECORDS = Object.freeze({ ...FILTERS, maxRecords: 'number', cursor: 'string', parallel: 'parallel', ...PLAN })
const SUMMARY = Object.freeze({ ...FILTERS, maxRecords: 'number', parallel: 'parallel', ...PLAN })
const SUPPRESSIONS = Object.freeze({ ...FILTERS, maxRecords: 'number', softBounces: 'number', parallel: 'parallel', ...PLAN })
// `client.sync(path, options)` (the `signal` stays in JS).
const SYNC = Object.freeze({
  signal: 'AbortSignal',
  since: 'string',
  lookbackDays: 'number',
  sendingMaxAgeDays: 'number',
  rescanAfterMs: 'number',
  apiUsers: 'string[]',
  today: 'string',
  serverNow: 'string',
})
// `client.watch(ids, options)`; `timeoutMs: null` (or `Infinity`) means no deadline.
const WATCH = Object.freeze({
  email: 'string',
  intervalMs: 'number',
  softBounceGraceMs: 'number',
  timeoutMs: 'number',
  today: 'string',
  jitterSeed: 'number',
})
// The archive's filters: those of a query but the page (`start`, `limit`), and
// `today` for `days`.
const ARCHIVE_FILTERS = Object.freeze({
  ...Object.fromEntries(Object.entries(FILTERS).filter(([key]) => key !== 'start' && key !== 'limit')),
  today: 'string',
})
const ARCHIVE_SUPPRESSIONS = Object.freeze({ ...ARCHIVE_FILTERS, softBounces: 'number' })
const ARCHIVE = Object.freeze({ serverUtcOffset: 'string' })
const ENCODE = Object.freeze({
  apiUser: 'string',
  apiKey: 'string',
  region: 'string',
  baseUrl: 'string',
  maxWindowDays: 'number',
  method: 'string',
})

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

function check(key, value, type) {
  switch (type) {
    case 'string':
    case 'number':
      if (typeof value !== type) {
        throw new ValidationError(`invalid ${key}: must be a ${type}, got ${describe(value)}`, { field: key })
      }
      return value
    case 'parallel':
      // 'auto' or a count; which strings and counts are valid is the Rust core's rule.
      if (typeof value !== 'number' && typeof value !== 'string') {
        throw new ValidationError(`invalid ${key}: must be 'auto' or a number, got ${describe(value)}`, { field: key })
      }
      return value
    case 'AbortSignal':
      if (!(value instanceof AbortSignal)) {
        throw new ValidationError(`invalid ${key}: must be an AbortSignal, got ${describe(value)}`, { field: key })
      }
      return value
    case 'string[]':
    case 'number[]': {
      const item = type.slice(0, -2)
      // A single value stands for a list of one.
      const list = Array.isArray(value) ? value : [value]
      for (const v of list) {
        if (typeof v !== item) {
          throw new ValidationError(`invalid ${key}: must be a list of ${item}s, got ${describe(v)} in it`, {
            field: key,
          })
        }
      }
      return list
    }
    default:
      throw new Error(`sendcloud-status: internal error: unknown option type ${type}`)
  }
}

/**
 * A plain copy of `options` holding only known keys with values of the right
 * type; `undefined` and `null` mean "not set" (`rateLimitPerMinute: null`
 * means "no limit", like 0; a watch's `timeoutMs: null`, no deadline).
 * @param {unknown} options
 * @param {Record<string, string>} allowed
 * @param {string} what  the method, for messages
 */
function normalize(options, allowed, what) {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new ValidationError(`${what}: options must be an object, got ${describe(options)}`)
  }
  const out = {}
  for (const key of Object.keys(options)) {
    const type = allowed[key]
    if (type === undefined) {
      throw new ValidationError(
        `${what}: unknown option ${JSON.stringify(key)}; expected one of ${Object.keys(allowed).join(', ')}`,
        { field: key },
      )
    }
    const value = options[key]
    if (value === undefined) continue
    if (value === null) {
      if (key === 'rateLimitPerMinute') out[key] = 0
      if (key === 'timeoutMs' && allowed === WATCH) out[key] = Infinity
      continue
    }
    out[key] = check(key, value, type)
  }
  return out
}

module.exports = {
  FILTERS,
  CLIENT,
  RECORDS,
  SUMMARY,
  SUPPRESSIONS,
  SYNC,
  WATCH,
  ARCHIVE,
  ARCHIVE_FILTERS,
  ARCHIVE_SUPPRESSIONS,
  ENCODE,
  normalize,
}
