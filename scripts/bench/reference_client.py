"""The code a user would otherwise write: standard-library HTTP and json,
same pagination as the package (3-day windows, start/limit pages, stop on a
short page). Prints one JSON line: records, seconds, records_per_second
(run.py measures peak RSS from outside). Usage: reference_client.py BASE_URL START_DATE END_DATE"""

import datetime as dt
import http.client
import json
import sys
import time
import urllib.parse


def export(base_url: str, start: dt.date, end: dt.date, api_user: str, api_key: str) -> int:
    url = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    path = url.path + "data/emailStatus"
    count = 0
    day = start
    while day <= end:
        window_end = min(day + dt.timedelta(days=2), end)
        offset = 0
        while True:
            form = urllib.parse.urlencode({
                "apiUser": api_user, "apiKey": api_key,
                "startDate": day.isoformat(), "endDate": window_end.isoformat(),
                "start": offset, "limit": 100,
            })
            conn.request("POST", path, body=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            body = json.loads(conn.getresponse().read())
            if not body.get("result"):
                raise RuntimeError(body)
            rows = body["info"]["voList"]
            for row in rows:
                # Touch what a user reads, as the package's records do.
                _ = (row["emailId"], row["status"], row.get("subStatus"), row["recipients"],
                     dt.datetime.strptime(row["requestTime"], "%Y-%m-%d %H:%M:%S"))
                count += 1
            offset += len(rows)
            if len(rows) < 100 or offset >= int(body["info"]["total"]):
                break
        day = window_end + dt.timedelta(days=1)
    return count


def main() -> None:
    base_url, start, end = sys.argv[1], dt.date.fromisoformat(sys.argv[2]), dt.date.fromisoformat(sys.argv[3])
    t0 = time.perf_counter()
    n = export(base_url, start, end, "sandbox_user", "sandbox-demo-key")
    secs = time.perf_counter() - t0
    print(json.dumps({"client": "python-reference", "records": n, "seconds": secs,
                      "records_per_second": n / secs}))


if __name__ == "__main__":
    main()
