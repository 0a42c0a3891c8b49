"""Export delivery statuses as JSON lines, resumably.

    python examples/export.py --days 7 --status invalid > bounces.jsonl
    python examples/export.py --days 7 --resume "$(cat cursor.txt)" >> bounces.jsonl

Credentials come from SENDCLOUD_API_USER / SENDCLOUD_API_KEY (and the region from
SENDCLOUD_REGION or SENDCLOUD_BASE_URL). On Ctrl-C the cursor is saved to cursor.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Optional

import sendcloud_status as sc


def export(client: sc.Client, days: int, status: Optional[str], resume: Optional[str], cursor_file: Path) -> int:
    records = client.records(days=days, status=status, cursor=resume)
    written = 0
    try:
        for record in records:
            print(json.dumps(record.to_dict(), ensure_ascii=False))
            written += 1
    except KeyboardInterrupt:
        if records.cursor is not None:
            cursor_file.write_text(records.cursor)
            print(f"interrupted after {written} records; resume with --resume {records.cursor}", file=sys.stderr)
        return 130
    stats: sc.ExportStats = records.stats
    print(f"{written} records in {stats['requests']} requests ({stats['retries']} retries)", file=sys.stderr)
    for unit in stats["unstable_units"]:  # empty unless the account kept moving under the export
        print(f"warning: {unit['start']}..{unit['end']} was still changing; rows may be missing", file=sys.stderr)
    return 0


async def summarize(days: int) -> None:
    client = sc.AsyncClient()
    summary = await client.summary(days=days)
    rate = summary["deliverability_rate"]
    print(f"{summary['total']} emails, deliverability {rate:.1%}" if rate is not None else "nothing yet", file=sys.stderr)
    for line in summary["sub_statuses"][:5]:
        print(f"  {line['code']} {line['description']}: {line['count']}", file=sys.stderr)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--status", choices=[s.value for s in sc.Status])
    parser.add_argument("--resume", help="a cursor printed by an interrupted run")
    parser.add_argument("--summary", action="store_true", help="print a summary instead (asyncio)")
    args = parser.parse_args(argv)
    try:
        if args.summary:
            asyncio.run(summarize(args.days))
            return 0
        return export(sc.Client(), args.days, args.status, args.resume, Path("cursor.txt"))
    except sc.ValidationError as e:  # e.field names the argument at fault
        print(e.message, file=sys.stderr)
        return 2
    except sc.SendCloudError as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
