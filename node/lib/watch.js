'use strict'

const util = require('node:util')

const { fromNative } = require('./errors.js')
const { InOrder, closeOnAsyncDispose } = require('./lifecycle.js')

// setTimeout's longest delay; a longer wait is slept in parts.
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * The transitions of a watch, as an async iterable (`for await`), as each
 * poll sees them; `result` says how it ended once the loop is over (the
 * final `next()` also resolves `{ done: true, value: result }`).
 *
 * Polls run on Node's thread pool; the waits between them are timers, so
 * no thread waits and the event loop never blocks. Breaking out of the
 * loop (`return()`), `close()`, `await using` and garbage collection stop
 * the watch: a poll in progress is cancelled, a pending `next()` resolves
 * `done`.
 */
class Watcher {
  #native
  #queue = []
  #notices = []
  #ended = false
  #closed = false
  #timer = null
  #wake = null
  #inOrder = new InOrder()

  /** @internal */
  constructor(nativeWatch) {
    this.#native = nativeWatch
  }

  /** How the watch ended, once it has; `null` before, and for a watch closed before its end or failed. */
  get result() {
    return this.#native.result ?? null
  }

  /**
   * Warnings given so far (each also emitted with `process.emitWarning`,
   * code `SENDCLOUD_CACHED_ANSWERS`): an interval below the server's
   * 10-minute cache against a host that is not loopback.
   */
  get notices() {
    return [...this.#notices]
  }

  /** Whether `close()` was called. */
  get closed() {
    return this.#closed
  }

  /** @returns {Promise<IteratorResult<any, any>>} */
  next() {
    return this.#inOrder.run(() => this.#step())
  }

  async #step() {
    for (;;) {
      if (this.#closed) return { value: undefined, done: true }
      if (this.#queue.length > 0) return { value: this.#queue.shift(), done: false }
      if (this.#ended) return { value: this.result ?? undefined, done: true }
      let batch
      try {
        batch = await this.#native.step()
      } catch (e) {
        if (this.#closed) return { value: undefined, done: true }
        this.#ended = true
        throw fromNative(e)
      }
      if (this.#closed) return { value: undefined, done: true }
      for (const notice of batch.notices) {
        this.#notices.push(notice)
        process.emitWarning(notice, { type: 'SendCloudWarning', code: 'SENDCLOUD_CACHED_ANSWERS' })
      }
      this.#queue.push(...batch.transitions)
      if (batch.ended) this.#ended = true
      else if (this.#queue.length === 0 && batch.waitMs !== null) await this.#sleep(batch.waitMs)
    }
  }

  #sleep(ms) {
    return new Promise((resolve) => {
      this.#wake = resolve
      this.#timer = setTimeout(
        () => {
          this.#timer = null
          this.#wake = null
          resolve()
        },
        Math.min(Math.ceil(ms), MAX_TIMER_MS),
      )
    })
  }

  /**
   * Stops the watch at once: a poll in progress is cancelled, a pending
   * `next()` resolves `done`, the timer is cleared. Idempotent.
   */
  close() {
    if (!this.#closed) {
      this.#closed = true
      this.#native.cancel()
      if (this.#timer !== null) {
        clearTimeout(this.#timer)
        this.#timer = null
        this.#wake?.()
        this.#wake = null
      }
    }
    return Promise.resolve()
  }

  /** Called by `break` in `for await`: closes the watch (see `close()`). */
  return() {
    return this.close().then(() => ({ value: undefined, done: true }))
  }

  [Symbol.asyncIterator]() {
    return this
  }

  [util.inspect.custom](depth, opts) {
    return `Watcher ${util.inspect({ closed: this.closed, result: this.result }, opts)}`
  }
}

closeOnAsyncDispose(Watcher)

module.exports = { Watcher }
