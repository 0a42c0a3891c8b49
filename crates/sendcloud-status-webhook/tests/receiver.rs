//! The receiver over real HTTP on 127.0.0.1: every answer of the table in
//! the crate doc, the archive's rows after repeated, tampered and
//! concurrent deliveries, a load test, and a graceful shutdown.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::Connection;
use sendcloud_status::core::webhook::{AppKey, sign};
use sendcloud_status_webhook::load::{self, FORM, JSON, LoadPlan, signed_event};
use sendcloud_status_webhook::{Receiver, ReceiverConfig};

fn key() -> AppKey {
    AppKey::new("receiver-test-app-key").unwrap()
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

fn start(dir: &Path) -> Receiver {
    let config = ReceiverConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), dir.join("a.db"), key());
    Receiver::start(config).unwrap()
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn post(r: &Receiver, ct: &str, body: impl AsRef<[u8]>) -> (u16, serde_json::Value) {
    let a = load::post(r.addr(), "/", ct, body.as_ref()).unwrap();
    (a.status, serde_json::from_slice(&a.body).unwrap_or(serde_json::Value::Null))
}

fn form(event: &str, id: &str, ts: i64, token: &str) -> String {
    let sig = sign(&key(), &ts.to_string(), token);
    format!(
        "event={event}&emailId={}&recipient=a%40b.com&timestamp={ts}&token={token}&signature={sig}",
        id.replace('$', "%24").replace('@', "%40")
    )
}

#[test]
fn every_outcome_has_its_answer_and_only_valid_new_events_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path());
    let db = dir.path().join("a.db");
    let ts = now_ms();
    let id = format!("{ts}_1_1$a@b.com");

    // Both formats, both spellings.
    let (status, body) = post(&r, FORM, form("deliver", &id, ts, "tok-a"));
    assert_eq!((status, &body["stored"]), (200, &serde_json::json!(true)));
    let sig = sign(&key(), &ts.to_string(), "tok-b");
    let json = format!(
        r#"{{"event":"invalid_email","emailId":"{id}2","timestamp":{ts},"token":"tok-b","signature":"{sig}","subStatus":406}}"#
    );
    assert_eq!(post(&r, JSON, &json).0, 200);

    // A repeated token, and the same event under a fresh token: 200, nothing written.
    let (status, body) = post(&r, FORM, form("deliver", &id, ts, "tok-a"));
    assert_eq!((status, body["stored"].as_bool(), body["repeat"].as_str()), (200, Some(false), Some("token")));
    let (status, body) = post(&r, FORM, form("delivered", &id, ts, "tok-c"));
    assert_eq!((status, body["repeat"].as_str()), (200, Some("event")));

    // Tampered: a token or timestamp that does not match the signature, another key.
    let tampered = form("deliver", &id, ts, "tok-d").replace("tok-d", "tok-e");
    assert_eq!(
        post(&r, FORM, tampered),
        (403, serde_json::json!({"ok": false, "error": "bad_signature", "message": "bad signature"}))
    );
    let other_key = form("deliver", &id, ts, "tok-f")
        .replace(&sign(&key(), &ts.to_string(), "tok-f"), &sign(&AppKey::new("x").unwrap(), &ts.to_string(), "tok-f"));
    assert_eq!(post(&r, FORM, other_key).0, 403);
    // Stale: 36 minutes old, correctly signed.
    let old = ts - 36 * 60 * 1000;
    let (status, body) = post(&r, FORM, form("deliver", &format!("{old}_9$a@b.com"), old, "tok-g"));
    assert_eq!((status, body["error"].as_str()), (403, Some("stale")));
    // Malformed.
    assert_eq!(post(&r, FORM, "event=deliver").0, 400);
    assert_eq!(post(&r, JSON, "{not json").0, 400);
    // Too large.
    assert_eq!(post(&r, FORM, vec![b'a'; 70_000]).0, 413);
    // Other paths and methods.
    assert_eq!(load::post(r.addr(), "/other", FORM, b"").unwrap().status, 404);
    let get = std::net::TcpStream::connect(r.addr()).and_then(|mut s| {
        use std::io::{Read, Write};
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out)
    });
    let health = get.unwrap();
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains(r#""stored":2"#), "{health}");

    let stats = r.shutdown();
    assert_eq!((stats.stored, stats.repeated, stats.bad_signature, stats.stale), (2, 2, 2, 1));
    assert_eq!((stats.malformed, stats.too_large), (2, 1));
    assert_eq!(count(&db, "SELECT count(*) FROM webhook_events"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM status_history"), 2);
    assert_eq!(count(&db, "SELECT count(*) FROM emails WHERE category = 'invalid' AND sub_status = 406"), 1);
}

#[test]
fn concurrent_deliveries_of_one_event_store_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path());
    let ts = now_ms();
    let body = form("soft_bounce", &format!("{ts}_1_1$a@b.com"), ts, "same-token");
    let barrier = Barrier::new(16);
    let answers: Vec<u16> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    load::post(r.addr(), "/", FORM, body.as_bytes()).unwrap().status
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|&a| a == 200), "{answers:?}");
    let stats = r.shutdown();
    assert_eq!((stats.stored, stats.repeated), (1, 15));
    assert_eq!(count(&dir.path().join("a.db"), "SELECT count(*) FROM webhook_events"), 1);
}

/// The suite's load test: 10,000 signed events from 16 concurrent senders on
/// keep-alive connections, 10 % repeats, 1 % bad signatures (about 3 s in a
/// debug build; `WEBHOOK_LOAD_REQUESTS` changes the count). Answer times are
/// reported, not judged: `sendcloud-status-bench webhook` measures them.
#[test]
fn load_from_16_senders_stores_exactly_the_valid_distinct_events() {
    let requests = std::env::var("WEBHOOK_LOAD_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path());
    let report = load::run(r.addr(), "/", &LoadPlan::new(requests, key()));
    eprintln!(
        "webhook load: {} requests from 16 senders in {:.2} s ({:.0}/s): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; answers {:?}",
        report.requests,
        report.elapsed.as_secs_f64(),
        report.rate(),
        report.quantile(0.5).as_secs_f64() * 1e3,
        report.quantile(0.99).as_secs_f64() * 1e3,
        report.max().as_secs_f64() * 1e3,
        report.answers
    );
    assert!(report.unexpected.is_empty(), "{:#?}", &report.unexpected[..report.unexpected.len().min(10)]);
    assert_eq!(report.answers.get(&403).copied().unwrap_or(0), report.bad);
    let stats = r.shutdown();
    let db = dir.path().join("a.db");
    assert_eq!(stats.stored as usize, report.distinct_valid);
    assert_eq!(stats.repeated as usize, report.repeats);
    assert_eq!(count(&db, "SELECT count(*) FROM webhook_events") as usize, report.distinct_valid);
    assert_eq!(count(&db, "SELECT count(*) FROM status_history") as usize, report.distinct_status);
    assert_eq!(count(&db, "SELECT count(DISTINCT token) FROM status_history") as usize, report.distinct_status);
}

#[test]
fn a_shutdown_keeps_every_event_answered_200() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path());
    let (addr, handle) = (r.addr(), r.shutdown_handle());
    let accepted: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let ts = now_ms();
    let waiter = std::thread::spawn(move || r.wait());
    std::thread::scope(|s| {
        for lane in 0..4u64 {
            let (accepted, stop) = (&accepted, &stop);
            s.spawn(move || {
                let mut conn = load::Connection::new(addr);
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let e = signed_event(&key(), lane * 1_000_000 + n, ts, n % 2 == 0, true);
                    match conn.post("/", e.content_type, &e.body) {
                        Ok(a) if a.status == 200 => accepted.lock().unwrap().push(e.token),
                        Ok(_) => {}
                        Err(_) => break, // the receiver is gone
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        handle.shutdown();
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::SeqCst);
    });
    let stats = waiter.join().unwrap();
    let accepted = accepted.into_inner().unwrap();
    assert!(!accepted.is_empty());
    let conn = Connection::open(dir.path().join("a.db")).unwrap();
    let mut q = conn.prepare("SELECT count(*) FROM webhook_events WHERE token = ?1").unwrap();
    let missing: Vec<&String> =
        accepted.iter().filter(|t| q.query_row([t], |r| r.get::<_, i64>(0)).unwrap() != 1).collect();
    assert!(missing.is_empty(), "answered 200 but not stored: {missing:?}");
    assert_eq!(stats.stored as usize, accepted.len());
    // And the port is free again: nothing listens.
    assert!(std::net::TcpStream::connect(addr).is_err());
}
