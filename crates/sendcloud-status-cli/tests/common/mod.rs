//! What the CLI's end-to-end tests share: the binary with a clean
//! environment, the sandboxes' pinned calendar, and reading its output.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use sendcloud_status::chrono::NaiveDate;

/// The sandboxes' "today": pinned, so no test depends on the day it runs.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, 20).unwrap()
}

/// `yyyy-MM-dd`.
pub fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The binary with no SENDCLOUD_* (nor RUST_LOG) from the developer's
/// environment, killed after `timeout`.
pub fn bin_with_timeout(timeout: Duration) -> Command {
    let mut cmd = Command::cargo_bin("sendcloud-status").expect("the binary is built");
    for var in ["SENDCLOUD_API_USER", "SENDCLOUD_API_KEY", "SENDCLOUD_REGION", "SENDCLOUD_BASE_URL", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.timeout(timeout);
    cmd
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stdout of a run that must exit 0 (else the failure shows its stderr).
pub fn ok(o: Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    stdout(&o)
}
