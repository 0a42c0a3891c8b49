'use strict'

const util = require('node:util')

const native = require('./native.js')
const { fromNative, ValidationError } = require('./errors.js')
const options = require('./options.js')
const { Watcher } = require('./watch.js')
const { BatchedRecords, closeOnAsyncDispose } = require('./lifecycle.js')

// The counters of an export that has not fetched a page yet (a fresh copy
// each time: `unstableUnits` is an array).
function emptyStats() {
  return {
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
  }
}

/**
 * The records of an export, as an async iterable. Pages are fetched on
 * Node's thread pool (one page ahead), as the loop asks for records.
 *
 * `cursor` is where a later export resumes: the next record this one
 * would hand out (`null` once complete). Breaking out of a `for await`
 * loop (`return()`), `close()`, `await using` and garbage collection stop
 * the export: its requests and threads are cancelled and the stream ends,
 * but the cursor still resumes after the last record seen.
 */
class Records extends BatchedRecords {
  #native
  #batch
  #stats = null

  /** @internal */
  constructor(nativeRecords) {
    super()
    this.#native = nativeRecords
    // A batch with no records whose cursor is the start: every cursor is asked the same way.
    this.#batch = nativeRecords.start()
  }

  /** The resume position (a string), or `null` once the export is complete. */
  get cursor() {
    return this.#batch.cursorAt(this._position)
  }

  /**
   * Counters so far: requests, retries, rateLimited, failures, records,
   * duplicates, pages, and how the export coped with a live account
   * (passes, unitsReread, totalDrift, shortPages, emptyPages, unstableUnits).
   * The export is exact when `unstableUnits` is empty.
   */
  get stats() {
    return this.#stats === null ? emptyStats() : this.#stats
  }

  _fetchBatch() {
    return this.#native.nextBatch()
  }

  _accept(batch) {
    this.#batch = batch
    this.#stats = batch.stats
    return batch.takeRecords()
  }

  // The failed fetch's requests and retries count too.
  _failed() {
    this.#stats = this.#native.currentStats() ?? this.#stats
  }

  /**
   * Stops the export: cancels its requests and threads at once (a pending
   * `next()` resolves `done`), ends the stream, keeps the cursor. Called by
   * `break` in `for await`. Idempotent.
   */
  _stop() {
    this.#native.cancel()
  }

  [util.inspect.custom](depth, opts) {
    return `Records ${util.inspect({ cursor: this.cursor, done: this.done, stats: this.stats }, opts)}`
  }
}

/**
 * A SendCloud / Aurora SendCloud emailStatus client. Settings left unset
 * fall back to SENDCLOUD_API_USER, SENDCLOUD_API_KEY, SENDCLOUD_REGION and
 * SENDCLOUD_BASE_URL. The key is kept in Rust and never shown.
 */
class Client {
  #native

  constructor(settings) {
    const opts = options.normalize(settings, options.CLIENT, 'new Client()')
    try {
      this.#native = new native.NativeClient(opts)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** The `apiUser`. */
  get apiUser() {
    return this.#native.apiUser
  }

  /** `{ baseUrl, url, maxWindowDays, region }`. */
  get endpoint() {
    return this.#native.endpoint
  }

  /** `'POST'` or `'GET'`. */
  get method() {
    return this.#native.method
  }

  /** `'auto'` or the fixed number of requests in flight during exports. */
  get parallel() {
    return this.#native.parallel
  }

  /** Today on the server's calendar (`yyyy-MM-dd`), which anchors `days`. */
  serverToday() {
    return this.#native.serverToday()
  }

  /** Exactly the page the filters describe (`start`, `limit`; one window). */
  async page(filters) {
    const q = options.normalize(filters, options.FILTERS, 'page()')
    try {
      return await this.#native.page(q)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /**
   * Every matching record, across windows, id chunks and pages, as an async
   * iterable with a `cursor`. Throws a VALIDATION error at once for bad input.
   */
  records(filters) {
    const q = options.normalize(filters, options.RECORDS, 'records()')
    try {
      return new Records(this.#native.records(q))
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** The deliverability summary of every matching record. */
  async summary(filters) {
    const q = options.normalize(filters, options.SUMMARY, 'summary()')
    try {
      return await this.#native.summary(q)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /**
   * The addresses to stop mailing: every permanent failure, and with
   * `softBounces: n` the addresses that soft-bounced at least n times.
   */
  async suppressions(filters) {
    const q = options.normalize(filters, options.SUPPRESSIONS, 'suppressions()')
    try {
      return await this.#native.suppressions(q)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /**
   * Brings the local archive at `path` (an SQLite file, created when
   * missing) up to date with the account, on Node's thread pool, and
   * resolves to what it did. Read the file with `new Archive(path)`.
   * `options.signal` (an AbortSignal) stops the sync after the page being
   * written; the promise then rejects with the signal's reason.
   */
  async sync(path, settings) {
    if (typeof path !== 'string' || path === '') {
      throw new ValidationError('invalid path: must be a non-empty string naming the archive file', { field: 'path' })
    }
    const { signal, ...opts } = options.normalize(settings, options.SYNC, 'sync()')
    let job
    try {
      job = this.#native.syncJob(path, opts)
    } catch (e) {
      throw fromNative(e)
    }
    signal?.throwIfAborted()
    const abort = () => job.cancel()
    signal?.addEventListener('abort', abort, { once: true })
    try {
      return await job.run()
    } catch (e) {
      if (signal?.aborted && e?.code === 'ABORTED') throw signal.reason
      throw fromNative(e)
    } finally {
      signal?.removeEventListener('abort', abort)
    }
  }

  /**
   * Follows emails until each is final (delivered, invalid, or a soft
   * bounce unchanged for `softBounceGraceMs`), or the deadline passes: an
   * async iterable of transitions whose `result` then says how it ended.
   * `emailIds` is an id, a list of them, or `null` with `options.email`
   * (every email to that address sent in the last 3 days); the options may
   * also come first: `client.watch({ email })`. Throws a VALIDATION error
   * at once for bad input (nothing is sent).
   */
  watch(emailIds, settings) {
    if (settings === undefined && emailIds !== null && typeof emailIds === 'object' && !Array.isArray(emailIds)) {
      settings = emailIds
      emailIds = undefined
    }
    const ids = options.normalize({ emailIds }, { emailIds: 'string[]' }, 'watch()').emailIds ?? []
    const opts = options.normalize(settings, options.WATCH, 'watch()')
    try {
      return new Watcher(this.#native.watch(ids, opts))
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** What `JSON.stringify` shows: no key. */
  toJSON() {
    return { apiUser: this.apiUser, endpoint: this.endpoint.url, method: this.method }
  }

  get [Symbol.toStringTag]() {
    return 'Client'
  }

  [util.inspect.custom](depth, opts) {
    return `Client ${util.inspect(this.toJSON(), opts)}`
  }
}

closeOnAsyncDispose(Records)

module.exports = { Client, Records, Watcher }
