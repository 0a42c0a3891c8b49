// The Client object: settings, environment fallback, and that no view of it
// shows the key.

import { before, after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import util from 'node:util'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

import * as pkg from '../index.js'
import { Client, version } from '../index.js'
import { startSandbox, API_USER, API_KEY, TODAY } from './sandbox.mjs'

let sandbox

before(async () => {
  sandbox = await startSandbox(['--records', '2000'])
})

after(async () => {
  await sandbox?.stop()
})

const SECRET = 'k3y-that-must-never-show-9b1f'

describe('Client', () => {
  it('exposes apiUser, endpoint, method and the server day', () => {
    const c = new Client({ apiUser: 'me', apiKey: SECRET, baseUrl: sandbox.baseUrl })
    assert.equal(c.apiUser, 'me')
    assert.deepEqual(c.endpoint, {
      baseUrl: sandbox.baseUrl,
      url: sandbox.baseUrl + 'data/emailStatus',
      maxWindowDays: 3,
      region: null,
    })
    assert.equal(c.method, 'POST')
    // Today at UTC+08:00 by this machine's clock (midnight may pass between the reads).
    const utc8 = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)
    const before = utc8()
    const day = c.serverToday()
    assert.ok([before, utc8()].includes(day), day)
    const cn = new Client({ apiUser: 'me', apiKey: SECRET, region: 'sendcloud-cn' })
    assert.equal(cn.endpoint.maxWindowDays, 30)
    assert.equal(cn.endpoint.region, 'sendcloud-cn')
  })

  it('inspect, console.log, JSON.stringify and String never show the key', () => {
    const c = new Client({ apiUser: 'me', apiKey: SECRET, baseUrl: sandbox.baseUrl, method: 'GET' })
    const views = [
      util.inspect(c),
      util.inspect(c, { showHidden: true, depth: Infinity, getters: true }),
      util.format('%o %O %j %s', c, c, c, c),
      JSON.stringify(c),
      JSON.stringify({ nested: [c] }),
      String(c),
      Object.keys(c).join(),
      Object.getOwnPropertyNames(c).join(),
    ]
    for (const v of views) assert.ok(!v.includes(SECRET), v)
    assert.match(util.inspect(c, { breakLength: Infinity }), /^Client \{ apiUser: 'me', endpoint: 'http:\/\/127\.0\.0\.1:\d+\/api\/data\/emailStatus', method: 'GET' \}$/)
    assert.deepEqual(JSON.parse(JSON.stringify(c)), {
      apiUser: 'me',
      endpoint: sandbox.baseUrl + 'data/emailStatus',
      method: 'GET',
    })
    assert.equal(String(c), '[object Client]')
  })

  it('falls back to SENDCLOUD_* environment variables', async () => {
    process.env.SENDCLOUD_API_USER = API_USER
    process.env.SENDCLOUD_API_KEY = API_KEY
    process.env.SENDCLOUD_BASE_URL = sandbox.baseUrl
    try {
      const c = new Client()
      assert.equal(c.apiUser, API_USER)
      assert.equal(c.endpoint.baseUrl, sandbox.baseUrl)
      const page = await c.page({ days: 1, limit: 3 })
      assert.equal(page.records.length, 3)
      // Explicit settings win over the environment.
      const other = new Client({ apiUser: 'someone_else' })
      assert.equal(other.apiUser, 'someone_else')
    } finally {
      delete process.env.SENDCLOUD_API_USER
      delete process.env.SENDCLOUD_API_KEY
      delete process.env.SENDCLOUD_BASE_URL
    }
    process.env.SENDCLOUD_REGION = 'aurora-hk'
    try {
      const c = new Client({ apiUser: 'u', apiKey: 'k' })
      assert.equal(c.endpoint.region, 'aurora-hk')
    } finally {
      delete process.env.SENDCLOUD_REGION
    }
  })

  it('accepts every documented setting', async () => {
    const c = new Client({
      apiUser: API_USER,
      apiKey: API_KEY,
      baseUrl: sandbox.baseUrl,
      maxWindowDays: 2,
      method: 'post',
      timeoutMs: 5000,
      connectTimeoutMs: 1000,
      maxRetries: 2,
      rateLimitPerMinute: null,
      parallel: 2,
      serverUtcOffset: '+08:00',
      emailIdChunk: 5,
      userAgent: 'node-test/1',
      region: undefined,
    })
    assert.equal(c.endpoint.maxWindowDays, 2)
    const all = await c.records({ days: 5, today: TODAY }).toArray()
    const truth = await sandbox.truth({ days: 5 })
    assert.deepEqual(
      all.map((r) => r.emailId),
      truth.email_ids,
    )
  })

  it('defaults come from the addon: parallel auto, 3000 requests/minute', () => {
    assert.deepEqual(
      { parallel: pkg.DEFAULTS.parallel, rateLimitPerMinute: pkg.DEFAULTS.rateLimitPerMinute, maxParallel: pkg.DEFAULTS.maxParallel },
      { parallel: 'auto', rateLimitPerMinute: 3000, maxParallel: 64 },
    )
    // The same values the Python package and the CLI read from the core.
    const d = pkg.DEFAULTS
    assert.deepEqual(
      [d.method, d.timeoutMs, d.connectTimeoutMs, d.maxRetries, d.serverUtcOffset, d.pageSize, d.emailIdChunk],
      ['POST', 30000, 10000, 7, '+08:00', 100, 20],
    )
    assert.ok(Object.isFrozen(pkg.DEFAULTS))
    const c = new Client({ apiUser: 'me', apiKey: SECRET, baseUrl: sandbox.baseUrl })
    assert.equal(c.parallel, 'auto')
    assert.equal(new Client({ apiUser: 'me', apiKey: SECRET, baseUrl: sandbox.baseUrl, parallel: 3 }).parallel, 3)
    assert.equal(new Client({ apiUser: 'me', apiKey: SECRET, baseUrl: sandbox.baseUrl, parallel: 'AUTO' }).parallel, 'auto')
  })

  it('the package exports what index.d.ts declares', () => {
    // The runtime values index.d.ts declares (classes, constants, functions), read from the
    // file itself so a declaration without an export, or an export without one, fails here.
    const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
    const declared = [...dts.matchAll(/^export declare (?:abstract )?(?:class|const|let|function|enum) (\w+)/gm)]
      .map((m) => m[1])
    const exported = Object.keys(createRequire(import.meta.url)('../index.js'))
    assert.ok(declared.length > 20, `parsed ${declared.length} declarations`)
    assert.deepEqual([...new Set(exported)].sort(), [...new Set(declared)].sort())
    assert.match(version(), /^\d+\.\d+\.\d+/)
  })
})
