//! End-to-end tests of `sync`, the `--db` reports and `status` against a
//! sandbox started in the test process: the archive checked row by row
//! against the sandbox's ground truth, offline reports against the same
//! commands online, a sync killed with SIGKILL and run again, and a second
//! sync on a busy file.

mod common;

use common::{date, ok, stderr, today};

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use rusqlite::Connection;
use sendcloud_status_sandbox::{
    DEMO_API_KEY, DEMO_API_USER, Filter, GroundRecord, Language, LiveConfig, Sandbox, SandboxConfig,
};
use serde_json::Value;

/// A sandbox on 2024-05-20 at 15:00 with `days` days of data, no rate limit.
fn sandbox(records: u64, days: u32) -> Sandbox {
    let config = SandboxConfig::default()
        .with_records(records)
        .with_days_of_data(days)
        .with_now(today().and_hms_opt(15, 0, 0).unwrap())
        .with_rate_limit(None)
        .with_seed(3);
    Sandbox::start(config).expect("sandbox starts")
}

fn users(sb: &Sandbox) -> String {
    sb.dataset().api_users().join(",")
}

fn bin() -> Command {
    common::bin_with_timeout(Duration::from_secs(120))
}

/// The connection flags for `sb`, with the sandbox's calendar.
fn connection(sb: &Sandbox) -> Vec<String> {
    [
        "--base-url",
        &sb.base_url(),
        "--api-user",
        DEMO_API_USER,
        "--api-key",
        DEMO_API_KEY,
        "--today",
        &today().to_string(),
        "--rate-limit",
        "0",
        "--max-retries",
        "2",
        "--timeout",
        "10",
    ]
    .map(String::from)
    .to_vec()
}

fn run(sb: &Sandbox, args: &[&str]) -> Output {
    bin().args(connection(sb)).args(args).output().expect("the binary runs")
}

fn sync_args<'a>(db: &'a str, since: &'a str, users: &'a str) -> Vec<&'a str> {
    vec!["-q", "sync", "--db", db, "--since", since, "--api-user-list", users, "--rescan-after", "0s"]
}

type Row = (String, String, String, String, String, Option<u16>, String, String, String);

/// The `emails` table equals the ground truth, field by field, no row more
/// or less.
fn assert_archive_equals(db: &Path, truth: &[GroundRecord]) {
    let conn = Connection::open(db).unwrap();
    let mut s = conn
        .prepare(
            "SELECT email_id, api_user, recipient, status, category, sub_status, request_time, modified_time, send_log
             FROM emails ORDER BY email_id",
        )
        .unwrap();
    let got: Vec<Row> = s
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut want: Vec<Row> = truth
        .iter()
        .map(|g| {
            (
                g.email_id.clone(),
                g.api_user.clone(),
                g.recipient.clone(),
                g.status_text(Language::Chinese),
                GroundRecord::category_name(g.status_code).to_owned(),
                g.sub_status,
                GroundRecord::rfc3339(g.request_time),
                GroundRecord::rfc3339(g.modified_time),
                g.send_log.clone(),
            )
        })
        .collect();
    want.sort();
    assert_eq!(got.len(), want.len(), "rows in the archive vs the server");
    if let Some((g, w)) = got.iter().zip(&want).find(|(g, w)| g != w) {
        panic!("archive row differs:\n  got  {g:?}\n  want {w:?}");
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn two_syncs_around_settling_rows_equal_the_server_and_offline_reports_equal_online_ones() {
    let sb = sandbox(8_000, 5);
    let all = users(&sb);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("status.db");
    let dbs = db.display().to_string();
    let range = Filter::dates(date("2024-05-16"), today()).with_api_users(sb.dataset().api_users());

    // First sync: every day from --since, all apiUsers.
    let out =
        run(&sb, &["sync", "--db", &dbs, "--since", "2024-05-16", "--api-user-list", &all, "--rescan-after", "0s"]);
    let line = stderr(&out);
    ok(out);
    let truth = sb.dataset().query(&range);
    assert!(line.contains("sync: 5 days read"), "{line}");
    assert!(line.contains(&format!("{} new", thousands(truth.len()))), "{line}");
    assert_archive_equals(&db, &truth);

    // Rows settle on the server between the runs.
    sb.set_live(LiveConfig::off().with_settle_per_second(500.0));
    std::thread::sleep(Duration::from_millis(200));
    sb.set_live(LiveConfig::off());
    let settled: Vec<(String, u8)> = sb.changes().into_iter().map(|c| (c.email_id, c.status_code)).collect();
    assert!(settled.len() >= 50, "{}", settled.len());

    let out = run(&sb, &["sync", "--db", &dbs, "--api-user-list", &all, "--rescan-after", "0s"]);
    let line = stderr(&out);
    ok(out);
    assert!(line.contains(&format!("{} changed", settled.len())), "{line}");
    let truth = sb.dataset().query(&range);
    assert_archive_equals(&db, &truth);

    // History: both states for every settled row, one for the others.
    let conn = Connection::open(&db).unwrap();
    for (id, code) in &settled {
        let mut s = conn.prepare("SELECT category FROM status_history WHERE email_id = ?1 ORDER BY seq").unwrap();
        let states: Vec<String> = s.query_map([id], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
        assert_eq!(states, ["sending", GroundRecord::category_name(*code)], "{id}");
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM status_history"),
        (truth.len() + settled.len()) as i64,
        "no other history row"
    );

    // Offline reports answer exactly what the same commands answer online.
    let window = ["--from", "2024-05-16", "--to", "2024-05-20", "--api-user-list", &all];
    for command in [
        &["summary", "--format", "json"][..],
        &["suppressions"],
        &["suppressions", "--soft-bounces", "1", "--format", "json"],
        &["soft-bounces", "--format", "csv"],
        &["query", "--format", "jsonl", "--status", "invalid"],
        &["query", "--format", "csv", "--sub-status", "503,509"],
    ] {
        let online = ok(run(&sb, &[&["-q"], command, &window[..]].concat()));
        let offline = ok(run(&sb, &[&["-q"], command, &["--db", dbs.as_str()], &window[..]].concat()));
        assert!(online.len() > 100, "{command:?}: {online}");
        assert_eq!(offline, online, "{command:?}");
    }
    // Without --api-user-list both cover the calling apiUser only.
    let online = ok(run(&sb, &["-q", "summary", "--days", "3", "--format", "json"]));
    let offline = ok(run(&sb, &["-q", "summary", "--db", &dbs, "--days", "3", "--format", "json"]));
    assert_eq!(offline, online);
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn status_prints_one_emails_timeline_from_the_archive_and_from_the_api() {
    let sb = sandbox(2_000, 3);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("status.db");
    let dbs = db.display().to_string();
    ok(run(&sb, &["sync", "--db", &dbs, "--since", "2024-05-18", "--rescan-after", "0s"]));
    sb.set_live(LiveConfig::off().with_settle_per_second(1e6));
    std::thread::sleep(Duration::from_millis(50));
    sb.set_live(LiveConfig::off());
    let change = sb
        .changes()
        .into_iter()
        .find(|c| sb.dataset().query(&Filter::days(today(), 3).with_email_ids([&c.email_id])).len() == 1)
        .expect("a settled row of the demo apiUser");
    ok(run(&sb, &["-q", "sync", "--db", &dbs, "--rescan-after", "0s"]));

    let offline: Value =
        serde_json::from_str(&ok(run(&sb, &["status", &change.email_id, "--db", &dbs, "--format", "json"]))).unwrap();
    let emails = offline.as_array().unwrap();
    assert_eq!(emails.len(), 1);
    let history: Vec<&str> =
        emails[0]["history"].as_array().unwrap().iter().map(|h| h["category"].as_str().unwrap()).collect();
    assert_eq!(history, ["sending", GroundRecord::category_name(change.status_code)]);
    assert_eq!(emails[0]["category"], GroundRecord::category_name(change.status_code));

    let online: Value =
        serde_json::from_str(&ok(run(&sb, &["status", &change.email_id, "--days", "3", "--format", "json"]))).unwrap();
    let online = online.as_array().unwrap();
    assert_eq!(online.len(), 1);
    assert_eq!(online[0]["category"], emails[0]["category"]);
    assert_eq!(online[0]["modified_time"], emails[0]["modified_time"]);
    assert!(online[0].get("history").is_none(), "the API has no history");

    // By address: every send to it, oldest first, in the archive and online.
    let address = sb.dataset().query(&Filter::days(today(), 3).with_email_ids([&change.email_id]))[0].recipient.clone();
    let truth = sb.dataset().query(&Filter::days(today(), 3).with_email(address.clone()));
    let table = ok(run(&sb, &["status", &address, "--db", &dbs]));
    assert!(table.starts_with(&format!("address {address}: {} email", truth.len())), "{table}");
    for g in &truth {
        assert!(table.contains(&g.email_id), "{table}");
    }
    assert!(table.contains("history"), "{table}");
    let online = ok(run(&sb, &["status", &address, "--days", "3"]));
    assert!(online.starts_with(&format!("address {address}: {} email", truth.len())), "{online}");
    let missing = ok(run(&sb, &["status", "nobody@nowhere.example", "--db", &dbs]));
    assert!(missing.contains("0 emails") && missing.contains("(nothing found)"), "{missing}");
}

#[test]
fn archive_errors_have_their_exit_codes() {
    let sb = sandbox(300, 2);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db").display().to_string();
    let out = run(&sb, &["summary", "--db", &missing, "--days", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no archive at"), "{}", stderr(&out));
    assert!(!Path::new(&missing).exists());

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "not a database, only text that is long enough to fill a SQLite header.........").unwrap();
    let out = run(&sb, &["query", "--db", &text.display().to_string(), "--days", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a sendcloud-status archive"), "{}", stderr(&out));

    let db = dir.path().join("a.db").display().to_string();
    ok(run(&sb, &["-q", "sync", "--db", &db]));
    let out = run(&sb, &["query", "--db", &db, "--days", "1", "--label-id", "3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("label"), "{}", stderr(&out));
    let out = run(&sb, &["sync", "--db", &db, "--since", "2024-05-21"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("since"), "{}", stderr(&out));

    // A sync right after the last: nothing due, and it says so.
    let out = run(&sb, &["sync", "--db", &db]);
    let line = stderr(&out);
    ok(out);
    assert!(line.contains("sync: 0 days read") && line.contains("skipped"), "{line}");
}

#[test]
fn the_key_is_never_stored_in_the_archive_nor_printed_by_sync() {
    let sb = sandbox(1_000, 2);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("status.db");
    let out = run(&sb, &["-vv", "sync", "--db", &db.display().to_string()]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    ok(out);
    assert!(!all.contains(DEMO_API_KEY), "{all}");
    assert!(count(&db, "SELECT count(*) FROM emails") > 0);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(DEMO_API_KEY.len()).any(|w| w == DEMO_API_KEY.as_bytes()), "the key is in a file");
    }
    // A wrong key: exit 3, nothing but the failed run written.
    let mut args = connection(&sb);
    args[5] = "SENTINEL-wrong-key".into();
    let out =
        bin().args(&args).args(["sync", "--db", &db.display().to_string(), "--rescan-after", "0s"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!stderr(&out).contains("SENTINEL"));
    assert_eq!(count(&db, "SELECT count(*) FROM sync_runs WHERE outcome = 'failed'"), 1);
}

#[cfg(unix)]
fn spawn(sb: &Sandbox, args: &[&str]) -> std::process::Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sendcloud-status"));
    for var in ["SENDCLOUD_API_USER", "SENDCLOUD_API_KEY", "SENDCLOUD_REGION", "SENDCLOUD_BASE_URL", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.args(connection(sb))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

#[cfg(unix)]
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[cfg(unix)]
#[test]
fn a_second_sync_on_a_busy_archive_exits_5_while_readers_still_answer() {
    let config = SandboxConfig::default()
        .with_records(3_000)
        .with_days_of_data(5)
        .with_now(today().and_hms_opt(15, 0, 0).unwrap())
        .with_rate_limit(None)
        .with_latency(Duration::from_millis(60));
    let sb = Sandbox::start(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("status.db").display().to_string();
    let mut first = spawn(&sb, &sync_args(&db, "2024-05-16", DEMO_API_USER));
    wait_for("the first sync to write a page", || {
        Path::new(&db).exists()
            && Connection::open(&db).is_ok_and(|c| {
                c.query_row("SELECT count(*) FROM emails", [], |r| r.get::<_, i64>(0)).is_ok_and(|n| n > 0)
            })
    });
    let out = run(&sb, &["sync", "--db", &db, "--rescan-after", "0s"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).contains("is busy: another sync is writing it"), "{}", stderr(&out));
    let summary: Value =
        serde_json::from_str(&ok(run(&sb, &["-q", "summary", "--db", &db, "--days", "5", "--format", "json"])))
            .unwrap();
    assert!(summary["total"].as_u64().unwrap() > 0, "a reader sees the committed pages");
    let status = first.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert_eq!(count(Path::new(&db), "SELECT count(*) FROM sync_runs WHERE outcome = 'complete'"), 1);
}

/// A deterministic sequence (SplitMix64) for the kill points.
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(unix)]
#[test]
fn a_sync_killed_at_five_points_ends_exact_when_run_again() {
    // 60,000 records over 6 days (all apiUsers): ~600 pages per full sync.
    // Scaled down from 100,000 to keep the debug-build test within tens of seconds.
    let sb = sandbox(60_000, 6);
    let all = users(&sb);
    let truth =
        sb.dataset().query(&Filter::dates(date("2024-05-15"), today()).with_api_users(sb.dataset().api_users()));
    let pages = truth.len().div_ceil(100) as u64;
    let dir = tempfile::tempdir().unwrap();
    let mut seed = 2024;
    for round in 0..5 {
        // Rounds 0–2 kill a first sync of a new archive, rounds 3–4 a later
        // sync re-reading the lookback of the archive of round 2.
        let db = dir.path().join(format!("round{}.db", round.min(2)));
        let dbs = db.display().to_string();
        let second_run = round >= 3;
        let span = if second_run { pages / 3 } else { pages };
        let kill_after = 2 + next(&mut seed) % (span - 4);
        sb.clear_log();
        let mut child = spawn(&sb, &sync_args(&dbs, "2024-05-15", &all));
        wait_for("the kill point", || sb.request_log().len() as u64 >= kill_after);
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert_eq!(status.code(), None, "round {round}: killed by a signal");

        ok(run(&sb, &sync_args(&dbs, "2024-05-15", &all)));
        let check: String = Connection::open(&db).unwrap().query_row("PRAGMA quick_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok", "round {round}");
        assert_archive_equals(&db, &truth);
        assert_eq!(
            count(&db, "SELECT count(*) FROM status_history"),
            truth.len() as i64,
            "round {round}: one state each"
        );
        assert_eq!(
            count(
                &db,
                "SELECT count(*) FROM (SELECT email_id FROM status_history GROUP BY email_id HAVING count(*) > 1)"
            ),
            0
        );
        assert_eq!(
            count(&db, "SELECT count(*) FROM sync_runs WHERE outcome = 'interrupted'"),
            if second_run { round - 1 } else { 1 }
        );
        assert_eq!(count(&db, "SELECT count(*) FROM sync_days WHERE complete = 0"), 0, "round {round}");
    }
}
