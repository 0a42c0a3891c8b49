// The same export through the sendcloud-status addon. Prints one JSON line.
// Usage: node node_package.mjs BASE_URL START_DATE END_DATE [PARALLEL | defaults]
//
// PARALLEL ('auto' or a number, default 1) runs without client pacing, for a
// sandbox without a limit; `defaults` keeps every default of the client
// (parallel 'auto', 3000 requests/minute), for a sandbox that enforces the
// account's limit.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { Client } = require(path.join(here, '..', '..', 'node'));

const [baseUrl, startDate, endDate, mode = '1'] = process.argv.slice(2);
let settings = {};
let name = 'node-package-defaults';
if (mode !== 'defaults') {
  const parallel = mode === 'auto' ? mode : Number(mode);
  settings = { rateLimitPerMinute: 0, parallel };
  name = `node-package-p${parallel}`;
}
const client = new Client({ apiUser: 'sandbox_user', apiKey: 'sandbox-demo-key', baseUrl, ...settings });

const t0 = performance.now();
let n = 0;
const records = client.records({ startDate, endDate });
for await (const r of records) {
  // Touch what a user reads (the reference client does the same).
  void [r.emailId, r.status, r.subStatus, r.recipient, r.requestTime];
  n += 1;
}
const secs = (performance.now() - t0) / 1000;
const { requests, rateLimited } = records.stats;
console.log(JSON.stringify({
  client: name, parallel: client.parallel, records: n, seconds: secs, records_per_second: n / secs,
  requests, requests_per_second: requests / secs, rate_limited: rateLimited,
}));
