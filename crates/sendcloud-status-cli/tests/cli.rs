//! End-to-end tests of the `sendcloud-status` binary against a sandbox
//! started in the test process: every subcommand and format checked
//! against the sandbox's ground truth, every exit code from its real
//! trigger, secrets, atomic output, Ctrl-C.

mod common;

use common::{date, ok, stderr, stdout, today};

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use sendcloud_status_sandbox::{
    CacheModel, DEMO_API_KEY, DEMO_API_USER, DayAdvance, FaultConfig, Filter, GroundRecord, Language, LiveConfig,
    Sandbox, SandboxConfig,
};
use serde_json::Value;

const KEYS: [&str; 10] = [
    "email_id",
    "status",
    "category",
    "sub_status",
    "sub_status_description",
    "api_user",
    "recipient",
    "request_time",
    "modified_time",
    "send_log",
];

fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config.with_today(today()).with_rate_limit(None)).expect("sandbox starts")
}

/// 2,000 records over 10 days: about 65 per day for the default apiUser.
fn small() -> Sandbox {
    start(SandboxConfig::default().with_records(2_000).with_days_of_data(10).with_seed(11))
}

/// The binary with no SENDCLOUD_* environment.
fn bin() -> Command {
    common::bin_with_timeout(Duration::from_secs(60))
}

/// The binary pointed at `sb` with the demo credentials, fast settings.
fn cli(sb: &Sandbox) -> Command {
    let mut cmd = bin();
    cmd.args(["--base-url", &sb.base_url(), "--api-user", DEMO_API_USER, "--api-key", DEMO_API_KEY]);
    // The sandbox's calendar is pinned to `today()`, not the real date.
    cmd.args(["--today", &today().to_string()]);
    cmd.args(["--rate-limit", "100000", "--max-retries", "2", "--timeout", "10", "--quiet"]);
    cmd
}

fn run(cmd: &mut Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("the binary runs")
}

/// Checks one exported record (JSON) against its ground truth.
fn check_record(json: &Value, truth: &GroundRecord) {
    assert_eq!(json["email_id"], truth.email_id.as_str());
    assert_eq!(json["status"], truth.status_text(Language::Chinese).as_str());
    assert_eq!(json["category"], GroundRecord::category_name(truth.status_code));
    assert_eq!(json["sub_status"].as_u64(), truth.sub_status.map(u64::from));
    assert_eq!(json["api_user"], truth.api_user.as_str());
    assert_eq!(json["recipient"], truth.recipient.as_str());
    assert_eq!(json["request_time"], GroundRecord::rfc3339(truth.request_time).as_str());
    assert_eq!(json["modified_time"], GroundRecord::rfc3339(truth.modified_time).as_str());
    assert_eq!(json["send_log"], truth.send_log.as_str());
    if truth.sub_status.is_some() {
        assert!(json["sub_status_description"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

fn parse_jsonl(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}"))).collect()
}

fn check_jsonl(text: &str, truth: &[GroundRecord]) {
    let rows = parse_jsonl(text);
    assert_eq!(rows.len(), truth.len());
    for (row, t) in rows.iter().zip(truth) {
        let keys: BTreeSet<&str> = row.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, KEYS.into_iter().collect(), "exactly the documented keys");
        check_record(row, t);
    }
}

/// CSV rows as JSON-like maps (empty fields → null), for `check_record`.
fn parse_csv(text: &str) -> (Vec<String>, Vec<Value>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let mut m = serde_json::Map::new();
            for (k, v) in header.iter().zip(r.iter()) {
                let value = match (k.as_str(), v) {
                    ("sub_status" | "sub_status_description" | "extra", "") => Value::Null,
                    ("sub_status", v) => Value::from(v.parse::<u64>().unwrap()),
                    (_, v) => Value::from(v),
                };
                m.insert(k.clone(), value);
            }
            Value::Object(m)
        })
        .collect();
    (header, rows)
}

fn request_count(sb: &Sandbox) -> usize {
    sb.request_log().len()
}

// ---------------------------------------------------------------- query

#[test]
fn query_jsonl_is_the_default_when_piped_and_matches_ground_truth_across_windows() {
    let sb = small();
    // Five days: split into a 3-day and a 2-day window, several pages each.
    let out = ok(run(&mut cli(&sb), &["query", "--from", "2024-05-14", "--to", "2024-05-18"]));
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-14"), date("2024-05-18")));
    assert!(truth.len() > 100, "more than one page: {}", truth.len());
    check_jsonl(&out, &truth);
}

#[test]
fn query_days_is_resolved_to_dates_once() {
    let sb = small();
    let out = ok(run(&mut cli(&sb), &["query", "--days", "2", "--format", "jsonl"]));
    check_jsonl(&out, &sb.dataset().query(&Filter::days(today(), 2)));
    // Sent as the dates of the run's start, so a run past the server's
    // midnight keeps reading the same days.
    let log = sb.request_log();
    assert!(!log.is_empty());
    assert!(log.iter().all(|r| r.param("days").is_none()
        && r.param("startDate") == Some("2024-05-19")
        && r.param("endDate") == Some("2024-05-20")));
}

#[test]
fn query_csv_has_the_same_columns_and_values() {
    let sb = small();
    let out = ok(run(
        &mut cli(&sb),
        &["query", "--from", "2024-05-12", "--to", "2024-05-20", "--status", "invalid", "--format", "csv"],
    ));
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-12"), today()).with_status(4));
    let (header, rows) = parse_csv(&out);
    let mut expected: Vec<&str> = KEYS.to_vec();
    expected.push("extra");
    assert_eq!(header, expected);
    assert_eq!(rows.len(), truth.len());
    assert!(!truth.is_empty());
    for (row, t) in rows.iter().zip(&truth) {
        check_record(row, t);
        assert_eq!(row["extra"], Value::Null);
    }
}

#[test]
fn query_filters_reach_the_server() {
    let sb = small();
    let ds = sb.dataset();
    let (from, to) = (date("2024-05-11"), today());
    let all = ds.query(&Filter::dates(from, to));

    // --sub-status
    let out =
        ok(run(&mut cli(&sb), &["query", "--from", "2024-05-11", "--to", "2024-05-20", "--sub-status", "406,503"]));
    check_jsonl(&out, &ds.query(&Filter::dates(from, to).with_sub_status([406, 503])));

    // --email, in another case
    let address = all[3].recipient.to_uppercase();
    let out = ok(run(&mut cli(&sb), &["query", "--from", "2024-05-11", "--to", "2024-05-20", "--email", &address]));
    check_jsonl(&out, &ds.query(&Filter::dates(from, to).with_email(address.clone())));

    // --email-id, repeated and from a file
    let ids: Vec<String> = all.iter().step_by(7).take(25).map(|r| r.email_id.clone()).collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ids.txt");
    std::fs::write(&file, ids[2..].join("\n")).unwrap();
    let at_file = format!("@{}", file.display());
    let out = ok(run(
        &mut cli(&sb),
        &[
            "query",
            "--from",
            "2024-05-11",
            "--to",
            "2024-05-20",
            "--email-id",
            &ids[0],
            "--email-id",
            &ids[1],
            "--email-id",
            &at_file,
        ],
    ));
    check_jsonl(&out, &ds.query(&Filter::dates(from, to).with_email_ids(ids.clone())));

    // --label-id and --label-name
    let (label_id, label_name) = ds.labels()[1];
    let out = ok(run(
        &mut cli(&sb),
        &["query", "--from", "2024-05-11", "--to", "2024-05-20", "--label-id", &label_id.to_string()],
    ));
    check_jsonl(&out, &ds.query(&Filter::dates(from, to).with_label_id(label_id)));
    let out = ok(run(&mut cli(&sb), &["query", "--days", "3", "--label-name", label_name]));
    check_jsonl(&out, &ds.query(&Filter::days(today(), 3).with_label_name(label_name)));

    // --api-user-list
    let users = ds.api_users();
    let out = ok(run(&mut cli(&sb), &["query", "--days", "2", "--api-user-list", &users.join(",")]));
    let truth = ds.query(&Filter::days(today(), 2).with_api_users(users.clone()));
    assert!(truth.iter().any(|r| r.api_user != DEMO_API_USER));
    check_jsonl(&out, &truth);
}

#[test]
fn query_max_records_parallel_and_get_give_the_same_records() {
    let sb = small();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-11"), today()));
    let range = ["query", "--from", "2024-05-11", "--to", "2024-05-20"];

    let out = ok(run(cli(&sb).args(range), &["--max-records", "7"]));
    check_jsonl(&out, &truth[..7]);

    let out = ok(run(cli(&sb).args(range), &["--max-records", "150"]));
    check_jsonl(&out, &truth[..150]);

    let sequential = ok(run(cli(&sb).args(range), &[]));
    let parallel = ok(run(cli(&sb).args(range), &["--parallel", "4"]));
    assert_eq!(sequential, parallel);
    check_jsonl(&parallel, &truth);

    sb.clear_log();
    let get = ok(run(cli(&sb).args(range), &["--method", "get"]));
    assert_eq!(get, sequential);
    assert!(sb.request_log().iter().all(|r| r.method == "GET"));
}

#[test]
fn query_table_is_readable() {
    let sb = small();
    let out = ok(run(&mut cli(&sb), &["query", "--days", "1", "--format", "table"]));
    let truth = sb.dataset().query(&Filter::days(today(), 1));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), truth.len() + 1);
    assert!(lines[0].starts_with("REQUEST TIME"));
    assert!(lines[1].starts_with(&truth[0].request_time.format("%Y-%m-%d %H:%M:%S").to_string()));
}

#[test]
fn query_table_describes_in_english_unless_another_language_is_asked() {
    use sendcloud_status::{Language as Lang, SubStatus};
    let sb = small();
    let args = ["query", "--days", "3", "--status", "invalid", "--format", "table"];
    // The detail column follows the recipient column (widths 24, 11, 4, 36, two spaces between).
    let details = |language: &str| -> Vec<String> {
        let out = ok(run(&mut cli(&sb), &[&args[..], &["--language", language]].concat()));
        out.lines().skip(1).map(|l| l.chars().skip(24 + 2 + 11 + 2 + 4 + 2 + 36 + 2).collect()).collect()
    };
    let records = parse_jsonl(&ok(run(&mut cli(&sb), &["query", "--days", "3", "--status", "invalid"])));
    assert!(!records.is_empty());
    let code = |r: &Value| SubStatus::from_code(r["sub_status"].as_u64().unwrap() as u16);
    let expect = |lang| records.iter().map(|r| code(r).describe(lang)).collect::<Vec<_>>();
    assert_eq!(details("en"), expect(Lang::English));
    assert_eq!(ok(run(&mut cli(&sb), &args)).lines().skip(1).count(), records.len());
    assert_eq!(details("zh"), expect(Lang::Chinese));
    let server: Vec<String> =
        records.iter().map(|r| r["sub_status_description"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(details("server"), server);
    assert_ne!(details("server"), details("en"), "the sandbox writes its own words");
}

#[test]
fn output_file_is_complete_on_success_and_no_temporary_file_remains() {
    let sb = small();
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("export.csv");
    let out = run(&mut cli(&sb), &["query", "--from", "2024-05-11", "--to", "2024-05-20", "--output"]);
    assert_eq!(out.status.code(), Some(2), "--output needs a value");

    let out = ok(run(
        &mut cli(&sb),
        &["query", "--from", "2024-05-11", "--to", "2024-05-20", "--output", csv_path.to_str().unwrap()],
    ));
    assert!(out.is_empty(), "nothing on stdout");
    let text = std::fs::read_to_string(&csv_path).unwrap();
    let (_, rows) = parse_csv(&text); // .csv → CSV
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-11"), today()));
    assert_eq!(rows.len(), truth.len());
    rows.iter().zip(&truth).for_each(|(r, t)| check_record(r, t));

    let jsonl_path = dir.path().join("export.jsonl");
    ok(run(&mut cli(&sb), &["query", "--days", "3", "-o", jsonl_path.to_str().unwrap()]));
    check_jsonl(&std::fs::read_to_string(&jsonl_path).unwrap(), &sb.dataset().query(&Filter::days(today(), 3)));

    let names: BTreeSet<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["export.csv", "export.jsonl"].into_iter().map(String::from).collect());
}

#[test]
fn an_unwritable_output_exits_1_naming_the_given_path_before_any_request() {
    let sb = small();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("out.jsonl");
    let out = run(&mut cli(&sb), &["query", "--days", "1", "-o", path.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(path.to_str().unwrap()), "names the path given: {err}");
    assert!(!err.contains(".partial"), "not the hidden temporary file: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(request_count(&sb), 0, "no request was sent");
}

#[test]
fn subcommand_options_work_before_the_subcommand() {
    let sb = small();
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.csv");
    let after = dir.path().join("after.csv");
    ok(run(
        &mut cli(&sb),
        &["--format", "csv", "--days", "3", "--status", "invalid", "-o", before.to_str().unwrap(), "query"],
    ));
    ok(run(
        &mut cli(&sb),
        &["query", "--format", "csv", "--days", "3", "--status", "invalid", "-o", after.to_str().unwrap()],
    ));
    let (before, after) = (std::fs::read_to_string(before).unwrap(), std::fs::read_to_string(after).unwrap());
    let (_, rows) = parse_csv(&before);
    let truth: Vec<GroundRecord> =
        sb.dataset().query(&Filter::days(today(), 3)).into_iter().filter(|r| r.status_code == 4).collect();
    assert!(!truth.is_empty());
    assert_eq!(rows.len(), truth.len());
    assert_eq!(before, after);
}

#[test]
fn a_failed_export_leaves_no_output_file() {
    let sb = start(SandboxConfig::default().with_records(500).with_faults(FaultConfig::none().with_http_502(1.0)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.jsonl");
    let out = run(&mut cli(&sb), &["--max-retries", "0", "query", "--days", "1", "-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------- reports

#[test]
fn summary_json_counts_equal_ground_truth() {
    let sb = small();
    let out = ok(run(&mut cli(&sb), &["summary", "--from", "2024-05-11", "--to", "2024-05-20", "--format", "json"]));
    let json: Value = serde_json::from_str(&out).unwrap();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-11"), today()));

    assert_eq!(json["total"], truth.len());
    let mut by_category: HashMap<&str, u64> = HashMap::new();
    let mut by_sub: BTreeMap<u64, u64> = BTreeMap::new();
    let mut by_day: BTreeMap<String, u64> = BTreeMap::new();
    for t in &truth {
        *by_category.entry(GroundRecord::category_name(t.status_code)).or_default() += 1;
        if let Some(s) = t.sub_status {
            *by_sub.entry(u64::from(s)).or_default() += 1;
        }
        *by_day.entry(t.request_time.date().to_string()).or_default() += 1;
    }
    for line in json["categories"].as_array().unwrap() {
        let name = line["category"].as_str().unwrap();
        assert_eq!(line["count"].as_u64().unwrap(), by_category.get(name).copied().unwrap_or(0), "{name}");
    }
    let subs: BTreeMap<u64, u64> = json["sub_statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["code"].as_u64().unwrap(), s["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(subs, by_sub);
    let days: BTreeMap<String, u64> = json["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap().to_owned(), d["total"].as_u64().unwrap()))
        .collect();
    assert_eq!(days, by_day);
    let decided = ["delivered", "invalid", "soft_bounce"].iter().map(|c| by_category[c]).sum::<u64>() as f64;
    let rate = json["deliverability_rate"].as_f64().unwrap();
    assert!((rate - by_category["delivered"] as f64 / decided).abs() < 1e-12);
}

#[test]
fn reports_describe_in_the_language_asked() {
    let sb = small();
    let json = |args: &[&str]| -> Value { serde_json::from_str(&ok(run(&mut cli(&sb), args))).unwrap() };
    let descriptions = |v: &Value, key: &str| -> Vec<(u64, String)> {
        let list = if key.is_empty() { v.as_array().unwrap().clone() } else { v[key].as_array().unwrap().clone() };
        list.iter().map(|e| (e["code"].as_u64().unwrap_or(0), e["description"].as_str().unwrap().to_owned())).collect()
    };
    let chinese = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
    for (command, key) in [("summary", "sub_statuses"), ("suppressions", ""), ("soft-bounces", "")] {
        let base = [command, "--days", "3", "--format", "json"];
        let en = descriptions(&json(&base), key);
        let zh = descriptions(&json(&[&base[..], &["--language", "zh"]].concat()), key);
        assert!(!en.is_empty(), "{command}");
        assert_eq!(en.iter().map(|e| e.0).collect::<Vec<_>>(), zh.iter().map(|e| e.0).collect::<Vec<_>>(), "{command}");
        assert!(en.iter().all(|(_, d)| !chinese(d)), "{command}: {en:?}");
        assert!(zh.iter().all(|(_, d)| chinese(d)), "{command}: {zh:?}");
    }
}

#[test]
fn summary_table_is_readable() {
    let sb = small();
    let out = ok(run(&mut cli(&sb), &["summary", "--days", "3"]));
    let total = sb.dataset().query(&Filter::days(today(), 3)).len();
    assert!(out.contains("deliverability"), "{out}");
    assert!(
        out.contains(&format!("{total} emails"))
            || out.contains(&format!("{},{:03} emails", total / 1000, total % 1000))
    );
    for heading in ["CATEGORY", "SUB-STATUS", "DAY", "2024-05-18", "2024-05-20"] {
        assert!(out.contains(heading), "{heading} in {out}");
    }
}

/// The unique (case-insensitive) recipients with status 4.
fn hard_bounces(truth: &[GroundRecord]) -> BTreeSet<String> {
    truth.iter().filter(|r| r.status_code == 4).map(|r| r.recipient.to_lowercase()).collect()
}

#[test]
fn suppressions_are_the_unique_invalid_recipients() {
    let sb = small();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-11"), today()));
    let expected = hard_bounces(&truth);
    assert!(!expected.is_empty());

    sb.clear_log();
    let out = ok(run(&mut cli(&sb), &["suppressions", "--from", "2024-05-11", "--to", "2024-05-20"]));
    let lines: Vec<&str> = out.lines().collect();
    let got: BTreeSet<String> = lines.iter().map(|l| l.to_lowercase()).collect();
    assert_eq!(got.len(), lines.len(), "unique, case-insensitively");
    assert_eq!(got, expected);
    assert!(lines.iter().all(|l| l.contains('@') && !l.contains(',')), "addresses only");
    // Only invalid emails were fetched.
    assert!(sb.request_log().iter().all(|r| r.param("status") == Some("4")));

    let out =
        ok(run(&mut cli(&sb), &["suppressions", "--from", "2024-05-11", "--to", "2024-05-20", "--format", "csv"]));
    let mut reader = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["address", "reason", "code", "description", "failures", "last_seen"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.iter().map(|r| r[0].to_lowercase()).collect::<BTreeSet<_>>(), expected);
    assert!(rows.iter().all(|r| &r[1] == "permanent" && r[2].starts_with('4')));

    let out =
        ok(run(&mut cli(&sb), &["suppressions", "--from", "2024-05-11", "--to", "2024-05-20", "--format", "json"]));
    let json: Vec<Value> = serde_json::from_str(&out).unwrap();
    let failures: u64 = json.iter().map(|e| e["failures"].as_u64().unwrap()).sum();
    assert_eq!(failures, truth.iter().filter(|r| r.status_code == 4).count() as u64);
}

#[test]
fn suppressions_can_include_repeated_soft_bounces() {
    let sb = small();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-11"), today()));
    let mut soft: HashMap<String, u64> = HashMap::new();
    for r in truth.iter().filter(|r| r.status_code == 5) {
        *soft.entry(r.recipient.to_lowercase()).or_default() += 1;
    }
    let mut expected = hard_bounces(&truth);
    let repeated: BTreeSet<String> = soft.iter().filter(|&(_, &n)| n >= 2).map(|(a, _)| a.clone()).collect();
    assert!(!repeated.is_subset(&expected), "the dataset has repeated soft bounces to add");
    expected.extend(repeated);

    let out =
        ok(run(&mut cli(&sb), &["suppressions", "--from", "2024-05-11", "--to", "2024-05-20", "--soft-bounces", "2"]));
    let got: BTreeSet<String> = out.lines().map(str::to_lowercase).collect();
    assert_eq!(got, expected);
}

#[test]
fn soft_bounces_list_every_soft_bounced_address_with_advice() {
    let sb = small();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-11"), today()).with_status(5));
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for r in &truth {
        *expected.entry(r.recipient.to_lowercase()).or_default() += 1;
    }

    let out =
        ok(run(&mut cli(&sb), &["soft-bounces", "--from", "2024-05-11", "--to", "2024-05-20", "--format", "json"]));
    let json: Vec<Value> = serde_json::from_str(&out).unwrap();
    let got: BTreeMap<String, u64> =
        json.iter().map(|e| (e["address"].as_str().unwrap().to_lowercase(), e["bounces"].as_u64().unwrap())).collect();
    assert_eq!(got, expected);
    for e in &json {
        match e["advice"].as_str().unwrap() {
            "retry" => assert!(e["retry_at"].as_str().unwrap().ends_with("+08:00")),
            "give_up" => assert!(e["retry_at"].is_null()),
            other => panic!("advice {other}"),
        }
    }

    let out = ok(run(&mut cli(&sb), &["soft-bounces", "--from", "2024-05-11", "--to", "2024-05-20"]));
    let mut reader = csv::Reader::from_reader(out.as_bytes()); // CSV when piped
    assert_eq!(&reader.headers().unwrap()[0], "address");
    assert_eq!(reader.records().count(), expected.len());

    let out =
        ok(run(&mut cli(&sb), &["soft-bounces", "--from", "2024-05-11", "--to", "2024-05-20", "--format", "table"]));
    assert!(out.starts_with("ADDRESS"));
    assert_eq!(out.lines().count(), expected.len() + 1);
}

// ---------------------------------------------------------------- exit codes

#[test]
fn bad_input_exits_2_with_one_line_and_sends_nothing() {
    let sb = small();
    let cases: &[&[&str]] = &[
        &["query", "--days", "0"],
        &["query", "--days", "-3"],
        &["query", "--from", "2024-02-30", "--to", "2024-03-01"],
        &["query", "--from", "2024-05-01"],
        &["query", "--to", "2024-05-01"],
        &["query", "--from", "2024-05-03", "--to", "2024-05-01"],
        &["query", "--days", "1", "--from", "2024-05-01", "--to", "2024-05-02"],
        &["query"],
        &["query", "--days", "1", "--sub-status", "40x"],
        &["query", "--days", "1", "--sub-status", "200"],
        &["query", "--days", "1", "--status", "invalid", "--sub-status", "503"],
        &["query", "--days", "1", "--status", "bounced"],
        &["query", "--days", "1", "--email", "not-an-address"],
        &["query", "--days", "1", "--email-id", "a;b"],
        &["query", "--days", "1", "--label-id", "0"],
        &["query", "--days", "1", "--max-records", "0"],
        &["query", "--days", "1", "--format", "xml"],
        &["summary", "--days", "1", "--region", "mars"],
        &["summary", "--days", "1", "--timeout", "0"],
        &["suppressions", "--days", "1", "--soft-bounces", "0"],
        &["soft-bounces", "--days", "1", "--email-id", "@/nonexistent/ids.txt"],
        &["query", "--days", "1", "--no-such-flag"],
        &["frobnicate"],
    ];
    for args in cases {
        let out = run(&mut cli(&sb), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(request_count(&sb), 0, "no request was sent");

    let out = run(&mut cli(&sb), &["query", "--days", "0"]);
    assert!(stderr(&out).contains("--days"), "names the flag: {}", stderr(&out));
    let out = run(&mut cli(&sb), &["query", "--from", "2024-05-01"]);
    assert!(stderr(&out).contains("--to"));

    // Plain HTTP to a remote host and missing credentials: refused before sending.
    let out = run(
        &mut bin(),
        &["--api-user", "u", "--api-key", "k", "--base-url", "http://example.com/api/", "query", "--days", "1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = run(&mut bin(), &["--base-url", &sb.base_url(), "query", "--days", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--api-user"));
    assert_eq!(request_count(&sb), 0);
}

#[test]
fn wrong_key_exits_3_and_names_the_endpoint() {
    let sb = small();
    let out = run(
        &mut bin(),
        &["--base-url", &sb.base_url(), "--api-user", DEMO_API_USER, "--api-key", "wrong", "summary", "--days", "1"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.starts_with("error: ") && err.trim_end().lines().count() == 1, "{err}");
    assert!(err.contains(&sb.base_url()), "{err}");
    assert!(err.contains("region"), "{err}");
}

#[test]
fn rate_limit_after_retries_exits_4() {
    let sb = start(SandboxConfig::default().with_records(200).with_faults(FaultConfig::none().with_rate_limited(1.0)));
    let out = run(&mut cli(&sb), &["--max-retries", "1", "query", "--days", "1"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(request_count(&sb), 2, "one try and one retry");
}

#[test]
fn network_and_server_failures_exit_5() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let closed = format!("http://127.0.0.1:{port}/api/");
    let out = run(
        &mut bin(),
        &["--base-url", &closed, "--api-user", "u", "--api-key", "k", "--max-retries", "0", "query", "--days", "1"],
    );
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: "));

    let sb = start(SandboxConfig::default().with_records(200).with_faults(FaultConfig::none().with_http_502(1.0)));
    let out = run(&mut cli(&sb), &["--max-retries", "1", "summary", "--days", "1"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(request_count(&sb), 2);
}

// ---------------------------------------------------------------- secrets

#[test]
fn the_key_never_appears_in_any_output() {
    const SENTINEL: &str = "SENTINEL-7f3a9c-do-not-print";
    let sb = small();
    let base = sb.base_url();
    let with_key = |extra: &[&str]| -> Output {
        let mut cmd = bin();
        cmd.args(["--base-url", &base, "--api-user", DEMO_API_USER, "--api-key", SENTINEL, "--max-retries", "0"]);
        run(&mut cmd, extra)
    };
    let mut outputs = vec![
        with_key(&["-v", "query", "--days", "1"]),
        with_key(&["-vv", "--method", "get", "query", "--days", "1"]),
        with_key(&["-vv", "summary", "--days", "1"]),
        with_key(&["-v", "suppressions", "--days", "1"]),
        with_key(&["-v", "soft-bounces", "--days", "1", "--format", "json"]),
        with_key(&["--help"]),
        with_key(&["query", "--help"]),
        with_key(&["query", "--days", "0"]),
        run(&mut bin(), &["--sandbox", "-vv", "--api-key", SENTINEL, "query", "--days", "1"]),
    ];
    for args in [&["--help"][..], &["summary", "--help"], &["-vv", "query", "--days", "1"]] {
        let mut cmd = bin();
        cmd.env("SENDCLOUD_API_KEY", SENTINEL).env("SENDCLOUD_API_USER", DEMO_API_USER);
        cmd.args(["--base-url", &base]);
        outputs.push(run(&mut cmd, args));
    }
    for (i, out) in outputs.iter().enumerate() {
        let all = format!("{}{}", stdout(out), stderr(out));
        assert!(!all.contains(SENTINEL), "output {i} leaks the key: {all}");
        assert!(!all.contains("7f3a9c"), "output {i} leaks part of the key");
    }
    assert_eq!(outputs[0].status.code(), Some(3));
    assert!(stderr(&outputs[0]).contains("DEBUG"), "-v logs requests: {}", stderr(&outputs[0]));
    assert!(stdout(&outputs[5]).contains("SENDCLOUD_API_KEY"), "help names the variable");
    assert_eq!(outputs[8].status.code(), Some(3), "--sandbox with a wrong key: {}", stderr(&outputs[8]));

    // A successful run with the real (demo) key in -vv logs: redacted too.
    let out = run(&mut cli(&sb), &["-vv", "--method", "get", "query", "--days", "1"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr(&out).contains(DEMO_API_KEY), "{}", stderr(&out));
    assert!(stderr(&out).contains("TRACE") || stderr(&out).contains("DEBUG"));
}

#[test]
fn help_documents_exit_codes_and_environment() {
    let out = ok(run(&mut bin(), &["--help"]));
    for needle in [
        "Exit codes",
        "130",
        "SENDCLOUD_API_USER",
        "SENDCLOUD_REGION",
        "query",
        "summary",
        "suppressions",
        "soft-bounces",
        "sync",
        "status",
        "sandbox",
        "archive is busy",
    ] {
        assert!(out.contains(needle), "{needle} in help");
    }
    ok(run(&mut bin(), &["--version"]));
}

// ---------------------------------------------------------------- sandbox

#[test]
fn the_sandbox_flag_works_end_to_end() {
    let out = ok(run(&mut bin(), &["--sandbox", "query", "--days", "1", "--max-records", "5"]));
    let rows = parse_jsonl(&out);
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r["api_user"] == DEMO_API_USER));

    // The environment's credentials are for the real account: ignored.
    let out = bin()
        .env("SENDCLOUD_API_KEY", "real-key")
        .env("SENDCLOUD_API_USER", "real-user")
        .args(["--sandbox", "-q", "summary", "--days", "1", "--format", "json"])
        .output()
        .unwrap();
    let json: Value = serde_json::from_str(&ok(out)).unwrap();
    assert!(json["total"].as_u64().unwrap() > 0);
}

#[cfg(unix)]
fn interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[cfg(unix)]
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
fn spawn(args: &[String]) -> std::process::Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sendcloud-status"));
    for var in ["SENDCLOUD_API_USER", "SENDCLOUD_API_KEY", "SENDCLOUD_REGION", "SENDCLOUD_BASE_URL", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

#[cfg(unix)]
fn slow_export_args(sb: &Sandbox) -> Vec<String> {
    [
        "--base-url",
        &sb.base_url(),
        "--api-user",
        DEMO_API_USER,
        "--api-key",
        DEMO_API_KEY,
        "--rate-limit",
        "0",
        "query",
        "--from",
        "2024-05-11",
        "--to",
        "2024-05-20",
    ]
    .map(String::from)
    .to_vec()
}

#[cfg(unix)]
#[test]
fn ctrl_c_removes_a_partial_output_file_and_exits_130() {
    let sb = start(
        SandboxConfig::default().with_records(6_000).with_days_of_data(10).with_latency(Duration::from_millis(150)),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.jsonl");
    let mut args = slow_export_args(&sb);
    args.extend(["--output".to_owned(), path.display().to_string()]);
    let child = spawn(&args);
    wait_for("a few pages", || request_count(&sb) >= 3);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file exists meanwhile");
    interrupt(&child);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("interrupted"));
    assert!(!path.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no partial file remains");
}

#[cfg(unix)]
#[test]
fn ctrl_c_flushes_whole_lines_already_streamed_to_stdout() {
    use std::io::Read;
    let sb = start(
        SandboxConfig::default().with_records(6_000).with_days_of_data(10).with_latency(Duration::from_millis(150)),
    );
    // One request at a time: a 4th request is only sent once the pages before it were handed
    // to the writer (one page read ahead), whatever the machine's load.
    let mut args = slow_export_args(&sb);
    args.extend(["--parallel".to_owned(), "1".to_owned()]);
    let mut child = spawn(&args);
    let mut pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        pipe.read_to_string(&mut s).unwrap();
        s
    });
    wait_for("a few pages", || request_count(&sb) >= 4);
    interrupt(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let text = reader.join().unwrap();
    assert!(text.ends_with('\n'), "whole lines only");
    let rows = parse_jsonl(&text);
    assert!(rows.len() >= 200, "the pages read before Ctrl-C were flushed: {}", rows.len());
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-11"), today()));
    check_jsonl(&text, &truth[..rows.len()]);
}

#[cfg(unix)]
#[test]
fn the_sandbox_subcommand_serves_until_ctrl_c() {
    use std::io::{BufRead, BufReader};
    let args = ["sandbox", "--records", "300", "--today", "2024-05-20", "--rate-limit", "0"].map(String::from);
    let mut child = spawn(&args);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first.strip_prefix("sandbox listening on ").unwrap_or_else(|| panic!("{first}")).to_owned();
    let rest: Vec<String> = lines.by_ref().take(3).map(Result::unwrap).collect();
    assert!(rest.iter().any(|l| l.contains(DEMO_API_KEY)), "prints the demo credentials: {rest:?}");

    let mut cmd = bin();
    cmd.args(["--base-url", &base, "--api-user", DEMO_API_USER, "--api-key", DEMO_API_KEY]);
    let out = ok(run(&mut cmd, &["query", "--days", "1", "--today", "2024-05-20"]));
    let reference = start(SandboxConfig::default().with_records(300).with_seed(42));
    check_jsonl(&out, &reference.dataset().query(&Filter::days(today(), 1)));

    interrupt(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
}

#[test]
fn request_paths_stay_on_the_sandbox_and_post_is_the_default() {
    let sb = small();
    ok(run(&mut cli(&sb), &["query", "--days", "1"]));
    let log = sb.request_log();
    assert!(!log.is_empty());
    assert!(log.iter().all(|r| r.method == "POST" && !r.key_in_url && r.path == "/api/data/emailStatus"));
}

/// A sandbox on 2024-05-20 at 15:00 with three days of data, slowed a little
/// so that its live account moves while the CLI pages it.
fn live_sandbox(live: LiveConfig) -> Sandbox {
    let config = SandboxConfig::default()
        .with_records(40_000)
        .with_days_of_data(3)
        .with_now(today().and_hms_opt(15, 0, 0).unwrap())
        .with_rate_limit(None)
        .with_latency(Duration::from_millis(2))
        .with_live(live);
    Sandbox::start(config).expect("sandbox starts")
}

#[test]
fn query_sending_under_settling_loses_no_unchanged_row() {
    for cache in [CacheModel::PerRequest, CacheModel::Snapshot { ttl: Duration::from_millis(30) }] {
        let sb = live_sandbox(LiveConfig::off().with_cache(cache));
        let truth: Vec<String> =
            sb.dataset().query(&Filter::days(today(), 3).with_status(18)).into_iter().map(|g| g.email_id).collect();
        assert!(truth.len() > 300, "{}", truth.len());
        sb.set_live(LiveConfig::off().with_cache(cache).with_settle_per_second(300.0));
        let out = run(&mut cli(&sb), &["-v", "query", "--days", "3", "--status", "sending", "--format", "jsonl"]);
        let err = stderr(&out);
        let got: Vec<String> =
            parse_jsonl(&ok(out)).iter().map(|r| r["email_id"].as_str().unwrap().to_owned()).collect();
        let settled: BTreeSet<String> = sb.changes().into_iter().map(|c| c.email_id).collect();
        assert!(!settled.is_empty(), "rows settled during the run");
        let emitted: BTreeSet<&String> = got.iter().collect();
        assert_eq!(emitted.len(), got.len(), "no record twice");
        let lost: Vec<&String> = truth.iter().filter(|id| !settled.contains(*id) && !emitted.contains(id)).collect();
        assert!(lost.is_empty(), "{cache:?}: {} unchanged rows lost; {err}", lost.len());
        assert!(got.iter().all(|id| truth.contains(id)), "only rows of the window");
        // -v ends with the counters of the export; an exact one warns of nothing.
        assert!(err.contains("passes ("), "{err}");
        assert!(!err.contains("warning:"), "{err}");
    }
}

#[test]
fn query_across_the_servers_midnight_keeps_the_window_of_its_start() {
    let sb = live_sandbox(LiveConfig::off().with_day_advance(DayAdvance::AfterRequests(3)));
    let truth = sb.dataset().query(&Filter::days(today(), 2));
    let out = ok(run(&mut cli(&sb), &["--quiet", "query", "--days", "2", "--format", "jsonl"]));
    assert!(sb.now().date() > today(), "the server's day moved on during the run");
    check_jsonl(&out, &truth);
}
