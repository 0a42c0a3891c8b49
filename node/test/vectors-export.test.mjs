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

const SERVER_KEYS = ['rows', 'omit_total', 'total_bias', 'cache', 'advance_day_before_request', 'changes']
const ROW_KEYS = ['email_id', 'date', 'modified']
const CHANGE_KEYS = ['before_request', 'remove', 'append', 'prepend']
const CASE_KEYS = ['name', 'note', 'query', 'page_size', 'today', 'started_at', 'resume', 'options', 'server', 'faults', 'expect']
const EXPECT_KEYS = ['email_ids', 'error_kind', 'error_field', 'requests', 'sent', 'stats']
/** Vector stats keys → the `records.stats` fields (`unstable_units` is compared as a count). */
const STATS_KEYS = {
  passes: 'passes',
  units_reread: 'unitsReread',
  total_drift: 'totalDrift',
  short_pages: 'shortPages',
  empty_pages: 'emptyPages',
  duplicates: 'duplicates',
  unstable_units: 'unstableUnits',
}

/** Unknown keys mean the runner is older than the vectors. */
function checkKeys(object, allowed, what) {
  const unknown = Object.keys(object).filter((k) => !allowed.includes(k))
  assert.deepEqual(unknown, [], `unknown ${what} keys (the runner is older than the vectors)`)
}

function rowsOf(rows) {
  for (const r of rows) {
    checkKeys(r, ROW_KEYS, 'row')
    assert.match(r.date, /^\d{4}-\d{2}-\d{2}$/)
  }
  return rows.map((r) => ({ ...r }))
}

/**
 * The fake server of the vectors' README, reconfigured per case: live changes
 * keyed by request index, the day advance, both cache models, faults. Each
 * configuration is a new generation with its own base URL path: a request of
 * an earlier case still in flight (a parallel export stopped by maxRecords)
 * is answered 410 and neither counted nor logged.
 */
class FakeServer {
  generation = 0

  configure(server, today, pageSize, faults, timeoutMs) {
    checkKeys(server, SERVER_KEYS, 'server')
    this.generation += 1
    this.rows = rowsOf(server.rows)
    this.omitTotal = Boolean(server.omit_total)
    this.totalBias = server.total_bias ?? 0
    const cache = server.cache ?? 'snapshot'
    assert.ok(['snapshot', 'per_request'].includes(cache), `unknown cache model ${cache}`)
    this.perRequest = cache === 'per_request'
    this.advanceDayAt = server.advance_day_before_request
    /** request index → [['remove', id] | ['append', row] | ['prepend', rows]], in order */
    this.changes = new Map()
    for (const change of server.changes ?? []) {
      checkKeys(change, CHANGE_KEYS, 'change')
      const ops = this.changes.get(change.before_request) ?? []
      for (const [key, value] of Object.entries(change)) {
        if (key === 'remove') ops.push(...value.map((id) => ['remove', id]))
        else if (key === 'append') ops.push(...rowsOf(value).map((r) => ['append', r]))
        else if (key === 'prepend') ops.push(['prepend', rowsOf(value)])
      }
      this.changes.set(change.before_request, ops)
    }
    this.snapshots = new Map()
    this.today = day(today)
    this.pageSize = pageSize
    this.faults = faults
    this.timeoutMs = timeoutMs ?? 1000
    this.received = 0
    this.log = []
    this.violations = []
  }

  /** The path of the current case's endpoint (under `/g<generation>/api/`). */
  get prefix() {
    return `/g${this.generation}/api/`
  }

  /** Before request `index`: the day advance, then the changes listed for it. */
  applyChanges(index) {
    if (this.advanceDayAt === index) this.today = addDays(this.today, 1)
    for (const [kind, value] of this.changes.get(index) ?? []) {
      if (kind === 'remove') this.rows = this.rows.filter((r) => r.email_id !== value)
      else if (kind === 'append') this.rows.push(value)
      else this.rows.unshift(...value) // the entry's rows, in the order listed, as a block at the start
    }
  }

  matching(lo, hi, ids) {
    const compute = () => {
      const wanted = ids === undefined ? null : new Set(ids.split(';'))
      return this.rows.filter((r) => lo <= r.date && r.date <= hi && (wanted === null || wanted.has(r.email_id)))
    }
    if (this.perRequest) return compute()
    const key = JSON.stringify([lo, hi, ids ?? null])
    if (!this.snapshots.has(key)) this.snapshots.set(key, compute())
    return this.snapshots.get(key)
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
      if (!/^\d{4}-\d{2}-\d{2}$/.test(lo) || !/^\d{4}-\d{2}-\d{2}$/.test(hi)) throw new Error('bad dates')
      if (lo > hi) throw new Error('startDate after endDate')
      window = `${lo}..${hi}`
    }
    const [start, limit] = [Number(p.start), Number(p.limit)]
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new Error(`limit ${p.limit} out of 1..=100`)
    const ids = p.emailIds
    let line = `${window} start=${start}`
    if (limit !== this.pageSize) line += ` limit=${limit}`
    if (ids !== undefined) line += ` ids=${ids.split(';').length}`
    return { lo, hi, ids, start, limit, line }
  }

  /** `[status, body]`, or `[0, null]` for no answer at all (reset), `[-1, null]` (timeout). */
  answer(path, params) {
    if (path !== this.prefix + 'data/emailStatus') return [410, 'a request of another case']
    const index = this.received++
    this.applyChanges(index)
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
    const matching = this.matching(q.lo, q.hi, q.ids)
    const page = matching.slice(q.start, q.start + q.limit)
    const info = {
      voListSize: page.length,
      voList: page.map((r) => ({
        emailId: r.email_id,
        status: '送达',
        requestTime: `${r.date} 10:00:00`,
        ...(r.modified === undefined ? {} : { modifiedTime: r.modified }),
      })),
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
  let root

  before(async () => {
    fake.configure({ rows: [] }, '2024-01-01', 100, new Map(), null)
    server = http.createServer((req, res) => {
      const chunks = []
      req.on('data', (c) => chunks.push(c))
      req.on('end', () => {
        const [path, query] = req.url.split('?')
        const raw = req.method === 'POST' ? Buffer.concat(chunks).toString() : (query ?? '')
        const [status, body] = fake.answer(path, [...new URLSearchParams(raw)])
        if (status === 0) return req.socket.destroy()
        if (status === -1) return setTimeout(() => req.socket.destroy(), fake.timeoutMs + 300)
        const bytes = Buffer.from(body)
        res.writeHead(status, { 'Content-Length': bytes.length })
        res.end(bytes)
      })
    })
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    root = `http://127.0.0.1:${server.address().port}`
  })

  after(() => {
    server.closeAllConnections()
    server.close()
  })

  /** A client of the current case: the fake server's base URL for it, and `settings`. */
  const clientFor = (settings) => new Client({ apiUser: 'u', apiKey: 'k', baseUrl: root + fake.prefix, ...settings })

  for (const c of doc.cases) {
    it(`export.json :: ${c.name}`, async () => {
      checkKeys(c, CASE_KEYS, 'case')
      const expect = c.expect
      checkKeys(expect, EXPECT_KEYS, 'expect')
      const opts = { ...(c.options ?? {}) }
      const retry = { ...(opts.retry ?? {}) }
      delete opts.retry
      const faults = new Map(c.faults.map((f) => [f.request_index, f.kind]))
      fake.configure(c.server, c.today, c.page_size, faults, opts.request_timeout_ms)

      const settings = {
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
        'request_timeout_ms']) {
        delete opts[k]
      }
      const maxRecords = opts.max_records
      delete opts.max_records
      assert.deepEqual([opts, retry], [{}, {}], 'unknown options (the runner is older than the vectors)')

      // The plan: `started_at` is the server time the export starts at (its date is
      // `today`); without it, only the day.
      let plan = { today: c.today }
      if ('started_at' in c) {
        assert.ok(c.started_at.startsWith(c.today + ' '), 'started_at falls on another day than today')
        plan = { serverNow: c.started_at }
      }
      const camel = (s) => s.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase())
      const query = Object.fromEntries(Object.entries(c.query).map(([k, v]) => [camel(k), v]))
      const options = {
        ...query,
        ...plan,
        limit: c.page_size,
        ...(maxRecords == null ? {} : { maxRecords }),
        ...(c.resume === undefined ? {} : { cursor: c.resume }),
      }
      const client = clientFor(settings)
      let records
      try {
        records = client.records(options)
      } catch (e) {
        // Refused before anything was sent (a cursor from another plan, a version 1 cursor).
        if (!(e instanceof SendCloudError)) throw e
        assert.ok('error_kind' in expect, `refused: ${e.message}`)
        assert.equal(e.code, expect.error_kind.toUpperCase(), e.message)
        if ('error_field' in expect) assert.equal(e.field, camel(expect.error_field), e.message)
        assert.deepEqual(expect.email_ids, [])
        assert.equal(fake.received, 0)
        return
      }
      const got = []
      let error = null
      try {
        for await (const r of records) got.push(r.emailId)
      } catch (e) {
        if (!(e instanceof SendCloudError)) throw e
        error = e
      }
      assert.deepEqual(fake.violations, [])
      if ('error_kind' in expect) {
        assert.ok(error, 'expected an error')
        assert.equal(error.code, expect.error_kind.toUpperCase())
        if ('error_field' in expect) assert.equal(error.field, camel(expect.error_field))
      } else {
        assert.equal(error, null, `unexpected error ${error}`)
      }
      assert.deepEqual(got, expect.email_ids)
      if ('requests' in expect) {
        assert.equal(fake.received, expect.requests)
        assert.equal(records.stats.requests, expect.requests)
      }
      if ('sent' in expect) assert.deepEqual(fake.log, expect.sent)
      if ('stats' in expect) {
        checkKeys(expect.stats, Object.keys(STATS_KEYS), 'stats')
        const stats = records.stats
        const picked = Object.fromEntries(
          Object.keys(expect.stats).map((k) => {
            const v = stats[STATS_KEYS[k]]
            return [k, k === 'unstable_units' ? v.length : v]
          }),
        )
        assert.deepEqual(picked, expect.stats, JSON.stringify(stats))
      }
    })
  }

  it('beyond the vectors: a window still moving after its re-reads is listed in stats.unstableUnits', async () => {
    // The result shrinks from the front faster than any re-read's overlap (6 rows
    // before every request): the 2024-05-20 window is still moving after the last
    // re-read; the steady 2024-05-19 window is not.
    const steady = Array.from({ length: 5 }, (_, i) => ({ email_id: `s${i}$r@example.com`, date: '2024-05-19' }))
    const moving = Array.from({ length: 2000 }, (_, i) => ({ email_id: `m${i}$r@example.com`, date: '2024-05-20' }))
    const changes = Array.from({ length: 333 }, (_, k) => ({
      before_request: k + 1,
      remove: moving.slice(6 * k, 6 * k + 6).map((r) => r.email_id),
    }))
    fake.configure({ rows: [...steady, ...moving], cache: 'per_request', changes }, '2024-05-20', 4, new Map(), null)
    // One request at a time: the changes are keyed by request index.
    const records = clientFor({ maxWindowDays: 1, rateLimitPerMinute: 0, parallel: 1 }).records({ days: 2, limit: 4, today: '2024-05-20' })
    const got = (await records.toArray()).map((r) => r.emailId)
    assert.deepEqual(got.slice(0, 5), steady.map((r) => r.email_id))
    const stats = records.stats
    assert.deepEqual(stats.unstableUnits, [{ start: '2024-05-20', end: '2024-05-20', chunk: 0 }])
    assert.deepEqual([stats.passes, stats.unitsReread], [1 + 4, 1]) // the steady window, then 1 + 3 re-reads
    assert.ok(stats.totalDrift > 0 && stats.emptyPages + stats.shortPages > 0, JSON.stringify(stats))
  })
})
