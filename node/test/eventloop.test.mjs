// Network calls run on the libuv pool: the event loop keeps turning while a
// slow answer is awaited.

import { before, after, it } from 'node:test'
import assert from 'node:assert/strict'

import { Client } from '../index.js'
import { startSandbox, API_USER, API_KEY } from './sandbox.mjs'

let sandbox

before(async () => {
  sandbox = await startSandbox(['--records', '500', '--latency-ms', '800'])
})

after(async () => {
  await sandbox?.stop()
})

it('a timer keeps firing while page() waits on an 800 ms answer', async () => {
  const client = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl })
  let ticks = 0
  const timer = setInterval(() => ticks++, 20)
  const started = performance.now()
  try {
    const page = await client.page({ days: 1, limit: 5 })
    assert.ok(page.records.length > 0)
  } finally {
    clearInterval(timer)
  }
  const elapsed = performance.now() - started
  assert.ok(elapsed >= 700, `the answer took ${elapsed} ms`)
  // ~40 ticks if the loop was free; a loop blocked for the whole call ticks once
  // at most. A few ticks tell them apart however loaded the machine is.
  assert.ok(ticks >= 4, `only ${ticks} timer ticks in ${Math.round(elapsed)} ms`)
})

it('several slow calls overlap instead of queuing on the main thread', async () => {
  const client = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl })
  await sandbox.clear()
  let ticks = 0
  const timer = setInterval(() => ticks++, 20)
  try {
    const pages = await Promise.all([1, 2, 3].map((d) => client.page({ days: d, limit: 1 })))
    assert.equal(pages.length, 3)
  } finally {
    clearInterval(timer)
  }
  // All three reached the server while the first was still being answered (800 ms):
  // in flight together, not one after another. Read from the server's log, so a slow
  // machine does not make it flaky.
  const received = (await sandbox.requests()).map((r) => r.received_ms).sort((a, b) => a - b)
  assert.equal(received.length, 3)
  assert.ok(received[2] - received[0] < 800, `arrivals ${received.join(', ')} ms: they ran one after another`)
  assert.ok(ticks >= 4, `only ${ticks} timer ticks`)
})
