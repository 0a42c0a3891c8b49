//! `archive`: what the local archive costs.
//!
//! - *ingest*: records per second written into an archive file, one
//!   transaction per 100-record page as a sync writes them (decoding is done
//!   beforehand and not timed), for new emails, for the same emails seen
//!   again, and for emails whose state changed; bytes per record of the
//!   file afterwards.
//! - *incremental*: a first sync of a 30-day account, then a second one
//!   with nothing new on the server: its requests against what an export of
//!   the lookback days alone costs — once with every row settled, once with
//!   the sandbox's 2 % of rows still "sending" on every day (those of the
//!   days within the 7-day maximum age are asked for by id).

use std::time::{Duration, Instant};

use sendcloud_status::chrono::{Days, NaiveDateTime};
use sendcloud_status::core::Decoder;
use sendcloud_status::core::sync::SyncPolicy;
use sendcloud_status::{Client, Query, Record};
use sendcloud_status_archive::{Archive, ServerClock, SyncOptions};
use sendcloud_status_sandbox::{LiveConfig, Sandbox, SandboxConfig};
use serde_json::json;

use crate::{client, today};

/// Pages of 100 decoded records with unique ids; `settled` turns every
/// "sending" row into a delivered one a few seconds later.
fn pages(records: u64, settled: bool) -> Vec<Vec<Record>> {
    let decoder = Decoder::default();
    let start = today().and_hms_opt(0, 0, 0).expect("valid time") - Duration::from_secs(28 * 86_400);
    let statuses = [
        ("投递成功", ""),
        ("无效邮件-地址不存在", r#","subStatus":406"#),
        ("软退信-服务不可达", r#","subStatus":503"#),
        ("投递成功", ""),
        ("请求中", ""),
    ];
    (0..records.div_ceil(100))
        .map(|p| {
            let rows: Vec<String> = (0..100u64.min(records - p * 100))
                .map(|i| {
                    let n = p * 100 + i;
                    let (mut status, mut sub) = statuses[(n % 5) as usize];
                    let mut hour = 10;
                    if settled && status == "请求中" {
                        (status, sub, hour) = ("投递成功", "", 11);
                    }
                    // As the server pages them: by request time (one every
                    // 12 s from 2024-04-22), ids rising with it.
                    let requested = start + Duration::from_secs(12 * n);
                    let modified = requested + Duration::from_secs(if hour == 11 { 3600 } else { 5 });
                    format!(
                        r#"{{"emailId":"17160{n:08}_4576_32113_9310.sc-10_10_127_105-inbound0${n}user@example.com","status":"{status}","apiUser":"sandbox_user","recipients":"user{}@example.com","requestTime":"{}","modifiedTime":"{}","sendLog":"250 2.0.0 OK queued as {n:08X}"{sub}}}"#,
                        n.wrapping_mul(2_654_435_761) % 50_000,
                        requested.format("%Y-%m-%d %H:%M:%S"),
                        modified.format("%Y-%m-%d %H:%M:%S"),
                    )
                })
                .collect();
            let body = format!(r#"{{"result":true,"statusCode":200,"info":{{"voList":[{}]}}}}"#, rows.join(","));
            decoder.decode(200, body.as_bytes()).expect("valid page").records
        })
        .collect()
}

fn ingest_rate(
    archive: &mut Archive,
    pages: &[Vec<Record>],
    at: NaiveDateTime,
) -> Result<(f64, u64, u64), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let (mut inserted, mut changed) = (0, 0);
    for page in pages {
        let out = archive.ingest(page, at)?;
        inserted += out.inserted;
        changed += out.changed;
    }
    let n: usize = pages.iter().map(Vec::len).sum();
    Ok((n as f64 / started.elapsed().as_secs_f64(), inserted, changed))
}

/// The ingest figures.
pub fn ingest(records: u64) -> Result<(), Box<dyn std::error::Error>> {
    let new = pages(records, false);
    let settled = pages(records, true);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let mut archive = Archive::open(&path)?;
    let at = today().and_hms_opt(12, 0, 0).expect("valid time");
    let (new_rate, inserted, _) = ingest_rate(&mut archive, &new, at)?;
    let (same_rate, _, _) = ingest_rate(&mut archive, &new, at + Duration::from_secs(600))?;
    let (changed_rate, _, changed) = ingest_rate(&mut archive, &settled, at + Duration::from_secs(1200))?;
    drop(archive);
    // Everything checkpointed into the main file: its size is the archive's.
    let conn_size = {
        let archive = Archive::open(&path)?;
        drop(archive);
        std::fs::metadata(&path)?.len() + std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len())
    };
    println!(
        "{}",
        json!({
            "bench": "archive_ingest", "records": records, "pages": new.len(),
            "new_records_per_second": new_rate, "unchanged_records_per_second": same_rate,
            "changed_records_per_second": changed_rate, "inserted": inserted, "changed": changed,
            "file_bytes": conn_size, "bytes_per_record": conn_size as f64 / records as f64,
            "history_rows_per_record": (inserted + changed) as f64 / records as f64,
        })
    );
    Ok(())
}

/// The incremental-sync cost check.
pub fn incremental(records: u64) -> Result<(), Box<dyn std::error::Error>> {
    for settled in [true, false] {
        let config = SandboxConfig::default()
            .with_records(records)
            .with_days_of_data(30)
            .with_today(today())
            .with_rate_limit(None);
        let sb = Sandbox::start(config)?;
        if settled {
            // Every "sending" row turns final before the first sync.
            sb.set_live(LiveConfig::off().with_settle_per_second(1e9));
            std::thread::sleep(Duration::from_millis(20));
            sb.set_live(LiveConfig::off());
        }
        let c: Client = client(&sb, None, Default::default(), Duration::from_secs(30))?;
        let dir = tempfile::tempdir()?;
        let mut archive = Archive::open(dir.path().join("bench.db"))?;
        let policy = SyncPolicy::default().rescan_after(Duration::ZERO);
        let options = |sb: &Sandbox| SyncOptions::default().policy(policy.clone()).clock(ServerClock::At(sb.now()));
        let started = Instant::now();
        let first = archive.sync(&c, &options(&sb), |_| {})?;
        let first_seconds = started.elapsed().as_secs_f64();
        sb.clear_log();
        let started = Instant::now();
        let second = archive.sync(&c, &options(&sb), |_| {})?;
        let second_seconds = started.elapsed().as_secs_f64();
        let by_ids = sb.request_log().iter().filter(|r| r.param("emailIds").is_some()).count();
        // What the lookback days alone cost: the last complete day (today)
        // and the 3 days before it, as one plain export.
        let lookback = Query::builder().dates(today() - Days::new(u64::from(policy.lookback_days)), today()).build()?;
        let mut pages = c.export(lookback).today(today()).pages()?;
        for page in pages.by_ref() {
            page?;
        }
        let lookback_requests = pages.stats().requests;
        println!(
            "{}",
            json!({
                "bench": "archive_incremental", "scenario": if settled { "nothing sending" } else { "2 % of rows still sending" },
                "account_records": records, "first_sync_days": first.days_read, "first_sync_requests": first.requests,
                "first_sync_records": first.records_seen, "first_sync_seconds": first_seconds,
                "second_sync_days": second.days_read, "second_sync_requests": second.requests,
                "second_sync_requests_by_id": by_ids, "second_sync_seconds": second_seconds,
                "second_sync_new": second.ingested.inserted, "second_sync_changed": second.ingested.changed,
                "lookback_export_requests": lookback_requests,
                "within_lookback_cost": second.requests <= lookback_requests,
                "within_lookback_plus_id_lookups": second.requests <= lookback_requests + by_ids as u64,
            })
        );
    }
    Ok(())
}
