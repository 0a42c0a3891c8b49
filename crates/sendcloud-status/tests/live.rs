//! Exports against a live sandbox account over loopback HTTP: "sending" rows
//! settling while a `status=sending` export pages them, mail arriving during
//! a plain export, and the server's midnight passing mid-export — in both
//! cache models and both result orders, sequential and parallel.
//!
//! The sandbox changes in real time, so how much moves differs from run to
//! run; every assertion holds whatever moved: each row that was in the
//! window at the start and did not change is emitted exactly once, nothing
//! twice, nothing from outside the window.

use std::collections::HashSet;
use std::time::Duration;

use sendcloud_status::chrono::NaiveDateTime;
use sendcloud_status::{Client, ExportStats, Query, Status};
use sendcloud_status_sandbox::{
    CacheModel, DEMO_API_KEY, DEMO_API_USER, DayAdvance, Filter, LiveConfig, ResultOrder, Sandbox, SandboxConfig,
};

const START: &str = "2024-05-20 15:00:00";

fn start() -> NaiveDateTime {
    NaiveDateTime::parse_from_str(START, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// 60,000 records over three days (about 600 "sending" for the demo apiUser), answers slowed
/// a little so that the account moves while it is paged.
fn sandbox(live: LiveConfig) -> Sandbox {
    let config = SandboxConfig::default()
        .with_records(60_000)
        .with_days_of_data(3)
        .with_now(start())
        .with_rate_limit(None)
        .with_latency(Duration::from_millis(2))
        .with_live(live);
    Sandbox::start(config).expect("sandbox starts")
}

fn client(sb: &Sandbox, parallelism: usize) -> Client {
    Client::builder()
        .ignore_env()
        .credentials(DEMO_API_USER, DEMO_API_KEY)
        .base_url(sb.base_url())
        .rate_limit_per_minute(None)
        .parallelism(parallelism)
        .build()
        .unwrap()
}

/// Runs the export on the sandbox's clock; the ids and the counters.
fn export(sb: &Sandbox, client: &Client, query: Query) -> (Vec<String>, ExportStats) {
    export_with(sb, client, query, |_| {})
}

/// The same, calling `each` with the number of records taken so far.
fn export_with(sb: &Sandbox, client: &Client, query: Query, mut each: impl FnMut(usize)) -> (Vec<String>, ExportStats) {
    let mut records = client.export(query).server_now(sb.now()).records().unwrap();
    let mut ids = Vec::new();
    for r in records.by_ref() {
        ids.push(r.expect("export succeeds").email_id.unwrap());
        each(ids.len());
    }
    (ids, records.stats().clone())
}

/// Every id once; every unchanged row of `truth` present; nothing outside `possible`.
fn check(ids: &[String], truth: &[String], changed: &HashSet<String>, possible: &HashSet<String>, stats: &ExportStats) {
    let mut seen = HashSet::new();
    for id in ids {
        assert!(seen.insert(id), "{id} emitted twice; {stats:?}");
        assert!(possible.contains(id), "{id} is not in the window; {stats:?}");
    }
    assert!(stats.is_exact(), "{stats:?}");
    let lost: Vec<&String> = truth.iter().filter(|id| !changed.contains(*id) && !seen.contains(id)).collect();
    assert!(lost.is_empty(), "{} unchanged rows lost, e.g. {:?}; {stats:?}", lost.len(), &lost[..lost.len().min(3)]);
}

fn ids(truth: Vec<sendcloud_status_sandbox::GroundRecord>) -> Vec<String> {
    truth.into_iter().map(|g| g.email_id).collect()
}

/// Every page computed afresh; or the documented 10-minute snapshot per
/// parameter set, which a test renews once mid-export.
fn cache_models() -> [CacheModel; 2] {
    [CacheModel::PerRequest, CacheModel::Snapshot { ttl: Duration::from_secs(600) }]
}

#[test]
fn status_sending_under_settling_loses_no_unchanged_row() {
    for cache in cache_models() {
        for order in [ResultOrder::OldestFirst, ResultOrder::NewestFirst] {
            for parallelism in [1, 4] {
                let sb = sandbox(LiveConfig::off().with_order(order).with_cache(cache));
                let filter = Filter::days(start().date(), 3).with_status(18);
                let truth = ids(sb.dataset().query(&filter));
                assert!(truth.len() > 400, "enough sending rows to page: {}", truth.len());
                sb.set_live(LiveConfig::off().with_order(order).with_cache(cache).with_settle_per_second(400.0));

                let query = Query::builder().days(3).status(Status::Sending).limit(20).build().unwrap();
                let live = sb.live();
                // Halfway, the snapshot expires (setting the live account
                // again drops it): later pages read a result that moved.
                let (got, stats) = export_with(&sb, &client(&sb, parallelism), query, |n| {
                    if n == truth.len() / 2 {
                        sb.set_live(live.clone());
                    }
                });
                let changed: HashSet<String> = sb.changes().into_iter().map(|c| c.email_id).collect();
                assert!(!changed.is_empty(), "rows settled during the export");
                let possible: HashSet<String> = truth.iter().cloned().collect();
                check(&got, &truth, &changed, &possible, &stats);
                eprintln!("{cache:?} {order:?} p{parallelism}: {} settled; {stats}", changed.len());
            }
        }
    }
}

#[test]
fn plain_export_under_arrivals_loses_nothing_and_repeats_nothing() {
    for cache in cache_models() {
        for order in [ResultOrder::OldestFirst, ResultOrder::NewestFirst] {
            let sb = sandbox(LiveConfig::off().with_order(order).with_cache(cache));
            let filter = Filter::days(start().date(), 1);
            let truth = ids(sb.dataset().query(&filter));
            sb.set_live(LiveConfig::off().with_order(order).with_cache(cache).with_arrivals_per_second(300.0));

            let query = Query::builder().days(1).limit(50).build().unwrap();
            let (got, stats) = export(&sb, &client(&sb, 2), query);
            let arrived: HashSet<String> = sb.changes().into_iter().map(|c| c.email_id).collect();
            assert!(!arrived.is_empty(), "mail arrived during the export");
            let possible: HashSet<String> = truth.iter().cloned().chain(arrived).collect();
            eprintln!("{cache:?} {order:?}: {stats}");
            // Nothing that was there changed: every row of the start is due.
            check(&got, &truth, &HashSet::new(), &possible, &stats);
        }
    }
}

#[test]
fn an_export_across_the_servers_midnight_returns_the_window_of_its_start() {
    for parallelism in [1, 3] {
        // The server's day moves on after the fifth request.
        let sb = sandbox(LiveConfig::off().with_day_advance(DayAdvance::AfterRequests(5)));
        let truth = ids(sb.dataset().query(&Filter::days(start().date(), 3)));
        let query = Query::builder().days(3).limit(100).build().unwrap();
        let (got, stats) = export(&sb, &client(&sb, parallelism), query);
        assert!(sb.now().date() > start().date(), "midnight passed during the export");
        assert_eq!(got, truth, "exactly the window as it stood at the start; {stats:?}");
        assert_eq!(stats.units_reread, 0, "nothing moved: no re-read; {stats:?}");
    }
}
