//! Exports on a live account, on a virtual clock: result sets that shrink
//! or grow while they are paged, arrivals that balance departures in
//! `total`, the server's midnight, drift that never settles — and what the
//! healing costs when nothing moves.

mod support;

use std::collections::HashSet;

use sendcloud_status_core::chrono::{Days, NaiveDate, NaiveDateTime};
use sendcloud_status_core::{
    Credentials, Encoder, Endpoint, Export, ExportConfig, ExportStats, Parallelism, Query, RateLimiter,
};

use support::{CacheModel, Change, Driver, End, FakeServer, Order, Row, ground_truth};

fn today() -> NaiveDate {
    "2024-05-20".parse().unwrap()
}

/// The export starts at 11:00 server time on `today`.
fn started_at() -> NaiveDateTime {
    today().and_hms_opt(11, 0, 0).unwrap()
}

fn config(parallelism: usize) -> ExportConfig {
    let endpoint = Endpoint::custom("http://127.0.0.1:9/api/").unwrap();
    let mut c = ExportConfig::new(Encoder::new(endpoint, Credentials::new("u", "k").unwrap()));
    c.limiter = RateLimiter::new(None).shared();
    c.parallelism = Parallelism::Fixed(parallelism);
    c.started_at = Some(started_at());
    c
}

/// `n` rows on each of the last `days` days, oldest day first.
fn rows(days: u64, n: usize) -> Vec<Row> {
    (0..days)
        .rev()
        .flat_map(|d| (0..n).map(move |i| Row::new(format!("d{d}_{i}$r@example.com"), today() - Days::new(d))))
        .collect()
}

struct Run {
    ids: Vec<String>,
    stats: ExportStats,
    server: FakeServer,
}

fn run(config: ExportConfig, query: Query, mut server: FakeServer, order: Order) -> Run {
    let mut export = Export::new(config, query, today(), None).unwrap();
    let mut driver = Driver::new(order);
    let (ids, end) = driver.collect(&mut export, &mut server);
    assert_eq!(end.unwrap(), End::Done);
    assert!(server.violations.is_empty(), "{:?}", server.violations);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "an id was emitted twice");
    Run { ids, stats: export.stats().clone(), server }
}

/// The rows of `original` in the window that no change removed.
fn unchanged(original: &[Row], server: &FakeServer) -> Vec<String> {
    original.iter().filter(|r| !server.changed.contains(&r.email_id)).map(|r| r.email_id.clone()).collect()
}

fn missing(ids: &[String], wanted: &[String]) -> Vec<String> {
    let got: HashSet<&String> = ids.iter().collect();
    wanted.iter().filter(|id| !got.contains(id)).cloned().collect()
}

/// Removes `per_request` rows (every fifth one, from the front) before each
/// of the requests `from..to`: "sending" rows settling out of a
/// `status=sending` result while it is paged.
fn settle(server: &mut FakeServer, original: &[Row], per_request: usize, requests: std::ops::Range<usize>) {
    let mut victims = original.iter().step_by(5).map(|r| r.email_id.clone());
    for index in requests {
        for id in victims.by_ref().take(per_request) {
            server.changes.entry(index).or_default().push(Change::Remove(id));
        }
    }
}

#[test]
fn nothing_moving_costs_no_extra_request() {
    for parallelism in [1, 3] {
        let data = rows(9, 250);
        let query = Query::builder().days(9).limit(100).build().unwrap();
        let r = run(config(parallelism), query, FakeServer::new(today(), data.clone()), Order::Shuffle(7));
        let truth = ground_truth(&data, (today() - Days::new(8), today()), 3, None);
        assert_eq!(r.ids, truth);
        // 3 windows of 750 rows = 8 pages each: the plain first pass only.
        assert_eq!((r.stats.requests, r.stats.passes, r.stats.units_reread), (24, 3, 0));
        assert_eq!((r.stats.total_drift, r.stats.short_pages, r.stats.empty_pages), (0, 0, 0));
        assert!(r.stats.is_exact());
    }
}

#[test]
fn a_shrinking_result_set_is_read_again_until_steady() {
    let data = rows(1, 300);
    let query = Query::builder().days(1).limit(20).build().unwrap();
    let mut server = FakeServer::new(today(), data.clone());
    server.cache_model = CacheModel::PerRequest;
    settle(&mut server, &data, 3, 1..6);

    // Control: without re-reads, offset paging over the shrinking set
    // silently skips rows that never changed.
    let mut no_healing = config(1);
    no_healing.max_rereads = 0;
    let plain = run(no_healing, query.clone(), server_clone(&server), Order::Fifo);
    assert!(!missing(&plain.ids, &unchanged(&data, &plain.server)).is_empty(), "the control lost nothing");
    assert_eq!(plain.stats.unstable_units.len(), 1, "the loss is reported, not hidden");

    let healed = run(config(1), query, server, Order::Fifo);
    assert_eq!(missing(&healed.ids, &unchanged(&data, &healed.server)), Vec::<String>::new());
    let s = &healed.stats;
    assert!(s.is_exact(), "{s:?}");
    assert_eq!((s.units_reread, s.passes), (1, 2), "{s:?}");
    assert_eq!(s.total_drift, 15);
    assert!(s.duplicates > 0 && s.requests > 15, "{s:?}");
}

#[test]
fn re_reads_never_repeat_a_first_pass_request() {
    let data = rows(1, 120);
    let query = Query::builder().days(1).limit(20).build().unwrap();
    let mut server = FakeServer::new(today(), data.clone());
    server.cache_model = CacheModel::PerRequest;
    server.page_size = Some(20);
    settle(&mut server, &data, 2, 1..3);
    let r = run(config(1), query, server, Order::Fifo);
    let first_pass: Vec<&String> = r.server.log.iter().filter(|l| !l.contains("limit=")).collect();
    let re_reads: Vec<&String> = r.server.log.iter().filter(|l| l.contains("limit=")).collect();
    assert!(!re_reads.is_empty());
    assert!(re_reads.iter().all(|l| !first_pass.contains(l)));
    assert!(re_reads.iter().all(|l| l.ends_with("limit=19")), "{re_reads:?}");
}

#[test]
fn arrivals_balancing_departures_are_caught_by_their_times() {
    let data = rows(1, 200);
    let query = Query::builder().days(1).limit(10).build().unwrap();
    let mut server = FakeServer::new(today(), data.clone());
    server.cache_model = CacheModel::PerRequest;
    // Before each of requests 1..=4: two rows leave and two new mails arrive
    // at the end (an oldest-first server): `total` never changes.
    settle(&mut server, &data, 2, 1..5);
    for index in 1..5 {
        for k in 0..2 {
            let row =
                Row::new(format!("new{index}_{k}$y@example.com"), today()).modified_at(format!("{} 11:30:00", today()));
            server.changes.entry(index).or_default().push(Change::Insert(usize::MAX, row));
        }
    }

    // Without the start time, `total` alone sees nothing and rows are lost.
    let mut blind = config(1);
    blind.started_at = None;
    let plain = run(blind, query.clone(), server_clone(&server), Order::Fifo);
    assert_eq!(plain.stats.total_drift, 0);
    assert!(!missing(&plain.ids, &unchanged(&data, &plain.server)).is_empty(), "the control lost nothing");

    let r = run(config(1), query, server, Order::Fifo);
    assert_eq!(missing(&r.ids, &unchanged(&data, &r.server)), Vec::<String>::new());
    assert!(r.stats.is_exact() && r.stats.units_reread == 1, "{:?}", r.stats);
}

#[test]
fn a_growing_newest_first_set_repeats_nothing() {
    for order in [Order::Fifo, Order::Lifo, Order::Shuffle(3)] {
        let data = rows(1, 150);
        let query = Query::builder().days(1).limit(25).build().unwrap();
        let mut server = FakeServer::new(today(), data.clone());
        server.cache_model = CacheModel::PerRequest;
        for index in 1..8 {
            let row =
                Row::new(format!("new{index}$y@example.com"), today()).modified_at(format!("{} 11:10:00", today()));
            server.changes.entry(index).or_default().push(Change::Insert(0, row));
        }
        let r = run(config(2), query, server, order);
        assert_eq!(missing(&r.ids, &unchanged(&data, &r.server)), Vec::<String>::new());
        assert!(r.stats.is_exact());
    }
}

#[test]
fn the_servers_midnight_does_not_move_the_window() {
    // Rows on the four days up to today, and on "tomorrow", which becomes
    // the server's today after the first request.
    let mut data = rows(4, 30);
    data.extend((0..30).map(|i| Row::new(format!("next_{i}$r@example.com"), today() + Days::new(1))));
    let mut server = FakeServer::new(today(), data.clone());
    server.advance_day_at = Some(1);
    let query = Query::builder().days(3).limit(10).build().unwrap();
    let r = run(config(1), query, server, Order::Fifo);
    assert_eq!(r.ids, ground_truth(&data, (today() - Days::new(2), today()), 3, None));
    assert!(r.server.log.iter().all(|l| l.starts_with("2024-05-18..2024-05-20 ")), "{:?}", r.server.log);
}

#[test]
fn drift_that_never_settles_is_reported_and_the_export_still_ends() {
    let data = rows(1, 300);
    let query = Query::builder().days(1).limit(30).build().unwrap();
    let mut server = FakeServer::new(today(), data.clone());
    server.cache_model = CacheModel::PerRequest;
    // Before every request the 21 oldest rows leave and 21 new mails
    // arrive at the end: `total` stays put while every row moves up
    // by more than any re-read's overlap tolerates.
    let new_id = |k: usize| format!("new{k}$y@example.com");
    let mut front = data.iter().map(|r| r.email_id.clone()).chain((0..).map(new_id));
    for index in 1..2000 {
        let changes = server.changes.entry(index).or_default();
        changes.extend(front.by_ref().take(21).map(Change::Remove));
        for k in 0..21 {
            let row = Row::new(new_id((index - 1) * 21 + k), today()).modified_at(format!("{} 11:30:00", today()));
            changes.push(Change::Insert(usize::MAX, row));
        }
    }
    let r = run(config(1), query, server, Order::Fifo);
    let s = &r.stats;
    assert!(!s.is_exact());
    assert_eq!(s.unstable_units.len(), 1);
    assert_eq!((s.unstable_units[0].start, s.unstable_units[0].end), (today(), today()));
    assert_eq!(s.passes, 4, "the first pass and three re-reads: {s:?}");
}

#[test]
fn a_snapshot_expiring_mid_export_is_healed() {
    for parallelism in [1, 2, 4] {
        let data = rows(3, 200);
        let query = Query::builder().days(3).limit(30).build().unwrap();
        let mut server = FakeServer::new(today(), data.clone());
        // Snapshots live 5 requests; rows keep settling the whole time.
        server.cache_model = CacheModel::Snapshot { ttl: Some(5) };
        settle(&mut server, &data, 1, 1..40);
        let r = run(config(parallelism), query, server, Order::Shuffle(parallelism as u64));
        assert_eq!(missing(&r.ids, &unchanged(&data, &r.server)), Vec::<String>::new(), "parallelism {parallelism}");
        assert!(r.stats.is_exact(), "{:?}", r.stats);
    }
}

fn server_clone(s: &FakeServer) -> FakeServer {
    let mut c = FakeServer::new(s.today, s.rows.clone());
    c.changes = s.changes.clone();
    c.cache_model = s.cache_model;
    c.advance_day_at = s.advance_day_at;
    c.page_size = s.page_size;
    c
}
