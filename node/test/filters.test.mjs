// Every filter, through page() and records(), against the sandbox's ground truth.

import { before, after, describe, it } from 'node:test'
import assert from 'node:assert/strict'

import { Client, RECORD_FIELDS, STATUSES } from '../index.js'
import { startSandbox, truthParams, addDays, API_USER, API_KEY, TODAY } from './sandbox.mjs'

let sandbox
let client
let today

before(async () => {
  sandbox = await startSandbox(['--records', '4000', '--rate-limit', '0'])
  client = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, rateLimitPerMinute: 0 })
  today = (await sandbox.info()).today
})

after(async () => {
  await sandbox?.stop()
})

const ids = (records) => records.map((r) => r.emailId)

/** records() equals the truth, in server order; page() equals its first page. */
async function checkFilter(filters, { minimum = 1 } = {}) {
  const truth = await sandbox.truth(truthParams(filters))
  assert.ok(truth.total >= minimum, `the dataset should have ≥ ${minimum} rows for ${JSON.stringify(filters)}`)
  const records = await client.records({ ...filters, today: TODAY }).toArray()
  assert.deepEqual(ids(records), truth.email_ids, JSON.stringify(filters))
  return { truth, records }
}

describe('filters against the ground truth', () => {
  it('days within one window (sent as days) and page() of it', async () => {
    const { truth } = await checkFilter({ days: 1 })
    const page = await client.page({ days: 1, limit: 100 })
    assert.equal(page.total, truth.total)
    assert.deepEqual(ids(page.records), truth.email_ids.slice(0, 100))
    assert.equal(page.rowsReceived, page.records.length)
    assert.equal(page.window, null)
  })

  it('without today or serverNow, days count back from the server clock as this machine reads it', async () => {
    // On a sandbox running on the real clock: the rows of its own days=3. Midnight (UTC+8)
    // may pass between the plan and the sandbox's answer; then the run is repeated (once:
    // midnight does not pass twice).
    const sb = await startSandbox(['--rate-limit', '0', '--records', '3000'], { realClock: true })
    try {
      const c = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sb.baseUrl, rateLimitPerMinute: 0 })
      let got
      let truth
      for (let attempt = 0; attempt < 2; attempt++) {
        const before = (await sb.info()).today
        got = ids(await c.records({ days: 3 }).toArray())
        truth = (await sb.truth({ days: 3 })).email_ids
        if ((await sb.info()).today === before) break
      }
      assert.ok(got.length > 0, 'two full days at least: never empty')
      assert.deepEqual(got, truth)
    } finally {
      await sb.stop()
    }
  })

  it('days longer than the window maximum (split oldest first)', async () => {
    await checkFilter({ days: 10 }, { minimum: 500 })
  })

  it('startDate and endDate', async () => {
    const f = { startDate: addDays(today, -6), endDate: addDays(today, -1) }
    await checkFilter(f, { minimum: 200 })
    const page = await client.page({ startDate: addDays(today, -2), endDate: addDays(today, -1), limit: 5 })
    assert.deepEqual(page.window, { startDate: addDays(today, -2), endDate: addDays(today, -1) })
    assert.equal(page.records.length, 5)
  })

  it('email', async () => {
    const [first] = (await client.page({ days: 3, limit: 1 })).records
    const { records } = await checkFilter({ days: 3, email: first.recipient })
    assert.ok(records.every((r) => r.recipient.toLowerCase() === first.recipient.toLowerCase()))
  })

  it('emailIds (more than one chunk of 20)', async () => {
    const all = (await sandbox.truth({ days: 3 })).email_ids
    const wanted = all.filter((_, i) => i % 3 === 0).slice(0, 45)
    assert.equal(wanted.length, 45)
    const records = await client.records({ days: 3, emailIds: wanted, today: TODAY }).toArray()
    assert.deepEqual(new Set(ids(records)), new Set(wanted))
    assert.equal(records.length, 45)
  })

  it('labelId', async () => {
    await checkFilter({ days: 3, labelId: 1001 })
  })

  it('labelName (fuzzy)', async () => {
    await checkFilter({ days: 3, labelName: 'newsletter' })
    await checkFilter({ days: 3, labelName: 'digest' })
  })

  it('apiUsers (apiUserList)', async () => {
    const { records } = await checkFilter({ days: 3, apiUsers: ['sandbox_mkt', 'sandbox_tx'] })
    assert.deepEqual(new Set(records.map((r) => r.apiUser)), new Set(['sandbox_mkt', 'sandbox_tx']))
  })

  for (const status of STATUSES) {
    it(`status ${status}`, async () => {
      const { records } = await checkFilter({ days: 10, status })
      assert.ok(records.every((r) => r.category === status), `every category is ${status}`)
    })
  }

  it('subStatus, with and without status', async () => {
    const { records } = await checkFilter({ days: 10, status: 'invalid', subStatus: [406, 404] })
    assert.ok(records.every((r) => [406, 404].includes(r.subStatus)))
    assert.ok(records.every((r) => r.shouldSuppress))
    const soft = await checkFilter({ days: 10, subStatus: [503] })
    assert.ok(soft.records.every((r) => r.subStatus === 503 && r.category === 'soft_bounce'))
  })

  it('start and limit select one page', async () => {
    const truth = await sandbox.truth({ days: 2 })
    const page = await client.page({ days: 2, start: 5, limit: 7 })
    assert.equal(page.total, truth.total)
    assert.deepEqual(ids(page.records), truth.email_ids.slice(5, 12))
  })

  it('limit is the page size of an export', async () => {
    const truth = await sandbox.truth({ days: 2 })
    const records = client.records({ days: 2, limit: 30, today: TODAY })
    const all = await records.toArray()
    assert.deepEqual(ids(all), truth.email_ids)
    assert.equal(records.stats.requests, Math.ceil(truth.total / 30))
  })

  it('sends camelCase wire names only, never an empty or unset parameter, the key in the body', async () => {
    await sandbox.clear()
    await client.page({
      startDate: addDays(today, -1),
      endDate: today,
      email: 'nobody@example.com',
      emailIds: ['x$nobody@example.com'],
      labelId: 1001,
      labelName: 'newsletter',
      apiUsers: ['sandbox_user'],
      status: 'invalid',
      subStatus: [406],
      start: 0,
      limit: 10,
    })
    await client.page({ days: 1 })
    const log = await sandbox.requests()
    assert.equal(log.length, 2)
    assert.deepEqual(log[0].param_names, [
      'apiUser',
      'apiKey',
      'startDate',
      'endDate',
      'email',
      'emailIds',
      'labelId',
      'labelName',
      'apiUserList',
      'status',
      'subStatus',
      'start',
      'limit',
    ])
    assert.deepEqual(log[1].param_names, ['apiUser', 'apiKey', 'days', 'start', 'limit'])
    assert.ok(log.every((r) => r.method === 'POST' && r.key_in_url === false && r.status_code === 200))
  })

  it('several filters at once', async () => {
    await checkFilter({ days: 10, status: 'soft_bounce', labelId: 1003, apiUsers: ['sandbox_user', 'sandbox_mkt'] })
  })
})

describe('record fields', () => {
  it('are the core\'s fields camelCased, with Dates and raw times', async () => {
    const { records } = await client.page({ days: 3, status: 'invalid', limit: 20 })
    assert.ok(records.length > 0)
    const camel = (s) => s.replace(/_(.)/g, (_, c) => c.toUpperCase())
    // The canonical fields, plus what JS adds: raw time texts and `shouldSuppress`.
    const expected = [...RECORD_FIELDS.map(camel), 'requestTimeRaw', 'modifiedTimeRaw', 'shouldSuppress'].sort()
    for (const r of records) {
      assert.deepEqual(Object.keys(r).sort(), expected)
      assert.equal(typeof r.emailId, 'string')
      assert.equal(r.category, 'invalid')
      assert.ok(r.subStatus >= 400 && r.subStatus < 500)
      assert.equal(typeof r.subStatusDescription, 'string')
      assert.ok(r.requestTime instanceof Date)
      assert.match(r.requestTimeRaw, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
      // The raw text is server time at UTC+08:00.
      assert.equal(r.requestTime.getTime(), Date.parse(r.requestTimeRaw.replace(' ', 'T') + '+08:00'))
      assert.ok(r.modifiedTime instanceof Date)
      assert.deepEqual(r.extra, {})
    }
  })

  it('serverUtcOffset changes how times are read', async () => {
    const utc = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, serverUtcOffset: 'Z' })
    const [r] = (await utc.page({ days: 1, limit: 1 })).records
    assert.equal(r.requestTime.getTime(), Date.parse(r.requestTimeRaw.replace(' ', 'T') + 'Z'))
  })

  it('GET returns the same records as POST', async () => {
    const get = new Client({ apiUser: API_USER, apiKey: API_KEY, baseUrl: sandbox.baseUrl, method: 'GET' })
    assert.equal(get.method, 'GET')
    const a = await get.page({ days: 2, limit: 50 })
    const b = await client.page({ days: 2, limit: 50 })
    assert.deepEqual(ids(a.records), ids(b.records))
  })
})
