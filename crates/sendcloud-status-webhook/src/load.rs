//! A load generator for a webhook receiver, for tests and benchmarks:
//! signed events (form and JSON bodies, both event spellings), some repeated,
//! some with bad signatures, from several concurrent keep-alive
//! connections, with the answer time of every request.
//!
//! It speaks HTTP/1.1 over plain `TcpStream`s itself (no client library),
//! so it shares nothing with the server it measures but the signature.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sendcloud_status::core::Jitter;
use sendcloud_status::core::webhook::{AppKey, sign};

/// An HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
    /// The server said `Connection: close`.
    pub close: bool,
}

/// One keep-alive connection (reopened when the server closes it).
#[derive(Debug)]
pub struct Connection {
    addr: SocketAddr,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// A connection to `addr` (opened on the first request).
    pub fn new(addr: SocketAddr) -> Connection {
        Connection { addr, stream: None }
    }

    /// POSTs `body` to `path` and reads the answer.
    pub fn post(&mut self, path: &str, content_type: &str, body: &[u8]) -> io::Result<Answer> {
        // A kept-alive connection the server closed meanwhile fails on
        // first use: try once more on a fresh one.
        let reused = self.stream.is_some();
        match self.try_post(path, content_type, body) {
            Err(_) if reused => {
                self.stream = None;
                self.try_post(path, content_type, body)
            }
            other => other,
        }
    }

    fn try_post(&mut self, path: &str, content_type: &str, body: &[u8]) -> io::Result<Answer> {
        if self.stream.is_none() {
            let s = TcpStream::connect(self.addr)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(Duration::from_secs(30)))?;
            self.stream = Some(BufReader::new(s));
        }
        let result = self.exchange(path, content_type, body);
        if result.as_ref().map_or(true, |a| a.close) {
            self.stream = None;
        }
        result
    }

    fn exchange(&mut self, path: &str, content_type: &str, body: &[u8]) -> io::Result<Answer> {
        let addr = self.addr;
        let reader = self.stream.as_mut().ok_or_else(|| io::Error::other("not connected"))?;
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        reader.get_mut().write_all(&request)?;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed before answering"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
        let (mut length, mut close) = (0usize, false);
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed in the headers"));
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().map_err(|_| io::Error::other("bad content-length"))?;
                } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        Ok(Answer { status, body, close })
    }
}

/// POSTs one body on a new connection.
pub fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> io::Result<Answer> {
    Connection::new(addr).post(path, content_type, body)
}

/// Content type of a form body.
pub const FORM: &str = "application/x-www-form-urlencoded";
/// Content type of a JSON body.
pub const JSON: &str = "application/json";

/// One signed event, as the vendor would send it: half the kinds in the
/// older spelling, the rest in the newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedEvent {
    /// The content type (form or JSON).
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
    /// Its token.
    pub token: String,
    /// Its email id.
    pub email_id: String,
    /// The event name in the body.
    pub event: String,
}

/// The event names the generator cycles through (both spellings).
pub const EVENT_NAMES: [&str; 10] = [
    "request",
    "deliver",
    "delivered",
    "invalid",
    "invalid_email",
    "soft_bounce",
    "open",
    "click",
    "unsubscribe",
    "spam-report",
];

/// Builds event `n`: a unique email id and token, the name
/// `EVENT_NAMES[n % 10]`, JSON when `json`, signed with `key` (or with a
/// broken signature when `!good_signature`), stamped `timestamp_ms`.
pub fn signed_event(key: &AppKey, n: u64, timestamp_ms: i64, json: bool, good_signature: bool) -> SignedEvent {
    let event = EVENT_NAMES[(n % EVENT_NAMES.len() as u64) as usize];
    let email_id = format!("{timestamp_ms}_{n}_1.sc-10_0_0_1-inbound0$r{n}@example.com");
    let recipient = format!("r{n}@example.com");
    let token = format!("{n:08}-{:042}", timestamp_ms);
    let timestamp = timestamp_ms.to_string();
    let mut signature = sign(key, &timestamp, &token);
    if !good_signature {
        // Flip one hex digit.
        let flipped = if signature.starts_with('0') { "1" } else { "0" };
        signature.replace_range(0..1, flipped);
    }
    let sub = match event {
        "invalid" | "invalid_email" => Some(406),
        "soft_bounce" => Some(503),
        _ => None,
    };
    let (content_type, body) = if json {
        let mut v = serde_json::json!({
            "event": event, "emailId": email_id, "recipient": recipient, "apiUser": "load_user",
            "labelId": 7, "timestamp": timestamp_ms, "token": token, "signature": signature,
            "message": "250 OK", "outIp": "10.0.0.1",
        });
        if let Some(s) = sub {
            v["subStatus"] = s.into();
        }
        (JSON, v.to_string().into_bytes())
    } else {
        let mut pairs = vec![
            ("event", event.to_owned()),
            ("emailId", email_id.clone()),
            ("recipient", recipient),
            ("apiUser", "load_user".to_owned()),
            ("labelId", "7".to_owned()),
            ("timestamp", timestamp),
            ("token", token.clone()),
            ("signature", signature),
            ("message", "250 OK".to_owned()),
            ("outIp", "10.0.0.1".to_owned()),
        ];
        if let Some(s) = sub {
            pairs.push(("subStatus", s.to_string()));
        }
        let body = form_urlencoded_pairs(&pairs);
        (FORM, body.into_bytes())
    };
    SignedEvent { content_type, body, token, email_id, event: event.to_owned() }
}

fn form_urlencoded_pairs(pairs: &[(&str, String)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => (b as char).to_string(),
                b' ' => "+".to_owned(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// What to send.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadPlan {
    /// Requests in all (distinct events, repeats and bad ones).
    pub requests: usize,
    /// Concurrent connections.
    pub senders: usize,
    /// Share of requests that repeat an earlier valid event (same body).
    pub repeat_share: f64,
    /// Share of requests with a bad signature.
    pub bad_share: f64,
    /// The app key.
    pub key: AppKey,
    /// Seed of the mix.
    pub seed: u64,
}

impl LoadPlan {
    /// `requests` requests from 16 connections, 10 % repeats, 1 % bad
    /// signatures.
    pub fn new(requests: usize, key: AppKey) -> LoadPlan {
        LoadPlan { requests, senders: 16, repeat_share: 0.10, bad_share: 0.01, key, seed: 1 }
    }
    /// Sets [`senders`](Self::senders).
    pub fn senders(mut self, n: usize) -> Self {
        self.senders = n;
        self
    }
}

/// What a load run saw.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoadReport {
    /// Requests sent.
    pub requests: usize,
    /// Distinct valid events among them (what the archive must hold).
    pub distinct_valid: usize,
    /// Of those, status events (request, delivered, invalid, soft bounce).
    pub distinct_status: usize,
    /// Repeats sent.
    pub repeats: usize,
    /// Bad signatures sent.
    pub bad: usize,
    /// Answers by status code.
    pub answers: BTreeMap<u16, usize>,
    /// Requests whose answer was not the expected one (200 for valid events
    /// and repeats, 403 for bad signatures), or failed: what and why.
    pub unexpected: Vec<String>,
    /// Every answer time, sorted.
    pub latencies: Vec<Duration>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl LoadReport {
    /// The `q`-quantile of the answer times (0.5, 0.99…).
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies.len() as f64 * q).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[i]
    }
    /// The slowest answer.
    pub fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
    /// Requests per second.
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// One request of a run: the expected status, the answer, its time, what it was.
type Sent = (u16, Result<Answer, io::Error>, Duration, String);

/// Sends the plan to `addr` + `path` and reports. Repeats are re-sent on
/// another connection than their first delivery, at a later position, so
/// some race their original.
pub fn run(addr: SocketAddr, path: &str, plan: &LoadPlan) -> LoadReport {
    let now_ms =
        i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis()).unwrap_or(i64::MAX);
    let mut rng = Jitter::new(plan.seed);
    let n = plan.requests;
    let repeats = (n as f64 * plan.repeat_share).round() as usize;
    let bad = (n as f64 * plan.bad_share).round() as usize;
    let distinct = n.saturating_sub(repeats + bad);
    // (event, expected status)
    let mut list: Vec<(SignedEvent, u16)> = Vec::with_capacity(n);
    let mut status_events = 0;
    for i in 0..distinct {
        let e = signed_event(&plan.key, i as u64, now_ms, i % 2 == 1, true);
        if matches!(e.event.as_str(), "request" | "deliver" | "delivered" | "invalid" | "invalid_email" | "soft_bounce")
        {
            status_events += 1;
        }
        list.push((e, 200));
    }
    for j in 0..bad {
        let e = signed_event(&plan.key, (distinct + j) as u64, now_ms, j % 2 == 0, false);
        // Insert anywhere.
        let at = (rng.next_u64() % (list.len() as u64 + 1)) as usize;
        list.insert(at, (e, 403));
    }
    for _ in 0..repeats {
        // A repeat of a valid event, placed after it.
        let valid: Vec<usize> = (0..list.len()).filter(|&k| list[k].1 == 200).collect();
        let src = valid[(rng.next_u64() % valid.len() as u64) as usize];
        let copy = list[src].clone();
        let span = (list.len() - src) as u64;
        let at = src + 1 + (rng.next_u64() % span) as usize;
        list.insert(at, copy);
    }
    // Deal round-robin: consecutive requests go to different connections.
    let senders = plan.senders.max(1);
    let mut lanes: Vec<Vec<(SignedEvent, u16)>> = vec![Vec::new(); senders];
    for (k, item) in list.into_iter().enumerate() {
        lanes[k % senders].push(item);
    }
    let path = path.to_owned();
    let started = Instant::now();
    let results: Vec<Vec<Sent>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lanes
            .into_iter()
            .map(|lane| {
                let path = path.clone();
                scope.spawn(move || {
                    let mut conn = Connection::new(addr);
                    lane.into_iter()
                        .map(|(e, expected)| {
                            let t = Instant::now();
                            let got = conn.post(&path, e.content_type, &e.body);
                            (expected, got, t.elapsed(), format!("{} {}", e.event, e.token))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let elapsed = started.elapsed();
    let mut report = LoadReport {
        requests: n,
        distinct_valid: distinct,
        distinct_status: status_events,
        repeats,
        bad,
        elapsed,
        ..LoadReport::default()
    };
    for (expected, got, latency, what) in results.into_iter().flatten() {
        report.latencies.push(latency);
        match got {
            Ok(a) => {
                *report.answers.entry(a.status).or_default() += 1;
                if a.status != expected {
                    report.unexpected.push(format!(
                        "{what}: expected {expected}, got {} {}",
                        a.status,
                        String::from_utf8_lossy(&a.body)
                    ));
                }
            }
            Err(e) => report.unexpected.push(format!("{what}: {e}")),
        }
    }
    report.latencies.sort();
    report
}
