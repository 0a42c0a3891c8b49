// Every error code from its real trigger, and what errors carry.

import { before, after, afterEach, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'

import {
  Client,
  SendCloudError,
  ValidationError,
  AuthenticationError,
  RateLimitError,
  AuthError,
  RateLimitedError,
  InternalError,
  QuotaError,
  ServerError,
  TransportError,
  DecodeError,
  ApiError,
  ERROR_CODES,
  decodePage,
} from '../index.js'
import { startSandbox, closedPort, API_USER, API_KEY } from './sandbox.mjs'

let sandbox

before(async () => {
  sandbox = await startSandbox(['--records', '2000'])
})

after(async () => {
  await sandbox?.stop()
})

afterEach(async () => {
  await sandbox.faults({})
})

const client = (extra = {}) => new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, ...extra })

/** An assert.rejects/throws matcher: class, code and properties. */
const is = (cls, code, props = {}) => (e) => {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.name}: ${e?.message}`)
  assert.ok(e instanceof SendCloudError)
  assert.ok(e instanceof Error)
  assert.equal(e.code, code)
  assert.equal(e.name, cls.name)
  for (const [k, v] of Object.entries(props)) assert.equal(e[k], v, k)
  return true
}

/** A loopback server answering every request with one canned response. */
async function cannedServer(status, body, headers = { 'Content-Type': 'application/json' }) {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(status, headers)
      res.end(body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    baseUrl: `http://127.0.0.1:${server.address().port}/api/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

describe('error codes from real triggers', () => {
  it("ERROR_CODES lists the codes: the client's nine, the archive's five, then the webhook's three", () => {
    assert.deepEqual(ERROR_CODES, [
      'VALIDATION', 'AUTH', 'RATE_LIMITED', 'QUOTA', 'SERVER', 'TRANSPORT', 'DECODE', 'API', 'INTERNAL',
      'ARCHIVE', 'ARCHIVE_BUSY', 'ARCHIVE_MISSING', 'NOT_AN_ARCHIVE', 'ARCHIVE_VERSION',
      'WEBHOOK_MALFORMED', 'WEBHOOK_SIGNATURE', 'WEBHOOK_STALE',
    ])
  })

  it('VALIDATION: bad input rejects before any request, naming the field', async () => {
    const c = client()
    await sandbox.clear()
    const cases = [
      [{ days: 0 }, 'days'],
      [{ days: 1.5 }, 'days'],
      [{}, 'window'],
      [{ days: 1, startDate: '2024-01-01', endDate: '2024-01-02' }, 'window'],
      [{ startDate: '2024-01-01' }, 'window'],
      [{ startDate: '2024-01-05', endDate: '2024-01-01' }, 'startDate'],
      [{ startDate: '2024-13-01', endDate: '2024-12-02' }, 'startDate'],
      [{ days: 7 }, 'days'], // one page may not span more than the window maximum
      [{ days: 1, email: 'not-an-address' }, 'email'],
      [{ days: 1, emailIds: [] }, 'emailIds'],
      [{ days: 1, emailIds: ['a;b'] }, 'emailIds'],
      [{ days: 1, labelId: 0 }, 'labelId'],
      [{ days: 1, labelName: '  ' }, 'labelName'],
      [{ days: 1, apiUsers: [''] }, 'apiUsers'],
      [{ days: 1, status: 'bounced' }, 'status'],
      [{ days: 1, subStatus: [200] }, 'subStatus'],
      [{ days: 1, status: 'delivered', subStatus: [406] }, 'subStatus'],
      [{ days: 1, start: -1 }, 'start'],
      [{ days: 1, limit: 101 }, 'limit'],
      [{ days: '1' }, 'days'], // wrong JS type
      [{ days: 1, emailIds: [1] }, 'emailIds'],
      [{ days: 1, lables: 'x' }, 'lables'], // unknown option
    ]
    for (const [filters, field] of cases) {
      await assert.rejects(c.page(filters), is(ValidationError, 'VALIDATION', { field }), JSON.stringify(filters))
    }
    assert.throws(() => c.records({ days: 1, limit: 0 }), is(ValidationError, 'VALIDATION', { field: 'limit' }))
    assert.throws(() => c.records({ days: 1, cursor: 'nope' }), is(ValidationError, 'VALIDATION', { field: 'cursor' }))
    assert.throws(() => c.records({ days: 1, maxRecords: -1 }), is(ValidationError, 'VALIDATION', { field: 'maxRecords' }))
    await assert.rejects(c.summary({ days: 1, softBounces: 2 }), is(ValidationError, 'VALIDATION', { field: 'softBounces' }))
    await assert.rejects(
      c.suppressions({ days: 1, softBounces: 0 }),
      is(ValidationError, 'VALIDATION', { field: 'softBounces' }),
    )
    assert.deepEqual(await sandbox.requests(), [], 'nothing was sent')
  })

  it('VALIDATION: a bad parallel for one export rejects before any request', async () => {
    const c = client()
    await sandbox.clear()
    for (const parallel of [0, -1, 65, 1.5, 'fast', '4', '', true, {}]) {
      const matcher = is(ValidationError, 'VALIDATION', { field: 'parallel' })
      const what = JSON.stringify(parallel)
      assert.throws(() => c.records({ days: 1, parallel }), matcher, what)
      await assert.rejects(c.summary({ days: 1, parallel }), matcher, what)
      await assert.rejects(c.suppressions({ days: 1, parallel }), matcher, what)
    }
    assert.deepEqual(await sandbox.requests(), [], 'nothing was sent')
  })

  it('VALIDATION: a bad export plan (today, serverNow) rejects before any request', async () => {
    const c = client()
    await sandbox.clear()
    const cases = [
      [{ serverNow: '2024-05-20' }, 'serverNow'], // a day: that is `today`
      [{ serverNow: '2024-05-20 25:00:00' }, 'serverNow'],
      [{ serverNow: '20/05/2024 12:00:00' }, 'serverNow'],
      [{ serverNow: new Date(Date.UTC(2024, 4, 20, 4)) }, 'serverNow'], // a string, not a Date
      [{ serverNow: 1716177600 }, 'serverNow'],
      [{ today: '2024-05-20', serverNow: '2024-05-20 12:00:00' }, 'serverNow'], // not both
      [{ today: '20.05.2024' }, 'today'],
    ]
    for (const [plan, field] of cases) {
      const what = JSON.stringify(plan)
      const matcher = is(ValidationError, 'VALIDATION', { field })
      assert.throws(() => c.records({ days: 2, ...plan }), matcher, what)
      await assert.rejects(c.summary({ days: 2, ...plan }), matcher, what)
      await assert.rejects(c.suppressions({ days: 2, ...plan }), matcher, what)
    }
    await assert.rejects(c.page({ days: 2, serverNow: '2024-05-20 12:00:00' }), is(ValidationError, 'VALIDATION', { field: 'serverNow' }))
    assert.deepEqual(await sandbox.requests(), [], 'nothing was sent')
  })

  it('VALIDATION: bad client settings', () => {
    const bad = [
      [{ region: 'mars' }, 'region'],
      [{ baseUrl: 'http://example.com/api/' }, 'baseUrl'],
      [{ method: 'PUT' }, 'method'],
      [{ timeoutMs: 0 }, 'timeoutMs'],
      [{ maxRetries: -1 }, 'maxRetries'],
      [{ parallel: 0 }, 'parallel'],
      [{ parallel: -1 }, 'parallel'],
      [{ parallel: 65 }, 'parallel'],
      [{ parallel: 1.5 }, 'parallel'],
      [{ parallel: 'fast' }, 'parallel'],
      [{ parallel: '4' }, 'parallel'],
      [{ parallel: true }, 'parallel'],
      [{ rateLimitPerMinute: -1 }, 'rateLimitPerMinute'],
      [{ rateLimitPerMinute: 1.5 }, 'rateLimitPerMinute'],
      [{ serverUtcOffset: '8' }, 'serverUtcOffset'],
      [{ maxWindowDays: 0 }, 'maxWindowDays'],
      [{ apiKey: 42 }, 'apiKey'],
      [{ apiKey: '' }, 'apiKey'],
      [{ colour: 'blue' }, 'colour'],
    ]
    for (const [settings, field] of bad) {
      assert.throws(
        () => new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, ...settings }),
        is(ValidationError, 'VALIDATION', { field }),
        JSON.stringify(settings),
      )
    }
    assert.throws(() => new Client({ baseUrl: sandbox.baseUrl }), is(ValidationError, 'VALIDATION', { field: 'apiUser' }))
    assert.throws(
      () => new Client({ apiUser: 'u', baseUrl: sandbox.baseUrl }),
      is(ValidationError, 'VALIDATION', { field: 'apiKey' }),
    )
  })

  it('AUTH: a wrong key (not retried; the message names the region, never the key)', async () => {
    const key = 'wrong-key-5f0e2a9c'
    const c = new Client({ apiUser: API_USER, apiKey: key, baseUrl: sandbox.baseUrl })
    await sandbox.clear()
    await assert.rejects(c.page({ days: 1 }), (e) => {
      is(AuthenticationError, 'AUTH', { apiCode: 40005, httpStatus: 200, field: null, retryable: false })(e)
      assert.ok(!e.message.includes(key))
      assert.ok(!e.stack.includes(key))
      assert.ok(!JSON.stringify(e).includes(key))
      assert.match(e.message, /region/)
      return true
    })
    const log = await sandbox.requests()
    assert.equal(log.length, 1, 'auth failures are not retried')
    assert.equal(log[0].key_in_url, false, 'POST keeps the key out of the URL')
    assert.equal(log[0].method, 'POST')
    await assert.rejects(c.records({ days: 1 }).toArray(), is(AuthenticationError, 'AUTH'))
  })

  it("class names are the Python package's; the earlier names are aliases of the same classes", async () => {
    assert.equal(AuthError, AuthenticationError)
    assert.equal(RateLimitedError, RateLimitError)
    assert.equal(new InternalError('x').code, 'INTERNAL')
    const c = new Client({ apiUser: API_USER, apiKey: 'wrong-key', baseUrl: sandbox.baseUrl })
    await assert.rejects(c.page({ days: 1 }), (e) => {
      assert.ok(e instanceof AuthError, 'caught by the alias')
      assert.equal(e.name, 'AuthenticationError')
      return true
    })
  })

  it('errors carry a stable reason: why a value was refused, what failed below HTTP', async () => {
    const reasons = [
      [{}, 'window', 'missing'],
      [{ startDate: '2024-01-01' }, 'window', 'incomplete'],
      [{ days: 1, endDate: '2024-01-01' }, 'window', 'conflict'],
      [{ days: 0 }, 'days', 'out_of_range'],
      [{ days: 1, status: 'bounced' }, 'status', 'unknown_name'],
      [{ startDate: '2024-01-03', endDate: '2024-01-01' }, 'startDate', 'contradiction'],
    ]
    for (const [filters, field, reason] of reasons) {
      assert.throws(() => client().records(filters), is(ValidationError, 'VALIDATION', { field, reason }), JSON.stringify(filters))
    }
    assert.throws(
      () => client({ maxRetries: 101 }),
      is(ValidationError, 'VALIDATION', { field: 'maxRetries', reason: 'out_of_range', message: 'invalid maxRetries: must be from 0 to 100, got 101' }),
    )
    assert.throws(() => client().records({ days: 1, maxRecords: 0 }), (e) => e.message.endsWith('must be at least 1, got 0'))
    const port = await closedPort()
    const down = new Client({ apiUser: 'u', apiKey: 'k', baseUrl: `http://127.0.0.1:${port}/api/`, maxRetries: 0 })
    await assert.rejects(down.page({ days: 1 }), is(TransportError, 'TRANSPORT', { reason: 'refused' }))
  })

  it('RATE_LIMITED: every answer is 50000 and retries run out', async () => {
    await sandbox.faults({ seed: 1, rate_limited: 1.0 })
    await sandbox.clear()
    const c = client({ maxRetries: 1 })
    await assert.rejects(
      c.page({ days: 1 }),
      is(RateLimitError, 'RATE_LIMITED', { apiCode: 50000, retryable: true }),
    )
    const log = await sandbox.requests()
    assert.equal(log.length, 2, 'one attempt and one retry')
    assert.ok(log.every((r) => r.fault === 'rate_limited'))
  })

  it('SERVER: HTTP 502 on every answer', async () => {
    await sandbox.faults({ seed: 2, http_502: 1.0 })
    const records = client({ maxRetries: 1 }).records({ days: 1 })
    await assert.rejects(records.toArray(), is(ServerError, 'SERVER', { httpStatus: 502, apiCode: null, retryable: true }))
    assert.equal(records.done, true)
    assert.match(records.cursor, /^sc2\./, 'a failed export can be resumed')
  })

  it('TRANSPORT: nothing listens on the port', async () => {
    const port = await closedPort()
    const c = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: `http://127.0.0.1:${port}/api/`, maxRetries: 0 })
    await assert.rejects(c.page({ days: 1 }), is(TransportError, 'TRANSPORT', { httpStatus: null, retryable: true }))
  })

  it('TRANSPORT: the sandbox cuts every body short (Content-Length not met)', async () => {
    await sandbox.faults({ seed: 3, truncated: 1.0 })
    await assert.rejects(client({ maxRetries: 0 }).page({ days: 1 }), is(TransportError, 'TRANSPORT'))
  })

  it('TRANSPORT: timeoutMs', async () => {
    await sandbox.faults({ seed: 4, slow: 1.0, slow_ms: 2000 })
    await assert.rejects(client({ maxRetries: 0, timeoutMs: 300 }).page({ days: 1 }), is(TransportError, 'TRANSPORT'))
  })

  it('DECODE: a complete HTTP answer whose JSON is cut off', async () => {
    const body = JSON.stringify({ result: true, statusCode: 200, info: { total: '1', voList: [{ emailId: 'x' }] } })
    const server = await cannedServer(200, body.slice(0, body.length / 2))
    try {
      const c = new Client({ apiUser: 'u', apiKey: 'k', baseUrl: server.baseUrl, maxRetries: 0 })
      await assert.rejects(c.page({ days: 1 }), is(DecodeError, 'DECODE', { httpStatus: 200, retryable: true }))
    } finally {
      await server.close()
    }
    assert.throws(() => decodePage(200, body.slice(0, 20)), is(DecodeError, 'DECODE'))
  })

  it('QUOTA: statusCode 40913 (not retried)', async () => {
    const server = await cannedServer(200, '{"result":false,"statusCode":40913,"message":"quota","info":{}}')
    try {
      const c = new Client({ apiUser: 'u', apiKey: 'k', baseUrl: server.baseUrl })
      await assert.rejects(c.page({ days: 1 }), is(QuotaError, 'QUOTA', { apiCode: 40913, retryable: false }))
    } finally {
      await server.close()
    }
  })

  it('API: any other result:false answer', async () => {
    const server = await cannedServer(200, '{"result":false,"statusCode":77777,"message":"something else","info":{}}')
    try {
      const c = new Client({ apiUser: 'u', apiKey: 'k', baseUrl: server.baseUrl })
      await assert.rejects(c.page({ days: 1 }), (e) => {
        is(ApiError, 'API', { apiCode: 77777, httpStatus: 200 })(e)
        assert.match(e.message, /77777/)
        return true
      })
    } finally {
      await server.close()
    }
  })

  it('a validation error reported by the server carries the field', async () => {
    // The client would never send this; a canned server answers 40012 anyway.
    const server = await cannedServer(200, '{"result":false,"statusCode":40012,"message":"bad email","info":{}}')
    try {
      const c = new Client({ apiUser: 'u', apiKey: 'k', baseUrl: server.baseUrl })
      await assert.rejects(c.page({ days: 1 }), is(ValidationError, 'VALIDATION', { apiCode: 40012, field: 'email' }))
    } finally {
      await server.close()
    }
  })

  it('errors switch on code as well as on class', async () => {
    const e = await client()
      .page({ days: 0 })
      .catch((err) => err)
    let branch
    switch (e.code) {
      case 'VALIDATION':
        branch = e.field
        break
      default:
        branch = 'other'
    }
    assert.equal(branch, 'days')
  })
})
