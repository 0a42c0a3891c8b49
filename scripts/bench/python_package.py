"""The same export through the sendcloud_status package. Prints one JSON line.
Usage: python_package.py BASE_URL START_DATE END_DATE [PARALLEL]"""

import json
import sys
import time

import sendcloud_status


def main() -> None:
    base_url, start, end = sys.argv[1:4]
    parallel = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    client = sendcloud_status.Client(
        "sandbox_user", "sandbox-demo-key", base_url=base_url, rate_limit_per_minute=None, parallel=parallel
    )
    t0 = time.perf_counter()
    n = 0
    for record in client.records(start_date=start, end_date=end):
        # Touch what a user reads (the reference client does the same).
        _ = (record.email_id, record.status, record.sub_status, record.recipient, record.request_time)
        n += 1
    secs = time.perf_counter() - t0
    print(json.dumps({"client": f"python-package-p{parallel}", "records": n, "seconds": secs,
                      "records_per_second": n / secs}))


if __name__ == "__main__":
    main()
