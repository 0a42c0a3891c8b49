//! End to end, the real-time commands: `watch` against a sandbox whose
//! "sending" rows settle while it polls (exit 0, 6, 7 from their real
//! triggers), and `webhook serve` fed by an independent sender, then by the
//! sandbox's own webhook push.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use sendcloud_status::chrono::NaiveDateTime;
use sendcloud_status::core::webhook::{AppKey, sign};
use sendcloud_status_sandbox::{CacheModel, DEMO_API_KEY, DEMO_API_USER, Filter, LiveConfig, Sandbox, SandboxConfig};
use sendcloud_status_webhook::load::{self, FORM, JSON, signed_event};
use serde_json::Value;

const APP_KEY: &str = "cli-test-webhook-key-SENTINEL";

fn bin() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("sendcloud-status"));
    for var in ["SENDCLOUD_API_USER", "SENDCLOUD_API_KEY", "SENDCLOUD_REGION", "SENDCLOUD_BASE_URL", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.env_remove("SENDCLOUD_WEBHOOK_KEY");
    cmd
}

/// The sandbox's account, pinned: the same records every time.
fn config() -> SandboxConfig {
    let now: NaiveDateTime = "2024-05-20T12:00:00".parse().unwrap();
    SandboxConfig::default().with_records(2_000).with_seed(5).with_now(now).with_rate_limit(None)
}

fn settling() -> LiveConfig {
    LiveConfig::off().with_settle_per_second(2_000.0).with_cache(CacheModel::PerRequest)
}

fn wait(child: &mut Child, limit: Duration) -> i32 {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.stdout.take().map(|o| std::io::read_to_string(o).unwrap_or_default()).unwrap_or_default();
            let err = child.stderr.take().map(|o| std::io::read_to_string(o).unwrap_or_default()).unwrap_or_default();
            panic!("the command did not end within {limit:?}\nstdout: {out}\nstderr: {err}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `watch` on `id` against `sb`, lets its first poll see "sending",
/// then lets every sending row settle; returns the exit code and the JSON lines.
fn watch_until_settled(id: &str, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let sb = Sandbox::start(config().with_live(LiveConfig::off().with_cache(CacheModel::PerRequest))).unwrap();
    let mut child = bin()
        .args(["--base-url", &sb.base_url(), "--api-user", DEMO_API_USER, "--api-key", DEMO_API_KEY])
        .args(["watch", "--email-id", id, "--interval", "1s", "--timeout", "60s", "--format", "jsonl"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while sb.request_log().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(20), "no poll");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    sb.set_live(settling());
    let code = wait(&mut child, Duration::from_secs(30));
    let out = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    let lines = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (code, lines, err)
}

#[test]
fn watch_reports_sending_to_delivered_and_exits_0() {
    let ends = Sandbox::settle_outcomes(config().with_live(settling()), DEMO_API_USER).unwrap();
    let id = ends.iter().find(|(_, s)| **s == 1).map(|(id, _)| id.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let (code, lines, err) = watch_until_settled(&id, &["--db", db.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let moves: Vec<(Value, Value)> = lines.iter().map(|l| (l["from"].clone(), l["to"].clone())).collect();
    assert_eq!(moves, [(Value::Null, "sending".into()), ("sending".into(), "delivered".into())], "{lines:?}");
    assert!(lines.iter().all(|l| l["email_id"] == id.as_str()));
    assert!(err.contains("every email delivered"), "{err}");
    assert!(!err.contains("warning"), "no cache warning on loopback: {err}");
    // --db recorded both states.
    let conn = Connection::open(&db).unwrap();
    let history: i64 =
        conn.query_row("SELECT count(*) FROM status_history WHERE email_id = ?1", [&id], |r| r.get(0)).unwrap();
    let category: String =
        conn.query_row("SELECT category FROM emails WHERE email_id = ?1", [&id], |r| r.get(0)).unwrap();
    assert_eq!((history, category.as_str()), (2, "delivered"));
}

#[test]
fn watch_exits_6_when_an_email_turns_invalid() {
    let ends = Sandbox::settle_outcomes(config().with_live(settling()), DEMO_API_USER).unwrap();
    let id = ends.iter().find(|(_, s)| **s == 4).map(|(id, _)| id.clone()).unwrap();
    let (code, lines, err) = watch_until_settled(&id, &[]);
    assert_eq!(code, 6, "{err}");
    let last = lines.last().unwrap();
    assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some("sending"), Some("invalid")));
    assert!(last["sub_status"].as_u64().is_some_and(|s| (401..=409).contains(&s)), "{last}");
    assert!(err.contains("at least one email failed"), "{err}");
}

#[test]
fn watch_exits_7_when_the_deadline_passes() {
    let sb = Sandbox::start(config()).unwrap();
    let sending = sb.dataset().query(&Filter::days(sb.dataset().today(), 3).with_status(18));
    let id = &sending[0].email_id;
    let started = Instant::now();
    let out = bin()
        .args(["--base-url", &sb.base_url(), "--api-user", DEMO_API_USER, "--api-key", DEMO_API_KEY])
        .args(["watch", "--email-id", id, "--interval", "1s", "--timeout", "3s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&format!("{id}  ")) && text.contains("unseen → sending"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("deadline passed"));
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn watch_follows_every_email_to_an_address() {
    let sb = Sandbox::start(config()).unwrap();
    let ds = sb.dataset();
    let recent = ds.query(&Filter::days(ds.today(), 3));
    // An address whose mail of the last 3 days is all delivered.
    let address = recent
        .iter()
        .map(|g| g.recipient.clone())
        .find(|a| {
            let mine: Vec<_> = recent.iter().filter(|g| &g.recipient == a).collect();
            mine.len() >= 2 && mine.iter().all(|g| g.status_code == 1)
        })
        .expect("such an address");
    let expected = recent.iter().filter(|g| g.recipient == address).count();
    let out = bin()
        .args(["--base-url", &sb.base_url(), "--api-user", DEMO_API_USER, "--api-key", DEMO_API_KEY])
        .args(["--today", "2024-05-20", "watch", "--email", &address, "--interval", "1s", "--timeout", "20s"])
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), expected);
    assert!(lines.iter().all(|l| l["recipient"] == address.as_str() && l["to"] == "delivered" && l["from"].is_null()));
}

#[test]
fn watch_checks_its_flags_before_sending_anything() {
    let sb = Sandbox::start(config()).unwrap();
    let base = ["--base-url", &sb.base_url(), "--api-user", DEMO_API_USER, "--api-key", DEMO_API_KEY];
    for (args, why) in [
        (&["watch"][..], "--email-id"),
        (&["watch", "--email-id", "a;b"], "--email-id"),
        (&["watch", "--email", "nope"], "--email"),
        (&["watch", "--email-id", "x", "--interval", "0s"], "--interval"),
    ] {
        let out = bin().args(base).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(why),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(sb.request_log().is_empty());
}

/// `webhook serve` on a free port; returns the child and its address.
fn serve(db: &std::path::Path, extra: &[&str]) -> (Child, SocketAddr) {
    let mut child = bin()
        .env("SENDCLOUD_WEBHOOK_KEY", APP_KEY)
        .args(["webhook", "serve", "--listen", "127.0.0.1:0", "--db", db.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("{line:?}"));
    let addr = url.split('/').next().unwrap().parse().unwrap();
    (child, addr)
}

fn terminate(child: &mut Child) -> (i32, String) {
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let code = wait(child, Duration::from_secs(20));
    let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    (code, err)
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

#[test]
fn webhook_serve_stores_signed_events_once_and_nothing_from_bad_ones() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hooks.db");
    let (mut child, addr) = serve(&db, &["--path", "/sendcloud"]);
    let key = AppKey::new(APP_KEY).unwrap();
    let ts = now_ms();
    let mut expect_stored = 0;
    for n in 0..20u64 {
        // Both formats, both spellings (the generator cycles through them).
        let e = signed_event(&key, n, ts, n % 2 == 0, true);
        assert_eq!(load::post(addr, "/sendcloud", e.content_type, &e.body).unwrap().status, 200);
        expect_stored += 1;
        // Delivered twice: acknowledged, not stored again.
        assert_eq!(load::post(addr, "/sendcloud", e.content_type, &e.body).unwrap().status, 200);
    }
    // Tampered: a broken signature, a token that does not match it, another key.
    let bad = signed_event(&key, 100, ts, false, false);
    assert_eq!(load::post(addr, "/sendcloud", bad.content_type, &bad.body).unwrap().status, 403);
    let good = signed_event(&key, 101, ts, true, true);
    let swapped = String::from_utf8(good.body.clone()).unwrap().replace(&good.token, "00000101-forged");
    assert_eq!(load::post(addr, "/sendcloud", JSON, swapped.as_bytes()).unwrap().status, 403);
    let other = signed_event(&AppKey::new("another key").unwrap(), 102, ts, false, true);
    assert_eq!(load::post(addr, "/sendcloud", other.content_type, &other.body).unwrap().status, 403);
    // Malformed, wrong path.
    assert_eq!(load::post(addr, "/sendcloud", FORM, b"hello=world").unwrap().status, 400);
    assert_eq!(load::post(addr, "/", FORM, &good.body).unwrap().status, 404);
    // Out of order: delivered, then the request event of the same email.
    let id = format!("{ts}_900_1$late@example.com");
    let body = |event: &str, t: i64, token: &str| {
        format!(
            "event={event}&emailId={}&timestamp={t}&token={token}&signature={}",
            id.replace('$', "%24").replace('@', "%40"),
            sign(&key, &t.to_string(), token)
        )
    };
    assert_eq!(load::post(addr, "/sendcloud", FORM, body("delivered", ts, "ooo-1").as_bytes()).unwrap().status, 200);
    assert_eq!(
        load::post(addr, "/sendcloud", FORM, body("request", ts - 5_000, "ooo-2").as_bytes()).unwrap().status,
        200
    );
    expect_stored += 2;

    let (code, err) = terminate(&mut child);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("{expect_stored} events stored")), "{err}");
    assert!(!err.contains("SENTINEL"), "the app key is never printed");
    assert_eq!(count(&db, "SELECT count(*) FROM webhook_events"), expect_stored);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM webhook_events WHERE token LIKE '%forged%' OR token LIKE '00000100-%' OR token LIKE '00000102-%'"
        ),
        0
    );
    let category: String = Connection::open(&db)
        .unwrap()
        .query_row("SELECT category FROM emails WHERE email_id = ?1", [&id], |r| r.get(0))
        .unwrap();
    assert_eq!(category, "delivered", "the late request event did not move it back");
}

#[test]
fn webhook_serve_needs_an_app_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["webhook", "serve", "--listen", "127.0.0.1:0", "--db", dir.path().join("x.db").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SENDCLOUD_WEBHOOK_KEY"));
    let help = bin().args(["webhook", "serve", "--help"]).env("SENDCLOUD_WEBHOOK_KEY", APP_KEY).output().unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("SENTINEL"));
}

/// The whole push path without an account: the sandbox's live account
/// pushes signed events (both formats and spellings, some twice, some out of
/// order, refused ones retried) to `webhook serve`; the archive ends with
/// every event once and every email in its latest state.
#[test]
fn sandbox_push_into_webhook_serve_stores_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("push.db");
    let (mut child, addr) = serve(&db, &[]);
    let push = sendcloud_status_sandbox::WebhookPush::new(format!("http://{addr}/"), APP_KEY)
        .with_retry_unit(Duration::from_millis(20))
        .with_duplicate(0.2);
    let live = LiveConfig::off().with_arrivals_per_second(200.0).with_settle_per_second(150.0);
    let sb =
        Sandbox::start(SandboxConfig::default().with_records(1_000).with_live(live).with_webhook(Some(push))).unwrap();
    std::thread::sleep(Duration::from_millis(1_000));
    sb.set_live(LiveConfig::off());
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    while sb.webhook_pending() > 0 {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, err) = terminate(&mut child);
    assert_eq!(code, 0, "{err}");

    let changes = sb.changes();
    let log = sb.webhook_log();
    assert!(log.iter().all(|d| d.status == Some(200)), "every delivery was accepted");
    assert!(log.iter().any(|d| d.duplicate), "some were delivered twice");
    assert_eq!(count(&db, "SELECT count(*) FROM webhook_events"), changes.len() as i64);
    assert_eq!(count(&db, "SELECT count(*) FROM status_history"), changes.len() as i64);
    // Each email ends in the state the sandbox holds now, whatever order its events came in.
    let truth = sb.dataset();
    let conn = Connection::open(&db).unwrap();
    let mut q = conn.prepare("SELECT email_id, category FROM emails").unwrap();
    let stored: Vec<(String, String)> =
        q.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert!(!stored.is_empty());
    let now: std::collections::HashMap<String, u8> =
        (0..truth.len()).filter_map(|i| truth.record(i)).map(|g| (g.email_id, g.status_code)).collect();
    for (id, category) in stored {
        let want = match now[&id] {
            1 => "delivered",
            4 => "invalid",
            5 => "soft_bounce",
            _ => "sending",
        };
        assert_eq!(category, want, "{id}");
    }
}
