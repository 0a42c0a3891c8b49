//! Webhook push: every change of a live account becomes one signed event,
//! in both formats and both spellings; refused deliveries are retried with
//! the same body, some are delivered twice, and the control endpoints drive
//! it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sendcloud_status_sandbox::{LiveConfig, Sandbox, SandboxConfig, WebhookPush};
use sha2::Sha256;

const KEY: &str = "push-test-key";

/// A received body: JSON or not, and its fields.
type Body = (bool, BTreeMap<String, String>);

/// A receiver on 127.0.0.1 that records every body and answers 500 to the
/// first delivery of every fifth token.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Body>>>,
    _server: Arc<tiny_http::Server>,
}

fn fields(body: &[u8], json: bool) -> BTreeMap<String, String> {
    if json {
        let v: serde_json::Value = serde_json::from_slice(body).unwrap();
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
            .collect()
    } else {
        form_urlencoded::parse(body).into_owned().collect()
    }
}

fn receiver() -> Receiver {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}/hook", server.server_addr().to_ip().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..4 {
        let (server, bodies) = (Arc::clone(&server), Arc::clone(&bodies));
        std::thread::spawn(move || {
            let mut refused = BTreeSet::new();
            while let Ok(mut rq) = server.recv() {
                let json = rq
                    .headers()
                    .iter()
                    .any(|h| h.field.equiv("Content-Type") && h.value.as_str() == "application/json");
                let mut body = Vec::new();
                rq.as_reader().read_to_end(&mut body).unwrap();
                let f = fields(&body, json);
                let token = f["token"].clone();
                let first_time = {
                    let mut all = bodies.lock().unwrap();
                    let first = !all.iter().any(|(_, g): &Body| g["token"] == token);
                    all.push((json, f));
                    first
                };
                let refuse = first_time && token.as_bytes()[0].is_multiple_of(5) && refused.insert(token);
                let response = tiny_http::Response::empty(if refuse { 500 } else { 200 })
                    .with_header(tiny_http::Header::from_bytes("Connection", "close").unwrap());
                let _ = rq.respond(response);
            }
        });
    }
    Receiver { url, bodies, _server: server }
}

fn signature(timestamp: &str, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(format!("{timestamp}{token}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn settle_until_quiet(sb: &Sandbox) {
    let start = Instant::now();
    while sb.webhook_pending() > 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "deliveries still pending");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_change_is_pushed_signed_retried_and_sometimes_twice() {
    let r = receiver();
    let push = WebhookPush::new(r.url.clone(), KEY).with_retry_unit(Duration::from_millis(20)).with_duplicate(0.3);
    let live = LiveConfig::off().with_arrivals_per_second(100.0).with_settle_per_second(100.0);
    let sb =
        Sandbox::start(SandboxConfig::default().with_records(1_000).with_live(live).with_webhook(Some(push))).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    sb.set_live(LiveConfig::off());
    // Changes made before the push stops are still delivered.
    std::thread::sleep(Duration::from_millis(100));
    settle_until_quiet(&sb);
    let changes = sb.changes();
    let bodies = r.bodies.lock().unwrap().clone();
    let by_token: BTreeMap<&str, &BTreeMap<String, String>> =
        bodies.iter().map(|(_, f)| (f["token"].as_str(), f)).collect();
    assert_eq!(by_token.len(), changes.len(), "one event per change");
    let ids: BTreeSet<(&str, &str)> = by_token.values().map(|f| (f["emailId"].as_str(), f["event"].as_str())).collect();
    for c in &changes {
        let names: &[&str] = match (c.kind.as_str(), c.status_code) {
            ("arrived", _) => &["request"],
            (_, 1) => &["deliver", "delivered"],
            (_, 4) => &["invalid", "invalid_email"],
            _ => &["soft_bounce"],
        };
        assert!(names.iter().any(|n| ids.contains(&(c.email_id.as_str(), *n))), "{c:?}");
    }
    for f in by_token.values() {
        assert_eq!(f["signature"], signature(&f["timestamp"], &f["token"]));
        assert_eq!(f["token"].len(), 50);
        if f["event"].starts_with("invalid") || f["event"] == "soft_bounce" {
            assert!(f.contains_key("subStatus"));
        }
    }
    // Both formats, both spellings.
    assert!(bodies.iter().any(|(json, _)| *json) && bodies.iter().any(|(json, _)| !*json));
    let names: BTreeSet<&str> = by_token.values().map(|f| f["event"].as_str()).collect();
    assert!(names.contains("deliver") && names.contains("delivered"), "{names:?}");
    // Retries and duplicates carry the same body.
    let log = sb.webhook_log();
    assert!(log.iter().any(|d| d.status == Some(500)) && log.iter().any(|d| d.attempt == 2));
    assert!(log.iter().any(|d| d.duplicate));
    for (_, f) in &bodies {
        assert_eq!(by_token[f["token"].as_str()], f, "every delivery of a token is the same body");
    }
    assert!(log.iter().filter(|d| d.attempt > 1).all(|d| d.status.is_some()));
}

#[test]
fn the_control_endpoints_start_and_list_the_push() {
    let r = receiver();
    let sb = Sandbox::start(SandboxConfig::default().with_records(1_000)).unwrap();
    let control = |path: &str| format!("http://{}/_sandbox/{path}", sb.addr());
    let body = format!(r#"{{"url":"{}","key":"{KEY}","format":"json","spelling":"new","duplicate":0}}"#, r.url);
    ureq::post(&control("webhook")).send(body.as_bytes()).unwrap();
    assert!(format!("{:?}", sb.webhook()).contains("***"), "the key is not shown");
    assert!(!format!("{:?}", sb.webhook()).contains(KEY));
    sb.set_live(LiveConfig::off().with_settle_per_second(50.0));
    std::thread::sleep(Duration::from_millis(300));
    sb.set_live(LiveConfig::off());
    settle_until_quiet(&sb);
    let listed: serde_json::Value =
        serde_json::from_str(&ureq::get(&control("webhooks")).call().unwrap().body_mut().read_to_string().unwrap())
            .unwrap();
    let deliveries = listed["deliveries"].as_array().unwrap();
    assert!(!deliveries.is_empty());
    assert!(deliveries.iter().all(|d| d["json"] == true && d["event"] != "deliver"));
    assert_eq!(listed["pending"], 0);
    ureq::post(&control("webhook")).send(&b"{}"[..]).unwrap();
    assert!(sb.webhook().is_none());
}
