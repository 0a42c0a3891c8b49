//! The `/_sandbox/` control endpoints that Python and Node tests use.

use chrono::NaiveDate;
use sendcloud_status_sandbox::{DEMO_API_KEY, DEMO_API_USER, Filter, Sandbox, SandboxConfig};
use serde_json::Value;

fn get(url: &str) -> Value {
    let body = ureq::get(url).call().unwrap().body_mut().read_to_string().unwrap();
    serde_json::from_str(&body).unwrap()
}

fn post(url: &str, body: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut r = agent.post(url).send(body).unwrap();
    let status = r.status().as_u16();
    (status, serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap())
}

#[test]
fn info_truth_requests_clear_and_faults() {
    let today = NaiveDate::from_ymd_opt(2024, 5, 20).unwrap();
    let sb =
        Sandbox::start(SandboxConfig::default().with_records(2_000).with_today(today).with_rate_limit(None)).unwrap();
    let base = format!("http://{}/_sandbox/", sb.addr());

    let info = get(&format!("{base}info"));
    assert_eq!(info["today"], "2024-05-20");
    assert_eq!(info["records"], 2000);
    assert!(info["api_users"].as_array().unwrap().iter().any(|u| u == DEMO_API_USER));
    assert!(info["labels"][0][0].is_u64());

    // Ground truth over a window longer than the API allows, with filters.
    let (from, to) = (NaiveDate::from_ymd_opt(2024, 5, 1).unwrap(), today);
    let want: Vec<String> =
        sb.dataset().query(&Filter::dates(from, to).with_status(4)).into_iter().map(|g| g.email_id).collect();
    let truth = get(&format!("{base}truth?startDate=2024-05-01&endDate=2024-05-20&status=4"));
    assert_eq!(truth["total"], want.len());
    let got: Vec<String> =
        truth["email_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()).collect();
    assert_eq!(got, want);
    let days = get(&format!("{base}truth?days=2&apiUserList=sandbox_user%3Bsandbox_mkt"));
    let want_days = sb.dataset().query(&Filter::days(today, 2).with_api_users(["sandbox_user", "sandbox_mkt"]));
    assert_eq!(days["total"], want_days.len());

    // Control calls are not logged; API calls are, with the key redacted.
    assert!(get(&format!("{base}requests")).as_array().unwrap().is_empty());
    let api = format!("{}data/emailStatus", sb.base_url());
    ureq::post(&api).send_form([("apiUser", DEMO_API_USER), ("apiKey", DEMO_API_KEY), ("days", "1")]).unwrap();
    let log = get(&format!("{base}requests"));
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["key_in_url"], false);
    assert_eq!(log[0]["status_code"], 200);
    assert!(!log.to_string().contains(DEMO_API_KEY));
    assert_eq!(post(&format!("{base}clear"), "").0, 200);
    assert!(get(&format!("{base}requests")).as_array().unwrap().is_empty());

    // Faults set over HTTP apply to API calls, not to control calls.
    assert_eq!(post(&format!("{base}faults"), r#"{"seed":3,"http_502":1.0}"#).0, 200);
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let r = agent.post(&api).send_form([("apiUser", DEMO_API_USER), ("apiKey", DEMO_API_KEY), ("days", "1")]).unwrap();
    assert_eq!(r.status().as_u16(), 502);
    assert_eq!(get(&format!("{base}requests"))[0]["fault"], "http_502");
    assert_eq!(post(&format!("{base}faults"), "{}").0, 200);
    let r = agent.post(&api).send_form([("apiUser", DEMO_API_USER), ("apiKey", DEMO_API_KEY), ("days", "1")]).unwrap();
    assert_eq!(r.status().as_u16(), 200);

    assert_eq!(post(&format!("{base}faults"), "not json").0, 400);
    assert_eq!(post(&format!("{base}nope"), "").0, 404);
}
