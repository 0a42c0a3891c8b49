//! The sandbox over real HTTP on loopback, checked against its own ground truth.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sendcloud_status_sandbox::{
    DEMO_API_KEY, DEMO_API_USER, FaultConfig, FaultKind, Filter, GroundRecord, Language, Sandbox, SandboxConfig,
    StatusCodeKey, SubStatusFormat,
};
use serde_json::Value;

const TODAY: &str = "2024-05-10";

fn today() -> NaiveDate {
    TODAY.parse().unwrap()
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Small, fixed, unlimited: most tests page a lot.
fn config() -> SandboxConfig {
    SandboxConfig::default().with_records(4_000).with_days_of_data(10).with_today(today()).with_rate_limit(None)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn url(sb: &Sandbox) -> String {
    format!("{}data/emailStatus", sb.base_url())
}

fn with_auth<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("apiUser", DEMO_API_USER), ("apiKey", DEMO_API_KEY)];
    v.extend_from_slice(pairs);
    v
}

/// POST a form; (HTTP status, body).
fn post_to(url: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let mut r = agent().post(url).send_form(pairs.iter().copied()).expect("request");
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().expect("body"))
}

fn post(sb: &Sandbox, pairs: &[(&str, &str)]) -> Value {
    let (status, body) = post_to(&url(sb), &with_auth(pairs));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn get(sb: &Sandbox, pairs: &[(&str, &str)]) -> Value {
    let mut r = agent().get(url(sb)).query_pairs(with_auth(pairs)).call().expect("request");
    assert_eq!(r.status().as_u16(), 200);
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

fn code(v: &Value) -> i64 {
    v.get("statusCode").or_else(|| v.get("statuscode")).and_then(Value::as_i64).expect("code")
}

/// Every page of a query (limit 100); checks the page envelope on the way.
fn fetch_all(sb: &Sandbox, pairs: &[(&str, &str)]) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut start = 0;
    loop {
        let s = start.to_string();
        let mut p = pairs.to_vec();
        p.push(("start", &s));
        let v = post(sb, &p);
        assert_eq!(code(&v), 200, "{v}");
        assert_eq!(v["result"], true);
        let total: usize = v["info"]["total"].as_str().expect("total is a string").parse().unwrap();
        let page = v["info"]["voList"].as_array().unwrap().clone();
        assert_eq!(v["info"]["voListSize"].as_u64().unwrap() as usize, page.len());
        assert!(page.len() <= 100);
        rows.extend(page);
        start += 100;
        if start >= total {
            assert_eq!(rows.len(), total);
            return rows;
        }
    }
}

fn assert_rows_match(rows: &[Value], truth: &[GroundRecord], lang: Language) {
    let ids: Vec<&str> = rows.iter().map(|r| r["emailId"].as_str().unwrap()).collect();
    let want: Vec<&str> = truth.iter().map(|g| g.email_id.as_str()).collect();
    assert_eq!(ids, want);
    for (r, g) in rows.iter().zip(truth) {
        assert_eq!(r["status"], g.status_text(lang));
        assert_eq!(r["apiUser"], g.api_user.as_str());
        assert_eq!(r["recipients"], g.recipient.as_str());
        assert_eq!(r["requestTime"], g.request_time.format("%Y-%m-%d %H:%M:%S").to_string());
        assert_eq!(r["modifiedTime"], g.modified_time.format("%Y-%m-%d %H:%M:%S").to_string());
        assert_eq!(r["sendLog"], g.send_log.as_str());
        match g.sub_status {
            Some(s) => {
                assert_eq!(r["subStatus"], s);
                assert_eq!(r["subStatusDesc"], g.sub_status_desc(lang));
            }
            None => assert!(r.get("subStatus").is_none() && r.get("subStatusDesc").is_none()),
        }
    }
}

#[test]
fn auth_failure_is_40005_and_the_key_is_never_logged() {
    let sb = Sandbox::start(config()).unwrap();
    for pairs in [
        vec![("apiUser", DEMO_API_USER), ("apiKey", "wrong"), ("days", "1")],
        vec![("apiUser", DEMO_API_USER), ("days", "1")],
        vec![("apiUser", "sandbox_mkt"), ("apiKey", DEMO_API_KEY), ("days", "1")],
    ] {
        let (status, body) = post_to(&url(&sb), &pairs);
        assert_eq!(status, 200);
        assert_eq!(body, r#"{"result":false,"statusCode":40005,"message":"认证失败","info":{}}"#);
    }
    let ok = post(&sb, &[("days", "1")]);
    assert_eq!(code(&ok), 200);
    let log = sb.request_log();
    assert_eq!(log.iter().map(|l| l.status_code).collect::<Vec<_>>(), [40005, 40005, 40005, 200]);
    assert!(!format!("{log:?}").contains(DEMO_API_KEY));
    assert_eq!(log[3].param("apiKey"), Some(sandbox_status_redacted()));

    let en = Sandbox::start(config().with_language(Language::English)).unwrap();
    let (_, body) = post_to(&url(&en), &[("apiUser", "x"), ("apiKey", "y")]);
    assert_eq!(body, r#"{"result":false,"statusCode":40005,"message":"authentication failed","info":{}}"#);
}

fn sandbox_status_redacted() -> &'static str {
    sendcloud_status_sandbox::REDACTED
}

#[test]
fn validation_codes() {
    let sb = Sandbox::start(config()).unwrap();
    let cases: &[(&[(&str, &str)], i64)] = &[
        (&[("days", "1")], 200),
        (&[("days", "1"), ("start", "")], 40001),
        (&[("days", "1"), ("start", "x")], 40002),
        (&[("days", "1"), ("limit", "")], 40003),
        (&[("days", "1"), ("limit", "101")], 40004),
        (&[("days", "1"), ("limit", "0")], 40004),
        (&[("days", "")], 40006),
        (&[("days", "-2")], 40006),
        (&[], 40006),
        (&[("days", "1"), ("startDate", TODAY), ("endDate", TODAY)], 40006),
        (&[("days", "4")], 40008),
        (&[("startDate", "2024/05/10"), ("endDate", TODAY)], 40007),
        (&[("startDate", ""), ("endDate", TODAY)], 40007),
        (&[("endDate", TODAY)], 40007),
        (&[("startDate", TODAY)], 40008),
        (&[("startDate", TODAY), ("endDate", "10-05-2024")], 40008),
        (&[("startDate", "2024-05-07"), ("endDate", TODAY)], 40008),
        (&[("startDate", TODAY), ("endDate", "2024-05-09")], 40008),
        (&[("startDate", "2024-05-08"), ("endDate", TODAY)], 200),
        (&[("days", "1"), ("apiUserList", "")], 40010),
        (&[("days", "1"), ("apiUserList", "sandbox_tx;intruder")], 40016),
        (&[("days", "1"), ("email", "")], 40011),
        (&[("days", "1"), ("email", "no-at-sign")], 40012),
        (&[("days", "1"), ("emailIds", "")], 40009),
        (&[("days", "1"), ("labelId", "")], 40014),
        (&[("days", "1"), ("labelId", "abc")], 40015),
        (&[("days", "1"), ("labelId", "4242")], 40103),
        (&[("days", "1"), ("labelName", "")], 40014),
        (&[("days", "1"), ("status", "")], 40013),
        (&[("days", "1"), ("status", "3")], 40013),
        (&[("days", "1"), ("subStatus", "")], 40017),
        (&[("days", "1"), ("subStatus", "406;x")], 40017),
        (&[("days", "1"), ("whatever", "")], 200),
    ];
    for (pairs, want) in cases {
        let v = post(&sb, pairs);
        assert_eq!(code(&v), *want, "{pairs:?} → {v}");
        assert_eq!(v["result"], *want == 200, "{pairs:?}");
        if *want != 200 {
            assert_eq!(v["info"], serde_json::json!({}));
            assert!(!v["message"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn filters_match_ground_truth() {
    let sb = Sandbox::start(config()).unwrap();
    let ds = sb.dataset();
    let (s, e) = ("2024-05-07", "2024-05-09");
    let range = Filter::dates(day(s), day(e));
    let dates = [("startDate", s), ("endDate", e)];

    let all_users = ds.api_users().join(";");
    let some_invalid = ds.query(&range.clone().with_api_users(ds.api_users()).with_status(4));
    let addr = some_invalid[0].recipient.clone();
    let shouting = addr.to_uppercase();
    let ids: Vec<String> = ds
        .query(&range.clone().with_api_users(ds.api_users()))
        .iter()
        .step_by(97)
        .map(|g| g.email_id.clone())
        .collect();
    let joined_ids = ids.join(";");

    let cases: Vec<(Vec<(&str, &str)>, Filter)> = vec![
        (vec![], range.clone()),
        (vec![("status", "1")], range.clone().with_status(1)),
        (vec![("status", "5")], range.clone().with_status(5)),
        (vec![("subStatus", "406;404")], range.clone().with_sub_status([406, 404])),
        (vec![("status", "4"), ("subStatus", "401")], range.clone().with_status(4).with_sub_status([401])),
        (vec![("apiUserList", &all_users)], range.clone().with_api_users(ds.api_users())),
        (
            vec![("apiUserList", "sandbox_mkt;sandbox_ops")],
            range.clone().with_api_users(["sandbox_mkt", "sandbox_ops"]),
        ),
        (
            vec![("email", &shouting), ("apiUserList", &all_users)],
            range.clone().with_email(&addr).with_api_users(ds.api_users()),
        ),
        (
            vec![("emailIds", &joined_ids), ("apiUserList", &all_users)],
            range.clone().with_email_ids(ids.clone()).with_api_users(ds.api_users()),
        ),
        (vec![("labelId", "1002")], range.clone().with_label_id(1002)),
        (vec![("labelName", "NEWS")], range.clone().with_label_name("news")),
        (vec![("labelName", "-")], range.clone().with_label_name("-")),
        (vec![("labelId", "1003"), ("labelName", "news")], range.clone().with_label_id(1003)),
        (vec![("labelName", "no-such-label")], range.clone().with_label_name("no-such-label")),
    ];
    for (extra, filter) in cases {
        let mut pairs = dates.to_vec();
        pairs.extend(extra.iter().copied());
        let rows = fetch_all(&sb, &pairs);
        let truth = ds.query(&filter);
        assert_rows_match(&rows, &truth, Language::Chinese);
    }
    // the email filter really hit repeats, the id filter hit every id
    assert!(!ds.query(&range.clone().with_email(&addr).with_api_users(ds.api_users())).is_empty());
    assert_eq!(ds.query(&range.with_email_ids(ids.clone()).with_api_users(ds.api_users())).len(), ids.len());

    // days=N is today and the N-1 days before
    let rows = fetch_all(&sb, &[("days", "2")]);
    assert_rows_match(&rows, &ds.query(&Filter::days(today(), 2)), Language::Chinese);
}

#[test]
fn pagination_and_totals_as_strings() {
    let sb = Sandbox::start(config()).unwrap();
    let truth = sb.dataset().query(&Filter::days(today(), 3));
    assert!(truth.len() > 250, "{}", truth.len());
    let v = post(&sb, &[("days", "3"), ("limit", "7"), ("start", "3")]);
    assert_eq!(v["info"]["total"], truth.len().to_string());
    assert_eq!(v["info"]["voListSize"], 7);
    assert_eq!(v["info"]["voList"][0]["emailId"], truth[3].email_id.as_str());
    let beyond = post(&sb, &[("days", "3"), ("start", "100000")]);
    assert_eq!(beyond["info"]["total"], truth.len().to_string());
    assert_eq!(beyond["info"]["voListSize"], 0);
    assert_eq!(beyond["info"]["voList"], serde_json::json!([]));
    let default_page = post(&sb, &[("days", "3")]);
    assert_eq!(default_page["info"]["voListSize"], 100);
    assert_rows_match(&fetch_all(&sb, &[("days", "3")]), &truth, Language::Chinese);
}

#[test]
fn both_paths_get_post_and_merge() {
    let sb = Sandbox::start(config()).unwrap();
    let via_post = post(&sb, &[("days", "1"), ("limit", "5")]);
    let via_get = get(&sb, &[("days", "1"), ("limit", "5")]);
    assert_eq!(via_post, via_get);
    let (status, body) =
        post_to(&format!("{}data/emailStatus", sb.base_url_v2()), &with_auth(&[("days", "1"), ("limit", "5")]));
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), via_post);
    // credentials in the URL, query in the body; the body wins a duplicate
    let u = format!("{}?apiUser={DEMO_API_USER}&apiKey={DEMO_API_KEY}&limit=9", url(&sb));
    let (_, body) = post_to(&u, &[("days", "1"), ("limit", "5")]);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), via_post);
    // elsewhere: 404
    let (status, body) = post_to(&format!("{}data/other", sb.base_url()), &with_auth(&[("days", "1")]));
    assert_eq!(status, 404);
    assert_eq!(code(&serde_json::from_str(&body).unwrap()), 404);

    let log = sb.request_log();
    assert_eq!(log.len(), 5);
    assert_eq!((log[0].method.as_str(), log[0].key_in_url), ("POST", false));
    assert_eq!((log[1].method.as_str(), log[1].key_in_url), ("GET", true));
    assert_eq!(log[2].path, "/apiv2/data/emailStatus");
    assert_eq!(log[3].param_names, ["apiUser", "apiKey", "limit", "days", "limit"]);
    assert!(log[3].key_in_url);
    assert_eq!(log[3].param("limit"), Some("5"));
    assert_eq!((log[4].status_code, log[4].http_status), (404, 404));
    sb.clear_log();
    assert!(sb.request_log().is_empty());
}

#[test]
fn content_type_is_json_utf8() {
    let sb = Sandbox::start(config()).unwrap();
    let r = agent().post(url(&sb)).send_form(with_auth(&[("days", "1")])).unwrap();
    assert_eq!(r.headers().get("content-type").unwrap(), "application/json;charset=UTF-8");
}

#[test]
fn rate_limit_after_a_burst() {
    let sb = Sandbox::start(config().with_rate_limit(Some(6))).unwrap(); // burst 10, then one per 10 s
    // unauthenticated calls do not count
    for _ in 0..20 {
        let (_, body) = post_to(&url(&sb), &[("apiUser", "x"), ("apiKey", "y"), ("days", "1")]);
        assert!(body.contains("40005"));
    }
    let mut codes = Vec::new();
    let mut limited_body = None;
    for _ in 0..15 {
        let (status, body) = post_to(&url(&sb), &with_auth(&[("days", "1"), ("limit", "1")]));
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        codes.push(code(&v));
        if code(&v) == 50000 {
            limited_body = Some(body);
        }
    }
    assert_eq!(codes.iter().filter(|&&c| c == 200).count(), 10, "{codes:?}");
    assert!(codes[10..].iter().all(|&c| c == 50000), "{codes:?}");
    assert_eq!(
        limited_body.unwrap(),
        r#"{"result": false, "statuscode": 50000, "message": "interface frequency limited", "info": {}}"#
    );
    assert_eq!(sb.request_log().last().unwrap().status_code, 50000);
    sb.set_rate_limit(None);
    assert_eq!(code(&post(&sb, &[("days", "1")])), 200);
}

/// Raw HTTP/1.1 exchange: (head, body bytes received before EOF).
fn raw_exchange(sb: &Sandbox, body: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(sb.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!(
        "POST /api/data/emailStatus HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).expect("EOF, not a timeout");
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").map_or(all.len(), |p| p + 4);
    (String::from_utf8_lossy(&all[..split]).into_owned(), all[split..].to_vec())
}

fn form_body() -> String {
    format!("apiUser={DEMO_API_USER}&apiKey={DEMO_API_KEY}&days=3")
}

#[test]
fn fault_rate_limited_and_502() {
    let sb = Sandbox::start(config().with_faults(FaultConfig::none().with_rate_limited(1.0))).unwrap();
    let (status, body) = post_to(&url(&sb), &with_auth(&[("days", "1")]));
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"result": false, "statuscode": 50000, "message": "interface frequency limited", "info": {}}"#);

    sb.set_faults(FaultConfig::none().with_http_502(1.0));
    let mut r = agent().post(url(&sb)).send_form(with_auth(&[("days", "1")])).unwrap();
    assert_eq!(r.status().as_u16(), 502);
    assert!(r.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    assert!(r.body_mut().read_to_string().unwrap().contains("<title>502 Bad Gateway</title>"));

    sb.set_faults(FaultConfig::none());
    assert_eq!(code(&post(&sb, &[("days", "1")])), 200);
    let log = sb.request_log();
    let seen: Vec<_> = log.iter().map(|l| (l.fault, l.status_code, l.http_status)).collect();
    assert_eq!(
        seen,
        [(Some(FaultKind::RateLimited), 50000, 200), (Some(FaultKind::Http502), 0, 502), (None, 200, 200)]
    );
}

#[test]
fn fault_reset_closes_without_response() {
    let sb = Sandbox::start(config().with_faults(FaultConfig::none().with_reset(1.0))).unwrap();
    let t = Instant::now();
    let (head, body) = raw_exchange(&sb, &form_body());
    assert!(head.is_empty() && body.is_empty(), "{head}");
    // a real client errors out promptly instead of hanging
    let err = agent().post(url(&sb)).send_form(with_auth(&[("days", "1")]));
    assert!(err.is_err());
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // the server keeps serving afterwards
    sb.set_faults(FaultConfig::none());
    assert_eq!(code(&post(&sb, &[("days", "1")])), 200);
    let log = sb.request_log();
    assert_eq!(log[0].fault, Some(FaultKind::Reset));
    assert_eq!((log[0].status_code, log[0].http_status), (0, 0));
}

#[test]
fn fault_truncated_sends_half_the_body() {
    let sb = Sandbox::start(config().with_faults(FaultConfig::none().with_truncated(1.0))).unwrap();
    let t = Instant::now();
    let (head, body) = raw_exchange(&sb, &form_body());
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let len: usize =
        head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).expect("content-length").trim().parse().unwrap();
    assert!(len > 1000);
    assert_eq!(body.len(), len / 2);
    assert!(body.starts_with(br#"{"result":true"#));
    let err =
        agent().post(url(&sb)).send_form(with_auth(&[("days", "3")])).and_then(|mut r| r.body_mut().read_to_string());
    assert!(err.is_err());
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(sb.request_log()[0].fault, Some(FaultKind::Truncated));
}

#[test]
fn fault_slow_and_latency() {
    let delay = Duration::from_millis(300);
    let sb = Sandbox::start(config().with_faults(FaultConfig::none().with_slow(1.0, delay))).unwrap();
    let t = Instant::now();
    assert_eq!(code(&post(&sb, &[("days", "1")])), 200);
    assert!(t.elapsed() >= delay);
    assert_eq!(sb.request_log()[0].fault, Some(FaultKind::Slow));

    let sb = Sandbox::start(config().with_latency(Duration::from_millis(150))).unwrap();
    let t = Instant::now();
    assert_eq!(code(&post(&sb, &[("days", "1")])), 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[test]
fn faults_are_seeded() {
    let faults = FaultConfig::none().with_seed(11).with_http_502(0.3).with_rate_limited(0.2);
    let run = || {
        let sb = Sandbox::start(config().with_faults(faults.clone()).with_threads(1)).unwrap();
        for _ in 0..30 {
            let _ = post_to(&url(&sb), &with_auth(&[("days", "1"), ("limit", "1")]));
        }
        sb.request_log().iter().map(|l| l.fault).collect::<Vec<_>>()
    };
    let a = run();
    assert_eq!(a, run());
    assert!(a.contains(&Some(FaultKind::Http502)) && a.contains(&Some(FaultKind::RateLimited)) && a.contains(&None));
}

#[test]
fn fidelity_switches() {
    let cfg = config()
        .with_language(Language::English)
        .with_status_code_key(StatusCodeKey::LowerCase)
        .with_info_as_string(true)
        .with_sub_status_format(SubStatusFormat::String);
    let sb = Sandbox::start(cfg).unwrap();
    let v = post(&sb, &[("days", "3"), ("status", "4")]);
    assert!(v.get("statusCode").is_none());
    assert_eq!(v["statuscode"], 200);
    assert_eq!(v["message"], "success");
    let info: Value = serde_json::from_str(v["info"].as_str().expect("info is a string")).unwrap();
    let row = &info["voList"][0];
    let sub = row["subStatus"].as_str().expect("string sub status");
    let truth = sb.dataset().query(&Filter::days(today(), 3).with_status(4));
    assert_eq!(sub, truth[0].sub_status.unwrap().to_string());
    assert!(row["status"].as_str().unwrap().starts_with("Invalid Mail - "));
    assert_eq!(row["status"], truth[0].status_text(Language::English));
    let err = post(&sb, &[("days", "0")]);
    assert_eq!(err["statuscode"], 40006);
    assert_eq!(err["info"], "{}");

    let sb = Sandbox::start(config().with_sub_status_format(SubStatusFormat::Null)).unwrap();
    let v = post(&sb, &[("days", "3")]);
    let rows = v["info"]["voList"].as_array().unwrap();
    assert!(rows.iter().all(|r| r.get("subStatus") == Some(&Value::Null)));
    assert_eq!(v["message"], "请求成功");

    // Chinese display texts
    let sb = Sandbox::start(config()).unwrap();
    let rows = fetch_all(&sb, &[("days", "3"), ("apiUserList", "sandbox_user;sandbox_mkt")]);
    let texts: std::collections::HashSet<&str> = rows.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert!(texts.contains("投递成功"), "{texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("无效邮件-")), "{texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("软退信-")), "{texts:?}");
}

#[test]
fn same_seed_same_answers() {
    let a = Sandbox::start(config()).unwrap();
    let b = Sandbox::start(config()).unwrap();
    let c = Sandbox::start(config().with_seed(43)).unwrap();
    let q = [("days", "2"), ("limit", "50"), ("apiUserList", "sandbox_user;sandbox_tx")];
    assert_eq!(post(&a, &q), post(&b, &q));
    assert_ne!(post(&a, &q), post(&c, &q));
}

#[test]
fn drop_frees_the_port() {
    let sb = Sandbox::start(config()).unwrap();
    let addr = sb.addr();
    assert_eq!(code(&post(&sb, &[("days", "1")])), 200);
    // an idle keep-alive connection must not keep it alive either
    let _idle = TcpStream::connect(addr).unwrap();
    let t = Instant::now();
    drop(sb);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(TcpStream::connect(addr).is_err());
    let again = Sandbox::start_on(addr, config()).unwrap();
    assert_eq!(again.addr(), addr);
}

#[test]
fn drop_interrupts_a_slow_answer() {
    let sb = Sandbox::start(config().with_faults(FaultConfig::none().with_slow(1.0, Duration::from_secs(30)))).unwrap();
    let u = url(&sb);
    let client = std::thread::spawn(move || post_to_result(&u));
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    drop(sb);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(client.join().unwrap().is_err(), "the client sees the connection end");
}

fn post_to_result(u: &str) -> Result<(), ureq::Error> {
    agent().post(u).send_form(with_auth(&[("days", "1")]))?.body_mut().read_to_string().map(|_| ())
}

#[test]
fn generates_a_million_records_quickly() {
    let t = Instant::now();
    let ds = sendcloud_status_sandbox::Dataset::new(1_000_000, 42, today(), 30).unwrap();
    let took = t.elapsed();
    eprintln!("1M records generated in {took:?}");
    assert_eq!(ds.len(), 1_000_000);
    assert!(took < Duration::from_secs(30), "{took:?}");
}
