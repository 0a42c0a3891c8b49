// Smoke test of an installed sendcloud-status through import (copied into a
// project that installed it): an ES module, with a top-level for await.
import { Client } from 'sendcloud-status'
import { createRequire } from 'node:module'

const { check } = createRequire(import.meta.url)('./check.cjs')
const client = new Client({ apiUser: 'sandbox_user', apiKey: 'sandbox-demo-key', baseUrl: process.env.BASE_URL })
const ids = []
for await (const r of client.records({ days: 3, today: process.env.TODAY })) ids.push(r.emailId)
await check('import', ids, import.meta.resolve('sendcloud-status'))
