"""The same export through the sendcloud_status package. Prints one JSON line.

Usage: python_package.py BASE_URL START_DATE END_DATE [PARALLEL | defaults]

PARALLEL ("auto" or a number, default 1) runs without client pacing, for a sandbox
without a limit; ``defaults`` keeps every default of the client (parallel "auto",
3000 requests/minute), for a sandbox that enforces the account's limit."""

import json
import sys
import time
from typing import Any, Dict, Union

import sendcloud_status


def main() -> None:
    base_url, start, end = sys.argv[1:4]
    mode = sys.argv[4] if len(sys.argv) > 4 else "1"
    settings: Dict[str, Any] = {}
    if mode == "defaults":
        name = "python-package-defaults"
    else:
        parallel: Union[int, str] = mode if mode == "auto" else int(mode)
        settings = {"rate_limit_per_minute": None, "parallel": parallel}
        name = f"python-package-p{parallel}"
    client = sendcloud_status.Client("sandbox_user", "sandbox-demo-key", base_url=base_url, **settings)
    t0 = time.perf_counter()
    n = 0
    records = client.records(start_date=start, end_date=end)
    for record in records:
        # Touch what a user reads (the reference client does the same).
        _ = (record.email_id, record.status, record.sub_status, record.recipient, record.request_time)
        n += 1
    secs = time.perf_counter() - t0
    stats = records.stats
    print(json.dumps({"client": name, "parallel": client.parallel, "records": n, "seconds": secs,
                      "records_per_second": n / secs, "requests": stats["requests"],
                      "requests_per_second": stats["requests"] / secs, "rate_limited": stats["rate_limited"]}))


if __name__ == "__main__":
    main()
