//! A live account over real HTTP on loopback: the clock, arrivals, settles, cache models,
//! order, day changes and their control endpoints.
//!
//! Events follow real time, so counts vary from run to run; every assertion holds for any
//! count the elapsed time allows (lower bounds come from minimum sleeps, never from speed).

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use sendcloud_status_sandbox::{
    CacheModel, ChangeKind, DEMO_API_KEY, DEMO_API_USER, DayAdvance, Filter, LiveConfig, ResultOrder, Sandbox,
    SandboxConfig,
};
use serde_json::Value;

const START: &str = "2024-05-10 08:40:00";
const ALL_USERS: &str = "sandbox_user;sandbox_mkt;sandbox_tx;sandbox_ops";
/// The whole account of [`config`]: its three days, every apiUser.
const EVERYTHING: [(&str, &str); 3] =
    [("startDate", "2024-05-08"), ("endDate", "2024-05-10"), ("apiUserList", ALL_USERS)];

fn start() -> NaiveDateTime {
    NaiveDateTime::parse_from_str(START, "%Y-%m-%d %H:%M:%S").unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 20 000 records over three days ending at 08:40 (about 400 of them "sending"), unlimited.
fn config() -> SandboxConfig {
    SandboxConfig::default().with_records(20_000).with_days_of_data(3).with_now(start()).with_rate_limit(None)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// One API call (POST form); the parsed body.
fn post(sb: &Sandbox, pairs: &[(&str, &str)]) -> Value {
    let mut all = vec![("apiUser", DEMO_API_USER), ("apiKey", DEMO_API_KEY)];
    all.extend_from_slice(pairs);
    let mut r = agent().post(format!("{}data/emailStatus", sb.base_url())).send_form(all).expect("request");
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(v["statusCode"], 200, "{v}");
    v
}

fn total(v: &Value) -> usize {
    v["info"]["total"].as_str().expect("total is a string").parse().unwrap()
}

fn rows(v: &Value) -> Vec<Value> {
    v["info"]["voList"].as_array().unwrap().clone()
}

fn id(row: &Value) -> String {
    row["emailId"].as_str().unwrap().to_string()
}

/// Every page of a parameter set at `limit`; the rows and the `total` of each page.
fn fetch_all(sb: &Sandbox, pairs: &[(&str, &str)], limit: usize) -> (Vec<Value>, Vec<usize>) {
    let (mut all, mut totals) = (Vec::new(), Vec::new());
    let limit_s = limit.to_string();
    loop {
        let start = all.len().to_string();
        let mut p = pairs.to_vec();
        p.extend([("start", start.as_str()), ("limit", limit_s.as_str())]);
        let v = post(sb, &p);
        totals.push(total(&v));
        let page = rows(&v);
        let last = page.len() < limit;
        all.extend(page);
        if last || all.len() >= total(&v) {
            return (all, totals);
        }
    }
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter().map(id).collect()
}

fn time(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn pause(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

fn control_get(sb: &Sandbox, path: &str) -> (u16, Value) {
    let mut r = agent().get(format!("http://{}/_sandbox/{path}", sb.addr())).call().unwrap();
    (r.status().as_u16(), serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap())
}

fn control_post(sb: &Sandbox, path: &str, body: &str) -> (u16, Value) {
    let mut r = agent().post(format!("http://{}/_sandbox/{path}", sb.addr())).send(body).unwrap();
    (r.status().as_u16(), serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap())
}

#[test]
fn the_clock_never_serves_future_rows() {
    let sb = Sandbox::start(config()).unwrap();
    assert!(sb.now() >= start());
    let (today, _) = fetch_all(&sb, &[("days", "1"), ("apiUserList", ALL_USERS)], 100);
    assert!(today.len() > 1_000, "{}", today.len()); // 20 000 over 56 h 40 min: ~2 900 by 08:40
    let times: Vec<&str> = today.iter().map(|r| r["requestTime"].as_str().unwrap()).collect();
    assert!(times.iter().all(|t| t.starts_with("2024-05-10 ") && *t < START), "{times:?}");
    assert!(times.last().unwrap() >= &"2024-05-10 08:30:00", "the data runs up to the clock");
    let truth = sb.dataset().query(&Filter::days(day("2024-05-10"), 1).with_api_users(sb.dataset().api_users()));
    assert_eq!(ids(&today), truth.iter().map(|g| g.email_id.clone()).collect::<Vec<_>>());
    assert!(truth.iter().all(|g| g.request_time < start() && g.modified_time <= start()));

    // On the real clock too.
    let sb = Sandbox::start(SandboxConfig::default().with_records(5_000).with_rate_limit(None)).unwrap();
    let ds = sb.dataset();
    let last = ds.record(ds.len() - 1).unwrap();
    assert!(last.request_time <= sb.now(), "{} > {}", last.request_time, sb.now());
    assert_eq!(ds.today(), sb.now().date());
}

#[test]
fn arrivals_show_in_truth_and_in_days_1() {
    let live = LiveConfig::off().with_arrivals_per_second(400.0).with_cache(CacheModel::PerRequest);
    let sb = Sandbox::start(config().with_live(live)).unwrap();
    let q = [("days", "1"), ("apiUserList", ALL_USERS), ("limit", "1")];
    let mut seen = Vec::new();
    for _ in 0..4 {
        pause(25); // ≥ 9 new arrivals each time at 400/s
        let api = total(&post(&sb, &q));
        let truth = sb.dataset().query(&Filter::days(day("2024-05-10"), 1).with_api_users(sb.dataset().api_users()));
        assert!(truth.len() >= api);
        seen.push(api);
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    let live = LiveConfig::off().with_cache(CacheModel::PerRequest);
    sb.set_live(live); // stop arriving
    let changes = sb.changes();
    assert!(changes.len() >= 36, "{}", changes.len());
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Arrived && c.status_code == 18));
    assert!(changes.iter().enumerate().all(|(n, c)| c.seq == n as u64 + 1));
    let (all, _) = fetch_all(&sb, &[("days", "1"), ("apiUserList", ALL_USERS)], 100);
    let tail = &all[all.len() - changes.len()..];
    for (row, c) in tail.iter().zip(&changes) {
        assert_eq!(id(row), c.email_id);
        assert_eq!(row["status"], "请求中");
        assert_eq!(row["requestTime"], time(c.at));
        assert_eq!(row["modifiedTime"], time(c.at));
        assert!(c.at >= start() && c.at <= sb.now());
        for part in ['$', '@', '.', '_', '-'] {
            assert!(c.email_id.contains(part), "{}", c.email_id);
        }
    }
    assert_eq!(changes.iter().map(|c| &c.email_id).collect::<HashSet<_>>().len(), changes.len());
    // most new mail is the demo user's, so the default query sees it (the first 36 arrivals
    // are the same on every run: draws follow the arrival's number)
    let own = tail[..36].iter().filter(|r| r["apiUser"] == DEMO_API_USER).count();
    assert!(own > 18, "{own} of 36");
}

#[test]
fn settled_rows_leave_status_18_with_a_new_modified_time() {
    let still = LiveConfig::off().with_cache(CacheModel::PerRequest);
    let sb = Sandbox::start(config().with_live(still.clone())).unwrap();
    let status = |s: &str| {
        let mut q = EVERYTHING.to_vec();
        q.push(("status", s));
        fetch_all(&sb, &q, 100).0
    };
    let before: BTreeSet<String> = ids(&status("18")).into_iter().collect();
    assert!(before.len() > 200, "{}", before.len());

    sb.set_live(still.clone().with_settle_per_second(2_000.0));
    pause(50); // ≥ 100 settles
    sb.set_live(still);
    let changes = sb.changes();
    assert!(changes.len() >= 100, "{}", changes.len());
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Settled));
    let settled: BTreeSet<String> = changes.iter().map(|c| c.email_id.clone()).collect();
    assert_eq!(settled.len(), changes.len(), "a row settles once");

    let after: BTreeSet<String> = ids(&status("18")).into_iter().collect();
    assert!(after.is_subset(&before));
    assert_eq!(before.difference(&after).cloned().collect::<BTreeSet<_>>(), settled, "exactly the logged rows");

    // Each settled row, looked up by id, is in its final status with the change's time.
    let joined = settled.iter().cloned().collect::<Vec<_>>().join(";");
    let mut found = 0;
    for final_status in ["1", "4", "5"] {
        let mut q = EVERYTHING.to_vec();
        q.extend([("status", final_status), ("emailIds", joined.as_str())]);
        for row in fetch_all(&sb, &q, 100).0 {
            let c = changes.iter().find(|c| c.email_id == id(&row)).expect("a settled row");
            assert_eq!(c.status_code.to_string(), final_status);
            assert_eq!(row["modifiedTime"], time(c.at));
            assert!(row["requestTime"].as_str().unwrap() < time(c.at).as_str(), "generated before the clock start");
            assert_eq!(c.sub_status.is_some(), c.status_code != 1);
            if let Some(sub) = c.sub_status {
                assert_eq!(row["subStatus"], sub);
            }
            found += 1;
        }
    }
    assert_eq!(found, settled.len());
    let ds = sb.dataset();
    let window = Filter::dates(day("2024-05-08"), day("2024-05-10")).with_api_users(ds.api_users());
    let truth = ds.query(&window.with_email_ids(settled.iter().cloned()));
    assert_eq!(truth.len(), changes.len());
    for g in truth {
        let c = changes.iter().find(|c| c.email_id == g.email_id).unwrap();
        assert_eq!((g.status_code, g.sub_status, g.modified_time), (c.status_code, c.sub_status, c.at));
        assert!(c.at >= start());
    }
    let delivered = changes.iter().filter(|c| c.status_code == 1).count();
    assert!(delivered * 2 > changes.len(), "most settle as delivered: {delivered} of {}", changes.len());
}

#[test]
fn a_snapshot_keeps_pages_consistent_while_rows_settle() {
    let snapshot = CacheModel::Snapshot { ttl: Duration::from_secs(60) };
    let live = LiveConfig::off().with_settle_per_second(400.0).with_cache(snapshot);
    let sb = Sandbox::start(config().with_live(live)).unwrap();
    let mut q = EVERYTHING.to_vec();
    q.push(("status", "18"));

    let first = post(&sb, &[&q[..], &[("limit", "20")]].concat());
    pause(50); // ≥ 20 rows settle while paging
    let (paged, totals) = fetch_all(&sb, &q, 20);
    let (again, _) = fetch_all(&sb, &q, 100); // another paginator of the same set
    sb.set_live(LiveConfig::off()); // freeze: the truth and the log stay put from here

    let t = total(&first);
    assert!(totals.iter().all(|&n| n == t), "total constant: {t} vs {totals:?}");
    assert_eq!(ids(&paged[..20]), ids(&rows(&first)));
    let got = ids(&paged);
    assert_eq!(got.len(), t);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), t, "pages disjoint");
    assert_eq!(ids(&again), got, "every page of the set reads one snapshot");
    assert!(paged.iter().all(|r| r["status"] == "请求中"), "rows as they were");

    // Complete: the snapshot is what was sending at the first request, i.e. what is sending
    // now plus what settled after it (changes logged after request 1).
    let ds = sb.dataset();
    let now_sending: BTreeSet<String> = ds
        .query(&Filter::dates(day("2024-05-08"), day("2024-05-10")).with_status(18).with_api_users(ds.api_users()))
        .into_iter()
        .map(|g| g.email_id)
        .collect();
    let settled_since: BTreeSet<String> =
        sb.changes().into_iter().filter(|c| c.after_request >= 1).map(|c| c.email_id).collect();
    assert!(settled_since.len() >= 20, "{}", settled_since.len());
    let want: BTreeSet<String> = now_sending.union(&settled_since).cloned().collect();
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);
}

#[test]
fn a_snapshot_is_retaken_after_its_ttl() {
    let snapshot = CacheModel::Snapshot { ttl: Duration::from_millis(150) };
    let live = LiveConfig::off().with_settle_per_second(500.0).with_cache(snapshot);
    let sb = Sandbox::start(config().with_live(live)).unwrap();
    let mut q = EVERYTHING.to_vec();
    q.extend([("status", "18"), ("limit", "1")]);
    let first = total(&post(&sb, &q));
    assert!(first > 0);
    pause(200); // past the ttl, ≥ 100 more settled
    let second = total(&post(&sb, &q));
    assert!(second < first, "{second} !< {first}");
    sb.set_live(LiveConfig::off());
    let now = sb.dataset().query(
        &Filter::dates(day("2024-05-08"), day("2024-05-10")).with_status(18).with_api_users(sb.dataset().api_users()),
    );
    assert!(now.len() <= second);
}

#[test]
fn per_request_paging_sees_the_set_move() {
    let live = LiveConfig::off().with_arrivals_per_second(500.0).with_cache(CacheModel::PerRequest);
    let sb = Sandbox::start(config().with_live(live)).unwrap();
    let page = |start: &str| total(&post(&sb, &[("days", "1"), ("apiUserList", ALL_USERS), ("start", start)]));
    let a = page("0");
    pause(20); // ≥ 9 arrivals
    let b = page("100");
    assert!(b > a, "{a} then {b}");
}

#[test]
fn without_changes_both_cache_models_answer_alike() {
    let snapshot = Sandbox::start(config()).unwrap();
    let per_request = Sandbox::start(config().with_live(LiveConfig::off().with_cache(CacheModel::PerRequest))).unwrap();
    let everyone_today = [("days", "1"), ("apiUserList", ALL_USERS)];
    for q in [&everyone_today[..], &[("days", "3"), ("status", "4")], &[("days", "2"), ("labelName", "news")]] {
        assert_eq!(fetch_all(&snapshot, q, 100), fetch_all(&per_request, q, 100), "{q:?}");
    }
}

#[test]
fn newest_first_is_the_exact_reverse() {
    let sb = Sandbox::start(config()).unwrap();
    let q = [("days", "2"), ("apiUserList", "sandbox_tx;sandbox_ops")];
    let (oldest, _) = fetch_all(&sb, &q, 37);
    sb.set_live(LiveConfig::off().with_order(ResultOrder::NewestFirst));
    let (newest, _) = fetch_all(&sb, &q, 37);
    let mut reversed = oldest.clone();
    reversed.reverse();
    assert_eq!(newest, reversed);
    let ds = sb.dataset();
    assert_eq!(ds.order(), ResultOrder::NewestFirst);
    let truth = ds.query(&Filter::days(day("2024-05-10"), 2).with_api_users(["sandbox_tx", "sandbox_ops"]));
    assert_eq!(ids(&newest), truth.iter().map(|g| g.email_id.clone()).collect::<Vec<_>>());
    let (_, truth_json) = control_get(&sb, "truth?days=2&apiUserList=sandbox_tx%3Bsandbox_ops");
    assert_eq!(truth_json["email_ids"], serde_json::json!(ids(&newest)));
}

#[test]
fn the_day_advances_after_n_requests() {
    let live = LiveConfig::off().with_day_advance(DayAdvance::AfterRequests(3));
    let sb = Sandbox::start(config().with_live(live)).unwrap();
    let day1 = [("days", "1"), ("apiUserList", ALL_USERS)];
    for _ in 0..3 {
        let v = post(&sb, &day1);
        assert!(total(&v) > 1_000);
        assert!(rows(&v).iter().all(|r| r["requestTime"].as_str().unwrap().starts_with("2024-05-10 ")));
    }
    assert_eq!(sb.now().date(), day("2024-05-11"), "after the third answer");
    assert!(sb.now() < "2024-05-11T00:01:00".parse().unwrap());
    assert_eq!(total(&post(&sb, &day1)), 0, "a new day without mail yet");
    let two = post(&sb, &[("days", "2"), ("apiUserList", ALL_USERS)]);
    assert!(total(&two) > 1_000);
    assert!(rows(&two)[0]["requestTime"].as_str().unwrap().starts_with("2024-05-10 "));
    assert_eq!(sb.dataset().today(), day("2024-05-11"));
    assert_eq!(control_get(&sb, "info").1["today"], "2024-05-11");
    // it jumps once
    for _ in 0..5 {
        post(&sb, &day1);
    }
    assert_eq!(sb.now().date(), day("2024-05-11"));

    // new mail now lands on the new day
    sb.set_live(LiveConfig::off().with_arrivals_per_second(500.0).with_cache(CacheModel::PerRequest));
    pause(20);
    let v = post(&sb, &day1);
    assert!(total(&v) > 0);
    assert!(rows(&v).iter().all(|r| r["requestTime"].as_str().unwrap().starts_with("2024-05-11 00:")));
}

#[test]
fn the_day_advances_after_a_duration_and_on_demand() {
    let live = LiveConfig::off().with_day_advance(DayAdvance::AfterDuration(Duration::from_millis(30)));
    let sb = Sandbox::start(config().with_live(live)).unwrap();
    pause(40);
    assert_eq!(sb.now().date(), day("2024-05-11"));
    assert_eq!(time(sb.advance_day()), "2024-05-12 00:00:00");
    let v = post(&sb, &[("startDate", "2024-05-10"), ("endDate", "2024-05-12")]);
    assert!(total(&v) > 0, "a three-day window still reaches the old data");
}

#[test]
fn control_endpoints_drive_the_live_account() {
    let sb = Sandbox::start(config()).unwrap();
    let (_, info) = control_get(&sb, "info");
    assert!(info["now"].as_str().unwrap().starts_with("2024-05-10 08:4"), "{info}");
    assert_eq!(
        info["live"],
        serde_json::json!({
            "arrivals_per_second": 0.0, "settle_per_second": 0.0,
            "day_advance_after_requests": null, "day_advance_after_ms": null,
            "order": "oldest-first", "cache": "snapshot", "cache_ttl_ms": 600_000,
        })
    );

    let body =
        r#"{"settle_per_second": 2000, "arrivals_per_second": 100, "order": "newest-first", "cache": "per-request"}"#;
    let (status, ok) = control_post(&sb, "live", body);
    assert_eq!((status, &ok["ok"]), (200, &Value::Bool(true)), "{ok}");
    let (_, info) = control_get(&sb, "info");
    assert_eq!(info["live"]["settle_per_second"], 2000.0);
    assert_eq!(info["live"]["order"], "newest-first");
    assert_eq!(info["live"]["cache"], "per-request");
    assert_eq!(info["live"]["cache_ttl_ms"], Value::Null);
    pause(30);
    let (_, all) = control_get(&sb, "changes");
    let all = all.as_array().unwrap().clone();
    assert!(all.len() >= 60, "{}", all.len());
    assert_eq!(all[0]["seq"], 1);
    assert!(all.iter().any(|c| c["kind"] == "arrived") && all.iter().any(|c| c["kind"] == "settled"));
    let c = &all[5];
    for key in ["email_id", "at", "after_request", "status_code", "sub_status"] {
        assert!(c.get(key).is_some(), "{key} in {c}");
    }
    let (_, tail) = control_get(&sb, "changes?since=5");
    assert_eq!(tail[0], *c);

    // stop changes, keep the order: the truth is the newest-first ground truth
    assert_eq!(control_post(&sb, "live", r#"{"order": "newest-first", "day_advance_after_ms": 60000}"#).0, 200);
    let (_, info) = control_get(&sb, "info");
    assert_eq!(info["live"]["day_advance_after_ms"], 60_000);
    let (_, truth) = control_get(&sb, &format!("truth?days=3&apiUserList={}", ALL_USERS.replace(';', "%3B")));
    let ds = sb.dataset();
    let want: Vec<String> = ds
        .query(&Filter::days(day("2024-05-10"), 3).with_api_users(ds.api_users()))
        .into_iter()
        .map(|g| g.email_id)
        .collect();
    assert_eq!(truth["email_ids"], serde_json::json!(want));
    assert_eq!(truth["total"], ds.len(), "three days: the whole account");
    let newest = sb.changes().into_iter().rev().find(|c| c.kind == ChangeKind::Arrived).unwrap();
    assert_eq!(want[0], newest.email_id);

    let (status, jumped) = control_post(&sb, "advance-day", "");
    assert_eq!(status, 200);
    assert!(jumped["now"].as_str().unwrap().starts_with("2024-05-11 00:00:0"), "{jumped}");
    assert_eq!(control_get(&sb, "info").1["today"], "2024-05-11");

    for bad in [
        "not json",
        "[]",
        r#"{"order": "sideways"}"#,
        r#"{"cache": "none"}"#,
        r#"{"arrivals_per_second": -1}"#,
        r#"{"day_advance_after_requests": 1, "day_advance_after_ms": 1}"#,
    ] {
        assert_eq!(control_post(&sb, "live", bad).0, 400, "{bad}");
    }
    assert_eq!(control_get(&sb, "changes?since=x").0, 400);
    // off again, as with an empty body
    assert_eq!(control_post(&sb, "live", "").0, 200);
    assert_eq!(sb.live(), LiveConfig::off());
}
