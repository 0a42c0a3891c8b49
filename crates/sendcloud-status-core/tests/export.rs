//! Focused tests of the export machine: limiter, retries, errors, single
//! pages, cursors, the page cap and parallelism, all on a virtual clock.

mod support;

use std::time::Duration;

use sendcloud_status_core::chrono::{Days, NaiveDate};
use sendcloud_status_core::{
    Action, Credentials, Cursor, Encoder, Endpoint, ErrorKind, Export, ExportConfig, Parallelism, Query, RateLimit,
    RateLimiter, Region, RetryPolicy,
};

use support::{Driver, End, FakeServer, Fault, Order, Row, ground_truth};

fn today() -> NaiveDate {
    "2024-05-20".parse().unwrap()
}

fn config(endpoint: Endpoint) -> ExportConfig {
    let mut c = ExportConfig::new(Encoder::new(endpoint, Credentials::new("u", "k").unwrap()));
    c.limiter = RateLimiter::new(None).shared();
    c.parallelism = Parallelism::Fixed(1);
    c
}

fn local() -> Endpoint {
    Endpoint::custom("http://127.0.0.1:9/api/").unwrap()
}

/// `n` rows a day for the `days` days up to today, newest day first.
fn rows(days: u64, n: usize) -> Vec<Row> {
    (0..days)
        .flat_map(|d| (0..n).map(move |i| Row::new(format!("d{d}_{i}$r@example.com"), today() - Days::new(d))))
        .collect()
}

fn server(rows: Vec<Row>) -> FakeServer {
    FakeServer::new(today(), rows)
}

#[test]
fn a_rate_limit_answer_slows_every_export_of_the_account() {
    let shared = RateLimiter::new(Some(RateLimit::per_minute(600).unwrap())).shared();
    let mut cfg = config(local());
    cfg.limiter = shared.clone();
    let mut a = Export::new(cfg.clone(), Query::builder().days(1).limit(10).build().unwrap(), today(), None).unwrap();
    // B reads three windows at once: three first pages to send.
    cfg.parallelism = Parallelism::Fixed(3);
    let mut b = Export::new(cfg, Query::builder().days(9).limit(10).build().unwrap(), today(), None).unwrap();

    let t0 = Driver::new(Order::Fifo).base;
    let Action::Send(id, _) = a.poll(t0).unwrap() else { panic!("first poll sends") };
    let answered = t0 + Duration::from_millis(40);
    a.handle_response(id, 200, br#"{"result": false, "statuscode": 50000, "message": "x", "info": {}}"#, answered);
    assert_eq!(a.stats().rate_limited, 1);

    // A retries no earlier than half the rate-limit base delay (1 s by default) ...
    let Action::WaitUntil(retry_at) = a.poll(answered).unwrap() else { panic!("A must wait") };
    assert!(retry_at >= answered + Duration::from_millis(500), "{:?}", retry_at - answered);
    // ... and the account's rate was cut to 0.7 × 600/min for every export
    // sharing the limiter, B included, which never saw a refusal.
    let state = b.throughput(answered).unwrap();
    assert_eq!((state.throttles, state.cuts), (1, 1));
    assert!((state.rate_per_minute.unwrap() - 420.0).abs() < 1e-6, "{state:?}");
    let mut sends = Vec::new();
    let mut now = answered;
    while sends.len() < 3 {
        match b.poll(now).unwrap() {
            Action::Send(..) => sends.push(now),
            Action::WaitUntil(t) => now = t,
            other => panic!("{other:?}"),
        }
    }
    // B's sends are spaced at the cut rate (about 140 ms while it
    // recovers), not at the configured 100 ms.
    for pair in sends.windows(2) {
        assert!(pair[1] - pair[0] >= Duration::from_millis(125), "{:?}", pair[1] - pair[0]);
    }
}

#[test]
fn http_429_also_cuts_the_rate() {
    let shared = RateLimiter::new(None).shared();
    let mut cfg = config(local());
    cfg.limiter = shared.clone();
    let mut a = Export::new(cfg, Query::last_days(1).unwrap(), today(), None).unwrap();
    let t0 = Driver::new(Order::Fifo).base;
    assert_eq!(shared.lock().unwrap().throughput(t0).rate_per_minute, None, "unpaced at first");
    let Action::Send(id, _) = a.poll(t0).unwrap() else { panic!() };
    a.handle_response(id, 429, b"Too Many Requests", t0 + Duration::from_millis(30));
    // Even an unlimited limiter paces after a rate-limit answer.
    let mut limiter = shared.lock().unwrap();
    assert!(limiter.throughput(t0).rate_per_minute.is_some());
    let now = t0 + Duration::from_millis(30);
    let granted = (0..100).take_while(|_| limiter.try_acquire(now).is_ok()).count();
    assert!((1..20).contains(&granted), "a burst at most, then requests wait: {granted}");
}

fn always(fault: Fault, policy: RetryPolicy) -> (sendcloud_status_core::Error, Export, Driver) {
    let mut cfg = config(local());
    cfg.retry = policy;
    let mut export = Export::new(cfg, Query::builder().days(1).limit(5).build().unwrap(), today(), None).unwrap();
    let mut srv = server(rows(1, 3)).with_faults((0..1000).map(|i| (i, fault)));
    let mut driver = Driver::new(Order::Fifo);
    let err = driver.run(&mut export, &mut srv, |_, _| true).unwrap_err();
    (err, export, driver)
}

#[test]
fn max_attempts_gives_up_with_the_right_kind_and_says_so() {
    let policy = RetryPolicy { max_attempts: 3, ..RetryPolicy::default() };
    for (fault, kind) in [
        (Fault::Server501, ErrorKind::Server),
        (Fault::Http502, ErrorKind::Server),
        (Fault::RateLimited, ErrorKind::RateLimited),
        (Fault::Http429, ErrorKind::RateLimited),
        (Fault::Timeout, ErrorKind::Transport),
        (Fault::Reset, ErrorKind::Transport),
        (Fault::Truncated, ErrorKind::Decode),
    ] {
        let (err, export, _) = always(fault, policy.clone());
        assert_eq!(err.kind(), kind, "{fault:?}: {err}");
        assert!(err.message().contains("gave up after 3 attempts"), "{fault:?}: {err}");
        let s = export.stats();
        assert_eq!((s.requests, s.retries, s.failures), (3, 2, 3), "{fault:?}");
    }
}

#[test]
fn errors_are_final() {
    let (err, mut export, driver) = always(Fault::Auth, RetryPolicy::default());
    for _ in 0..3 {
        assert_eq!(export.poll(driver.now).unwrap_err(), err);
    }
}

#[test]
fn deadline_gives_up_before_max_attempts() {
    let policy = RetryPolicy {
        max_attempts: 1000,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(1),
        deadline: Duration::from_secs(5),
        ..RetryPolicy::default()
    };
    let (err, export, driver) = always(Fault::Http502, policy);
    assert_eq!(err.kind(), ErrorKind::Server);
    assert!(err.message().contains("attempts"), "{err}");
    let requests = export.stats().requests;
    assert!((2..1000).contains(&requests), "{requests}");
    assert!(driver.now - driver.base <= Duration::from_secs(5), "{:?}", driver.now - driver.base);
    assert!(err.message().contains(&format!("gave up after {requests} attempts")), "{err}");
}

#[test]
fn one_attempt_is_said_in_the_singular() {
    let (err, export, _) = always(Fault::Http502, RetryPolicy::none());
    assert_eq!(export.stats().requests, 1);
    assert!(err.message().contains("gave up after 1 attempt over"), "{err}");
    assert!(!err.message().contains("1 attempts"), "{err}");
}

#[test]
fn non_retryable_answers_are_not_retried() {
    for (fault, kind) in [(Fault::Auth, ErrorKind::Auth), (Fault::Quota, ErrorKind::Quota)] {
        let (err, export, _) = always(fault, RetryPolicy::default());
        assert_eq!(err.kind(), kind);
        assert_eq!(export.stats().requests, 1);
        assert!(!err.message().contains("attempts"), "{err}");
    }
}

#[test]
fn auth_error_names_the_region() {
    for (endpoint, needle) in [
        (Endpoint::preset(Region::AuroraUs), "aurora-us"),
        (Endpoint::preset(Region::SendcloudCn), "sendcloud-cn"),
        (local(), "http://127.0.0.1:9/api/"),
    ] {
        let mut export = Export::new(config(endpoint), Query::last_days(1).unwrap(), today(), None).unwrap();
        let mut srv = server(rows(1, 1)).with_faults([(0, Fault::Auth)]);
        let err = Driver::new(Order::Fifo).run(&mut export, &mut srv, |_, _| true).unwrap_err();
        assert_eq!((err.kind(), err.api_code()), (ErrorKind::Auth, Some(40005)));
        assert!(err.message().contains(needle), "{err}");
        assert!(err.message().contains("region"), "{err}");
        assert!(!err.message().contains("=k"), "{err}");
    }
}

#[test]
fn single_page_fetches_exactly_the_described_page() {
    let q = Query::builder().days(2).start(3).limit(2).build().unwrap();
    let data = rows(2, 5); // 10 rows, total 10: a full page with more behind it
    let mut export = Export::single_page(config(local()), q.clone()).unwrap();
    assert_eq!(export.cursor(), None, "a single page has nothing to resume");
    let mut srv = server(data.clone()).with_faults([(0, Fault::Http502)]);
    let mut pages = Vec::new();
    let end = Driver::new(Order::Fifo).run(&mut export, &mut srv, |p, _| {
        pages.push(p);
        true
    });
    assert_eq!(end.unwrap(), End::Done);
    assert_eq!(pages.len(), 1);
    let ids: Vec<_> = pages[0].records.iter().map(|r| r.email_id.clone().unwrap()).collect();
    assert_eq!(ids, [data[3].email_id.clone(), data[4].email_id.clone()]);
    assert_eq!(pages[0].total, Some(10));
    assert_eq!(pages[0].position.offset, 3);
    assert_eq!(srv.log, ["days=2 start=3", "days=2 start=3"], "one retry, then nothing more");
    assert_eq!(export.cursor(), None);

    // The same checks as a direct encode: no splitting for single pages.
    let long = Query::last_days(4).unwrap();
    assert_eq!(Export::single_page(config(local()), long.clone()).unwrap_err().field(), Some("days"));
    let cn = Endpoint::preset(Region::SendcloudCn);
    assert!(Export::single_page(config(cn), long).is_ok());
}

#[test]
fn cursor_from_another_query_is_refused() {
    let q = Query::builder().days(9).limit(2).build().unwrap();
    let mut export = Export::new(config(local()), q.clone(), today(), None).unwrap();
    let mut srv = server(rows(9, 3));
    let mut cursor: Option<Cursor> = None;
    Driver::new(Order::Fifo)
        .run(&mut export, &mut srv, |_, e| {
            cursor = e.cursor();
            false
        })
        .unwrap();
    let cursor = cursor.expect("a cursor after the first page");

    let other = Query::builder().days(9).limit(2).email("x@example.com").build().unwrap();
    let err = Export::new(config(local()), other, today(), Some(&cursor)).unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Validation, Some("cursor")));

    // The plan is part of the identity: another page size, id chunk size or
    // region window would give the cursor's numbers another meaning.
    let other_page_size = Query::builder().days(9).limit(3).build().unwrap();
    assert_eq!(
        Export::new(config(local()), other_page_size, today(), Some(&cursor)).unwrap_err().field(),
        Some("cursor")
    );
    let mut chunked = config(local());
    chunked.email_id_chunk = 5;
    assert_eq!(Export::new(chunked, q.clone(), today(), Some(&cursor)).unwrap_err().field(), Some("cursor"));
    let cn = Endpoint::preset(Region::SendcloudCn);
    assert_eq!(Export::new(config(cn), q.clone(), today(), Some(&cursor)).unwrap_err().field(), Some("cursor"));
    // The query `start` is not: it only offsets the first unit of a fresh export.
    let with_start = Query::builder().days(9).limit(2).start(4).build().unwrap();
    assert!(Export::new(config(local()), with_start, today(), Some(&cursor)).is_ok());

    // The cursor keeps the dates resolved at the start: resumed the next
    // day, the export still reads the same nine days.
    let resumed = Export::new(config(local()), q.clone(), today() + Days::new(1), Some(&cursor)).unwrap();
    assert_eq!(resumed.dates(), Some((today() - Days::new(8), today())));

    // A cursor pointing past the plan (9 days = 3 windows) is refused too,
    // and so are edited dates (the fingerprint covers them).
    let text = cursor.to_string();
    let fp = text.rsplit('.').next().unwrap();
    let past: Cursor = format!("sc2.20240512-20240520.3.0.0.0.{fp}").parse().unwrap();
    let err = Export::new(config(local()), q.clone(), today(), Some(&past)).unwrap_err();
    assert_eq!(err.field(), Some("cursor"));
    let chunk_past: Cursor = format!("sc2.20240512-20240520.0.1.0.0.{fp}").parse().unwrap();
    assert_eq!(
        Export::new(config(local()), q.clone(), today(), Some(&chunk_past)).unwrap_err().field(),
        Some("cursor")
    );
    let moved: Cursor = format!("sc2.20240513-20240521.0.0.0.0.{fp}").parse().unwrap();
    assert_eq!(Export::new(config(local()), q, today(), Some(&moved)).unwrap_err().field(), Some("cursor"));
}

#[test]
fn page_cap_stops_a_server_that_never_stops_paging() {
    let mut cfg = config(local());
    cfg.max_pages_per_unit = 3;
    for parallelism in [1, 2] {
        cfg.parallelism = Parallelism::Fixed(parallelism);
        let mut export =
            Export::new(cfg.clone(), Query::builder().days(1).limit(2).build().unwrap(), today(), None).unwrap();
        let mut srv = server(rows(1, 50));
        srv.omit_total = true;
        let (ids, end) = Driver::new(Order::Fifo).collect(&mut export, &mut srv);
        let err = end.expect_err("the cap must surface as an error, not as a silent Done");
        assert!(err.message().contains("stopped after 3 pages"), "{err}");
        assert!(!err.is_retryable(), "retrying a never-ending export cannot help");
        assert_eq!(ids.len(), 6);
        assert_eq!(srv.received, 3);
        assert!(export.cursor().is_some(), "a capped export can be resumed");
    }
}

#[test]
fn parallel_sends_never_exceed_parallelism() {
    // 10 days on a 3-day endpoint: 4 windows, 2 id-less units ahead at most.
    let data = rows(10, 7);
    let truth = ground_truth(&data, (today() - Days::new(9), today()), 3, None);
    for parallelism in 1..=4 {
        for order in [Order::Fifo, Order::Lifo, Order::Shuffle(7), Order::Shuffle(8)] {
            let mut cfg = config(local());
            cfg.parallelism = Parallelism::Fixed(parallelism);
            let q = Query::builder().days(10).limit(4).build().unwrap();
            let mut export = Export::new(cfg, q, today(), None).unwrap();
            let mut srv = server(data.clone()).with_faults([(2, Fault::Http502), (5, Fault::RateLimited)]);
            let mut driver = Driver::new(order);
            let (ids, end) = driver.collect(&mut export, &mut srv);
            assert_eq!(end.unwrap(), End::Done);
            assert_eq!(ids, truth, "parallelism {parallelism} {order:?}");
            assert!(driver.max_in_flight <= parallelism, "{} > {parallelism} ({order:?})", driver.max_in_flight);
            if order == Order::Lifo {
                assert_eq!(driver.max_in_flight, parallelism, "parallelism {parallelism} is used");
            }
        }
    }
}

#[test]
fn limiter_spaces_sends_at_the_configured_rate() {
    let data = rows(1, 20);
    for (parallelism, burst) in [(1, 1), (3, 1), (3, 3)] {
        let mut cfg = config(local());
        cfg.parallelism = Parallelism::Fixed(parallelism);
        cfg.limiter = RateLimiter::new(Some(RateLimit::per_minute(600).unwrap().with_burst(burst))).shared();
        let q = Query::builder().days(10).limit(2).build().unwrap();
        let mut export = Export::new(cfg, q, today(), None).unwrap();
        let mut srv = server(data.clone());
        let mut driver = Driver::new(Order::Lifo);
        let (ids, end) = driver.collect(&mut export, &mut srv);
        assert_eq!(end.unwrap(), End::Done);
        assert_eq!(ids.len(), 20);
        let times: Vec<Duration> = driver.send_times.iter().map(|t| *t - driver.base).collect();
        let n = times.len();
        assert!(n >= 10, "{n}");
        let interval = Duration::from_millis(100);
        // The first `burst` sends may go at once; after that one per interval.
        for (i, t) in times.iter().enumerate() {
            let earliest = interval * (i.saturating_sub(burst as usize - 1) as u32);
            assert!(*t >= earliest, "send {i} at {t:?}, before {earliest:?} (p={parallelism}, burst={burst})");
        }
        // ... and the machine does not wait longer than the rate requires.
        assert_eq!(times[n - 1], interval * (n - burst as usize) as u32, "p={parallelism}, burst={burst}");
    }
}

#[test]
fn a_finished_export_has_no_cursor_and_stays_done() {
    let mut export =
        Export::new(config(local()), Query::builder().days(2).limit(3).build().unwrap(), today(), None).unwrap();
    let mut srv = server(rows(2, 4));
    let mut driver = Driver::new(Order::Fifo);
    let (ids, end) = driver.collect(&mut export, &mut srv);
    assert_eq!((ids.len(), end.unwrap()), (8, End::Done));
    assert_eq!(export.cursor(), None);
    assert!(matches!(export.poll(driver.now).unwrap(), Action::Done));
    let s = export.stats();
    assert_eq!((s.records, s.pages, s.requests, s.retries), (8, 3, 3, 0));
}

#[test]
fn pages_larger_than_asked_lose_nothing() {
    // The server sends one row more than `limit` on every page: emission
    // stays on the requested grid and the overlap is de-duplicated.
    let data = rows(1, 7);
    let truth = ground_truth(&data, (today(), today()), 3, None);
    for parallelism in [1, 3] {
        let mut cfg = config(local());
        cfg.parallelism = Parallelism::Fixed(parallelism);
        let mut export = Export::new(cfg, Query::builder().days(1).limit(2).build().unwrap(), today(), None).unwrap();
        let mut srv = server(data.clone());
        srv.oversize = 1;
        let (ids, end) = Driver::new(Order::Fifo).collect(&mut export, &mut srv);
        assert_eq!(end.unwrap(), End::Done);
        assert_eq!(ids, truth, "parallelism {parallelism}");
        assert!(export.stats().duplicates > 0);
    }
}
