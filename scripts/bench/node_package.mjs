// The same export through the sendcloud-status addon. Prints one JSON line.
// Usage: node node_package.mjs BASE_URL START_DATE END_DATE [PARALLEL]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const { Client } = require(path.join(here, '..', '..', 'node'));

const [baseUrl, startDate, endDate, p] = process.argv.slice(2);
const parallel = Number(p ?? 1);
const client = new Client({ apiUser: 'sandbox_user', apiKey: 'sandbox-demo-key', baseUrl, rateLimitPerMinute: 0, parallel });

const t0 = performance.now();
let n = 0;
for await (const r of client.records({ startDate, endDate })) {
  // Touch what a user reads (the reference client does the same).
  void [r.emailId, r.status, r.subStatus, r.recipient, r.requestTime];
  n += 1;
}
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  client: `node-package-p${parallel}`, records: n, seconds: secs, records_per_second: n / secs
}));
