'use strict'

const { fromNative } = require('./errors.js')

// What every object holding background work (exports, archive readers,
// watches) does alike: serve `next()` calls in order, and close on
// `await using`. One definition instead of one per class.

/**
 * Runs async steps one after the other, in call order, even when the caller
 * does not await each before the next (`Promise.all([it.next(), it.next()])`).
 * A failed step does not stop the ones queued after it.
 */
class InOrder {
  #tail = Promise.resolve()

  /**
   * @template T
   * @param {() => Promise<T>} step
   * @returns {Promise<T>}
   */
  run(step) {
    const result = this.#tail.then(step)
    this.#tail = result.then(
      () => {},
      () => {},
    )
    return result
  }
}

/**
 * `await using x = …` calls `x.close()`. The symbol is missing on some Node 20
 * releases; there the class simply has no disposer.
 * @param {Function} cls  a class with a `close()` method
 */
function closeOnAsyncDispose(cls) {
  if (typeof Symbol.asyncDispose !== 'symbol') return
  Object.defineProperty(cls.prototype, Symbol.asyncDispose, {
    value: function asyncDispose() {
      return this.close()
    },
    writable: true,
    configurable: true,
  })
}

/**
 * An async iterable of records fetched in batches from the native side (an
 * export's pages, an archive reader's batches): hands out one batch's records,
 * then fetches the next, serves `next()` calls in order, and ends on `close()`
 * (a pending `next()` resolves `done`) or `break`. Subclasses say how a batch
 * is fetched and read, and how the native work stops:
 * - `_fetchBatch()`: a promise of the next native batch (rejects on failure);
 * - `_accept(batch)`: the batch's records (and any bookkeeping);
 * - `_failed()`: after a fetch failed while open (before the error is thrown);
 * - `_stop()`: stop the native work, once, on `close()`.
 */
class BatchedRecords {
  #records = []
  #index = 0
  #ended = false
  #closed = false
  #inOrder = new InOrder()

  /** How many records of the current batch were handed out. */
  get _position() {
    return this.#index
  }

  /** Whether the stream has ended (every record handed out, failed, or closed). */
  get done() {
    return this.#closed || (this.#ended && this.#index >= this.#records.length)
  }

  /** @returns {Promise<IteratorResult<any, undefined>>} */
  next() {
    return this.#inOrder.run(() => this.#step())
  }

  async #step() {
    for (;;) {
      if (this.#closed) return { value: undefined, done: true }
      if (this.#index < this.#records.length) {
        return { value: this.#records[this.#index++], done: false }
      }
      if (this.#ended) return { value: undefined, done: true }
      let batch
      try {
        batch = await this._fetchBatch()
      } catch (e) {
        // Closed while the batch was being fetched: the fetch was cancelled.
        if (this.#closed) return { value: undefined, done: true }
        this.#ended = true
        this._failed()
        throw fromNative(e)
      }
      // Closed while fetching: what was handed out stays where the caller stopped.
      if (this.#closed) return { value: undefined, done: true }
      this.#records = this._accept(batch)
      this.#index = 0
      if (batch.done) this.#ended = true
    }
  }

  /** Stops the native work; the stream ends (a pending `next()` resolves `done`). Idempotent. */
  close() {
    if (!this.#closed) {
      this.#closed = true
      this.#records = []
      this._stop()
    }
    return Promise.resolve()
  }

  /** Called by `break` in `for await`: closes the stream (see `close()`). */
  return() {
    return this.close().then(() => ({ value: undefined, done: true }))
  }

  [Symbol.asyncIterator]() {
    return this
  }

  /** Every remaining record in an array. */
  async toArray() {
    const out = []
    for await (const record of this) out.push(record)
    return out
  }

  _failed() {}
}

module.exports = { BatchedRecords, InOrder, closeOnAsyncDispose }
