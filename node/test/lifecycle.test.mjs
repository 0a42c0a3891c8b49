// Closing exports: break / return(), close(), Symbol.asyncDispose, and a bad
// userAgent refused at construction. The sandbox's request log shows whether
// an export still sends.

import { before, after, afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'

import { Client, SendCloudError, ValidationError } from '../index.js'
import { startSandbox, API_USER, API_KEY, TODAY } from './sandbox.mjs'

let sandbox

before(async () => {
  sandbox = await startSandbox(['--rate-limit', '0', '--records', '3000'])
})

after(async () => {
  await sandbox?.stop()
})

afterEach(async () => {
  await sandbox.faults({})
  await sandbox.clear()
})

const client = (extra = {}) => new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, ...extra })

// One request per 0.5 s: after the first page, an open export's read-ahead
// thread waits on the client's rate limit, then sends the next request.
const PACED = { rateLimitPerMinute: 120, parallel: 2 }
// Every request retried fast for minutes: against a sandbox failing every
// request, only a cancel stops such an export.
const RETRY_FOREVER = { parallel: 2, maxRetries: 100, retryBaseDelayMs: 5, retryMaxDelayMs: 20, retryDeadlineMs: 600_000 }
const FILTERS = { days: 5, limit: 10, today: TODAY }

const requestCount = async () => (await sandbox.requests()).length

/** Whether requests are being sent (more after a short wait). */
async function growing() {
  const before = await requestCount()
  await sleep(150)
  return (await requestCount()) > before
}

/** No request for `ms` (over two intervals of the PACED rate). */
async function noRequestFor(ms = 1200) {
  const before = await requestCount()
  await sleep(ms)
  assert.equal(await requestCount(), before, 'a request after the stream was closed')
}

/** Requests stop: none for 0.3 s (a request being sent at the close may still land), then none for 0.3 s more. */
async function settled(timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  let last = await requestCount()
  for (;;) {
    await sleep(300)
    const now = await requestCount()
    if (now === last) break
    assert.ok(Date.now() < deadline, 'requests kept coming after the stream was closed')
    last = now
  }
  await noRequestFor(300)
}

describe('a bad userAgent', () => {
  for (const userAgent of ['app/1.0\nX-Injected: 1', 'app/1.0\r\n', '', 'nul\u0000', ' padded ']) {
    it(`is a VALIDATION error at new Client(): ${JSON.stringify(userAgent)}`, () => {
      assert.throws(
        () => client({ userAgent, parallel: 2 }),
        (e) => e instanceof ValidationError && e instanceof SendCloudError && e.code === 'VALIDATION' && e.field === 'userAgent',
      )
    })
  }

  it('leaves the process healthy: a good client exports in parallel', async () => {
    const c = client({ userAgent: 'ops-report/2.1 (+https://example.com)', parallel: 2 })
    const truth = (await sandbox.truth({ days: 1 })).email_ids
    assert.deepEqual((await c.records({ days: 1, today: TODAY }).toArray()).map((r) => r.emailId), truth)
  })
})

describe('closing a stream', () => {
  it('an open stream keeps reading ahead (the control for the tests below)', async () => {
    const records = client(PACED).records(FILTERS)
    await records.next()
    const before = await requestCount()
    await sleep(1200)
    assert.ok((await requestCount()) > before)
    await records.close()
  })

  it('break in for await cancels the export', async () => {
    const records = client(PACED).records(FILTERS)
    for await (const r of records) {
      assert.ok(r.emailId)
      break
    }
    assert.equal(records.done, true)
    await noRequestFor()
  })

  it('close() ends the stream, keeps the cursor and is idempotent', async () => {
    const records = client(PACED).records(FILTERS)
    await records.next()
    const cursor = records.cursor
    await records.close()
    await records.close()
    assert.equal(records.cursor, cursor)
    assert.deepEqual(await records.next(), { value: undefined, done: true })
    await noRequestFor()
  })

  it('Symbol.asyncDispose closes it (where the runtime has the symbol)', async (t) => {
    if (typeof Symbol.asyncDispose !== 'symbol') {
      t.skip('no Symbol.asyncDispose in this Node')
      return
    }
    const records = client(PACED).records(FILTERS)
    await records.next()
    await records[Symbol.asyncDispose]()
    assert.equal(records.done, true)
    await noRequestFor()
  })

  it('close() while a page is being fetched resolves the pending next() as done', async () => {
    await sandbox.faults({ http_502: 1.0, seed: 7 })
    const records = client(RETRY_FOREVER).records(FILTERS)
    const pending = records.next()
    assert.ok(await growing(), 'the fetch is stuck retrying')
    await records.close()
    const result = await Promise.race([pending, sleep(5000).then(() => 'still pending after 5 s')])
    assert.deepEqual(result, { value: undefined, done: true })
    await settled()
  })
})
