// The `export.json` conformance vectors through `client.records()`, against
// the fake server that tests/vectors/README.md describes, on loopback HTTP.
// Real time: every retry delay in these vectors is a few milliseconds.

import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import { Client, SendCloudError } from '../index.js'
import { VECTORS } from './sandbox.mjs'

const doc = JSON.parse(readFileSync(path.join(VECTORS, 'export.json'), 'utf8'))
assert.equal(doc.suite, 'export')

const day = (s) => new Date(`${s}T00:00:00Z`)
const iso = (d) => d.toISOString().slice(0, 10)
const addDays = (d, n) => new Date(d.getTime() + n * 86400000)

/** The fake server of the vectors' README, reconfigured per case. */
class FakeServer {
  configure(server, today, pageSize, faults, timeoutMs) {
    const unknown = Object.keys(server).filter((k) => !['rows', 'omit_total', 'total_bias'].includes(k))
    assert.deepEqual(unknown, [], 'unknown server keys')
    this.rows = server.rows.map((r) => [r.email_id, r.date])
    this.omitTotal = Boolean(server.omit_total)
    this.totalBias = server.total_bias ?? 0
    this.today = day(today)
    this.pageSize = pageSize
    this.faults = faults
    this.timeoutMs = timeoutMs ?? 1000
    this.received = 0
    this.log = []
    this.violations = []
  }

  parse(params) {
    const names = params.map(([n]) => n)
    for (const [name, value] of params) {
      if (value === '') throw new Error(`empty parameter ${name}`)
      if (names.filter((n) => n === name).length > 1) throw new Error(`repeated parameter ${name}`)
    }
    const p = Object.fromEntries(params)
    if (!('apiUser' in p) || !('apiKey' in p)) throw new Error('missing credentials')
    let lo, hi, window
    if ('days' in p) {
      if ('startDate' in p || 'endDate' in p) throw new Error('days together with startDate/endDate')
      const n = Number(p.days)
      ;[lo, hi, window] = [iso(addDays(this.today, -(n - 1))), iso(this.today), `days=${n}`]
    } else {
      ;[lo, hi] = [p.startDate, p.endDate]
      window = `${lo}..${hi}`
    }
    const [start, limit] = [Number(p.start), Number(p.limit)]
    if (limit !== this.pageSize) throw new Error(`limit ${limit}, expected ${this.pageSize}`)
    const ids = p.emailIds
    const line = `${window} start=${start}` + (ids === undefined ? '' : ` ids=${ids.split(';').length}`)
    return { lo, hi, ids, start, line }
  }

  /** `[status, body]`, or `[0, null]` for no answer at all (reset, timeout). */
  answer(params) {
    const index = this.received++
    let q
    try {
      q = this.parse(params)
    } catch (e) {
      this.log.push(`invalid: ${e.message}`)
      this.violations.push(`request ${index}: ${e.message}`)
      return [400, 'bad request']
    }
    this.log.push(q.line)
    const fault = this.faults.get(index)
    const error = (code, key, message) => [200, JSON.stringify({ result: false, [key]: code, message, info: {} })]
    switch (fault) {
      case 'rate_limited': return error(50000, 'statuscode', 'interface frequency limited')
      case 'server_501': return error(501, 'statusCode', 'server exception')
      case 'auth': return error(40005, 'statusCode', 'authentication failed')
      case 'quota': return error(40913, 'statusCode', 'request quota exceeded')
      case 'http_429': return [429, 'Too Many Requests']
      case 'http_502': return [502, '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>']
      case 'reset': return [0, null]
      case 'timeout': return [-1, null]
      case undefined: case 'truncated': break
      default: throw new Error(`unknown fault ${fault}`)
    }
    const wanted = q.ids === undefined ? null : new Set(q.ids.split(';'))
    const matching = this.rows.filter(([e, d]) => q.lo <= d && d <= q.hi && (wanted === null || wanted.has(e)))
    const page = matching.slice(q.start, q.start + this.pageSize)
    const info = {
      voListSize: page.length,
      voList: page.map(([e, d]) => ({ emailId: e, status: '送达', requestTime: `${d} 10:00:00` })),
    }
    if (!this.omitTotal) info.total = String(matching.length + this.totalBias)
    let body = JSON.stringify({ result: true, statusCode: 200, message: '请求成功', info })
    if (fault === 'truncated') body = Buffer.from(body).subarray(0, Buffer.byteLength(body) >> 1)
    return [200, body]
  }
}

describe('export.json vectors through client.records()', () => {
  const fake = new FakeServer()
  let server
  let baseUrl

  before(async () => {
    fake.configure({ rows: [] }, '2024-01-01', 100, new Map(), null)
    server = http.createServer((req, res) => {
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        const raw = req.method === 'POST' ? Buffer.concat(chunks).toString() : (req.url.split('?')[1] ?? '')
        const [status, body] = fake.answer([...new URLSearchParams(raw)])
        if (status === 0) return req.socket.destroy()
        if (status === -1) return setTimeout(() => req.socket.destroy(), fake.timeoutMs + 300)
        const bytes = Buffer.from(body)
        res.writeHead(status, { 'Content-Length': bytes.length })
        res.end(bytes)
      })
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseUrl = `http://127.0.0.1:${server.address().port}/api/`
  })

  after(() => {
    server.closeAllConnections()
    server.close()
  })

  for (const c of doc.cases) {
    it(`export.json :: ${c.name}`, async () => {
      const extraKeys = Object.keys(c).filter(
        (k) => !['name', 'note', 'query', 'page_size', 'today', 'options', 'server', 'faults', 'expect'].includes(k),
      )
      assert.deepEqual(extraKeys, [], 'unknown case keys (the runner is older than the vectors)')
      const opts = { ...(c.options ?? {}) }
      const retry = { ...(opts.retry ?? {}) }
      delete opts.retry
      const faults = new Map(c.faults.map((f) => [f.request_index, f.kind]))
      fake.configure(c.server, c.today, c.page_size, faults, opts.request_timeout_ms)

      const settings = {
        apiUser: 'u',
        apiKey: 'k',
        baseUrl,
        maxWindowDays: opts.max_window_days ?? 3,
        emailIdChunk: opts.email_id_chunk ?? 20,
        parallel: opts.parallelism ?? 1,
        method: opts.method ?? 'POST',
        rateLimitPerMinute: opts.rate_limit_per_minute ?? 0,
        jitterSeed: 1,
      }
      for (const [key, option] of [
        ['base_delay_ms', 'retryBaseDelayMs'],
        ['rate_limit_base_delay_ms', 'retryRateLimitDelayMs'],
        ['max_delay_ms', 'retryMaxDelayMs'],
        ['deadline_ms', 'retryDeadlineMs'],
      ]) {
        if (key in retry) settings[option] = retry[key]
        delete retry[key]
      }
      if ('max_attempts' in retry) settings.maxRetries = retry.max_attempts - 1
      delete retry.max_attempts
      if (opts.request_timeout_ms !== undefined) settings.timeoutMs = opts.request_timeout_ms
      for (const k of ['max_window_days', 'email_id_chunk', 'parallelism', 'method', 'rate_limit_per_minute',
        'request_timeout_ms', 'max_records']) {
        if (k !== 'max_records') delete opts[k]
      }
      const maxRecords = opts.max_records
      delete opts.max_records
      assert.deepEqual([opts, retry], [{}, {}], 'unknown options (the runner is older than the vectors)')

      const camel = (s) => s.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase())
      const query = Object.fromEntries(Object.entries(c.query).map(([k, v]) => [camel(k), v]))
      const client = new Client(settings)
      const records = client.records({ ...query, limit: c.page_size, today: c.today, ...(maxRecords === undefined ? {} : { maxRecords }) })
      const got = []
      let error = null
      try {
        for await (const r of records) got.push(r.emailId)
      } catch (e) {
        if (!(e instanceof SendCloudError)) throw e
        error = e
      }
      const expect = c.expect
      assert.deepEqual(fake.violations, [])
      if ('error_kind' in expect) {
        assert.ok(error, 'expected an error')
        assert.equal(error.code, expect.error_kind.toUpperCase())
      } else {
        assert.equal(error, null, `unexpected error ${error}`)
      }
      assert.deepEqual(got, expect.email_ids)
      if ('requests' in expect) {
        assert.equal(fake.received, expect.requests)
        assert.equal(records.stats.requests, expect.requests)
      }
      if ('sent' in expect) assert.deepEqual(fake.log, expect.sent)
    })
  }
})
