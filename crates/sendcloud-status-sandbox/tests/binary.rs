//! The `sendcloud-status-sandbox` binary announces its URL and serves it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_prints_its_url_and_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sendcloud-status-sandbox"))
        .args(["--records", "500", "--today", "2024-05-10", "--language", "en"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.strip_prefix("listening on ").expect(&first).to_string();
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/api/"), "{base}");
    let rest: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
    assert!(rest.iter().any(|l| l.contains(sendcloud_status_sandbox::DEMO_API_KEY)));

    let body = ureq::post(format!("{base}data/emailStatus"))
        .send_form([("apiUser", "sandbox_user"), ("apiKey", "nope"), ("days", "1")])
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(body, r#"{"result":false,"statusCode":40005,"message":"authentication failed","info":{}}"#);
}
