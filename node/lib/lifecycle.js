'use strict'

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

module.exports = { InOrder, closeOnAsyncDispose }
