//! The client against the loopback sandbox: ground truth, filters, window
//! splitting, faults, rate limits, timeouts, secrets.

use std::collections::HashSet;
use std::time::Duration;

use sendcloud_status::chrono::NaiveDate;
use sendcloud_status::{
    Category, Client, ClientBuilder, ErrorKind, Method, Query, Record, RetryPolicy, Status, TransportErrorKind,
};
use sendcloud_status_sandbox::{
    DEMO_API_KEY, DEMO_API_USER, FaultConfig, Filter, GroundRecord, Language, Sandbox, SandboxConfig, StatusCodeKey,
    SubStatusFormat,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 20).unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config.with_today(today()).with_rate_limit(None)).expect("sandbox starts")
}

fn small() -> Sandbox {
    start(SandboxConfig::default().with_records(3_000).with_seed(7))
}

/// Fast retries: these tests inject faults on purpose.
fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(2),
        rate_limit_base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        deadline: Duration::from_secs(30),
    }
}

fn builder(sb: &Sandbox) -> ClientBuilder {
    Client::builder()
        .ignore_env()
        .credentials(DEMO_API_USER, DEMO_API_KEY)
        .base_url(sb.base_url())
        .rate_limit_per_minute(None)
        .retry_policy(fast_retry())
        .timeout(Duration::from_secs(5))
        .jitter_seed(1)
}

fn client(sb: &Sandbox) -> Client {
    builder(sb).build().unwrap()
}

fn ids_of(records: impl IntoIterator<Item = Record>) -> Vec<String> {
    records.into_iter().map(|r| r.email_id.expect("sandbox rows have ids")).collect()
}

fn truth_ids(truth: &[GroundRecord]) -> Vec<String> {
    truth.iter().map(|g| g.email_id.clone()).collect()
}

fn export(client: &Client, query: Query) -> Vec<String> {
    let records: Vec<Record> =
        client.export(query).today(today()).records().unwrap().collect::<Result<_, _>>().expect("export succeeds");
    ids_of(records)
}

fn assert_exact(got: &[String], want: &[String]) {
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "duplicates in export");
    assert_eq!(got.len(), want.len(), "record count");
    assert_eq!(got, want, "same ids in the same order");
}

#[test]
fn ten_day_export_equals_ground_truth_and_splits_windows() {
    let sb = small();
    let c = client(&sb);
    let q = Query::builder().dates(date("2024-05-08"), date("2024-05-17")).build().unwrap();
    let got = export(&c, q);
    let want = truth_ids(&sb.dataset().query(&Filter::dates(date("2024-05-08"), date("2024-05-17"))));
    assert!(want.len() > 500, "the window holds enough data to page: {}", want.len());
    assert_exact(&got, &want);

    // Four windows of at most 3 days, each within the limit (requests of
    // several windows interleave when more than one is in flight; the
    // output above is oldest first).
    let log = sb.request_log();
    let mut windows: Vec<(String, String)> = log
        .iter()
        .map(|r| (r.param("startDate").unwrap().to_owned(), r.param("endDate").unwrap().to_owned()))
        .collect();
    windows.sort();
    windows.dedup();
    assert_eq!(
        windows,
        [
            ("2024-05-08".into(), "2024-05-10".into()),
            ("2024-05-11".into(), "2024-05-13".into()),
            ("2024-05-14".into(), "2024-05-16".into()),
            ("2024-05-17".into(), "2024-05-17".into()),
        ]
    );
    assert!(log.iter().all(|r| r.status_code == 200));
}

#[test]
fn days_queries_short_and_long() {
    let sb = small();
    let c = client(&sb);
    // Within the window maximum: resolved to dates once, at the start.
    let got = export(&c, Query::last_days(2).unwrap());
    assert_exact(&got, &truth_ids(&sb.dataset().query(&Filter::days(today(), 2))));
    assert!(sb.request_log().iter().all(|r| r.param("days").is_none() && r.param("startDate") == Some("2024-05-19")));
    // Longer: split into dated windows from the client's "today".
    sb.clear_log();
    let got = export(&c, Query::last_days(7).unwrap());
    assert_exact(&got, &truth_ids(&sb.dataset().query(&Filter::days(today(), 7))));
    assert!(sb.request_log().iter().all(|r| r.param("days").is_none() && r.param("startDate").is_some()));
}

#[test]
fn every_filter_matches_ground_truth() {
    let sb = small();
    let c = client(&sb);
    let (from, to) = (date("2024-05-11"), date("2024-05-20"));
    let base = || Query::builder().dates(from, to);
    let all = sb.dataset().query(&Filter::dates(from, to));
    let some_recipient = all.iter().find(|g| g.status_code == 4).unwrap().recipient.clone();
    let ids: Vec<String> = all.iter().step_by(10).take(45).map(|g| g.email_id.clone()).collect();
    assert_eq!(ids.len(), 45);
    let (label_id, label_name) = sb.dataset().labels()[1];
    let users: Vec<String> = sb.dataset().api_users().iter().skip(1).take(2).map(|s| s.to_string()).collect();

    let cases: Vec<(&str, Query, Filter)> = vec![
        ("status", base().status(Status::Invalid).build().unwrap(), Filter::dates(from, to).with_status(4)),
        (
            "sub_status",
            base().status(Status::SoftBounce).sub_status([503, 509]).build().unwrap(),
            Filter::dates(from, to).with_status(5).with_sub_status([503, 509]),
        ),
        (
            "email",
            base().email(some_recipient.clone()).build().unwrap(),
            Filter::dates(from, to).with_email(&some_recipient),
        ),
        (
            "email_ids",
            base().email_ids(ids.clone()).build().unwrap(),
            Filter::dates(from, to).with_email_ids(ids.clone()),
        ),
        (
            "label_id",
            base().label_id(label_id as i64).build().unwrap(),
            Filter::dates(from, to).with_label_id(label_id),
        ),
        (
            "label_name fuzzy",
            base().label_name(&label_name[1..4]).build().unwrap(),
            Filter::dates(from, to).with_label_name(&label_name[1..4]),
        ),
        (
            "label_id wins over label_name",
            base().label_id(label_id as i64).label_name("no-such-label").build().unwrap(),
            Filter::dates(from, to).with_label_id(label_id),
        ),
        (
            "api_users",
            base().api_users(users.clone()).build().unwrap(),
            Filter::dates(from, to).with_api_users(users.clone()),
        ),
    ];
    for (name, query, filter) in cases {
        let mut want = sb.dataset().query(&filter);
        let got = export(&c, query);
        if name == "email_ids" {
            // Ids go out in chunks of 20; each chunk's rows come in server order.
            let order: Vec<&String> = ids.iter().collect();
            want.sort_by_key(|g| {
                (order.iter().position(|i| **i == g.email_id).unwrap() / 20, g.request_time, g.email_id.clone())
            });
            let mut got_sorted = got.clone();
            got_sorted.sort();
            let mut want_sorted = truth_ids(&want);
            want_sorted.sort();
            assert_eq!(got_sorted, want_sorted, "{name}");
            assert_eq!(got.len(), 45, "{name}: every id found once");
            continue;
        }
        assert!(!want.is_empty(), "{name}: the filter selects something");
        assert_exact(&got, &truth_ids(&want));
    }
    let chunked: Vec<usize> =
        sb.request_log().iter().filter_map(|r| r.param("emailIds").map(|v| v.split(';').count())).collect();
    assert!(chunked.iter().all(|&n| n <= 20) && chunked.iter().sum::<usize>() >= 45, "{chunked:?}");
}

#[test]
fn records_carry_typed_fields() {
    let sb = start(SandboxConfig::default().with_records(500).with_seed(3));
    let c = client(&sb);
    let q = Query::builder().dates(date("2024-05-18"), date("2024-05-20")).build().unwrap();
    let records: Vec<Record> = c.export(q).records().unwrap().collect::<Result<_, _>>().unwrap();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-18"), date("2024-05-20")));
    assert_eq!(records.len(), truth.len());
    for (r, g) in records.iter().zip(&truth) {
        let want = match g.status_code {
            1 => Category::Delivered,
            4 => Category::Invalid,
            5 => Category::SoftBounce,
            _ => Category::Sending,
        };
        assert_eq!(r.category, want, "{r:?}");
        assert_eq!(r.sub_status.map(|s| s.code()), g.sub_status);
        assert_eq!(r.recipient.as_deref(), Some(g.recipient.as_str()));
        assert_eq!(r.api_user.as_deref(), Some(g.api_user.as_str()));
        let t = r.request_time.as_ref().unwrap().datetime().unwrap();
        assert_eq!(t.naive_local(), g.request_time);
        assert_eq!(t.offset().local_minus_utc(), 8 * 3600);
        assert_eq!(r.status.as_deref(), Some(g.status_text(Language::Chinese).as_str()));
    }
}

#[test]
fn fidelity_switches_decode_the_same() {
    for (i, config) in [
        SandboxConfig::default().with_language(Language::English),
        SandboxConfig::default().with_status_code_key(StatusCodeKey::LowerCase),
        SandboxConfig::default().with_info_as_string(true),
        SandboxConfig::default().with_sub_status_format(SubStatusFormat::String),
        SandboxConfig::default().with_sub_status_format(SubStatusFormat::Null),
    ]
    .into_iter()
    .enumerate()
    {
        let sb = start(config.with_records(800).with_seed(11));
        let c = client(&sb);
        let q = Query::builder().dates(date("2024-05-14"), date("2024-05-20")).build().unwrap();
        let records: Vec<Record> = c.export(q).records().unwrap().collect::<Result<_, _>>().unwrap();
        let truth = sb.dataset().query(&Filter::dates(date("2024-05-14"), date("2024-05-20")));
        assert_eq!(ids_of(records.clone()), truth_ids(&truth), "profile {i}");
        // Categories come from text when the sub-status is null.
        for (r, g) in records.iter().zip(&truth) {
            let bounce = matches!(r.category, Category::Invalid | Category::SoftBounce);
            assert_eq!(bounce, matches!(g.status_code, 4 | 5), "profile {i}: {r:?}");
        }
    }
}

#[test]
fn parallel_export_equals_sequential() {
    let sb = start(SandboxConfig::default().with_records(4_000).with_seed(5).with_latency(Duration::from_millis(2)));
    let c = client(&sb);
    let q = Query::builder().dates(date("2024-05-10"), date("2024-05-20")).limit(50).build().unwrap();
    let seq = export(&c, q.clone());
    let par: Vec<Record> = c.export(q).today(today()).parallel(4).records().unwrap().collect::<Result<_, _>>().unwrap();
    assert_exact(&ids_of(par), &seq);
}

#[test]
fn max_records_and_cursor_resume_are_exact() {
    let sb = small();
    let c = client(&sb);
    let q = Query::builder().dates(date("2024-05-12"), date("2024-05-20")).limit(40).build().unwrap();
    let full = export(&c, q.clone());
    for cut in [1u64, 39, 40, 41, 333] {
        let mut first = c.export(q.clone()).today(today()).max_records(cut).records().unwrap();
        let head: Vec<Record> = first.by_ref().collect::<Result<_, _>>().unwrap();
        assert_eq!(head.len() as u64, cut);
        let saved = first.cursor().expect("more to come").to_string();
        let rest: Vec<Record> =
            c.export(q.clone()).resume(saved.parse().unwrap()).records().unwrap().collect::<Result<_, _>>().unwrap();
        let mut joined = ids_of(head);
        joined.extend(ids_of(rest));
        assert_exact(&joined, &full);
    }
    // Stopping mid-page by hand: the records iterator's cursor points at
    // the next record.
    let mut it = c.export(q.clone()).today(today()).records().unwrap();
    let head: Vec<String> = ids_of(it.by_ref().take(57).map(Result::unwrap));
    let rest: Vec<Record> =
        c.export(q.clone()).resume(it.cursor().unwrap()).records().unwrap().collect::<Result<_, _>>().unwrap();
    let mut joined = head;
    joined.extend(ids_of(rest));
    assert_exact(&joined, &full);
    // A cursor of another query is refused before sending.
    let other = Query::builder().dates(date("2024-05-12"), date("2024-05-20")).status(Status::Invalid).build().unwrap();
    let err = c.export(other).resume(it.cursor().unwrap()).records().unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("cursor")));
}

#[test]
fn exports_are_exact_under_every_fault() {
    // Enough server threads that answers abandoned at the client's timeout
    // (still sleeping server-side) do not queue the retries behind them.
    let sb = start(SandboxConfig::default().with_records(3_000).with_seed(7).with_threads(24));
    let c = builder(&sb).timeout(Duration::from_millis(400)).build().unwrap();
    let q = Query::builder().dates(date("2024-05-08"), date("2024-05-20")).limit(50).build().unwrap();
    let want = truth_ids(&sb.dataset().query(&Filter::dates(date("2024-05-08"), date("2024-05-20"))));
    let faults = [
        ("rate_limited", FaultConfig::none().with_rate_limited(0.2)),
        ("http_502", FaultConfig::none().with_http_502(0.2)),
        ("reset", FaultConfig::none().with_reset(0.2)),
        ("truncated", FaultConfig::none().with_truncated(0.2)),
        ("slow", FaultConfig::none().with_slow(0.3, Duration::from_millis(900))),
        (
            "mixed",
            FaultConfig::none()
                .with_rate_limited(0.05)
                .with_http_502(0.05)
                .with_reset(0.05)
                .with_truncated(0.05)
                .with_slow(0.03, Duration::from_millis(900)),
        ),
    ];
    for (seed, (name, fault)) in faults.into_iter().enumerate() {
        sb.set_faults(fault.with_seed(seed as u64 + 100));
        sb.clear_log();
        for parallel in [1, 3] {
            let mut records = c.export(q.clone()).parallel(parallel).records().unwrap();
            let got: Vec<Record> = records.by_ref().collect::<Result<_, _>>().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_exact(&ids_of(got), &want);
            let stats = records.stats();
            assert!(stats.retries > 0, "{name}: faults were injected and retried: {stats:?}");
            assert!(stats.requests <= 3 * (want.len() as u64 / 50 + 10), "{name}: retries stay bounded: {stats:?}");
        }
        assert!(sb.request_log().iter().any(|r| r.fault.is_some()), "{name}: the sandbox injected faults");
    }
}

#[test]
fn retries_stop_within_the_policy() {
    let sb = small();
    sb.set_faults(FaultConfig::none().with_http_502(1.0).with_seed(1));
    let c = builder(&sb).max_retries(2).build().unwrap();
    let err = c.page(&Query::last_days(1).unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.http_status(), Some(502));
    assert!(err.message().contains("3 attempts"), "{err}");
    assert_eq!(sb.request_log().len(), 3);
}

#[test]
fn a_request_past_its_timeout_fails_or_retries() {
    // Spare server threads: abandoned slow answers keep theirs busy.
    let sb = start(SandboxConfig::default().with_records(3_000).with_seed(7).with_threads(16));
    sb.set_faults(FaultConfig::none().with_slow(1.0, Duration::from_millis(800)).with_seed(2));
    let no_retry = builder(&sb).timeout(Duration::from_millis(200)).max_retries(0).build().unwrap();
    let started = std::time::Instant::now();
    let err = no_retry.page(&Query::last_days(1).unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!(err.transport_kind(), Some(TransportErrorKind::Timeout));
    assert!(err.message().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_millis(780), "gave up at the timeout, not after the slow answer");

    // With retries, the slow answers give way once the fault is gone.
    sb.set_faults(FaultConfig::none().with_slow(0.5, Duration::from_millis(800)).with_seed(3));
    let retrying = builder(&sb).timeout(Duration::from_millis(200)).build().unwrap();
    for _ in 0..5 {
        retrying.page(&Query::last_days(1).unwrap()).expect("retried past the slow answers");
    }
}

#[test]
fn server_rate_limit_is_respected_and_survived() {
    let sb = start(SandboxConfig::default().with_records(3_000).with_seed(9));
    sb.set_rate_limit(Some(600)); // 10/s with a burst of 10
    let q = Query::builder().dates(date("2024-05-12"), date("2024-05-20")).limit(25).build().unwrap();
    let want = truth_ids(&sb.dataset().query(&Filter::dates(date("2024-05-12"), date("2024-05-20"))));

    // No client limit: the server refuses some calls; retries (with the
    // default rate-limit backoff, scaled down) get through.
    let patient = RetryPolicy {
        rate_limit_base_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(2),
        ..fast_retry()
    };
    let greedy = builder(&sb).retry_policy(patient).build().unwrap();
    let mut it = greedy.export(q.clone()).parallel(4).records().unwrap();
    let got: Vec<Record> = it.by_ref().collect::<Result<_, _>>().unwrap();
    assert_exact(&ids_of(got), &want);
    assert!(it.stats().rate_limited > 0, "{:?}", it.stats());

    // The client limiter at the server's rate: (almost) never refused.
    std::thread::sleep(Duration::from_secs(1)); // let the server's bucket refill
    sb.clear_log();
    let polite = builder(&sb).rate_limit_per_minute(Some(600)).build().unwrap();
    let mut it = polite.export(q).parallel(4).records().unwrap();
    let got: Vec<Record> = it.by_ref().collect::<Result<_, _>>().unwrap();
    assert_exact(&ids_of(got), &want);
    let refused = sb.request_log().iter().filter(|r| r.status_code == 50000).count();
    assert!(refused <= 1, "refused {refused} of {}", sb.request_log().len());
}

#[test]
fn key_stays_out_of_urls_errors_and_debug() {
    let sb = small();
    let c = client(&sb);
    c.page(&Query::last_days(1).unwrap()).unwrap();
    let log = sb.request_log();
    assert!(!log.is_empty());
    for r in &log {
        assert!(!r.key_in_url && r.method == "POST", "{r:?}");
    }
    assert!(!format!("{c:?}").contains(DEMO_API_KEY));

    // GET is available on request; it is the one mode that puts the key in the URL.
    sb.clear_log();
    builder(&sb).method(Method::Get).build().unwrap().page(&Query::last_days(1).unwrap()).unwrap();
    assert!(sb.request_log().iter().all(|r| r.key_in_url && r.method == "GET"));

    // Errors never carry the key, whatever fails.
    let sentinel = "SENTINEL-KEY-0123456789";
    let bad =
        Client::builder().ignore_env().credentials(DEMO_API_USER, sentinel).base_url(sb.base_url()).build().unwrap();
    let err = bad.page(&Query::last_days(1).unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.api_code(), Some(40005));
    let text = format!("{err} {err:?}");
    assert!(!text.contains(sentinel), "{text}");
    assert!(text.contains(&sb.base_url()), "auth errors name where we asked: {text}");
    assert!(!format!("{bad:?}").contains(sentinel));
    let unreachable = Client::builder()
        .ignore_env()
        .credentials(DEMO_API_USER, sentinel)
        .base_url("http://127.0.0.1:9/api/")
        .max_retries(0)
        .build()
        .unwrap();
    let err = unreachable.page(&Query::last_days(1).unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert_eq!((err.transport_kind(), err.reason()), (Some(TransportErrorKind::Refused), Some("refused")), "{err}");
    assert!(!format!("{err} {err:?}").contains(sentinel));
}

#[test]
fn bad_settings_and_queries_fail_before_sending() {
    let sb = small();
    let err =
        Client::builder().ignore_env().credentials("u", "k").base_url("http://example.com/api/").build().unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("base_url")));
    assert!(err.message().contains("loopback"), "{err}");
    let err = Client::builder().ignore_env().api_user("u").build().unwrap_err();
    assert_eq!(err.field(), Some("api_key"));

    let c = client(&sb);
    let err = c.page(&Query::last_days(4).unwrap()).unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("days")));
    assert!(sb.request_log().is_empty(), "nothing was sent");
}

#[test]
fn single_page_and_v2_path() {
    let sb = small();
    let c = builder(&sb).base_url(sb.base_url_v2()).build().unwrap();
    let q = Query::builder().dates(date("2024-05-18"), date("2024-05-20")).start(10).limit(7).build().unwrap();
    let page = c.page(&q).unwrap();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-18"), date("2024-05-20")));
    assert_eq!(page.total, Some(truth.len() as u64));
    assert_eq!(ids_of(page.records), truth_ids(&truth[10..17]));
    assert!(sb.request_log().iter().all(|r| r.path == "/apiv2/data/emailStatus"));
}

#[test]
fn environment_supplies_credentials_and_endpoint() {
    // Environment variables are process-wide: this is the only test that sets them.
    let sb = small();
    // SAFETY-free in Rust 2024 terms: set_var is unsafe; use a child process instead.
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args(["--exact", "env_child", "--nocapture", "--include-ignored"])
        .env("SENDCLOUD_API_USER", DEMO_API_USER)
        .env("SENDCLOUD_API_KEY", DEMO_API_KEY)
        .env("SENDCLOUD_BASE_URL", sb.base_url())
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

/// Run by `environment_supplies_credentials_and_endpoint` in a child process.
#[test]
#[ignore = "run in a child process with SENDCLOUD_* set"]
fn env_child() {
    let c = Client::from_env().unwrap();
    assert_eq!(c.api_user(), DEMO_API_USER);
    // A loopback endpoint ignores the (dead) proxy from the environment.
    c.page(&Query::last_days(1).unwrap()).unwrap();
}

#[test]
fn read_ahead_gives_the_same_pages_cursors_and_requests() {
    let sb = small();
    let c = client(&sb);
    let q = Query::builder().dates(date("2024-05-12"), date("2024-05-20")).limit(60).build().unwrap();
    let walk = |read_ahead: bool| {
        let mut pages = c.export(q.clone()).today(today()).read_ahead(read_ahead).pages().unwrap();
        let mut seen = Vec::new();
        while let Some(page) = pages.next() {
            let page = page.unwrap();
            let ids = ids_of(page.records);
            seen.push((ids, pages.cursor().map(|c| c.to_string()), pages.stats().records));
        }
        seen
    };
    sb.clear_log();
    let inline = walk(false);
    let inline_requests = sb.request_log().len();
    sb.clear_log();
    let ahead = walk(true);
    assert_eq!(ahead, inline);
    assert_eq!(sb.request_log().len(), inline_requests);
    assert!(inline.len() > 3);

    // Stopping early: the cursor describes what was handed out, not what the
    // thread fetched ahead, so resuming loses nothing.
    let mut pages = c.export(q.clone()).today(today()).read_ahead(true).pages().unwrap();
    let first = ids_of(pages.next().unwrap().unwrap().records);
    let cursor = pages.cursor().unwrap();
    drop(pages);
    let rest: Vec<Record> = c.export(q.clone()).resume(cursor).records().unwrap().collect::<Result<_, _>>().unwrap();
    let mut joined = first;
    joined.extend(ids_of(rest));
    assert_exact(&joined, &export(&c, q));
}

#[test]
fn a_bad_user_agent_is_refused_at_build_and_nothing_is_sent() {
    // Once a panic in a worker and an export blocked forever (parallel 2).
    let sb = small();
    for ua in ["app/1.0\nX-Injected: 1", "app/1.0\r\n", "", "app\u{0}"] {
        let err = builder(&sb).user_agent(ua).parallelism(2).build().unwrap_err();
        assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("user_agent")), "{ua:?}");
    }
    assert!(sb.request_log().is_empty(), "nothing was sent");
    // A valid one goes out as given.
    let c = builder(&sb).user_agent("ops-report/2.1 (+https://example.com)").parallelism(2).build().unwrap();
    let got = export(&c, Query::last_days(1).unwrap());
    assert_exact(&got, &truth_ids(&sb.dataset().query(&Filter::days(today(), 1))));
}

#[test]
fn dropping_a_parallel_export_stops_its_requests() {
    // Slow answers and faults: workers are always mid-request or retrying.
    let sb = start(SandboxConfig::default().with_records(3_000).with_seed(7).with_latency(Duration::from_millis(150)));
    sb.set_faults(FaultConfig::none().with_http_502(0.3).with_seed(5));
    let c = client(&sb);
    let q = Query::builder().dates(date("2024-05-01"), date("2024-05-20")).limit(20).build().unwrap();
    for read_ahead in [false, true] {
        sb.clear_log();
        let mut records = c.export(q.clone()).today(today()).parallel(4).read_ahead(read_ahead).records().unwrap();
        records.next().unwrap().unwrap();
        let handle = records.cancel_handle();
        assert!(handle.running_threads() > 0);
        drop(records);
        assert!(handle.is_cancelled());

        // Threads end once their request returns (the timeout is 5 s).
        let until = std::time::Instant::now() + Duration::from_secs(10);
        while handle.running_threads() > 0 {
            assert!(std::time::Instant::now() < until, "threads still running 10 s after the drop");
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = sb.request_log().len();
        std::thread::sleep(Duration::from_millis(600)); // several latencies and retry backoffs
        assert_eq!(sb.request_log().len(), sent, "read-ahead {read_ahead}: requests after the export was dropped");
        assert!(sent < 40, "read-ahead {read_ahead}: {sent} requests for one page of a 3000-record export");
    }
}
