//! Benchmarks against the loopback sandbox, printed as JSON lines for
//! `scripts/bench.sh` to put into `BENCHMARKS.md`.
//!
//! - `ceiling`: export N records with the server limited to L requests per
//!   minute and a fixed latency; report the request rate as a fraction of
//!   L/60, the share of `50000` answers, and lost/duplicate records —
//!   sequential and parallel.
//! - `adaptive`: the default settings (automatic parallelism and pacing)
//!   against the account's limit at several latencies, beside fixed
//!   parallelism; with a competing load taking part of the limit; and two
//!   concurrent exports in one process sharing the account's budget.
//! - `soak`: exports with injected faults over several seeds; every record
//!   exactly once, every time.
//! - `fuzz`: a time-boxed random fuzzer over the decoder and the export
//!   machine; executions and crashes.
//! - `drift`: exports from a live account (rows settling out of a
//!   `status=sending` result, mail arriving) against the same export with
//!   nothing moving: rows, re-read windows, extra requests, and whether every
//!   unchanged row came out exactly once.
//! - `archive`: records per second into a local archive (new, unchanged,
//!   changed emails) and bytes per record of the file; the requests of a
//!   second sync with nothing new against an export of the lookback days.
//! - `decode`: typed decoding vs a `serde_json::Value` parse, interleaved
//!   round by round so that a noisy machine slows both sides alike (the
//!   criterion bench measures one side after the other).
#![allow(clippy::print_stdout)]

mod archive;
mod fuzz;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use sendcloud_status::chrono::NaiveDate;
use sendcloud_status::{Client, Parallelism, Query, RetryPolicy, Status};
use sendcloud_status_sandbox::{
    CacheModel, DEMO_API_KEY, DEMO_API_USER, FaultConfig, Filter, LiveConfig, ResultOrder, Sandbox, SandboxConfig,
};
use serde_json::json;

#[derive(Parser)]
#[command(about = "sendcloud-status benchmarks on the loopback sandbox")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Throughput against the server's rate limit.
    Ceiling {
        /// Records to export (the sandbox holds about twice as many: half belong to other apiUsers).
        #[arg(long, default_value_t = 50_000)]
        records: u64,
        /// The server's limit, requests per minute; the client paces at the same rate.
        #[arg(long, default_value_t = 6000)]
        limit: u32,
        /// Added server latency, milliseconds.
        #[arg(long, default_value_t = 40)]
        latency_ms: u64,
        /// Parallelism values to measure.
        #[arg(long, value_delimiter = ',', default_value = "1,4,8")]
        parallel: Vec<usize>,
    },
    /// Default (automatic) settings vs the account limit, latencies, competing load, two exports.
    Adaptive {
        /// Records of the demo apiUser to export per run (fixed `1` runs export a tenth).
        #[arg(long, default_value_t = 30_000)]
        records: u64,
        /// The account's limit (server) and the client's ceiling, requests per minute.
        #[arg(long, default_value_t = 3000)]
        limit: u32,
        /// Server latencies to measure, milliseconds (each with ± a third of it as jitter).
        #[arg(long, value_delimiter = ',', default_value = "20,150,400")]
        latencies: Vec<u64>,
        /// Parallelism settings to compare.
        #[arg(long, value_delimiter = ',', default_value = "auto,1,8")]
        parallel: Vec<Parallelism>,
    },
    /// Exports under injected faults, several seeds.
    Soak {
        /// Records to export per run.
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        /// Seeds to run.
        #[arg(long, default_value_t = 5)]
        seeds: u64,
        /// Parallel requests.
        #[arg(long, default_value_t = 8)]
        parallel: usize,
    },
    /// Exports from a live account vs the same export with nothing moving.
    Drift {
        /// Records in the account (three days of data; about half belong to the demo apiUser).
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        /// Added server latency, milliseconds.
        #[arg(long, default_value_t = 20)]
        latency_ms: u64,
        /// Parallel requests.
        #[arg(long, default_value_t = 4)]
        parallel: usize,
    },
    /// The local archive: ingest rate, bytes per record, incremental-sync cost.
    Archive {
        /// Records written in the ingest measure.
        #[arg(long, default_value_t = 200_000)]
        records: u64,
        /// Records in the sandbox account of the incremental-sync check (30 days).
        #[arg(long, default_value_t = 60_000)]
        account_records: u64,
    },
    /// The webhook receiver under load: signed events from concurrent senders, repeats and bad
    /// signatures; answer times and what the archive holds.
    Webhook {
        /// Requests in all.
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        /// Concurrent senders (keep-alive connections).
        #[arg(long, default_value_t = 16)]
        senders: usize,
    },
    /// Typed decoding vs `serde_json::Value`, interleaved rounds.
    Decode {
        /// Rounds; each times a batch of each side, back to back.
        #[arg(long, default_value_t = 60)]
        rounds: u32,
        /// Decodes per batch.
        #[arg(long, default_value_t = 200)]
        batch: u32,
    },
    /// Random fuzzing of the decoder and the export machine for a time budget.
    Fuzz {
        /// Seconds to run.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// PRNG seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().bench {
        Bench::Ceiling { records, limit, latency_ms, parallel } => ceiling(records, limit, latency_ms, &parallel),
        Bench::Soak { records, seeds, parallel } => soak(records, seeds, parallel),
        Bench::Adaptive { records, limit, latencies, parallel } => adaptive(records, limit, &latencies, &parallel),
        Bench::Drift { records, latency_ms, parallel } => drift(records, latency_ms, parallel),
        Bench::Archive { records, account_records } => {
            archive::ingest(records)?;
            archive::incremental(account_records)
        }
        Bench::Webhook { requests, senders } => webhook(requests, senders),
        Bench::Decode { rounds, batch } => {
            decode(rounds, batch);
            Ok(())
        }
        Bench::Fuzz { seconds, seed } => {
            let r = fuzz::run(Duration::from_secs(seconds), seed);
            println!(
                "{}",
                json!({
                    "bench": "fuzz", "seconds": r.seconds, "decode_execs": r.decode_execs,
                    "export_execs": r.export_execs, "crashes": r.crashes, "hangs": r.hangs,
                })
            );
            Ok(())
        }
    }
}

const TODAY: (i32, u32, u32) = (2024, 5, 20);

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(TODAY.0, TODAY.1, TODAY.2).expect("valid date")
}

/// A sandbox whose demo apiUser owns about `records` records over 30 days,
/// and the query covering all of them.
fn sandbox(records: u64, config: SandboxConfig) -> Result<(Sandbox, Query, Vec<String>), Box<dyn std::error::Error>> {
    // The demo apiUser owns about half of the generated account.
    let sb = Sandbox::start(config.with_records(records * 2).with_today(today()).with_days_of_data(30))?;
    let from = today() - sendcloud_status::chrono::Days::new(29);
    let truth: Vec<String> =
        sb.dataset().query(&Filter::dates(from, today())).into_iter().map(|g| g.email_id).collect();
    let query = Query::builder().dates(from, today()).build()?;
    Ok((sb, query, truth))
}

struct Run {
    seconds: f64,
    requests: u64,
    retries: u64,
    rate_limited_seen: u64,
    lost: usize,
    duplicated: usize,
    error: Option<String>,
}

fn run(client: &Client, query: &Query, truth: &[String], parallel: usize) -> Run {
    let started = Instant::now();
    let mut records = match client.export(query.clone()).today(today()).parallel(parallel).records() {
        Ok(r) => r,
        Err(e) => {
            return Run {
                seconds: 0.0,
                requests: 0,
                retries: 0,
                rate_limited_seen: 0,
                lost: truth.len(),
                duplicated: 0,
                error: Some(e.to_string()),
            };
        }
    };
    let mut seen: HashSet<String> = HashSet::with_capacity(truth.len());
    let mut duplicated = 0;
    let mut error = None;
    for r in records.by_ref() {
        match r {
            Ok(r) => {
                if !seen.insert(r.email_id.unwrap_or_default()) {
                    duplicated += 1;
                }
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = records.stats();
    let lost = truth.iter().filter(|id| !seen.contains(*id)).count();
    Run {
        seconds,
        requests: stats.requests,
        retries: stats.retries,
        rate_limited_seen: stats.rate_limited,
        lost,
        duplicated,
        error,
    }
}

fn client(
    sb: &Sandbox,
    per_minute: Option<u32>,
    retry: RetryPolicy,
    timeout: Duration,
) -> sendcloud_status::Result<Client> {
    Client::builder()
        .ignore_env()
        .credentials(DEMO_API_USER, DEMO_API_KEY)
        .base_url(sb.base_url())
        .rate_limit_per_minute(per_minute)
        .retry_policy(retry)
        .timeout(timeout)
        .jitter_seed(7)
        .build()
}

fn ceiling(records: u64, limit: u32, latency_ms: u64, parallel: &[usize]) -> Result<(), Box<dyn std::error::Error>> {
    for &p in parallel {
        // A fresh server per run: its limiter starts from rest, like an idle account.
        let (sb, query, truth) = sandbox(
            records,
            SandboxConfig::default()
                .with_rate_limit(Some(limit))
                .with_latency(Duration::from_millis(latency_ms))
                .with_threads(p.max(4) + 2),
        )?;
        let c = client(&sb, Some(limit), RetryPolicy::default(), Duration::from_secs(30))?;
        let r = run(&c, &query, &truth, p);
        let answered_50000 = sb.request_log().iter().filter(|l| l.status_code == 50000).count();
        let rate = r.requests as f64 / r.seconds;
        let ceiling = f64::from(limit) / 60.0;
        println!(
            "{}",
            json!({
                "bench": "ceiling", "parallel": p, "records": truth.len(), "limit_per_minute": limit,
                "latency_ms": latency_ms, "seconds": r.seconds, "requests": r.requests,
                "requests_per_second": rate, "ceiling_per_second": ceiling, "fraction_of_ceiling": rate / ceiling,
                "answered_50000": answered_50000, "throttled_share": answered_50000 as f64 / r.requests.max(1) as f64,
                "retries": r.retries, "rate_limited_seen_by_client": r.rate_limited_seen,
                "lost": r.lost, "duplicated": r.duplicated, "error": r.error,
            })
        );
    }
    Ok(())
}

fn decode(rounds: u32, batch: u32) {
    use std::hint::black_box;
    let decoder = sendcloud_status::core::Decoder::default();
    for (profile, body) in sendcloud_status_bench::profiles() {
        let time = |f: &dyn Fn()| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / f64::from(batch)
        };
        let typed = || {
            black_box(decoder.decode(200, black_box(&body)).expect("valid page"));
        };
        let value = || {
            black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).expect("valid JSON"));
        };
        time(&typed); // warm-up
        time(&value);
        let mut pairs: Vec<(f64, f64)> = (0..rounds).map(|_| (time(&typed), time(&value))).collect();
        pairs.sort_by(|a, b| (a.1 / a.0).total_cmp(&(b.1 / b.0)));
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ratio = pairs[pairs.len() / 2].1 / pairs[pairs.len() / 2].0;
        let typed_us = median(&mut pairs.iter().map(|p| p.0).collect());
        let value_us = median(&mut pairs.iter().map(|p| p.1).collect());
        println!(
            "{}",
            json!({
                "bench": "decode", "profile": profile, "rounds": rounds, "batch": batch,
                "typed_us": typed_us, "value_us": value_us, "median_round_ratio": ratio,
            })
        );
    }
}

fn soak(records: u64, seeds: u64, parallel: usize) -> Result<(), Box<dyn std::error::Error>> {
    let slow = Duration::from_millis(1500);
    let timeout = Duration::from_millis(500);
    let (sb, query, truth) =
        sandbox(records, SandboxConfig::default().with_rate_limit(None).with_threads(parallel + 4))?;
    let retry = RetryPolicy {
        max_attempts: 12,
        base_delay: Duration::from_millis(20),
        rate_limit_base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
        deadline: Duration::from_secs(60),
    };
    for seed in 1..=seeds {
        sb.set_faults(
            FaultConfig::none()
                .with_seed(seed)
                .with_rate_limited(0.05)
                .with_http_502(0.02)
                .with_reset(0.01)
                .with_truncated(0.01)
                .with_slow(0.01, slow),
        );
        sb.clear_log();
        let c = client(&sb, None, retry.clone(), timeout)?;
        let r = run(&c, &query, &truth, parallel);
        let log = sb.request_log();
        let faults = log.iter().filter(|l| l.fault.is_some()).count();
        println!(
            "{}",
            json!({
                "bench": "soak", "seed": seed, "parallel": parallel, "records": truth.len(), "seconds": r.seconds,
                "requests": r.requests, "faults_injected": faults, "retries": r.retries,
                "lost": r.lost, "duplicated": r.duplicated, "exact": r.lost == 0 && r.duplicated == 0 && r.error.is_none(),
                "error": r.error,
            })
        );
    }
    Ok(())
}

/// One drift scenario: a name, the live settings, and whether the export
/// asks for `status=sending` only.
struct Scenario {
    name: &'static str,
    live: LiveConfig,
    sending_only: bool,
}

fn drift(records: u64, latency_ms: u64, parallel: usize) -> Result<(), Box<dyn std::error::Error>> {
    let per_request = LiveConfig::off().with_cache(CacheModel::PerRequest);
    let scenarios = [
        Scenario { name: "sending, nothing moves", live: LiveConfig::off(), sending_only: true },
        Scenario {
            name: "sending, 30 rows/s settle, per-request results",
            live: per_request.clone().with_settle_per_second(30.0),
            sending_only: true,
        },
        Scenario {
            name: "sending, 30 rows/s settle, 10-minute snapshots",
            live: LiveConfig::off().with_settle_per_second(30.0),
            sending_only: true,
        },
        Scenario { name: "all mail, nothing moves", live: LiveConfig::off(), sending_only: false },
        Scenario {
            name: "all mail, 50 arrivals/s, newest first, per-request results",
            live: per_request.with_arrivals_per_second(50.0).with_order(ResultOrder::NewestFirst),
            sending_only: false,
        },
    ];
    let now = today().and_hms_opt(15, 0, 0).expect("valid time");
    for scenario in scenarios {
        let config = SandboxConfig::default()
            .with_records(records)
            .with_days_of_data(3)
            .with_now(now)
            .with_rate_limit(None)
            .with_latency(Duration::from_millis(latency_ms))
            .with_threads(parallel + 2)
            .with_live(LiveConfig::off().with_order(scenario.live.order));
        let sb = Sandbox::start(config)?;
        let mut filter = Filter::days(today(), 3);
        let mut query = Query::builder().days(3);
        if scenario.sending_only {
            filter = filter.with_status(18);
            query = query.status(Status::Sending);
        }
        let truth: Vec<String> = sb.dataset().query(&filter).into_iter().map(|g| g.email_id).collect();
        // The baseline: the same export with nothing moving.
        let c = client(&sb, None, RetryPolicy::default(), Duration::from_secs(30))?;
        let query = query.build()?;
        let baseline = exact_run(&sb, &c, &query, parallel, &truth)?;
        sb.set_live(scenario.live.clone());
        let run = exact_run(&sb, &c, &query, parallel, &truth)?;
        let changed: HashSet<String> = sb.changes().into_iter().map(|c| c.email_id).collect();
        let lost = truth.iter().filter(|id| !changed.contains(*id) && !run.ids.contains(*id)).count();
        let extra = run.stats.requests as f64 / baseline.stats.requests.max(1) as f64 - 1.0;
        println!(
            "{}",
            json!({
                "bench": "drift", "scenario": scenario.name, "parallel": parallel, "latency_ms": latency_ms,
                "rows_at_start": truth.len(), "rows_changed": changed.len(), "records": run.stats.records,
                "seconds": run.seconds, "requests": run.stats.requests, "baseline_requests": baseline.stats.requests,
                "extra_request_share": extra, "passes": run.stats.passes, "units": baseline.stats.passes,
                "units_reread": run.stats.units_reread, "total_drift": run.stats.total_drift,
                "short_pages": run.stats.short_pages, "empty_pages": run.stats.empty_pages,
                "duplicates_dropped": run.stats.duplicates, "duplicated": run.duplicated,
                "unchanged_lost": lost, "exact": run.stats.is_exact() && lost == 0 && run.duplicated == 0,
            })
        );
    }
    Ok(())
}

struct DriftRun {
    ids: HashSet<String>,
    duplicated: usize,
    stats: sendcloud_status::ExportStats,
    seconds: f64,
}

fn exact_run(
    sb: &Sandbox,
    client: &Client,
    query: &Query,
    parallel: usize,
    truth: &[String],
) -> Result<DriftRun, Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut records = client.export(query.clone()).server_now(sb.now()).parallel(parallel).records()?;
    let mut ids = HashSet::with_capacity(truth.len());
    let mut duplicated = 0;
    for r in records.by_ref() {
        if !ids.insert(r?.email_id.unwrap_or_default()) {
            duplicated += 1;
        }
    }
    Ok(DriftRun { ids, duplicated, stats: records.stats().clone(), seconds: started.elapsed().as_secs_f64() })
}

/// One adaptive run's figures.
struct Measured {
    records: u64,
    requests: u64,
    seconds: f64,
    throttled: usize,
    lost: Option<usize>,
    duplicated: usize,
}

/// Exports `query` (at most `max_records`) with the client's defaults but
/// `parallel`, on a sandbox whose log is cleared first.
fn measure(
    sb: &Sandbox,
    client: &Client,
    query: &Query,
    parallel: Parallelism,
    max_records: Option<u64>,
    truth: &[String],
) -> Measured {
    sb.clear_log();
    let started = Instant::now();
    let mut export = client.export(query.clone()).today(today()).parallel(parallel);
    if let Some(n) = max_records {
        export = export.max_records(n);
    }
    let mut seen = HashSet::new();
    let mut duplicated = 0;
    let mut records = export.records().expect("valid export");
    for r in records.by_ref() {
        if !seen.insert(r.expect("export succeeds").email_id.unwrap_or_default()) {
            duplicated += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let throttled = sb.request_log().iter().filter(|l| l.status_code == 50000).count();
    let lost = max_records.is_none().then(|| truth.iter().filter(|id| !seen.contains(*id)).count());
    Measured { records: seen.len() as u64, requests: records.stats().requests, seconds, throttled, lost, duplicated }
}

fn adaptive(
    records: u64,
    limit: u32,
    latencies: &[u64],
    parallel: &[Parallelism],
) -> Result<(), Box<dyn std::error::Error>> {
    let ceiling = f64::from(limit) / 60.0;
    let print = |scenario: &str, latency_ms: u64, parallel: Parallelism, available: f64, m: &Measured| {
        let rate = m.requests as f64 / m.seconds;
        println!(
            "{}",
            json!({
                "bench": "adaptive", "scenario": scenario, "latency_ms": latency_ms, "parallel": parallel.to_string(),
                "records": m.records, "requests": m.requests, "seconds": m.seconds, "requests_per_second": rate,
                "available_per_second": available, "fraction": rate / available,
                "throttled": m.throttled, "throttled_share": m.throttled as f64 / m.requests.max(1) as f64,
                "lost": m.lost, "duplicated": m.duplicated,
            })
        );
    };
    let client_for = |sb: &Sandbox| -> sendcloud_status::Result<Client> {
        // The defaults a user gets, but for the sandbox's address and credentials.
        Client::builder().ignore_env().credentials(DEMO_API_USER, DEMO_API_KEY).base_url(sb.base_url()).build()
    };
    for &latency_ms in latencies {
        let config = SandboxConfig::default()
            .with_rate_limit(Some(limit))
            .with_latency(Duration::from_millis(latency_ms))
            .with_latency_jitter(Duration::from_millis(latency_ms / 3))
            .with_threads(48);
        let (sb, query, truth) = sandbox(records, config)?;
        let client = client_for(&sb)?;
        for &p in parallel {
            // One request at a time is slow at high latency: a tenth of the records says enough.
            let max = (p == Parallelism::Fixed(1)).then_some(records / 10);
            let m = measure(&sb, &client, &query, p, max, &truth);
            print("default limit", latency_ms, p, ceiling, &m);
        }
    }

    // Another process takes half of the account's limit.
    let config = SandboxConfig::default()
        .with_rate_limit(Some(limit))
        .with_latency(Duration::from_millis(150))
        .with_latency_jitter(Duration::from_millis(50))
        .with_competing_load(0.5)
        .with_threads(48);
    let (sb, query, truth) = sandbox(records / 2, config)?;
    let m = measure(&sb, &client_for(&sb)?, &query, Parallelism::Auto, None, &truth);
    print("competing load takes half", 150, Parallelism::Auto, ceiling / 2.0, &m);

    // Two exports at once in this process: one budget between them.
    let config = SandboxConfig::default()
        .with_rate_limit(Some(limit))
        .with_latency(Duration::from_millis(150))
        .with_latency_jitter(Duration::from_millis(50))
        .with_threads(64);
    let (sb, _, truth) = sandbox(records, config)?;
    let halves = [
        (today() - sendcloud_status::chrono::Days::new(29), today() - sendcloud_status::chrono::Days::new(15)),
        (today() - sendcloud_status::chrono::Days::new(14), today()),
    ];
    sb.clear_log();
    let started = Instant::now();
    let stats: Vec<(u64, HashSet<String>)> = std::thread::scope(|scope| {
        let runs: Vec<_> = halves
            .iter()
            .map(|&(from, to)| {
                let sb = &sb;
                scope.spawn(move || {
                    let client = client_for(sb).expect("client");
                    let query = Query::builder().dates(from, to).build().expect("query");
                    let mut records = client.export(query).today(today()).records().expect("export");
                    let ids: HashSet<String> =
                        records.by_ref().map(|r| r.expect("export succeeds").email_id.unwrap_or_default()).collect();
                    (records.stats().requests, ids)
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().expect("export thread")).collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let seen: HashSet<&String> = stats.iter().flat_map(|(_, ids)| ids).collect();
    let m = Measured {
        records: seen.len() as u64,
        requests: stats.iter().map(|(n, _)| n).sum(),
        seconds,
        throttled: sb.request_log().iter().filter(|l| l.status_code == 50000).count(),
        lost: Some(truth.iter().filter(|id| !seen.contains(id)).count()),
        duplicated: stats.iter().map(|(_, ids)| ids.len()).sum::<usize>() - seen.len(),
    };
    print("two exports in one process", 150, Parallelism::Auto, ceiling, &m);
    Ok(())
}

/// `webhook`: the receiver on a fresh archive, `requests` signed events from
/// `senders` connections (10 % repeats, 1 % bad signatures); one JSON line.
fn webhook(requests: usize, senders: usize) -> Result<(), Box<dyn std::error::Error>> {
    use sendcloud_status::core::webhook::AppKey;
    use sendcloud_status_webhook::load::{self, LoadPlan};
    use sendcloud_status_webhook::{Receiver, ReceiverConfig};

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hooks.db");
    let key = AppKey::new("bench-app-key")?;
    let receiver = Receiver::start(ReceiverConfig::new(([127, 0, 0, 1], 0).into(), &db, key.clone()))?;
    let report = load::run(receiver.addr(), "/", &LoadPlan::new(requests, key).senders(senders));
    let stats = receiver.shutdown();
    let archive = sendcloud_status_archive::Archive::open(&db)?;
    let stored = archive.event_count()?;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{}",
        json!({
            "bench": "webhook", "requests": report.requests, "senders": senders,
            "distinct_valid": report.distinct_valid, "repeats": report.repeats, "bad": report.bad,
            "stored": stored, "receiver_stored": stats.stored, "refused_403": report.answers.get(&403).copied().unwrap_or(0),
            "unexpected": report.unexpected.len(),
            "exact": stored as usize == report.distinct_valid && report.unexpected.is_empty(),
            "seconds": report.elapsed.as_secs_f64(), "requests_per_second": report.rate(),
            "p50_ms": ms(report.quantile(0.5)), "p90_ms": ms(report.quantile(0.9)),
            "p99_ms": ms(report.quantile(0.99)), "max_ms": ms(report.max()),
        })
    );
    Ok(())
}
