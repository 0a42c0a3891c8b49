// The code a user would otherwise write: fetch + JSON.parse, same
// pagination as the package (3-day windows, start/limit pages, stop on a
// short page). Prints one JSON line.
// Usage: node reference_client.mjs BASE_URL START_DATE END_DATE
const [baseUrl, startDate, endDate] = process.argv.slice(2);

const day = (s) => new Date(`${s}T00:00:00Z`);
const iso = (d) => d.toISOString().slice(0, 10);
const addDays = (d, n) => new Date(d.getTime() + n * 86400000);

async function exportAll() {
  let count = 0;
  const end = day(endDate);
  for (let from = day(startDate); from <= end; from = addDays(from, 3)) {
    const to = addDays(from, 2) < end ? addDays(from, 2) : end;
    for (let offset = 0; ; ) {
      const body = new URLSearchParams({
        apiUser: 'sandbox_user', apiKey: 'sandbox-demo-key',
        startDate: iso(from), endDate: iso(to), start: String(offset), limit: '100',
      });
      const res = await fetch(`${baseUrl}data/emailStatus`, { method: 'POST', body });
      const json = JSON.parse(await res.text());
      if (!json.result) throw new Error(JSON.stringify(json));
      const rows = json.info.voList;
      for (const row of rows) {
        // Touch what a user reads, as the package's records do.
        void [row.emailId, row.status, row.subStatus, row.recipients, new Date(row.requestTime.replace(' ', 'T') + '+08:00')];
        count += 1;
      }
      offset += rows.length;
      if (rows.length < 100 || offset >= Number(json.info.total)) break;
    }
  }
  return count;
}

const t0 = performance.now();
const n = await exportAll();
const secs = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  client: 'node-reference', records: n, seconds: secs, records_per_second: n / secs
}));
