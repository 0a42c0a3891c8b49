// The language-neutral conformance vectors (tests/vectors/, see its
// README.md) through the public Node API: query → encodeRequest/encodeQuery,
// endpoint → new Client().endpoint, decode → decodePage, webhook →
// verifyWebhook. The export suite
// runs in vectors-export.test.mjs, against a fake server.

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'

import {
  Client,
  RECORD_FIELDS,
  SendCloudError,
  WebhookError,
  encodeQuery,
  encodeRequest,
  decodePage,
  verifyWebhook,
} from '../index.js'
import { VECTORS } from './sandbox.mjs'

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
const snake = (s) => (s === null ? null : s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()))

const suites = {}
for (const file of readdirSync(VECTORS).filter((f) => f.endsWith('.json'))) {
  const doc = JSON.parse(readFileSync(path.join(VECTORS, file), 'utf8'))
  suites[doc.suite] = { file, doc }
}

function onlyKeys(c, allowed, file) {
  const extra = Object.keys(c).filter((k) => !allowed.includes(k))
  assert.deepEqual(extra, [], `${file} :: ${c.name}: unknown keys (the runner is older than the vectors)`)
}

/** Compares a thrown error with an `expect.error`, on the keys present. */
function checkError(e, want, where) {
  assert.ok(e instanceof SendCloudError, `${where}: expected a SendCloudError, got ${e}`)
  if ('kind' in want) assert.equal(e.code, want.kind.toUpperCase(), `${where}: kind`)
  if ('field' in want) assert.equal(snake(e.field), want.field, `${where}: field`)
  if ('reason' in want) assert.equal(e.reason, want.reason, `${where}: reason`)
  if ('api_code' in want) assert.equal(e.apiCode, want.api_code, `${where}: api_code`)
  if ('http_status' in want) assert.equal(e.httpStatus, want.http_status, `${where}: http_status`)
}

function endpointSettings(ep = {}) {
  const s = {}
  for (const [k, v] of Object.entries(ep)) s[camel(k)] = v
  return s
}

/**
 * Runs every case of a suite, collecting failures so that one test reports
 * all of them by `file :: name`.
 */
function runSuite(name, runCase) {
  const { file, doc } = suites[name]
  it(`${file}: every case`, () => {
    assert.ok(doc.cases.length > 0)
    const failures = []
    for (const c of doc.cases) {
      try {
        runCase(c, `${file} :: ${c.name}`, file)
      } catch (e) {
        failures.push(`${file} :: ${c.name}: ${e.message}`)
      }
    }
    assert.deepEqual(failures, [], `${failures.length} of ${doc.cases.length} cases failed`)
  })
}

/** A vector's snake_case query → the JS filters (camelCase). */
function filters(query) {
  const f = {}
  for (const [k, v] of Object.entries(query)) f[camel(k)] = v
  return f
}

describe('conformance vectors', () => {
  it('the suites are all present', () => {
    assert.deepEqual(Object.keys(suites).sort(), ['decode', 'endpoint', 'export', 'query', 'webhook'])
  })

  runSuite('query', (c, where, file) => {
    onlyKeys(c, ['name', 'note', 'query', 'endpoint', 'method', 'expect'], file)
    const settings = { apiUser: 'u', apiKey: 'k', ...endpointSettings(c.endpoint) }
    if (c.method) settings.method = c.method
    let got
    try {
      got = encodeRequest(filters(c.query), settings)
    } catch (e) {
      if (!c.expect.error) throw e
      checkError(e, c.expect.error, where)
      return
    }
    assert.ok(!c.expect.error, `${where}: expected an error, got ${JSON.stringify(got.params)}`)
    assert.deepEqual(got.params, c.expect.params, 'params')
    if ('body' in c.expect) assert.equal(got.body, c.expect.body, 'body')
    if ('url' in c.expect) assert.equal(got.url, c.expect.url, 'url')
    assert.equal(got.method, c.method ?? 'POST')
    const contentType = got.headers.find(([n]) => n.toLowerCase() === 'content-type')
    if (got.method === 'POST') assert.deepEqual(contentType?.[1], 'application/x-www-form-urlencoded')
    // The credential-free parameters are the same through encodeQuery.
    assert.deepEqual(encodeQuery(filters(c.query)), c.expect.params, 'encodeQuery')
  })

  runSuite('endpoint', (c, where, file) => {
    onlyKeys(c, ['name', 'note', 'endpoint', 'expect'], file)
    let client
    try {
      client = new Client({ apiUser: 'u', apiKey: 'k', ...endpointSettings(c.endpoint) })
    } catch (e) {
      if (!c.expect.error) throw e
      checkError(e, c.expect.error, where)
      return
    }
    assert.ok(!c.expect.error, `${where}: expected an error`)
    const e = client.endpoint
    assert.deepEqual(
      { base_url: e.baseUrl, url: e.url, max_window_days: e.maxWindowDays, region: e.region },
      c.expect,
    )
  })

  runSuite('decode', (c, where, file) => {
    onlyKeys(c, ['name', 'note', 'http_status', 'body', 'body_file', 'body_hex', 'utc_offset', 'expect'], file)
    const body =
      c.body !== undefined
        ? c.body
        : c.body_file !== undefined
          ? readFileSync(path.join(VECTORS, c.body_file))
          : Buffer.from(c.body_hex, 'hex')
    let page
    try {
      page = decodePage(c.http_status, body, c.utc_offset)
    } catch (e) {
      if (!c.expect.error) throw e
      checkError(e, c.expect.error, where)
      return
    }
    assert.ok(!c.expect.error, `${where}: expected an error`)
    assert.equal(page.total, c.expect.total, 'total')
    if ('list_size' in c.expect) assert.equal(page.listSize, c.expect.list_size, 'list_size')
    assert.deepEqual(
      page.records.map((r, i) => canonical(r, c.expect.records?.[i])),
      c.expect.records,
    )
  })
})

/**
 * The canonical record JSON (the core's serialization) of a JS record. A
 * parsed time is a `Date` plus the raw text: it stands for the expected
 * RFC 3339 text when it is the same instant (which checks the offset).
 */
function canonical(r, want = {}) {
  const time = (date, raw, expected) => {
    if (raw === null) return null
    if (date === null) return raw
    if (typeof expected === 'string' && Date.parse(expected) === date.getTime()) return expected
    return `${date.toISOString()} (parsed from ${raw})`
  }
  // The core's field list, in its order; a JS record carries each camelCased.
  const camel = (s) => s.replace(/_(.)/g, (_, c) => c.toUpperCase())
  const out = {}
  for (const field of RECORD_FIELDS) {
    const key = camel(field)
    if (field.endsWith('_time')) out[field] = time(r[key], r[`${key}Raw`], want[field])
    else if (field === 'extra') {
      if (Object.keys(r.extra).length > 0) out.extra = r.extra
    } else out[field] = r[key]
  }
  return out
}

describe('conformance vectors: webhook', () => {
  runSuite('webhook', (c, where, file) => {
    onlyKeys(c, ['name', 'note', 'key', 'content_type', 'body', 'now_ms', 'tolerance_ms', 'seen_tokens', 'expect'], file)
    onlyKeys(c.expect, ['verdict', 'event', 'error'], file)
    const opts = { contentType: c.content_type, now: new Date(c.now_ms), seen: new Set(c.seen_tokens ?? []) }
    if ('tolerance_ms' in c) opts.toleranceMs = c.tolerance_ms
    if (c.expect.error) {
      onlyKeys(c.expect.error, ['kind', 'http_status'], file)
      const code = { malformed: 'WEBHOOK_MALFORMED', bad_signature: 'WEBHOOK_SIGNATURE', stale: 'WEBHOOK_STALE' }
      let thrown
      try {
        verifyWebhook(Buffer.from(c.body, 'utf8'), c.key, opts)
      } catch (e) {
        thrown = e
      }
      assert.ok(thrown instanceof WebhookError, `${where}: expected a WebhookError, got ${thrown}`)
      assert.equal(thrown.code, code[c.expect.error.kind], `${where}: kind`)
      assert.equal(thrown.httpStatus, c.expect.error.http_status, `${where}: http_status`)
      assert.ok(!String(thrown.message).includes(c.key), `${where}: the key leaked`)
      return
    }
    const ev = verifyWebhook(Buffer.from(c.body, 'utf8'), c.key, opts)
    assert.deepEqual(verifyWebhook(c.body, c.key, opts), ev, `${where}: string and Buffer bodies differ`)
    assert.equal(ev.repeated, { new: false, repeated: true }[c.expect.verdict], `${where}: verdict`)
    const actual = {
      kind: ev.kind,
      event: ev.event,
      category: ev.category,
      email_id: ev.emailId,
      recipient: ev.recipient,
      api_user: ev.apiUser,
      label_id: ev.labelId,
      label_name: ev.labelName,
      timestamp: ev.timestamp,
      time_ms: ev.time.getTime(),
      token: ev.token,
      sub_status: ev.subStatus,
      message: ev.message,
      extra: ev.extra,
    }
    onlyKeys(c.expect.event, Object.keys(actual), file)
    for (const [k, want] of Object.entries(c.expect.event)) {
      assert.deepEqual(actual[k], want, `${where}: event.${k}`)
    }
  })
})
