"""Smoke test of an installed sendcloud-status: exports the sandbox's last three days
(BASE_URL, TODAY from scripts/smoke/sandbox.sh) and compares the ids with its ground truth.
Run it outside the checkout, so that the installed package is the one imported."""

import datetime as dt
import json
import os
import sys
import urllib.request

import sendcloud_status as sc

base = os.environ["BASE_URL"]
assert "site-packages" in sc.__file__, f"sendcloud_status imported from {sc.__file__}, not an installation"
with urllib.request.urlopen(base.replace("/api/", "/_sandbox/truth?days=3")) as resp:
    truth = json.load(resp)["email_ids"]
client = sc.Client("sandbox_user", "sandbox-demo-key", base_url=base, rate_limit_per_minute=None)
ids = [r.email_id for r in client.records(days=3, today=dt.date.fromisoformat(os.environ["TODAY"]))]
assert len(truth) > 0, "the sandbox holds no records for three days"
assert sorted(ids) == sorted(truth), f"exported {len(ids)} records, the sandbox holds {len(truth)}"
print(
    f"python {sys.version.split()[0]}: sendcloud_status {sc.__version__} exported {len(ids)} records,"
    " the sandbox's three days"
)
