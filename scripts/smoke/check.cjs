// Shared by smoke.cjs and smoke.mjs: the exported ids must be the sandbox's ground
// truth, and the package must come from node_modules (not a checkout).
const assert = require('node:assert/strict')
const { fileURLToPath } = require('node:url')
const path = require('node:path')

exports.check = async (form, ids, entry) => {
  const res = await fetch(new URL('/_sandbox/truth?days=3', process.env.BASE_URL))
  const truth = (await res.json()).email_ids
  assert.ok(truth.length > 0, 'the sandbox holds no records for three days')
  assert.deepEqual([...ids].sort(), [...truth].sort(), `exported ${ids.length}, the sandbox holds ${truth.length}`)
  const file = entry.startsWith('file:') ? fileURLToPath(entry) : entry
  assert.ok(file.includes(path.join('node_modules', 'sendcloud-status')), `loaded from ${file}`)
  const { version } = require('sendcloud-status')
  console.log(`node ${process.version} (${form}): sendcloud-status ${version()} exported ${ids.length} records, the sandbox's three days`)
}
