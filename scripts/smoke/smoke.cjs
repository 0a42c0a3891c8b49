// Smoke test of an installed sendcloud-status through require() (copied into a
// project that installed it). CommonJS has no top-level await: the loop runs in
// an async function.
const { Client } = require('sendcloud-status')
const { check } = require('./check.cjs')

async function main() {
  const client = new Client({ apiUser: 'sandbox_user', apiKey: 'sandbox-demo-key', baseUrl: process.env.BASE_URL })
  const ids = []
  for await (const r of client.records({ days: 3, today: process.env.TODAY })) ids.push(r.emailId)
  await check('require', ids, require.resolve('sendcloud-status'))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
