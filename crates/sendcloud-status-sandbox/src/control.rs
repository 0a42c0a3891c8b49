//! Test-only control endpoints under `/_sandbox/` on the same port, so tests
//! in any language (Python, Node, shell) can read the ground truth and the
//! request log, change faults and drive the live account without linking this crate.
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /_sandbox/info` | `{"today", "now", "records", "api_users", "labels": [[id, name]…], "max_window_days", "live": {…}}`, `live` shaped as the body of `POST /_sandbox/live` |
//! | `GET /_sandbox/truth?<API filter parameters>` | `{"total", "email_ids": […]}` in server order, from the current live state; no credentials, no window limit |
//! | `GET /_sandbox/requests` | the request log: `[{received_ms, method, path, param_names, key_in_url, status_code, http_status, fault}]` (`received_ms`: when a worker took it, in ms since the sandbox started) |
//! | `GET /_sandbox/changes[?since=SEQ]` | the change log after `SEQ` (default 0: all): `[{seq, email_id, kind: "arrived"\|"settled", at: "yyyy-MM-dd HH:mm:ss", after_request, status_code, sub_status}]` |
//! | `POST /_sandbox/clear` | empties the request log |
//! | `POST /_sandbox/faults` | JSON `{"seed", "rate_limited", "http_502", "reset", "truncated", "slow", "slow_ms"}` (missing = 0) |
//! | `POST /_sandbox/live` | JSON `{"arrivals_per_second", "settle_per_second", "day_advance_after_requests", "day_advance_after_ms", "order": "oldest-first"\|"newest-first", "cache": "snapshot"\|"per-request", "cache_ttl_ms"}` (missing = off/default; at most one `day_advance_*`); answers `{"ok", "now"}` |
//! | `POST /_sandbox/advance-day` | jumps the server clock to the next midnight; answers `{"ok", "now"}` |
//! | `POST /_sandbox/webhook` | JSON `{"url", "key", "format": "form"\|"json"\|"mixed", "spelling": "old"\|"new"\|"mixed", "retry_ms", "duplicate", "delay_ms", "seed"}` starts pushing event webhooks of the live changes from now on; `{}` stops |
//! | `GET /_sandbox/webhooks` | `{"pending", "deliveries": [{token, email_id, event, json, attempt, duplicate, status}]}` |
//!
//! These calls skip faults, latency, the rate limit and the request log, and
//! do not count as API requests; each first applies the live changes due.
//! For `truth`, `days=N` counts from the sandbox's today and an absent
//! `apiUserList` means the demo apiUser only, as on the API. Errors answer
//! HTTP 400 (bad input) or 404 (unknown endpoint) with `{"error"}`.

use std::io::Read;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};
use tiny_http::{Header, Request, Response};

use crate::account::View;
use crate::config::{CacheModel, DayAdvance, FaultConfig, LiveConfig, ResultOrder};
use crate::dataset::{Dataset, Filter};
use crate::faults::FaultKind;
use crate::live::Change;
use crate::reqlog::LoggedRequest;
use crate::server::State;

/// The path prefix of control endpoints.
pub(crate) const PREFIX: &str = "/_sandbox/";

/// Answers one control call, applying what it asks for to `s`.
pub(crate) fn handle(mut rq: Request, s: &State) {
    let url = rq.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let method = rq.method().as_str().to_ascii_uppercase();
    let mut body = || {
        let mut text = String::new();
        let _ = rq.as_reader().take(1 << 16).read_to_string(&mut text);
        text
    };
    // Every control call first applies the live changes due.
    let view = s.account.tick(false);
    let result: Result<Value, (u16, String)> = match (method.as_str(), &path[PREFIX.len()..]) {
        ("GET", "info") => Ok(info(&view, s.config.max_window_days)),
        ("GET", "truth") => truth(&view.dataset, query).map_err(bad),
        ("GET", "requests") => {
            Ok(Value::Array(s.log.snapshot().iter().map(|r| entry(r, s.log.received_ms(r))).collect()))
        }
        ("GET", "changes") => since(query).map(|n| Value::Array(s.account.changes(n).iter().map(change).collect())),
        ("POST", "clear") => {
            s.log.clear();
            Ok(json!({ "ok": true }))
        }
        ("POST", "faults") => faults(&body()).map(|f| {
            s.faults.set(f);
            json!({ "ok": true })
        }),
        ("POST", "live") => parse_live(&body()).map(|l| {
            s.set_live(l);
            json!({ "ok": true, "now": time(s.account.tick(false).now) })
        }),
        ("GET", "webhooks") => Ok(json!({
            "pending": s.pusher.pending(),
            "deliveries": s.pusher.log().iter().map(delivery).collect::<Vec<_>>(),
        })),
        ("POST", "webhook") => parse_webhook(&body()).map(|w| {
            s.pusher.set(w);
            json!({ "ok": true })
        }),
        ("POST", "advance-day") => Ok(json!({ "ok": true, "now": time(s.account.advance_day()) })),
        _ => Err((404, "unknown control endpoint".to_string())),
    };
    let (status, value) = match result {
        Ok(v) => (200, v),
        Err((status, e)) => (status, json!({ "error": e })),
    };
    let header = Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).expect("static header");
    let _ = rq.respond(Response::from_string(value.to_string()).with_status_code(status).with_header(header));
}

fn delivery(d: &crate::WebhookDelivery) -> Value {
    json!({
        "token": d.token,
        "email_id": d.email_id,
        "event": d.event,
        "json": d.json,
        "attempt": d.attempt,
        "duplicate": d.duplicate,
        "status": d.status,
    })
}

/// `{"url", "key", "format": "form"|"json"|"mixed", "spelling": "old"|"new"|"mixed", "retry_ms",
/// "duplicate", "delay_ms", "seed"}`; no `url` (or `{}`) turns the push off.
fn parse_webhook(body: &str) -> Result<Option<crate::WebhookPush>, (u16, String)> {
    use crate::config::{WebhookFormat, WebhookSpelling};
    let v = object(body).map_err(bad)?;
    let text = |k: &str| v.get(k).and_then(Value::as_str);
    let Some(url) = text("url") else { return Ok(None) };
    let key = text("key").filter(|k| !k.is_empty()).ok_or_else(|| bad("key: the app key to sign with".into()))?;
    let format = match text("format") {
        None | Some("mixed") => WebhookFormat::Mixed,
        Some("form") => WebhookFormat::Form,
        Some("json") => WebhookFormat::Json,
        Some(f) => return Err(bad(format!("format: form, json or mixed, not {f:?}"))),
    };
    let spelling = match text("spelling") {
        None | Some("mixed") => WebhookSpelling::Mixed,
        Some("old") => WebhookSpelling::Old,
        Some("new") => WebhookSpelling::New,
        Some(f) => return Err(bad(format!("spelling: old, new or mixed, not {f:?}"))),
    };
    let mut w = crate::WebhookPush::new(url, key).with_format(format).with_spelling(spelling);
    if let Some(ms) = v.get("retry_ms").and_then(Value::as_u64) {
        w = w.with_retry_unit(Duration::from_millis(ms));
    }
    if let Some(p) = v.get("duplicate").and_then(Value::as_f64) {
        w = w.with_duplicate(p);
    }
    if let Some(ms) = v.get("delay_ms").and_then(Value::as_u64) {
        w = w.with_max_delay(Duration::from_millis(ms));
    }
    if let Some(seed) = v.get("seed").and_then(Value::as_u64) {
        w = w.with_seed(seed);
    }
    Ok(Some(w))
}

fn bad(e: String) -> (u16, String) {
    (400, e)
}

fn info(view: &View, max_window_days: u32) -> Value {
    let ds = &view.dataset;
    json!({
        "today": ds.today().to_string(),
        "now": time(view.now),
        "records": ds.len(),
        "api_users": ds.api_users(),
        "labels": ds.labels(),
        "max_window_days": max_window_days,
        "live": live_json(&view.live),
    })
}

/// `yyyy-MM-dd HH:mm:ss`, as the API writes times.
fn time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn truth(dataset: &Dataset, query: &str) -> Result<Value, String> {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| params.iter().rev().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let list = |k: &str| -> Vec<String> {
        get(k).map(|v| v.split(';').filter(|s| !s.is_empty()).map(str::to_owned).collect()).unwrap_or_default()
    };
    let date = |k: &str| -> Result<Option<NaiveDate>, String> {
        get(k).map(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| format!("bad {k}"))).transpose()
    };
    let mut filter = match (get("days"), date("startDate")?, date("endDate")?) {
        (Some(d), None, None) => Filter::days(dataset.today(), d.parse().map_err(|_| "bad days".to_string())?),
        (None, Some(s), Some(e)) => Filter::dates(s, e),
        _ => return Err("give days, or startDate and endDate".into()),
    };
    filter.status = get("status").map(|s| s.parse().map_err(|_| "bad status".to_string())).transpose()?;
    filter.sub_status = list("subStatus")
        .iter()
        .map(|s| s.parse().map_err(|_| "bad subStatus".to_string()))
        .collect::<Result<_, _>>()?;
    filter.email = get("email").map(str::to_owned);
    filter.email_ids = list("emailIds");
    filter.label_id = get("labelId").map(|s| s.parse().map_err(|_| "bad labelId".to_string())).transpose()?;
    filter.label_name = get("labelName").map(str::to_owned);
    filter.api_users = list("apiUserList");
    let ids: Vec<String> = dataset.query(&filter).into_iter().map(|g| g.email_id).collect();
    Ok(json!({ "total": ids.len(), "email_ids": ids }))
}

fn entry(r: &LoggedRequest, received_ms: u64) -> Value {
    json!({
        "received_ms": received_ms,
        "method": r.method,
        "path": r.path,
        "param_names": r.param_names,
        "key_in_url": r.key_in_url,
        "status_code": r.status_code,
        "http_status": r.http_status,
        "fault": r.fault.map(|f| match f {
            FaultKind::RateLimited => "rate_limited",
            FaultKind::Http502 => "http_502",
            FaultKind::Reset => "reset",
            FaultKind::Truncated => "truncated",
            FaultKind::Slow => "slow",
        }),
    })
}

fn since(query: &str) -> Result<u64, (u16, String)> {
    match form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "since") {
        None => Ok(0),
        Some((_, v)) => v.parse().map_err(|_| bad("since must be a sequence number".into())),
    }
}

fn change(c: &Change) -> Value {
    json!({
        "seq": c.seq,
        "email_id": c.email_id,
        "kind": c.kind.as_str(),
        "at": time(c.at),
        "after_request": c.after_request,
        "status_code": c.status_code,
        "sub_status": c.sub_status,
    })
}

/// The body of `POST /_sandbox/live`, as `info` shows the settings in force.
fn live_json(l: &LiveConfig) -> Value {
    let (after_requests, after_ms) = match l.day_advance {
        DayAdvance::AfterRequests(n) => (Some(n), None),
        DayAdvance::AfterDuration(d) => (None, Some(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))),
        DayAdvance::Never => (None, None),
    };
    let (cache, ttl_ms) = match l.cache {
        CacheModel::Snapshot { ttl } => ("snapshot", Some(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX))),
        CacheModel::PerRequest => ("per-request", None),
    };
    json!({
        "arrivals_per_second": l.arrivals_per_second,
        "settle_per_second": l.settle_per_second,
        "day_advance_after_requests": after_requests,
        "day_advance_after_ms": after_ms,
        "order": l.order.as_str(),
        "cache": cache,
        "cache_ttl_ms": ttl_ms,
    })
}

fn parse_live(body: &str) -> Result<LiveConfig, (u16, String)> {
    let v = object(body).map_err(bad)?;
    let rate = |k: &str| -> Result<f64, (u16, String)> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(0.0),
            Some(x) => x.as_f64().filter(|r| r.is_finite() && *r >= 0.0).ok_or_else(|| bad(format!("{k}: a rate ≥ 0"))),
        }
    };
    let count = |k: &str| -> Result<Option<u64>, (u16, String)> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => x.as_u64().map(Some).ok_or_else(|| bad(format!("{k}: an integer ≥ 0"))),
        }
    };
    let text = |k: &str| -> Result<Option<&str>, (u16, String)> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(x) => x.as_str().map(Some).ok_or_else(|| bad(format!("{k}: a string"))),
        }
    };
    let day_advance = match (count("day_advance_after_requests")?, count("day_advance_after_ms")?) {
        (None, None) => DayAdvance::Never,
        (Some(n), None) => DayAdvance::AfterRequests(n),
        (None, Some(ms)) => DayAdvance::AfterDuration(Duration::from_millis(ms)),
        (Some(_), Some(_)) => {
            return Err(bad("give day_advance_after_requests or day_advance_after_ms, not both".into()));
        }
    };
    let order = match text("order")? {
        None | Some("oldest-first") => ResultOrder::OldestFirst,
        Some("newest-first") => ResultOrder::NewestFirst,
        Some(o) => return Err(bad(format!("order: oldest-first or newest-first, not {o:?}"))),
    };
    let ttl = count("cache_ttl_ms")?.map_or(crate::config::DEFAULT_CACHE_TTL, Duration::from_millis);
    let cache = match text("cache")? {
        None | Some("snapshot") => CacheModel::Snapshot { ttl },
        Some("per-request") => CacheModel::PerRequest,
        Some(c) => return Err(bad(format!("cache: snapshot or per-request, not {c:?}"))),
    };
    Ok(LiveConfig::off()
        .with_arrivals_per_second(rate("arrivals_per_second")?)
        .with_settle_per_second(rate("settle_per_second")?)
        .with_day_advance(day_advance)
        .with_order(order)
        .with_cache(cache))
}

/// A JSON object body (empty: `{}`).
fn object(body: &str) -> Result<Value, String> {
    let v: Value = serde_json::from_str(if body.trim().is_empty() { "{}" } else { body }).map_err(|e| e.to_string())?;
    if v.is_object() { Ok(v) } else { Err("expected a JSON object".into()) }
}

fn faults(body: &str) -> Result<FaultConfig, (u16, String)> {
    let v = object(body).map_err(bad)?;
    let p = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let mut f = FaultConfig::none()
        .with_seed(v.get("seed").and_then(Value::as_u64).unwrap_or(0))
        .with_rate_limited(p("rate_limited"))
        .with_http_502(p("http_502"))
        .with_reset(p("reset"))
        .with_truncated(p("truncated"));
    let slow_ms = v.get("slow_ms").and_then(Value::as_u64).unwrap_or(3000);
    f = f.with_slow(p("slow"), Duration::from_millis(slow_ms));
    Ok(f)
}
