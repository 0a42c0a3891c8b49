'use strict'

const util = require('node:util')

const native = require('./native.js')
const { fromNative, ValidationError } = require('./errors.js')
const options = require('./options.js')
const { BatchedRecords, closeOnAsyncDispose } = require('./lifecycle.js')

/**
 * The records of an archive selection, as an async iterable: a reader
 * thread reads batches from the file while the loop works through them, so
 * an archive of any size takes little memory. Breaking out of `for await`,
 * `close()`, `await using` and garbage collection stop the reader.
 */
class ArchiveRecords extends BatchedRecords {
  #native

  /** @internal */
  constructor(nativeRecords) {
    super()
    this.#native = nativeRecords
  }

  _fetchBatch() {
    return this.#native.nextBatch()
  }

  _accept(batch) {
    return batch.records
  }

  _stop() {
    this.#native.close()
  }

  [util.inspect.custom](depth, opts) {
    return `ArchiveRecords ${util.inspect({ done: this.done }, opts)}`
  }
}

closeOnAsyncDispose(ArchiveRecords)

/**
 * A local archive written by `client.sync()`, read offline: no request, no
 * credentials. The methods take the filters of `client.records()` (but
 * `start`/`limit`, and labels: the API's rows carry none) and return the
 * same shapes, in the server's order. No window means every archived day;
 * without `apiUsers`, every apiUser in the archive; `days` counts back from
 * `today` (default: today at `serverUtcOffset`).
 *
 * Nothing is opened until the first call, which rejects with
 * ARCHIVE_MISSING, NOT_AN_ARCHIVE or ARCHIVE_VERSION for a bad file. Every
 * read runs on Node's thread pool.
 */
class Archive {
  #native

  constructor(path, settings) {
    if (typeof path !== 'string' || path === '') {
      throw new ValidationError('invalid path: must be a non-empty string naming the archive file', { field: 'path' })
    }
    const opts = options.normalize(settings, options.ARCHIVE, 'new Archive()')
    try {
      this.#native = new native.NativeArchive(path, opts)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** The archive file. */
  get path() {
    return this.#native.path
  }

  /** Whether `close()` was called. */
  get closed() {
    return this.#native.closed
  }

  /**
   * The archived records the filters select, as an async iterable (oldest
   * request first). Throws a VALIDATION error at once for bad filters.
   */
  records(filters) {
    const q = options.normalize(filters, options.ARCHIVE_FILTERS, 'records()')
    try {
      return new ArchiveRecords(this.#native.records(q))
    } catch (e) {
      throw fromNative(e)
    }
  }

  /**
   * Every archived email sent to an address (case-insensitively), or the one
   * email with that id (ids hold a `$`), with the states it went through.
   */
  async history(addressOrId) {
    if (typeof addressOrId !== 'string') {
      throw new ValidationError('invalid addressOrId: must be a string', { field: 'addressOrId' })
    }
    try {
      return await this.#native.history(addressOrId)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** `client.summary()` over the selected archived records. */
  async summary(filters) {
    const q = options.normalize(filters, options.ARCHIVE_FILTERS, 'summary()')
    try {
      return await this.#native.summary(q)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** `client.suppressions()` over the selected archived records. */
  async suppressions(filters) {
    const q = options.normalize(filters, options.ARCHIVE_SUPPRESSIONS, 'suppressions()')
    try {
      return await this.#native.suppressions(q)
    } catch (e) {
      throw fromNative(e)
    }
  }

  /** Closes the connection on the thread pool (open record streams keep theirs). Idempotent. */
  async close() {
    await this.#native.close()
  }

  get [Symbol.toStringTag]() {
    return 'Archive'
  }

  [util.inspect.custom](depth, opts) {
    return `Archive ${util.inspect({ path: this.path, closed: this.closed }, opts)}`
  }
}

closeOnAsyncDispose(Archive)

module.exports = { Archive, ArchiveRecords }
