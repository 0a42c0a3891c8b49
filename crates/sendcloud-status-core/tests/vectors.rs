//! Runs the language-neutral conformance vectors of `tests/vectors/*.json`
//! (repository root) through the public API of the core. Every failing case
//! is reported by name; the test fails once at the end.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use sendcloud_status_core::chrono::{FixedOffset, NaiveDate, NaiveDateTime};
use sendcloud_status_core::{
    Credentials, Cursor, Decoder, Encoder, Endpoint, Error, Export, ExportConfig, Method, Parallelism, Query,
    RateLimit, RateLimiter, Region, RetryPolicy, Status,
};

use support::{CacheModel, Change, Driver, End, FakeServer, Fault, Order, Row};

const MIN_CASES: usize = 80;

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

#[test]
fn conformance_vectors() {
    let dir = vectors_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());

    let mut total = 0;
    let mut failures: Vec<String> = Vec::new();
    let mut counts: Vec<String> = Vec::new();
    for file in &files {
        let fname = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{fname}: not JSON: {e}"));
        let suite = doc["suite"].as_str().unwrap_or_else(|| panic!("{fname}: no \"suite\"")).to_owned();
        let cases = doc["cases"].as_array().unwrap_or_else(|| panic!("{fname}: no \"cases\""));
        let mut names = std::collections::HashSet::new();
        for case in cases {
            let name = case["name"].as_str().unwrap_or("<unnamed>").to_owned();
            if !names.insert(name.clone()) {
                failures.push(format!("{fname}: duplicate case name {name}"));
            }
            let outcome = catch_unwind(AssertUnwindSafe(|| match suite.as_str() {
                "query" => run_query(case),
                "endpoint" => run_endpoint(case),
                "decode" => run_decode(case),
                "export" => run_export(case),
                "webhook" => run_webhook(case),
                other => Err(format!("unknown suite {other:?}")),
            }));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(why)) => failures.push(format!("{fname} :: {name}: {why}")),
                Err(panic) => {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{fname} :: {name}: panicked: {msg}"));
                }
            }
        }
        counts.push(format!("{fname}: {}", cases.len()));
        total += cases.len();
    }
    eprintln!("vector cases: {total} ({})", counts.join(", "));
    assert!(failures.is_empty(), "{} of {total} vector cases failed:\n{}", failures.len(), failures.join("\n"));
    assert!(total >= MIN_CASES, "only {total} vector cases, expected at least {MIN_CASES}");
}

// ---------------------------------------------------------------------------
// inputs

fn obj(v: &Value) -> &Map<String, Value> {
    v.as_object().unwrap_or_else(|| panic!("expected an object, got {v}"))
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or_else(|| panic!("expected an integer, got {v}"))
}

fn string(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap_or_else(|| panic!("expected a list, got {v}")).iter().map(|s| string(s).to_owned()).collect()
}

/// Builds a query from the snake_case input of the vectors, the way a
/// binding would.
fn build_query(input: &Value, page_size: Option<i64>) -> Result<Query, Error> {
    let q = obj(input);
    let mut b = Query::builder();
    for (key, v) in q {
        b = match key.as_str() {
            "days" => b.days(int(v)),
            "start_date" => b.start_date_str(string(v)),
            "end_date" => b.end_date_str(string(v)),
            "email" => b.email(string(v)),
            "email_ids" => b.email_ids(strings(v)),
            "label_id" => b.label_id(int(v)),
            "label_name" => b.label_name(string(v)),
            "api_users" => b.api_users(strings(v)),
            "status" => b.status(string(v).parse::<Status>()?),
            "sub_status" => b.sub_status(v.as_array().expect("sub_status list").iter().map(int).collect::<Vec<i64>>()),
            "start" => b.start(int(v)),
            "limit" => b.limit(int(v)),
            other => panic!("unknown query key {other:?}"),
        };
    }
    if let Some(limit) = page_size {
        assert!(!q.contains_key("limit"), "export vectors give the page size as page_size, not query.limit");
        b = b.limit(limit);
    }
    b.build()
}

fn build_endpoint(input: Option<&Value>) -> Result<Endpoint, Error> {
    let empty = Map::new();
    let e = input.map_or(&empty, obj);
    for key in e.keys() {
        assert!(["region", "base_url", "max_window_days"].contains(&key.as_str()), "unknown endpoint key {key:?}");
    }
    let mut endpoint = match (e.get("region"), e.get("base_url")) {
        (Some(r), None) => Endpoint::preset(string(r).parse::<Region>()?),
        (None, Some(u)) => Endpoint::custom(string(u))?,
        (None, None) => Endpoint::default(),
        (Some(_), Some(_)) => panic!("give region or base_url, not both"),
    };
    if let Some(m) = e.get("max_window_days") {
        endpoint = endpoint.with_max_window_days(u32::try_from(int(m)).expect("max_window_days fits u32"))?;
    }
    Ok(endpoint)
}

fn credentials() -> Credentials {
    Credentials::new("u", "k").unwrap()
}

// ---------------------------------------------------------------------------
// expectations

fn check_error(err: &Error, want: &Value) -> Result<(), String> {
    let want = obj(want);
    let mut problems = Vec::new();
    if let Some(kind) = want.get("kind")
        && err.kind().as_str() != string(kind)
    {
        problems.push(format!("kind {} ≠ {}", err.kind(), string(kind)));
    }
    if let Some(field) = want.get("field")
        && err.field() != field.as_str()
    {
        problems.push(format!("field {:?} ≠ {field}", err.field()));
    }
    if let Some(reason) = want.get("reason")
        && err.reason() != reason.as_str()
    {
        problems.push(format!("reason {:?} ≠ {reason}", err.reason()));
    }
    if let Some(code) = want.get("api_code")
        && err.api_code() != code.as_i64()
    {
        problems.push(format!("api_code {:?} ≠ {code}", err.api_code()));
    }
    if let Some(status) = want.get("http_status")
        && err.http_status().map(i64::from) != status.as_i64()
    {
        problems.push(format!("http_status {:?} ≠ {status}", err.http_status()));
    }
    if problems.is_empty() { Ok(()) } else { Err(format!("{} (error: {err})", problems.join("; "))) }
}

fn unexpected_error(err: &Error) -> String {
    format!("unexpected error: {} {:?}: {err}", err.kind(), err.field())
}

// ---------------------------------------------------------------------------
// suites

fn run_query(case: &Value) -> Result<(), String> {
    let expect = obj(&case["expect"]);
    let built = build_query(&case["query"], None).and_then(|q| {
        let endpoint = build_endpoint(case.get("endpoint"))?;
        let method: Method = case.get("method").map_or(Ok(Method::Post), |m| string(m).parse())?;
        Encoder::new(endpoint, credentials()).with_method(method).encode(&q)
    });
    let req = match (built, expect.get("error")) {
        (Err(e), Some(want)) => return check_error(&e, want),
        (Err(e), None) => return Err(unexpected_error(&e)),
        (Ok(req), Some(want)) => return Err(format!("expected error {want}, got request {req:?}")),
        (Ok(req), None) => req,
    };
    let mut pairs = support::request_params(&req);
    if pairs.len() < 2 || pairs[0] != ("apiUser".into(), "u".into()) || pairs[1] != ("apiKey".into(), "k".into()) {
        return Err(format!("credentials are not the first two parameters: {pairs:?}"));
    }
    pairs.drain(..2);
    let want: Vec<(String, String)> = expect["params"]
        .as_array()
        .expect("params list")
        .iter()
        .map(|p| (string(&p[0]).to_owned(), string(&p[1]).to_owned()))
        .collect();
    if pairs != want {
        return Err(format!("params\n  got  {pairs:?}\n  want {want:?}"));
    }
    if let Some(body) = expect.get("body") {
        let got = String::from_utf8_lossy(req.body());
        if got != string(body) {
            return Err(format!("body\n  got  {got}\n  want {}", string(body)));
        }
    }
    if let Some(url) = expect.get("url")
        && req.url() != string(url)
    {
        return Err(format!("url\n  got  {}\n  want {}", req.url(), string(url)));
    }
    let content_type = req.headers().iter().find(|(n, _)| *n == "Content-Type").map(|(_, v)| v.as_str());
    match req.method() {
        Method::Post if content_type != Some("application/x-www-form-urlencoded") => {
            Err(format!("POST without the form content type: {content_type:?}"))
        }
        Method::Get if !req.body().is_empty() => Err("GET with a body".into()),
        _ => Ok(()),
    }
}

fn run_endpoint(case: &Value) -> Result<(), String> {
    let expect = obj(&case["expect"]);
    let endpoint = match (build_endpoint(case.get("endpoint")), expect.get("error")) {
        (Err(e), Some(want)) => return check_error(&e, want),
        (Err(e), None) => return Err(unexpected_error(&e)),
        (Ok(e), Some(want)) => return Err(format!("expected error {want}, got {e:?}")),
        (Ok(e), None) => e,
    };
    let got = serde_json::json!({
        "base_url": endpoint.base_url(),
        "url": endpoint.url(),
        "max_window_days": endpoint.max_window_days(),
        "region": endpoint.region().map(|r| r.name()),
    });
    if got != Value::Object(expect.clone()) {
        return Err(format!("\n  got  {got}\n  want {}", Value::Object(expect.clone())));
    }
    Ok(())
}

fn parse_offset(s: &str) -> FixedOffset {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => panic!("bad utc_offset {s:?}"),
    };
    let (h, m) = rest.split_once(':').unwrap_or_else(|| panic!("bad utc_offset {s:?}"));
    let secs = sign * (h.parse::<i32>().unwrap() * 3600 + m.parse::<i32>().unwrap() * 60);
    FixedOffset::east_opt(secs).unwrap_or_else(|| panic!("bad utc_offset {s:?}"))
}

fn decode_body(case: &Value) -> Vec<u8> {
    if let Some(b) = case.get("body") {
        string(b).as_bytes().to_vec()
    } else if let Some(f) = case.get("body_file") {
        let path = vectors_dir().join(string(f));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    } else if let Some(h) = case.get("body_hex") {
        let h = string(h);
        (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex")).collect()
    } else {
        panic!("no body, body_file or body_hex")
    }
}

fn run_decode(case: &Value) -> Result<(), String> {
    let expect = obj(&case["expect"]);
    let decoder = case.get("utc_offset").map_or_else(Decoder::default, |o| Decoder::new(parse_offset(string(o))));
    let status = u16::try_from(int(&case["http_status"])).expect("http status");
    let page = match (decoder.decode(status, &decode_body(case)), expect.get("error")) {
        (Err(e), Some(want)) => return check_error(&e, want),
        (Err(e), None) => return Err(unexpected_error(&e)),
        (Ok(p), Some(want)) => return Err(format!("expected error {want}, got {} records", p.records.len())),
        (Ok(p), None) => p,
    };
    let mut problems = Vec::new();
    let total = page.total.map_or(Value::Null, Value::from);
    if total != expect["total"] {
        problems.push(format!("total {total} ≠ {}", expect["total"]));
    }
    if let Some(want) = expect.get("list_size") {
        let got = page.list_size.map_or(Value::Null, Value::from);
        if &got != want {
            problems.push(format!("list_size {got} ≠ {want}"));
        }
    }
    let records = serde_json::to_value(&page.records).unwrap();
    if records != expect["records"] {
        problems.push(format!(
            "records\n  got  {}\n  want {}",
            serde_json::to_string(&records).unwrap(),
            serde_json::to_string(&expect["records"]).unwrap()
        ));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

fn date(v: &Value) -> NaiveDate {
    string(v).parse().unwrap_or_else(|e| panic!("bad date {v}: {e}"))
}

fn run_export(case: &Value) -> Result<(), String> {
    let opts = obj(&case["options"]);
    let parallelism = opts.get("parallelism").map_or(1, |p| int(p) as usize);
    // One in flight: order does not matter. Several: answer out of order, in
    // more than one way; the outcome must not change.
    let orders: &[Order] = if parallelism > 1 {
        &[Order::Lifo, Order::Fifo, Order::Shuffle(1), Order::Shuffle(2), Order::Shuffle(3)]
    } else {
        &[Order::Fifo]
    };
    for &order in orders {
        run_export_once(case, order).map_err(|e| format!("[{order:?}] {e}"))?;
    }
    Ok(())
}

/// An export refused before it started (a bad cursor): only `error_kind`,
/// `error_field` and an empty `email_ids` can hold.
fn check_error_only(e: &Error, expect: &Map<String, Value>) -> Result<(), String> {
    let kind_ok = expect.get("error_kind").is_some_and(|k| e.kind().as_str() == string(k));
    let field_ok = expect.get("error_field").is_none_or(|f| e.field() == f.as_str());
    let none_emitted = strings(&expect["email_ids"]).is_empty();
    if kind_ok && field_ok && none_emitted { Ok(()) } else { Err(format!("refused at the start: {e:?}")) }
}

fn run_export_once(case: &Value, order: Order) -> Result<(), String> {
    for key in obj(case).keys() {
        assert!(
            [
                "name",
                "note",
                "query",
                "page_size",
                "today",
                "started_at",
                "resume",
                "options",
                "server",
                "faults",
                "expect"
            ]
            .contains(&key.as_str()),
            "unknown export case key {key:?}"
        );
    }
    let opts = obj(&case["options"]);
    let parallelism = opts.get("parallelism").map_or(1, |p| int(p) as usize);
    let page_size = int(&case["page_size"]);
    let today = date(&case["today"]);
    let query = build_query(&case["query"], Some(page_size)).map_err(|e| unexpected_error(&e))?;

    let max_days = opts.get("max_window_days").map_or(3, |m| int(m) as u32);
    let endpoint = Endpoint::custom("http://127.0.0.1:9/api/").unwrap().with_max_window_days(max_days).unwrap();
    let method: Method = opts.get("method").map_or(Ok(Method::Post), |m| string(m).parse()).unwrap();
    let mut config = ExportConfig::new(Encoder::new(endpoint, credentials()).with_method(method));
    config.parallelism = Parallelism::Fixed(1);
    let mut retry = RetryPolicy::default();
    for (key, v) in opts {
        match key.as_str() {
            "max_window_days" | "method" | "request_timeout_ms" => {}
            "email_id_chunk" => config.email_id_chunk = int(v) as usize,
            "parallelism" => config.parallelism = Parallelism::Fixed(int(v) as usize),
            "max_records" => config.max_records = v.as_u64(),
            "rate_limit_per_minute" => {
                let limit = v.as_u64().map(|n| RateLimit::per_minute(n as u32).unwrap());
                config.limiter = RateLimiter::new(limit).shared();
            }
            "retry" => {
                for (k, v) in obj(v) {
                    let ms = || Duration::from_millis(v.as_u64().unwrap());
                    match k.as_str() {
                        "max_attempts" => retry.max_attempts = int(v) as u32,
                        "base_delay_ms" => retry.base_delay = ms(),
                        "rate_limit_base_delay_ms" => retry.rate_limit_base_delay = ms(),
                        "max_delay_ms" => retry.max_delay = ms(),
                        "deadline_ms" => retry.deadline = ms(),
                        other => panic!("unknown retry option {other:?}"),
                    }
                }
            }
            other => panic!("unknown export option {other:?}"),
        }
    }
    if !opts.contains_key("rate_limit_per_minute") {
        config.limiter = RateLimiter::new(None).shared();
    }
    config.retry = retry;
    config.started_at = case.get("started_at").map(|t| {
        NaiveDateTime::parse_from_str(string(t), "%Y-%m-%d %H:%M:%S").expect("started_at: yyyy-MM-dd HH:mm:ss")
    });

    let server_def = obj(&case["server"]);
    let rows_of = |v: &Value| -> Vec<Row> {
        v.as_array()
            .expect("a list of rows")
            .iter()
            .map(|r| {
                for key in obj(r).keys() {
                    assert!(["email_id", "date", "modified"].contains(&key.as_str()), "unknown row key {key:?}");
                }
                let row = Row::new(string(&r["email_id"]), date(&r["date"]));
                match r.get("modified") {
                    Some(m) => row.modified_at(string(m)),
                    None => row,
                }
            })
            .collect()
    };
    let mut server = FakeServer::new(today, rows_of(&server_def["rows"]));
    server.page_size = Some(page_size as u32);
    for (key, v) in server_def {
        match key.as_str() {
            "rows" => {}
            "omit_total" => server.omit_total = v.as_bool().expect("omit_total bool"),
            "total_bias" => server.total_bias = v.as_u64().expect("total_bias"),
            "cache" => {
                server.cache_model = match string(v) {
                    "snapshot" => CacheModel::Snapshot { ttl: None },
                    "per_request" => CacheModel::PerRequest,
                    other => panic!("unknown cache model {other:?}"),
                }
            }
            "advance_day_before_request" => server.advance_day_at = Some(int(v) as usize),
            "changes" => {
                for change in v.as_array().expect("changes list") {
                    let at = int(&change["before_request"]) as usize;
                    let list = server.changes.entry(at).or_default();
                    for (k, x) in obj(change) {
                        match k.as_str() {
                            "before_request" => {}
                            "remove" => list.extend(strings(x).into_iter().map(Change::Remove)),
                            "append" => list.extend(rows_of(x).into_iter().map(|r| Change::Insert(usize::MAX, r))),
                            "prepend" => list.extend(rows_of(x).into_iter().rev().map(|r| Change::Insert(0, r))),
                            other => panic!("unknown change key {other:?}"),
                        }
                    }
                }
            }
            other => panic!("unknown server option {other:?}"),
        }
    }
    for f in case["faults"].as_array().expect("faults list") {
        let kind = Fault::parse(string(&f["kind"])).unwrap_or_else(|| panic!("unknown fault {}", f["kind"]));
        server.faults.insert(int(&f["request_index"]) as usize, kind);
    }

    let expect = obj(&case["expect"]);
    let cursor = case.get("resume").map(|c| string(c).parse::<Cursor>());
    let planned = match cursor {
        Some(Err(e)) => Err(e),
        Some(Ok(c)) => Export::new(config, query, today, Some(&c)),
        None => Export::new(config, query, today, None),
    };
    let mut export = match planned {
        Ok(export) => export,
        // Refused before anything is sent: the expected error, or a failure.
        Err(e) => return check_error_only(&e, expect),
    };
    let mut driver = Driver::new(order);
    let (ids, end) = driver.collect(&mut export, &mut server);

    let mut problems = Vec::new();
    if !server.violations.is_empty() {
        problems.push(format!("protocol violations: {:?}", server.violations));
    }
    if driver.max_in_flight > parallelism {
        problems.push(format!("{} requests in flight with parallelism {parallelism}", driver.max_in_flight));
    }
    match (&end, expect.get("error_kind")) {
        (Ok(End::Done), None) => {}
        (Err(e), Some(kind)) if e.kind().as_str() == string(kind) => {}
        (got, want) => problems.push(format!("ended with {got:?}, expected error kind {want:?}")),
    }
    if let (Err(e), Some(field)) = (&end, expect.get("error_field"))
        && e.field() != field.as_str()
    {
        problems.push(format!("error field {:?}, want {field}", e.field()));
    }
    if let Some(want) = expect.get("stats") {
        let s = export.stats();
        for (key, v) in obj(want) {
            let got = match key.as_str() {
                "passes" => s.passes,
                "units_reread" => s.units_reread,
                "total_drift" => s.total_drift,
                "short_pages" => s.short_pages,
                "empty_pages" => s.empty_pages,
                "duplicates" => s.duplicates,
                "unstable_units" => s.unstable_units.len() as u64,
                other => panic!("unknown stats key {other:?}"),
            };
            if got != v.as_u64().expect("stats values are counts") {
                problems.push(format!("stats.{key}: got {got}, want {v}"));
            }
        }
    }
    if ids != strings(&expect["email_ids"]) {
        problems.push(format!("email ids\n  got  {ids:?}\n  want {:?}", strings(&expect["email_ids"])));
    }
    if let Some(n) = expect.get("requests") {
        let n = int(n) as usize;
        if server.received != n || export.stats().requests != n as u64 {
            problems.push(format!(
                "requests: server saw {}, export counted {}, want {n}",
                server.received,
                export.stats().requests
            ));
        }
    }
    if let Some(sent) = expect.get("sent")
        && server.log != strings(sent)
    {
        problems.push(format!("sent\n  got  {:?}\n  want {:?}", server.log, strings(sent)));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n  ")) }
}

// ---------------------------------------------------------------------------
// webhook

/// A body, a key, the time now and the tokens seen → the verdict and the
/// parsed event, or the typed error.
fn run_webhook(case: &Value) -> Result<(), String> {
    use sendcloud_status_core::chrono::{TimeZone, Utc};
    use sendcloud_status_core::webhook::{AppKey, DEFAULT_TOLERANCE, Verdict, Verifier, WebhookEvent};
    use std::collections::BTreeSet;

    let allowed = ["name", "note", "key", "content_type", "body", "now_ms", "tolerance_ms", "seen_tokens", "expect"];
    if let Some(k) = obj(case).keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown key {k:?} (the runner is older than the vectors)"));
    }
    let key = AppKey::new(string(&case["key"])).map_err(|e| e.to_string())?;
    let tolerance = case.get("tolerance_ms").map_or(DEFAULT_TOLERANCE, |v| Duration::from_millis(int(v) as u64));
    let verifier = Verifier::new(key).with_tolerance(tolerance);
    let now = Utc.timestamp_millis_opt(int(&case["now_ms"])).single().ok_or("bad now_ms")?;
    let seen: BTreeSet<String> = case.get("seen_tokens").map(strings).unwrap_or_default().into_iter().collect();
    let got = verifier.verify(string(&case["body"]).as_bytes(), now, &seen);
    let expect = &case["expect"];
    if let Some(want) = expect.get("error") {
        let e = match got {
            Ok(v) => return Err(format!("expected error {want}, got {v:?}")),
            Err(e) => e,
        };
        if e.kind() != string(&want["kind"]) {
            return Err(format!("expected {want}, got {} ({e})", e.kind()));
        }
        if let Some(status) = want.get("http_status")
            && i64::from(e.http_status()) != int(status)
        {
            return Err(format!("http_status {} != {status}", e.http_status()));
        }
        return Ok(());
    }
    let verdict = got.map_err(|e| format!("expected {}, got error {} ({e})", expect["verdict"], e.kind()))?;
    let (name, event): (&str, &WebhookEvent) = match &verdict {
        Verdict::New(e) => ("new", e),
        Verdict::Repeated(e) => ("repeated", e),
    };
    if name != string(&expect["verdict"]) {
        return Err(format!("verdict {name}, expected {}", expect["verdict"]));
    }
    let actual = serde_json::json!({
        "kind": event.kind.name(),
        "event": event.event,
        "category": event.category().map(|c| c.name()),
        "email_id": event.email_id,
        "recipient": event.recipient,
        "api_user": event.api_user,
        "label_id": event.label_id,
        "label_name": event.label_name,
        "timestamp": event.timestamp,
        "time_ms": event.time.timestamp_millis(),
        "token": event.token,
        "sub_status": event.sub_status.map(|s| s.code()),
        "message": event.message,
        "extra": event.extra,
    });
    for (k, want) in obj(&expect["event"]) {
        let have = actual.get(k).ok_or_else(|| format!("unknown event key {k:?}"))?;
        if have != want {
            return Err(format!("event.{k}: {have} != {want}"));
        }
    }
    Ok(())
}
