//! Test-only control endpoints under `/_sandbox/` on the same port, so tests
//! in any language (Python, Node, shell) can read the ground truth and the
//! request log and change faults without linking this crate.
//!
//! | endpoint | answer |
//! |---|---|
//! | `GET /_sandbox/info` | `{"today", "records", "api_users", "labels": [[id, name]…], "max_window_days"}` |
//! | `GET /_sandbox/truth?<API filter parameters>` | `{"total", "email_ids": […]}` in server order; no credentials, no window limit |
//! | `GET /_sandbox/requests` | the request log: `[{method, path, param_names, key_in_url, status_code, http_status, fault}]` |
//! | `POST /_sandbox/clear` | empties the request log |
//! | `POST /_sandbox/faults` | JSON `{"seed", "rate_limited", "http_502", "reset", "truncated", "slow", "slow_ms"}` (missing = 0) |
//!
//! These calls skip faults, latency, the rate limit and the request log.
//! For `truth`, `days=N` counts from the sandbox's today and an absent
//! `apiUserList` means the demo apiUser only, as on the API.

use std::io::Read;
use std::time::Duration;

use chrono::NaiveDate;
use serde_json::{Value, json};
use tiny_http::{Header, Request, Response};

use crate::config::FaultConfig;
use crate::dataset::{Dataset, Filter};
use crate::faults::FaultKind;
use crate::reqlog::LoggedRequest;

/// The path prefix of control endpoints.
pub(crate) const PREFIX: &str = "/_sandbox/";

/// What a control call wants done to the server state.
pub(crate) enum Effect {
    None,
    ClearLog,
    SetFaults(FaultConfig),
}

/// Answers one control call; returns the state change for the caller to apply.
pub(crate) fn handle(
    mut rq: Request,
    dataset: &Dataset,
    max_window_days: u32,
    log: impl FnOnce() -> Vec<LoggedRequest>,
) -> Effect {
    let url = rq.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let method = rq.method().as_str().to_ascii_uppercase();
    let (status, body, effect) = match (method.as_str(), &path[PREFIX.len()..]) {
        ("GET", "info") => (200, info(dataset, max_window_days), Effect::None),
        ("GET", "truth") => match truth(dataset, query) {
            Ok(v) => (200, v, Effect::None),
            Err(e) => (400, json!({ "error": e }), Effect::None),
        },
        ("GET", "requests") => (200, Value::Array(log().iter().map(entry).collect()), Effect::None),
        ("POST", "clear") => (200, json!({ "ok": true }), Effect::ClearLog),
        ("POST", "faults") => {
            let mut body = String::new();
            let _ = rq.as_reader().take(1 << 16).read_to_string(&mut body);
            match faults(&body) {
                Ok(f) => (200, json!({ "ok": true }), Effect::SetFaults(f)),
                Err(e) => (400, json!({ "error": e }), Effect::None),
            }
        }
        _ => (404, json!({ "error": "unknown control endpoint" }), Effect::None),
    };
    let header = Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).expect("static header");
    let _ = rq.respond(Response::from_string(body.to_string()).with_status_code(status).with_header(header));
    effect
}

fn info(dataset: &Dataset, max_window_days: u32) -> Value {
    json!({
        "today": dataset.today().to_string(),
        "records": dataset.len(),
        "api_users": dataset.api_users(),
        "labels": dataset.labels(),
        "max_window_days": max_window_days,
    })
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

fn entry(r: &LoggedRequest) -> Value {
    json!({
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

fn faults(body: &str) -> Result<FaultConfig, String> {
    let v: Value = serde_json::from_str(if body.trim().is_empty() { "{}" } else { body }).map_err(|e| e.to_string())?;
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
