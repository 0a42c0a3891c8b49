"""Runs every benchmark on the loopback sandbox and rewrites BENCHMARKS.md.

Called by scripts/bench.sh after it built the release binaries, the Python
package (.venv) and the Node addon. Every figure comes from this one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RELEASE = TARGET / "release"
VENV_PY = ROOT / ".venv" / "bin" / "python"
HERE = Path(__file__).resolve().parent
SENTINEL = "SENTINEL-KEY-5f2b9c1e7d"
TODAY = "2024-05-20"
FROM = "2024-04-21"  # 30 days, the sandbox's data span


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run_json_lines(cmd: list[str], **kw) -> list[dict]:
    log(" ".join(str(c) for c in cmd))
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


class SandboxProcess:
    """The sandbox binary on 127.0.0.1:0."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(RELEASE / "sendcloud-status-sandbox"), "--port", "0", "--today", TODAY, *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/api/)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"sandbox did not start: {line!r}")
        self.base_url = m.group(1)

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.proc.kill()
        self.proc.wait()

    def control(self, path: str) -> object:
        import urllib.request
        with urllib.request.urlopen(self.base_url.replace("/api/", "/_sandbox/") + path) as r:
            return json.loads(r.read())


def ceiling(quick: bool) -> list[dict]:
    records = "20000" if quick else "50000"
    return run_json_lines([str(RELEASE / "sendcloud-status-bench"), "ceiling", "--records", records,
                           "--limit", "6000", "--latency-ms", "40", "--parallel", "1,4,8"])


def adaptive(quick: bool) -> list[dict]:
    """Default settings (automatic parallelism and pacing) against the account's 3000/min at 20, 150
    and 400 ms, beside fixed --parallel 1 and 8; a competing load; two exports in one process."""
    return run_json_lines([str(RELEASE / "sendcloud-status-bench"), "adaptive",
                           "--records", "20000" if quick else "50000"])


def package_defaults(quick: bool) -> list[dict]:
    """The Python and Node packages with every default (parallel "auto", 3000/min) against the account's
    3000/min at 150 ms ± 50 ms, as `adaptive` runs the Rust client: requests/s over the ceiling."""
    limit, latency = 3000, 150
    out = []
    with SandboxProcess("--records", "20000" if quick else "50000", "--rate-limit", str(limit),
                        "--latency-ms", str(latency), "--latency-jitter-ms", str(latency // 3), "--threads", "48") as sb:
        truth = sb.control(f"truth?startDate={FROM}&endDate={TODAY}")["total"]
        args = [sb.base_url, FROM, TODAY, "defaults"]
        for language, cmd in (("Python", [str(VENV_PY), str(HERE / "python_package.py"), *args]),
                              ("Node", ["node", str(HERE / "node_package.mjs"), *args])):
            (r,) = run_json_lines(cmd)
            if r["records"] != truth:
                raise RuntimeError(f"{language} exported {r['records']} records, expected {truth}")
            r.update(language=language, latency_ms=latency, limit_per_minute=limit,
                     fraction=r["requests_per_second"] / (limit / 60),
                     throttled_share=r["rate_limited"] / max(r["requests"], 1))
            out.append(r)
    return out


def decode(quick: bool) -> dict:
    """Criterion (the issue's benchmark, one side after the other) and an interleaved run
    (round by round, so a noisy neighbour slows both sides alike); the goal is judged on
    the interleaved median ratio, which is stable on a shared machine."""
    measure = "3" if quick else "10"
    cmd = ["cargo", "bench", "--locked", "-p", "sendcloud-status-bench", "--bench", "decode", "--",
           "--warm-up-time", "2", "--measurement-time", measure, "--noplot"]
    log(" ".join(cmd))
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    rounds = "20" if quick else "80"
    inter = {r["profile"]: r for r in run_json_lines(
        [str(RELEASE / "sendcloud-status-bench"), "decode", "--rounds", rounds, "--batch", "200"])}
    out = {}
    for profile in ("zh", "en"):
        est = {}
        for fn in ("typed", "serde_json_value"):
            path = TARGET / "criterion" / f"decode_page_100_{profile}" / fn / "new" / "estimates.json"
            est[fn] = json.loads(path.read_text())["median"]["point_estimate"] / 1000.0  # µs
        i = inter[profile]
        out[profile] = {"typed_us": est["typed"], "value_us": est["serde_json_value"],
                        "criterion_speedup": est["serde_json_value"] / est["typed"],
                        "interleaved_typed_us": i["typed_us"], "interleaved_value_us": i["value_us"],
                        "speedup": i["median_round_ratio"]}
    return out


def measured(cmd: list[str]) -> dict:
    """Runs a client, returns its JSON line with `peak_rss_mb` from /usr/bin/time.

    The clients' own getrusage() is not used: Linux carries a parent's peak RSS into
    its children across fork and exec, so every child would report this script's."""
    log(" ".join(str(c) for c in cmd))
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], check=True, capture_output=True, text=True)
    result = json.loads(next(line for line in p.stdout.splitlines() if line.startswith("{")))
    result["peak_rss_mb"] = int(p.stderr.strip().splitlines()[-1]) / 1024
    return result


def best_of(n: int, cmd: list[str]) -> dict:
    runs = [measured(cmd) for _ in range(n)]
    best = max(runs, key=lambda r: r["records_per_second"])
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def languages(quick: bool) -> dict:
    # The demo apiUser owns about half: ~100k records (quick: ~25k) over 30 days.
    size = "50000" if quick else "200000"
    reps = 1 if quick else 3
    res: dict = {}
    with SandboxProcess("--records", size, "--rate-limit", "0", "--threads", "8") as sb:
        truth = sb.control(f"truth?startDate={FROM}&endDate={TODAY}")["total"]
        res["records"] = truth
        args = [sb.base_url, FROM, TODAY]
        res["python_reference"] = best_of(reps, [sys.executable, str(HERE / "reference_client.py"), *args])
        res["python_package"] = best_of(reps, [str(VENV_PY), str(HERE / "python_package.py"), *args, "1"])
        res["python_package_p4"] = best_of(reps, [str(VENV_PY), str(HERE / "python_package.py"), *args, "4"])
        res["node_reference"] = best_of(reps, ["node", str(HERE / "reference_client.mjs"), *args])
        res["node_package"] = best_of(reps, ["node", str(HERE / "node_package.mjs"), *args, "1"])
        res["node_package_p4"] = best_of(reps, ["node", str(HERE / "node_package.mjs"), *args, "4"])
    for key in list(res):
        if isinstance(res[key], dict) and res[key].get("records") != res["records"]:
            raise RuntimeError(f"{key} exported {res[key].get('records')} records, expected {res['records']}")
    return res


def peak_rss_of(cmd: list[str]) -> tuple[float, float, int]:
    """(peak RSS MB, seconds, lines written) of a command whose stdout is counted and dropped."""
    log(" ".join(cmd))
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=False, check=True)
    secs = time.perf_counter() - t0
    kb = int(p.stderr.decode().strip().splitlines()[-1])
    return kb / 1024, secs, p.stdout.count(b"\n")


def memory(quick: bool) -> list[dict]:
    """CLI peak RSS exporting a whole account. De-duplication covers one 3-day window at a time,
    so memory follows the records per window, not the length of the export: the first two rows
    have the same density (10× the records over 10× the days), the last 10× the density."""
    out = []
    runs = [(100_000, 30), (300_000, 90), (300_000, 30)] if quick else [(100_000, 30), (1_000_000, 300), (1_000_000, 30)]
    for n, days in runs:
        with SandboxProcess("--records", str(n), "--days-of-data", str(days), "--rate-limit", "0", "--threads", "6") as sb:
            users = ",".join(sb.control("info")["api_users"])
            first = (dt.date.fromisoformat(TODAY) - dt.timedelta(days=days - 1)).isoformat()
            cmd = [
                str(RELEASE / "sendcloud-status"), "--base-url", sb.base_url, "--api-user", "sandbox_user",
                "--api-key", "sandbox-demo-key", "--rate-limit", "0", "--parallel", "4", "--quiet", "--today", TODAY,
                "query", "--from", first, "--to", TODAY, "--api-user-list", users, "--format", "jsonl",
            ]
            # Peak RSS moves by a few MB from run to run (threads, allocator): the least of three.
            mb, secs, lines = min((peak_rss_of(cmd) for _ in range(3)), key=lambda r: r[0])
            out.append({"records": n, "days": days, "exported": lines, "peak_rss_mb": mb, "seconds": secs})
    return out


def drift(quick: bool) -> list[dict]:
    return run_json_lines([str(RELEASE / "sendcloud-status-bench"), "drift",
                           "--records", "50000" if quick else "100000", "--latency-ms", "20", "--parallel", "4"])


def soak(quick: bool) -> list[dict]:
    records = "20000" if quick else "100000"
    return run_json_lines([str(RELEASE / "sendcloud-status-bench"), "soak", "--records", records, "--seeds", "5"])


def archive(quick: bool) -> dict:
    """The local archive: ingest rate and bytes per record, and what a second sync with
    nothing new costs against an export of the lookback days."""
    records, account = ("50000", "20000") if quick else ("200000", "60000")
    rows = run_json_lines([str(RELEASE / "sendcloud-status-bench"), "archive", "--records", records,
                           "--account-records", account])
    return {"ingest": next(r for r in rows if r["bench"] == "archive_ingest"),
            "incremental": [r for r in rows if r["bench"] == "archive_incremental"]}


def webhook(quick: bool) -> dict:
    """The webhook receiver: signed events from 16 concurrent senders (10 % repeats, 1 % bad
    signatures) into a fresh archive; answer times and what was stored."""
    requests = "2000" if quick else "10000"
    return run_json_lines([str(RELEASE / "sendcloud-status-bench"), "webhook", "--requests", requests,
                           "--senders", "16"])[0]


def fuzz(quick: bool) -> dict:
    return run_json_lines([str(RELEASE / "sendcloud-status-bench"), "fuzz", "--seconds", "10" if quick else "60"])[0]


def secrets() -> dict:
    """Every CLI command and binding error path with a sentinel key."""
    checks: list[tuple[str, str]] = []  # (name, combined output)
    with SandboxProcess("--records", "2000", "--rate-limit", "0") as sb:
        cli = str(RELEASE / "sendcloud-status")
        base = ["--base-url", sb.base_url, "--api-user", "sandbox_user", "--api-key", SENTINEL, "-vv"]
        for args in (["query", "--days", "1"], ["summary", "--days", "1"], ["suppressions", "--days", "1"],
                     ["soft-bounces", "--days", "1"], ["--method", "get", "query", "--days", "1"],
                     ["query", "--days", "0"], ["query", "--from", "2024-01-01"], ["--help"], ["query", "--help"]):
            p = subprocess.run([cli, *base, *args], capture_output=True, text=True,
                               env={**os.environ, "SENDCLOUD_API_KEY": SENTINEL})
            checks.append((f"cli {' '.join(args)} (exit {p.returncode})", p.stdout + p.stderr))
        p = subprocess.run([cli, "--base-url", "http://127.0.0.1:9/api/", "--api-user", "u", "--api-key", SENTINEL,
                            "--max-retries", "0", "-vv", "query", "--days", "1"], capture_output=True, text=True)
        checks.append((f"cli unreachable (exit {p.returncode})", p.stdout + p.stderr))
        py = f"""
import sendcloud_status as s
c = s.Client('sandbox_user', {SENTINEL!r}, base_url={sb.base_url!r}, max_retries=0)
print(repr(c)); print(str(c))
for call in (lambda: c.page(days=1), lambda: list(c.records(days=1)), lambda: c.page(days=0),
             lambda: s.Client('u', {SENTINEL!r}, base_url='http://127.0.0.1:9/api/', max_retries=0).page(days=1),
             lambda: s.Client('u', {SENTINEL!r}, base_url='http://example.com/api/')):
    try:
        call()
    except Exception as e:
        print(type(e).__name__, str(e), repr(e), repr(e.__cause__))
"""
        p = subprocess.run([str(VENV_PY), "-c", py], capture_output=True, text=True)
        checks.append((f"python error paths (exit {p.returncode})", p.stdout + p.stderr))
        js = f"""
const util = require('node:util');
const {{ Client }} = require({str(ROOT / 'node')!r});
const c = new Client({{ apiUser: 'sandbox_user', apiKey: {SENTINEL!r}, baseUrl: {sb.base_url!r}, maxRetries: 0 }});
console.log(util.inspect(c, {{ showHidden: true, depth: 5 }}), JSON.stringify(c), String(c));
(async () => {{
  for (const call of [() => c.page({{ days: 1 }}), () => c.page({{ days: 0 }}),
      async () => {{ for await (const r of c.records({{ days: 1 }})) void r; }},
      () => new Client({{ apiUser: 'u', apiKey: {SENTINEL!r}, baseUrl: 'http://127.0.0.1:9/api/', maxRetries: 0 }}).page({{ days: 1 }}),
      () => new Client({{ apiUser: 'u', apiKey: {SENTINEL!r}, baseUrl: 'http://example.com/api/' }})]) {{
    try {{ await call(); }} catch (e) {{ console.log(e.code, e.message, e.stack, util.inspect(e, {{ showHidden: true }})); }}
  }}
}})();
"""
        p = subprocess.run(["node", "-e", js], capture_output=True, text=True)
        checks.append((f"node error paths (exit {p.returncode})", p.stdout + p.stderr))
        log_entries = sb.control("requests")
    leaks = [name for name, text in checks if SENTINEL in text]
    return {"checks": len(checks), "leaks": leaks, "requests": len(log_entries),
            "key_in_url": sum(1 for r in log_entries if r["key_in_url"] and r["method"] == "POST"),
            "names": [n for n, _ in checks]}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} × {cpu}, {mem:.0f} GiB, {platform.system()} {platform.release()}; "
            f"{rustc}; Python {platform.python_version()}; Node {node}")


def ok(flag: bool) -> str:
    return "✅ met" if flag else "❌ not met"


def write_report(r: dict, quick: bool, started: str, seconds: float) -> str:
    c = {x["parallel"]: x for x in r["ceiling"]}
    best_par = max((x for x in r["ceiling"] if x["parallel"] > 1), key=lambda x: x["fraction_of_ceiling"])
    lang = r["languages"]
    py_speed = lang["python_package"]["records_per_second"] / lang["python_reference"]["records_per_second"]
    # How many times less memory the package needs than the reference (< 1: it needs more).
    py_mem = lang["python_reference"]["peak_rss_mb"] / lang["python_package"]["peak_rss_mb"]
    js_speed = lang["node_package"]["records_per_second"] / lang["node_reference"]["records_per_second"]
    auto_rows = [a for a in r["adaptive"] if a["scenario"] == "default limit" and a["parallel"] == "auto"]
    competing = next(a for a in r["adaptive"] if a["scenario"].startswith("competing"))
    two = next(a for a in r["adaptive"] if a["scenario"].startswith("two"))
    pkg = r["package_defaults"]
    mem = r["memory"]
    flat = mem[1]["peak_rss_mb"] / mem[0]["peak_rss_mb"] - 1
    still = [d for d in r["drift"] if d["rows_changed"] == 0 and "nothing" in d["scenario"]]
    moving = [d for d in r["drift"] if "nothing" not in d["scenario"]]
    soak_ok = all(s["exact"] for s in r["soak"])
    sec = r["secrets"]
    arch = r["archive"]
    ing = arch["ingest"]
    settled = next(x for x in arch["incremental"] if x["scenario"] == "nothing sending")
    wh = r["webhook"]
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `scripts/bench.sh{' --quick' if quick else ''}` on {started} in {seconds / 60:.1f} min. "
        "Every figure below comes from that one run; rerun the command to refresh the file.",
        "",
        f"Machine: {machine()}.",
        "",
        "All runs talk to the bundled sandbox on 127.0.0.1 (release builds). The sandbox is the same peer for every",
        "client, so differences are the clients' own costs.",
        "",
        "## Summary",
        "",
        "| benchmark | goal | result | |",
        "|---|---|---|---|",
        f"| rate-limit ceiling, parallel | ≥ 0.95 of L/60, ≤ 1 % throttled, 0 lost, 0 duplicated | "
        f"{best_par['fraction_of_ceiling']:.3f} (parallel {best_par['parallel']}), "
        f"{100 * best_par['throttled_share']:.2f} % throttled, {best_par['lost']} lost, {best_par['duplicated']} dup | "
        f"{ok(best_par['fraction_of_ceiling'] >= 0.95 and best_par['throttled_share'] <= 0.01 and best_par['lost'] == 0 and best_par['duplicated'] == 0)} |",
        f"| default settings vs the 3000/min ceiling at 20, 150, 400 ms | ≥ 0.9 each, ≤ 2 % throttled, exact | "
        + ", ".join(f"{a['latency_ms']} ms: {a['fraction']:.2f}" for a in auto_rows)
        + f"; {max(a['throttled_share'] for a in auto_rows):.1%} throttled at most | "
        f"{ok(all(a['fraction'] >= 0.9 and a['throttled_share'] <= 0.02 and a['lost'] == 0 and a['duplicated'] == 0 for a in auto_rows))} |",
        f"| competing load takes half the limit | ≥ 0.85 of the rest, ≤ 5 % throttled | "
        f"{competing['fraction']:.2f} of the rest, {competing['throttled_share']:.1%} throttled | "
        f"{ok(competing['fraction'] >= 0.85 and competing['throttled_share'] <= 0.05 and competing['lost'] == 0)} |",
        f"| two exports in one process | together ≤ the ceiling, ≤ 2 % throttled | "
        f"{two['fraction']:.2f} of the ceiling together, {two['throttled_share']:.1%} throttled | "
        f"{ok(two['fraction'] <= 1.02 and two['throttled_share'] <= 0.02 and two['lost'] == 0 and two['duplicated'] == 0)} |",
        f"| Python/Node packages with defaults at 150 ms: fraction of the ceiling | ≥ 0.9 each, ≤ 2 % throttled | "
        + ", ".join(f"{p['language']} {p['fraction']:.2f}" for p in pkg)
        + f"; {max(p['throttled_share'] for p in pkg):.1%} throttled at most | "
        f"{ok(all(p['fraction'] >= 0.9 and p['throttled_share'] <= 0.02 for p in pkg))} |",
        f"| typed decode vs `serde_json::Value` (interleaved) | ≥ 1.5× | zh {r['decode']['zh']['speedup']:.2f}×, en {r['decode']['en']['speedup']:.2f}× | "
        f"{ok(min(r['decode']['zh']['speedup'], r['decode']['en']['speedup']) >= 1.5)} |",
        f"| Python package vs stdlib reference, speed | ≥ 2× | {py_speed:.2f}× | {ok(py_speed >= 2)} |",
        f"| Python package vs stdlib reference, peak memory | ≥ 2× less | package {lang['python_package']['peak_rss_mb']:.1f} MB, "
        f"reference {lang['python_reference']['peak_rss_mb']:.1f} MB ({py_mem:.2f}× the reference's) | {ok(py_mem >= 2)} |",
        f"| Node addon vs fetch reference, speed | ≥ 1× (aim 1.5×) | {js_speed:.2f}× | {ok(js_speed >= 1)} |",
        f"| CLI peak RSS, {mem[0]['records']:,} vs {mem[1]['records']:,} records (same records per day) | within 10 % | "
        f"{mem[0]['peak_rss_mb']:.1f} MB vs {mem[1]['peak_rss_mb']:.1f} MB ({flat:+.1%}); "
        f"{mem[2]['records']:,} in {mem[2]['days']} days: {mem[2]['peak_rss_mb']:.1f} MB | {ok(abs(flat) <= 0.10)} |",
        f"| drift healing, nothing moving | 0 extra requests | "
        + ", ".join(f"{d['scenario']}: {d['extra_request_share']:+.0%}" for d in still)
        + f" | {ok(all(d['extra_request_share'] == 0 for d in still))} |",
        f"| drift healing, live account | every unchanged row once | "
        + ", ".join(f"{d['scenario']}: {d['unchanged_lost']} lost, {d['duplicated']} dup, {d['extra_request_share']:+.0%} requests" for d in moving)
        + f" | {ok(all(d['exact'] for d in r['drift']))} |",
        f"| archive ingest (release) | ≥ 50,000 records/s | {ing['new_records_per_second']:,.0f} new, "
        f"{ing['unchanged_records_per_second']:,.0f} unchanged, {ing['changed_records_per_second']:,.0f} changed records/s; "
        f"{ing['bytes_per_record']:.0f} bytes/record | {ok(ing['new_records_per_second'] >= 50000)} |",
        f"| incremental sync, nothing new | ≤ the lookback's pages | {settled['second_sync_requests']} requests vs "
        f"{settled['lookback_export_requests']} for the lookback days | {ok(settled['within_lookback_cost'])} |",
        f"| webhook receiver, {wh['requests']:,} events from {wh['senders']} senders | exactly the valid distinct events stored; p99 ≤ 50 ms | "
        f"{wh['stored']:,} of {wh['distinct_valid']:,} stored, {wh['refused_403']} of {wh['bad']} bad refused; "
        f"p99 {wh['p99_ms']:.1f} ms | {ok(wh['exact'] and wh['refused_403'] == wh['bad'] and wh['p99_ms'] <= 50)} |",
        f"| reliability soak, 5 seeds | every record exactly once | "
        f"{sum(1 for s in r['soak'] if s['exact'])}/{len(r['soak'])} exact | {ok(soak_ok)} |",
        f"| fuzzing | 0 crashes | {r['fuzz']['decode_execs']:,} decoder + {r['fuzz']['export_execs']:,} export executions, "
        f"{r['fuzz']['crashes']} crashes, {r['fuzz']['hangs']} hangs | {ok(r['fuzz']['crashes'] == 0 and r['fuzz']['hangs'] == 0)} |",
        f"| secrets | sentinel never printed | {sec['checks']} outputs checked, {len(sec['leaks'])} leaks; "
        f"{sec['key_in_url']} POST requests with the key in the URL | {ok(not sec['leaks'] and sec['key_in_url'] == 0)} |",
        "",
        "## Rate-limit ceiling",
        "",
        f"Export from the sandbox with its server-side limit at L = {r['ceiling'][0]['limit_per_minute']} requests/minute "
        f"and {r['ceiling'][0]['latency_ms']} ms added latency; the client's limiter is set to the same L. "
        "`sendcloud-status-bench ceiling`.",
        "",
        "| parallel | records | requests | seconds | requests/s | fraction of L/60 | `50000` answers | throttled | lost | duplicated |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for x in r["ceiling"]:
        lines.append(f"| {x['parallel']} | {x['records']:,} | {x['requests']} | {x['seconds']:.2f} | "
                     f"{x['requests_per_second']:.1f} | {x['fraction_of_ceiling']:.3f} | {x['answered_50000']} | "
                     f"{100 * x['throttled_share']:.2f} % | {x['lost']} | {x['duplicated']} |")
    lines += [
        "",
        f"Sequential export is bound by latency, not by the limit: one request at a time at "
        f"{c[1]['latency_ms']} ms + processing cannot exceed ~{1000 / (c[1]['latency_ms'] + 2):.0f} requests/s.",
        "",
        "## Decoding",
        "",
        "100-record pages (`sendcloud_status_bench::profiles`), time per page. Criterion "
        "(`cargo bench -p sendcloud-status-bench --bench decode`, medians) measures one side after the other, so "
        "on this shared 2-core VM a burst of noise can land on one side only; `sendcloud-status-bench decode` "
        "alternates batches of both sides round by round and reports the median round's ratio, which is what "
        "the goal is judged on.",
        "",
        "| profile | criterion typed | criterion `Value` | criterion ratio | interleaved typed | interleaved `Value` | interleaved ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in ("zh", "en"):
        d = r["decode"][p]
        lines.append(f"| {p} | {d['typed_us']:.1f} µs | {d['value_us']:.1f} µs | {d['criterion_speedup']:.2f}× | "
                     f"{d['interleaved_typed_us']:.1f} µs | {d['interleaved_value_us']:.1f} µs | {d['speedup']:.2f}× |")
    lines += [
        "",
        "## Python and Node against the code a user would write",
        "",
        f"{lang['records']:,} records (30 days, 3-day windows, 100-record pages) from a sandbox without rate limit. "
        "References: `scripts/bench/reference_client.py` (http.client keep-alive + json) and "
        "`scripts/bench/reference_client.mjs` (fetch + JSON.parse), same pagination. Best of 3 runs each; peak RSS "
        "of the client process from `/usr/bin/time -f %M` (the highest of the runs).",
        "",
        "| client | records/s | peak RSS |",
        "|---|---|---|",
    ]
    for key in ("python_reference", "python_package", "python_package_p4", "node_reference", "node_package",
                "node_package_p4"):
        x = lang[key]
        lines.append(f"| {x['client']} | {x['records_per_second']:,.0f} | {x['peak_rss_mb']:.1f} MB |")
    lines += [
        "",
        "## Throughput with default settings",
        "",
        "`sendcloud-status-bench adaptive`: the sandbox limits the account to 3000 requests/minute and answers "
        "after the latency ± a third of it; the client keeps its defaults (automatic parallelism, 3000/min ceiling) "
        "or a fixed `--parallel`. Fixed 1 runs export a tenth of the records. `fraction` is requests/s over what "
        "the account allows (half of it under the competing load).",
        "",
        "| scenario | latency | parallel | requests | seconds | requests/s | fraction | throttled | lost | duplicated |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for a in r["adaptive"]:
        lost = "–" if a["lost"] is None else a["lost"]
        lines.append(f"| {a['scenario']} | {a['latency_ms']} ms | {a['parallel']} | {a['requests']} | {a['seconds']:.1f} | "
                     f"{a['requests_per_second']:.1f} | {a['fraction']:.3f} | {a['throttled_share']:.1%} | {lost} | {a['duplicated']} |")
    lines += [
        "",
        "The Python and Node packages with every default (`scripts/bench/python_package.py` and "
        "`node_package.mjs` with `defaults`) against the same account: 3000 requests/minute, 150 ms ± 50 ms. "
        "Every record of the demo apiUser's 30 days, checked against the sandbox's count.",
        "",
        "| package | latency | parallel | records | requests | seconds | requests/s | fraction | throttled |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in pkg:
        lines.append(f"| {p['language']} | {p['latency_ms']} ms | {p['parallel']} | {p['records']:,} | {p['requests']} | "
                     f"{p['seconds']:.1f} | {p['requests_per_second']:.1f} | {p['fraction']:.3f} | {p['throttled_share']:.1%} |")
    lines += [
        "",
        "## Memory of a streaming export",
        "",
        "`sendcloud-status query … --format jsonl > /dev/null` over every apiUser of the account, `--parallel 4`; "
        "peak RSS from `/usr/bin/time -f %M`.",
        "",
        "| records in the account | days | exported | seconds | peak RSS |",
        "|---|---|---|---|---|",
    ]
    for m in mem:
        lines.append(f"| {m['records']:,} | {m['days']} | {m['exported']:,} | {m['seconds']:.1f} | {m['peak_rss_mb']:.1f} MB |")
    lines += [
        "",
        "Records are never held all at once. The de-duplication set (one 64-bit hash per email id) covers one "
        "window and its re-reads and is dropped when the window is done, so memory follows the records per "
        "3-day window, not the length of the export.",
        "",
        "## Exports on a live account",
        "",
        "`sendcloud-status-bench drift`: three days of data, 20 ms latency, parallel 4. Each scenario runs the "
        "export twice on a fresh sandbox: once with nothing moving (the baseline), then with the live account on; "
        "`extra requests` compares the two. Lost counts rows that were in the window at the start, never changed, "
        "and did not come out.",
        "",
        "| scenario | rows at start | rows changed | requests (baseline) | extra requests | windows re-read | total drift | short / empty pages | duplicates dropped | lost | duplicated | exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for d in r["drift"]:
        lines.append(f"| {d['scenario']} | {d['rows_at_start']:,} | {d['rows_changed']:,} | {d['requests']:,} "
                     f"({d['baseline_requests']:,}) | {d['extra_request_share']:+.0%} | {d['units_reread']} of {d['units']} | "
                     f"{d['total_drift']} | {d['short_pages']} / {d['empty_pages']} | {d['duplicates_dropped']:,} | "
                     f"{d['unchanged_lost']} | {d['duplicated']} | {'yes' if d['exact'] else 'NO'} |")
    lines += [
        "",
        "## Reliability soak",
        "",
        "Faults per request: 5 % rate-limited, 2 % HTTP 502, 1 % reset, 1 % truncated, 1 % slower than the "
        "client's 500 ms timeout. `sendcloud-status-bench soak`.",
        "",
        "| seed | records | requests | faults injected | retries | lost | duplicated | exact |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in r["soak"]:
        lines.append(f"| {s['seed']} | {s['records']:,} | {s['requests']} | {s['faults_injected']} | {s['retries']} | "
                     f"{s['lost']} | {s['duplicated']} | {'yes' if s['exact'] else 'NO'} |")
    lines += [
        "",
        "## Local archive",
        "",
        f"`sendcloud-status-bench archive`: {ing['records']:,} decoded records written into an archive file in "
        f"100-record pages, one transaction each, as `sync` writes them (decoding not timed); then the same "
        f"records again (nothing changes), then with every \"sending\" row settled (a history row each).",
        "",
        "| emails | records/s | history rows added |",
        "|---|---|---|",
        f"| new | {ing['new_records_per_second']:,.0f} | {ing['inserted']:,} |",
        f"| seen again, unchanged | {ing['unchanged_records_per_second']:,.0f} | 0 |",
        f"| seen again, {ing['changed']:,} changed | {ing['changed_records_per_second']:,.0f} | {ing['changed']:,} |",
        "",
        f"The file holds {ing['file_bytes'] / 2**20:.1f} MiB: {ing['bytes_per_record']:.0f} bytes per email "
        f"({ing['history_rows_per_record']:.1f} history rows each, indexes included).",
        "",
        "A first sync of a 30-day sandbox account, then a second one with nothing new on the server "
        "(`--rescan-after 0s`), against a plain export of the lookback days (the last complete day and the 3 "
        "before it). With rows still \"sending\" on older days, those of the days within the 7-day maximum "
        "age are asked for by id (20 per request).",
        "",
        "| account | first sync: days, requests, seconds | second sync: days, requests (by id) | lookback export | within |",
        "|---|---|---|---|---|",
    ]
    for x in arch["incremental"]:
        lines.append(f"| {x['account_records']:,} records, {x['scenario']} | {x['first_sync_days']}, "
                     f"{x['first_sync_requests']}, {x['first_sync_seconds']:.2f} | {x['second_sync_days']}, "
                     f"{x['second_sync_requests']} ({x['second_sync_requests_by_id']}) | "
                     f"{x['lookback_export_requests']} | "
                     f"{'lookback' if x['within_lookback_cost'] else ('lookback + id lookups' if x['within_lookback_plus_id_lookups'] else 'NO')} |")
    lines += [
        "",
        "## Webhook receiver",
        "",
        f"`sendcloud-status-bench webhook --requests {wh['requests']} --senders {wh['senders']}`: the receiver of "
        "`sendcloud-status webhook serve` (hyper on tokio, one writer thread, one transaction per event) on "
        "127.0.0.1 with a fresh archive; 16 threads post signed events (form and JSON bodies, both event "
        "spellings) over keep-alive connections, 10 % of them repeats of an earlier event (some racing it on "
        "another connection), 1 % with a bad signature. Answer time is from the first byte sent to the last "
        "byte of the answer, on the sender's side.",
        "",
        "| requests | distinct valid | stored | bad refused (403) | unexpected answers | rate | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {wh['requests']:,} | {wh['distinct_valid']:,} | {wh['stored']:,} | {wh['refused_403']} of {wh['bad']} | "
        f"{wh['unexpected']} | {wh['requests_per_second']:,.0f}/s | {wh['p50_ms']:.1f} ms | {wh['p90_ms']:.1f} ms | "
        f"{wh['p99_ms']:.1f} ms | {wh['max_ms']:.1f} ms |",
    ]
    f = r["fuzz"]
    lines += [
        "",
        "## Fuzzing",
        "",
        f"`sendcloud-status-bench fuzz --seconds {round(f['seconds'])}`: random mutations (bit flips, truncation, "
        "splices, junk) of documented bodies and random bytes through the decoder; the export machine driven with "
        "random answers, transport errors and timings. The stable toolchain here has no cargo-fuzz (it needs "
        "nightly), so this is an uninstrumented random fuzzer; the proptest suites in `crates/sendcloud-status-core/"
        "tests/properties.rs` run in CI as well.",
        "",
        f"{f['decode_execs']:,} decoder executions, {f['export_execs']:,} exports, {f['crashes']} crashes, "
        f"{f['hangs']} hangs in {f['seconds']:.0f} s.",
        "",
        "## Secrets",
        "",
        f"A sentinel key through {sec['checks']} outputs (stdout, stderr with `-vv` logs, `--help`, errors, "
        "`repr`/`inspect`, exception chains): "
        + ("no leak." if not sec["leaks"] else "LEAKS in: " + ", ".join(sec["leaks"]) + ".")
        + f" The sandbox saw {sec['requests']} API requests; {sec['key_in_url']} POST requests carried the key in "
        "the URL (GET requests put it there by the API's design; the CLI run with `--method get` is included).",
        "",
        "Checked: " + "; ".join(sec["names"]) + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes and budgets (a few minutes)")
    args = ap.parse_args()
    started = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    results = {}
    for name, fn in (("ceiling", ceiling), ("adaptive", adaptive), ("package_defaults", package_defaults),
                     ("decode", decode), ("languages", languages), ("memory", memory), ("drift", drift),
                     ("soak", soak), ("archive", archive), ("webhook", webhook), ("fuzz", fuzz)):
        log(f"== {name}")
        results[name] = fn(args.quick)
        log(json.dumps(results[name])[:400])
    log("== secrets")
    results["secrets"] = secrets()
    (ROOT / "target" / "bench-results.json").write_text(json.dumps(results, indent=2))
    report = write_report(results, args.quick, started, time.perf_counter() - t0)
    (ROOT / "BENCHMARKS.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
