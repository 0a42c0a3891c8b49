//! Webhook push: the vendor's event webhooks for the mail a live account
//! generates and settles.
//!
//! A feeder thread looks at the change log every 20 ms; each new change
//! becomes one signed event — `request` for new mail, `deliver`/`delivered`,
//! `invalid`/`invalid_email` or `soft_bounce` (with `subStatus`) for a row
//! that settled — as a form or a JSON body. Each delivery waits a random
//! `0..max_delay` first and a few sender threads post them, so events
//! sometimes arrive out of order; with probability `duplicate` the same body
//! is delivered a second time. An answer other than HTTP 200 (or none within
//! 3 s) is retried on the vendor's schedule — 1, 2, 4, 8 and 16 minutes —
//! compressed to 1, 2, 4, 8 and 16 × `retry_unit`. Retries and duplicates
//! carry the same body: the same timestamp and token (the vendor's docs do
//! not say whether a retry gets fresh ones; the same ones are the case a
//! receiver must handle).
//!
//! The signature is `hex(HMAC-SHA256(key, timestamp + token))`, computed
//! here with the `hmac` crate directly: the sandbox shares no code with the
//! client crates, so a receiver tested against it is checked by an
//! independent signer. The timestamp is the real wall clock (Unix ms) when
//! the event was made, whatever the server clock shows.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::account::Account;
use crate::catalog;
use crate::config::{Language, WebhookFormat, WebhookPush, WebhookSpelling};
use crate::dataset::GroundRecord;
use crate::live::{Change, ChangeKind};
use crate::rng::{hash, unit};

const SALT_TOKEN: u64 = 0x70CE;
const SALT_DELAY: u64 = 0xDE1A;
const SALT_DUP: u64 = 0xD0B1;
const SALT_FORMAT: u64 = 0xF0F0;
/// Sender threads.
const SENDERS: usize = 4;
/// Retries after the first attempt (the vendor's five).
const RETRIES: u32 = 5;
const TOKEN_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// One delivery attempt, as [`Sandbox::webhook_log`](crate::Sandbox::webhook_log) lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The event's token (the same on retries and duplicates).
    pub token: String,
    /// The email.
    pub email_id: String,
    /// The event name sent (`deliver`, `invalid_email`, …).
    pub event: String,
    /// `true` for a JSON body, `false` for a form.
    pub json: bool,
    /// 1 for the first attempt of this copy, 2… for retries.
    pub attempt: u32,
    /// The second copy of a duplicated event.
    pub duplicate: bool,
    /// The HTTP status answered, `None` when the request failed.
    pub status: Option<u16>,
}

#[derive(Clone, Debug)]
struct Job {
    url: String,
    body: Vec<u8>,
    json: bool,
    token: String,
    email_id: String,
    event: String,
    attempt: u32,
    duplicate: bool,
    retry_unit: Duration,
}

/// Deliveries due at an instant, earliest first (a running number breaks ties).
type Queue = BinaryHeap<Reverse<(Instant, u64, usize)>>;

#[derive(Debug, Default)]
struct Shared {
    queue: Mutex<(Queue, Vec<Option<Job>>, u64)>,
    cv: Condvar,
    log: Mutex<Vec<WebhookDelivery>>,
    config: Mutex<Option<WebhookPush>>,
    stop: AtomicBool,
    /// Deliveries taken by a sender and not yet logged.
    sending: std::sync::atomic::AtomicUsize,
}

/// The feeder and the senders.
pub(crate) struct Pusher {
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Pusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pusher").finish_non_exhaustive()
    }
}

impl Pusher {
    /// Starts pushing the changes `account` logs from now on.
    pub fn start(account: Arc<Account>, config: Option<WebhookPush>, language: Language) -> std::io::Result<Pusher> {
        let shared = Arc::new(Shared { config: Mutex::new(config), ..Shared::default() });
        let mut threads = Vec::new();
        let s = Arc::clone(&shared);
        // A target given at start gets every change of the log.
        let since = lock(&shared.config).is_some().then_some(0);
        threads.push(
            std::thread::Builder::new()
                .name("sandbox-webhook-feed".into())
                .spawn(move || feed(&s, &account, since, language))?,
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(3)))
            .build()
            .into();
        for n in 0..SENDERS {
            let (s, agent) = (Arc::clone(&shared), agent.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("sandbox-webhook-send-{n}"))
                    .spawn(move || send(&s, &agent))?,
            );
        }
        Ok(Pusher { shared, threads: Mutex::new(threads) })
    }

    /// Replaces the target (`None`: stop pushing new events; queued ones
    /// are still delivered).
    pub fn set(&self, config: Option<WebhookPush>) {
        *lock(&self.shared.config) = config;
    }

    /// The target in force.
    pub fn config(&self) -> Option<WebhookPush> {
        lock(&self.shared.config).clone()
    }

    /// Every attempt so far.
    pub fn log(&self) -> Vec<WebhookDelivery> {
        lock(&self.shared.log).clone()
    }

    /// Deliveries queued, in progress, or waiting for a retry.
    pub fn pending(&self) -> usize {
        let g = lock(&self.shared.queue);
        g.1.iter().filter(|j| j.is_some()).count() + self.shared.sending.load(Ordering::SeqCst)
    }

    /// Stops the threads (queued deliveries are dropped) and joins them.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        {
            // Taking the lock orders the flag before a sender's next wait.
            let _g = lock(&self.shared.queue);
            self.shared.cv.notify_all();
        }
        for t in lock(&self.threads).drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Pusher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn enqueue(shared: &Shared, at: Instant, job: Job) {
    let mut g = lock(&shared.queue);
    let (queue, jobs, seq) = &mut *g;
    let slot = match jobs.iter().position(Option::is_none) {
        Some(i) => {
            jobs[i] = Some(job);
            i
        }
        None => {
            jobs.push(Some(job));
            jobs.len() - 1
        }
    };
    *seq += 1;
    queue.push(Reverse((at, *seq, slot)));
    shared.cv.notify_one();
}

/// Turns new changes into deliveries. With no target it leaves the account
/// alone; when a target is set, changes from then on are pushed.
fn feed(shared: &Shared, account: &Account, mut since: Option<u64>, language: Language) {
    let mut made: u64 = 0;
    // `since`: the log position pushed up to; `None` while there is no target.
    let mut first = true;
    while !shared.stop.load(Ordering::SeqCst) {
        if !std::mem::take(&mut first) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let Some(config) = lock(&shared.config).clone() else {
            since = None;
            continue;
        };
        let Some(from) = since else {
            since = Some(account.change_count());
            continue;
        };
        let changes = account.changes_with_records(from);
        since = Some(from + changes.len() as u64);
        let now = Instant::now();
        for (change, record) in changes {
            let n = made;
            made += 1;
            let job = event_job(&config, &change, &record, n, language);
            let delay = |salt| config.max_delay.mul_f64(unit(hash(config.seed, n, salt)));
            enqueue(shared, now + delay(SALT_DELAY), job.clone());
            if unit(hash(config.seed, n, SALT_DUP)) < config.duplicate {
                enqueue(shared, now + delay(SALT_DUP ^ 1) * 4, Job { duplicate: true, ..job });
            }
        }
    }
}

/// The signed event of one change.
fn event_job(config: &WebhookPush, change: &Change, g: &GroundRecord, n: u64, language: Language) -> Job {
    let old = match config.spelling {
        WebhookSpelling::Old => true,
        WebhookSpelling::New => false,
        WebhookSpelling::Mixed => hash(config.seed, n, SALT_FORMAT) & 2 == 0,
    };
    let json = match config.format {
        WebhookFormat::Form => false,
        WebhookFormat::Json => true,
        WebhookFormat::Mixed => hash(config.seed, n, SALT_FORMAT) & 1 == 0,
    };
    let event = match (change.kind, change.status_code) {
        (ChangeKind::Arrived, _) => "request",
        (_, catalog::DELIVERED) => {
            if old {
                "deliver"
            } else {
                "delivered"
            }
        }
        (_, catalog::INVALID) => {
            if old {
                "invalid"
            } else {
                "invalid_email"
            }
        }
        (_, catalog::SOFT_BOUNCE) => "soft_bounce",
        _ => "request",
    };
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()).to_string();
    let token: String = (0..50u64)
        .map(|i| TOKEN_CHARS[(hash(config.seed ^ SALT_TOKEN, n, i) % TOKEN_CHARS.len() as u64) as usize] as char)
        .collect();
    let signature = sign(&config.key, &timestamp, &token);
    let message = g.send_log.clone();
    let sub = change.sub_status;
    let body = if json {
        let mut v = json!({
            "event": event, "emailId": g.email_id, "recipient": g.recipient, "apiUser": g.api_user,
            "labelId": g.label_id, "labelName": g.label_name, "timestamp": timestamp.parse::<u64>().unwrap_or(0),
            "token": token, "signature": signature, "message": message, "outIp": "127.0.0.2",
        });
        if let Some(s) = sub {
            v["subStatus"] = s.into();
            v["subStatusDesc"] = catalog::sub_status_desc(s, language).into();
        }
        v.to_string().into_bytes()
    } else {
        let mut f = form_urlencoded::Serializer::new(String::new());
        f.append_pair("event", event)
            .append_pair("emailId", &g.email_id)
            .append_pair("recipient", &g.recipient)
            .append_pair("apiUser", &g.api_user)
            .append_pair("labelId", &g.label_id.to_string())
            .append_pair("labelName", &g.label_name)
            .append_pair("timestamp", &timestamp)
            .append_pair("token", &token)
            .append_pair("signature", &signature)
            .append_pair("message", &message)
            .append_pair("outIp", "127.0.0.2");
        if let Some(s) = sub {
            f.append_pair("subStatus", &s.to_string())
                .append_pair("subStatusDesc", catalog::sub_status_desc(s, language));
        }
        f.finish().into_bytes()
    };
    Job {
        url: config.url.clone(),
        body,
        json,
        token,
        email_id: g.email_id.clone(),
        event: event.to_owned(),
        attempt: 1,
        duplicate: false,
        retry_unit: config.retry_unit,
    }
}

/// `hex(HMAC-SHA256(key, timestamp + token))`.
pub(crate) fn sign(key: &str, timestamp: &str, token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.as_bytes());
    mac.update(token.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// A sender: takes the earliest due delivery, posts it, logs it, schedules
/// a retry when it was not answered 200.
fn send(shared: &Shared, agent: &ureq::Agent) {
    loop {
        let job = {
            let mut g = lock(&shared.queue);
            loop {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let now = Instant::now();
                match g.0.peek() {
                    Some(Reverse((at, _, _))) if *at <= now => {
                        let Some(Reverse((_, _, slot))) = g.0.pop() else { unreachable!("peeked") };
                        match g.1[slot].take() {
                            Some(job) => {
                                shared.sending.fetch_add(1, Ordering::SeqCst);
                                break job;
                            }
                            None => continue,
                        }
                    }
                    Some(Reverse((at, _, _))) => {
                        let wait = at.saturating_duration_since(now);
                        g = shared.cv.wait_timeout(g, wait).map(|(g, _)| g).unwrap_or_else(|e| e.into_inner().0);
                    }
                    None => g = shared.cv.wait(g).unwrap_or_else(|e| e.into_inner()),
                }
            }
        };
        let content_type = if job.json { "application/json" } else { "application/x-www-form-urlencoded" };
        let status = agent
            .post(&job.url)
            .header("Content-Type", content_type)
            .send(&job.body[..])
            .ok()
            .map(|r| r.status().as_u16());
        lock(&shared.log).push(WebhookDelivery {
            token: job.token.clone(),
            email_id: job.email_id.clone(),
            event: job.event.clone(),
            json: job.json,
            attempt: job.attempt,
            duplicate: job.duplicate,
            status,
        });
        if status != Some(200) && job.attempt <= RETRIES {
            let wait = job.retry_unit * (1u32 << (job.attempt - 1));
            let attempt = job.attempt + 1;
            enqueue(shared, Instant::now() + wait, Job { attempt, ..job });
        }
        shared.sending.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_then_token() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", "what do ya want ", "for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
