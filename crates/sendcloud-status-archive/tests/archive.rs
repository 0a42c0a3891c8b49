//! The archive against its contract: the schema, upsert and history
//! semantics, and syncs against a loopback sandbox checked row by row
//! against the sandbox's ground truth.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusqlite::Connection;
use sendcloud_status::chrono::{NaiveDate, NaiveDateTime};
use sendcloud_status::core::Decoder;
use sendcloud_status::core::sync::SyncPolicy;
use sendcloud_status::core::webhook::WebhookEvent;
use sendcloud_status::{Category, Client, Query, Record, Status, SubStatus};
use sendcloud_status_archive::{
    APPLICATION_ID, Archive, Error, EventWrite, SCHEMA_VERSION, Scope, Selection, ServerClock, SyncLock, SyncOptions,
};
use sendcloud_status_sandbox::{
    DEMO_API_KEY, DEMO_API_USER, Filter, GroundRecord, Language, LiveConfig, Sandbox, SandboxConfig,
};

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn today() -> NaiveDate {
    date("2024-05-20")
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

/// Decoded records from JSON rows, as a page of the API would give them.
fn records(rows: &str) -> Vec<Record> {
    let body = format!(r#"{{"result":true,"statusCode":200,"info":{{"voList":[{rows}]}}}}"#);
    Decoder::default().decode(200, body.as_bytes()).unwrap().records
}

fn row(id: &str, status: &str, sub: Option<u16>, modified: &str) -> String {
    let sub = sub.map_or(String::new(), |s| format!(r#","subStatus":{s}"#));
    format!(
        r#"{{"emailId":"{id}","status":"{status}","apiUser":"u","recipients":"a@x.com",
            "requestTime":"2024-05-20 10:00:00","modifiedTime":"{modified}","sendLog":"log"{sub}}}"#
    )
}

fn db(path: &Path) -> Connection {
    Connection::open(path).unwrap()
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

// ---------------------------------------------------------------- schema

#[test]
fn a_new_archive_has_the_documented_tables_columns_and_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let archive = Archive::open(&path).unwrap();
    assert_eq!(archive.schema_version().unwrap(), SCHEMA_VERSION);
    drop(archive);
    let conn = db(&path);
    let columns = |table: &str| -> Vec<String> {
        let mut s = conn.prepare(&format!("PRAGMA table_info({table})")).unwrap();
        s.query_map([], |r| r.get(1)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(
        columns("emails"),
        [
            "email_id",
            "api_user",
            "recipient",
            "status",
            "category",
            "sub_status",
            "sub_status_description",
            "request_time",
            "modified_time",
            "send_log",
            "extra",
            "first_seen_at",
            "last_seen_at"
        ]
    );
    assert_eq!(
        columns("status_history"),
        ["email_id", "seq", "status", "category", "sub_status", "modified_time", "seen_at", "run_id", "event", "token"]
    );
    assert_eq!(
        columns("webhook_events"),
        [
            "token",
            "email_id",
            "event",
            "event_name",
            "category",
            "sub_status",
            "timestamp",
            "event_time",
            "recipient",
            "api_user",
            "fields",
            "received_at",
            "history_seq"
        ]
    );
    assert_eq!(
        columns("sync_runs"),
        [
            "id",
            "started_at",
            "finished_at",
            "outcome",
            "scope",
            "days_read",
            "requests",
            "records_seen",
            "inserted",
            "changed",
            "error"
        ]
    );
    assert_eq!(columns("sync_days"), ["scope", "day", "complete", "last_read_at", "rows", "sending", "run_id"]);
    assert_eq!(count(&conn, "PRAGMA user_version"), i64::from(SCHEMA_VERSION));
    assert_eq!(count(&conn, "PRAGMA application_id"), i64::from(APPLICATION_ID));
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn reopening_migrates_nothing_and_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut archive = Archive::open(&path).unwrap();
    archive
        .ingest(&records(&row("id1$a@x.com", "投递成功", None, "2024-05-20 10:00:01")), at("2024-05-20 11:00:00"))
        .unwrap();
    drop(archive);
    let archive = Archive::open_existing(&path).unwrap();
    assert_eq!(archive.records(&Selection::all()).unwrap().len(), 1);
}

#[test]
fn files_that_are_not_current_archives_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    // Missing (for readers).
    let missing = dir.path().join("missing.db");
    assert!(matches!(Archive::open_existing(&missing), Err(Error::Missing { .. })));
    assert!(!missing.exists(), "a reader does not create the file");
    // Another application's database.
    let other = dir.path().join("other.db");
    db(&other).execute_batch("CREATE TABLE notes (x); INSERT INTO notes VALUES (1);").unwrap();
    let bytes = std::fs::read(&other).unwrap();
    let err = Archive::open(&other).unwrap_err();
    assert!(matches!(err, Error::NotAnArchive { .. }), "{err}");
    assert_eq!(std::fs::read(&other).unwrap(), bytes, "left as it was, byte for byte (no switch to WAL)");
    assert_eq!(count(&db(&other), "SELECT count(*) FROM sqlite_schema"), 1, "left as it was");
    // Not a database at all.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello, this is not SQLite, just some text that is long enough to be a header......")
        .unwrap();
    let err = Archive::open(&text).unwrap_err();
    assert!(matches!(err, Error::NotAnArchive { .. }), "{err}");
    // An archive from a newer version.
    let newer = dir.path().join("newer.db");
    drop(Archive::open(&newer).unwrap());
    db(&newer).pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
    let err = Archive::open(&newer).unwrap_err();
    assert!(matches!(err, Error::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1), "{err}");
    assert!(err.to_string().contains("upgrade"), "{err}");
}

// ---------------------------------------------------------------- upserts

#[test]
fn emails_of_an_address_or_one_id_come_with_their_history() {
    let mut archive = Archive::open_in_memory().unwrap();
    let sending = [
        row("id1$a@x.com", "请求中", None, "2024-05-20 10:00:00"),
        row("id2$a@x.com", "请求中", None, "2024-05-20 10:00:01"),
    ];
    archive.ingest(&records(&sending.join(",")), at("2024-05-20 11:00:00")).unwrap();
    archive
        .ingest(&records(&row("id1$a@x.com", "投递成功", None, "2024-05-20 10:05:00")), at("2024-05-20 12:00:00"))
        .unwrap();
    let ids = |target: &str| -> Vec<(String, usize)> {
        let selection = sendcloud_status_archive::Selection::all().address_or_email_id(target);
        archive.emails(&selection).unwrap().into_iter().map(|e| (e.record.email_id.unwrap(), e.history.len())).collect()
    };
    assert_eq!(ids("A@x.com"), [("id1$a@x.com".to_owned(), 2), ("id2$a@x.com".to_owned(), 1)], "by address, any case");
    assert_eq!(ids("id2$a@x.com"), [("id2$a@x.com".to_owned(), 1)], "an id holds a $");
    assert!(ids("b@x.com").is_empty());
}

#[test]
fn upserts_keep_one_row_per_email_and_add_history_only_on_change() {
    let mut archive = Archive::open_in_memory().unwrap();
    let first = records(
        &[
            row("id1$a@x.com", "请求中", None, "2024-05-20 10:00:00"),
            row("id2$a@x.com", "投递成功", None, "2024-05-20 10:00:03"),
        ]
        .join(","),
    );
    let out = archive.ingest(&first, at("2024-05-20 11:00:00")).unwrap();
    assert_eq!((out.inserted, out.changed, out.unchanged), (2, 0, 0));
    // The same states again, even twice in one batch: nothing new.
    let again: Vec<Record> = first.iter().chain(&first).cloned().collect();
    let out = archive.ingest(&again, at("2024-05-20 12:00:00")).unwrap();
    assert_eq!((out.inserted, out.changed, out.unchanged), (0, 0, 4));
    assert_eq!(archive.history("id1$a@x.com").unwrap().len(), 1);

    // id1 settles: one more history row; the row follows; first_seen_at stays.
    let settled = records(&row("id1$a@x.com", "软退信-服务不可达", Some(503), "2024-05-20 10:05:00"));
    let out = archive.ingest(&settled, at("2024-05-20 13:00:00")).unwrap();
    assert_eq!((out.inserted, out.changed), (0, 1));
    let email = archive.email("id1$a@x.com").unwrap().unwrap();
    assert_eq!(email.record.category, sendcloud_status::Category::SoftBounce);
    assert_eq!(email.record.sub_status.map(|s| s.code()), Some(503));
    assert_eq!(email.first_seen_at, "2024-05-20T11:00:00+08:00");
    assert_eq!(email.last_seen_at, "2024-05-20T13:00:00+08:00");
    let history: Vec<(&str, Option<u16>, &str)> =
        email.history.iter().map(|h| (h.category.name(), h.sub_status, h.seen_at.as_str())).collect();
    assert_eq!(
        history,
        [("sending", None, "2024-05-20T11:00:00+08:00"), ("soft_bounce", Some(503), "2024-05-20T13:00:00+08:00")]
    );
    assert_eq!(email.history[1].modified_time.as_deref(), Some("2024-05-20T10:05:00+08:00"));

    // A field outside the state (the send log) is updated without history.
    let mut relogged = settled.clone();
    relogged[0].send_log = Some("another answer".into());
    let out = archive.ingest(&relogged, at("2024-05-20 14:00:00")).unwrap();
    assert_eq!((out.changed, out.unchanged), (0, 1));
    let email = archive.email("id1$a@x.com").unwrap().unwrap();
    assert_eq!(email.record.send_log.as_deref(), Some("another answer"));
    assert_eq!(email.history.len(), 2);

    // Rows without an id cannot be archived; they are counted.
    let out = archive.ingest(&records(r#"{"status":"投递成功"}"#), at("2024-05-20 14:00:00")).unwrap();
    assert_eq!(out.without_id, 1);
    assert_eq!(archive.records(&Selection::all()).unwrap().len(), 2);
}

#[test]
fn stale_states_never_move_an_email_back() {
    let mut archive = Archive::open_in_memory().unwrap();
    let sending = records(&row("id1$a@x.com", "请求中", None, "2024-05-20 10:00:00"));
    let delivered = records(&row("id1$a@x.com", "投递成功", None, "2024-05-20 10:00:00"));
    archive.ingest(&sending, at("2024-05-20 11:00:00")).unwrap();
    // Settled within the same second: a change.
    assert_eq!(archive.ingest(&delivered, at("2024-05-20 11:01:00")).unwrap().changed, 1);
    // A cached answer shows it sending again: stale, ignored.
    let out = archive.ingest(&sending, at("2024-05-20 11:02:00")).unwrap();
    assert_eq!((out.changed, out.stale), (0, 1));
    // So is an older modified time.
    let older = records(&row("id1$a@x.com", "无效邮件-地址不存在", Some(406), "2024-05-20 09:59:59"));
    assert_eq!(archive.ingest(&older, at("2024-05-20 11:03:00")).unwrap().stale, 1);
    let email = archive.email("id1$a@x.com").unwrap().unwrap();
    assert_eq!(email.record.category, sendcloud_status::Category::Delivered);
    assert_eq!(email.history.len(), 2);
    assert_eq!(email.last_seen_at, "2024-05-20T11:03:00+08:00", "a stale sighting still counts as seen");
}

/// A parsed webhook event (the signature is not checked here).
fn event(kind: &str, id: &str, ms: i64, token: &str, sub: Option<u16>) -> WebhookEvent {
    let sub = sub.map_or(String::new(), |s| format!("&subStatus={s}"));
    let body = format!(
        "event={kind}&emailId={}&recipient=a%40x.com&apiUser=u&timestamp={ms}&token={token}&signature=00{sub}&ip=1.2.3.4",
        id.replace('$', "%24").replace('@', "%40")
    );
    WebhookEvent::parse(body.as_bytes()).unwrap()
}

/// 2024-05-20 10:00:00 at +08:00, plus `s` seconds, in Unix milliseconds.
fn ms(s: i64) -> i64 {
    1_716_170_400_000 + s * 1000
}

#[test]
fn webhook_events_are_stored_once_and_never_move_an_email_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut archive = Archive::open(dir.path().join("a.db")).unwrap();
    let id = "1716170400000_1$a@x.com";
    let received = at("2024-05-20 10:00:20");
    let delivered = event("deliver", id, ms(10), "tok-1", None);
    assert_eq!(
        archive.record_event(&delivered, received).unwrap(),
        EventWrite::Stored { history: true, email_changed: true }
    );
    let email = archive.email(id).unwrap().unwrap();
    assert_eq!(email.record.category, Category::Delivered);
    assert_eq!(email.record.recipient.as_deref(), Some("a@x.com"));
    assert_eq!(email.history[0].event.as_deref(), Some("delivered"));
    assert_eq!(email.history[0].modified_time.as_deref(), Some("2024-05-20T10:00:10+08:00"));

    // The same token again, and the same event under a fresh token: nothing written.
    assert_eq!(archive.record_event(&delivered, received).unwrap(), EventWrite::RepeatedToken);
    let again = event("delivered", id, ms(10), "tok-2", None);
    assert_eq!(archive.record_event(&again, received).unwrap(), EventWrite::RepeatedEvent);

    // Out of order: the request event arrives after the delivery. History only.
    let request = event("request", id, ms(0), "tok-3", None);
    assert_eq!(
        archive.record_event(&request, received).unwrap(),
        EventWrite::Stored { history: true, email_changed: false }
    );
    assert_eq!(archive.email(id).unwrap().unwrap().record.category, Category::Delivered);

    // An engagement event is kept, but is no state.
    let open = event("open", id, ms(30), "tok-4", None);
    assert_eq!(
        archive.record_event(&open, received).unwrap(),
        EventWrite::Stored { history: false, email_changed: false }
    );
    assert_eq!(archive.event_count().unwrap(), 3);
    assert!(archive.has_event_token("tok-4").unwrap());
    assert!(!archive.has_event_token("tok-2").unwrap());
    let email = archive.email(id).unwrap().unwrap();
    assert_eq!(email.history.len(), 2);

    // A sync then reads the same state from the API (an earlier, whole-second
    // modifiedTime): its display text and send log replace the event's name,
    // no history row, and the state does not move back.
    let api = records(&row(id, "投递成功", None, "2024-05-20 10:00:09"));
    let out = archive.ingest(&api, at("2024-05-20 10:05:00")).unwrap();
    assert_eq!((out.changed, out.unchanged, out.stale), (0, 1, 0));
    let email = archive.email(id).unwrap().unwrap();
    assert_eq!(email.record.status.as_deref(), Some("投递成功"));
    assert_eq!(email.record.send_log.as_deref(), Some("log"));
    assert_eq!(email.record.modified_time.unwrap().to_rfc3339_or_raw(), "2024-05-20T10:00:10+08:00");
    assert_eq!(email.history.len(), 2);

    // A newer bounce moves it forward; its sub-status is kept.
    let other = "1716170400000_2$b@x.com";
    archive.record_event(&event("soft_bounce", other, ms(5), "tok-5", Some(503)), received).unwrap();
    archive.record_event(&event("invalid_email", other, ms(50), "tok-6", Some(406)), received).unwrap();
    let email = archive.email(other).unwrap().unwrap();
    assert_eq!((email.record.category, email.record.sub_status), (Category::Invalid, Some(SubStatus::AddressNotExist)));
    assert_eq!(email.history.len(), 2);
    let fields: String = archive_fields(&archive, "tok-6");
    let fields: serde_json::Value = serde_json::from_str(&fields).unwrap();
    assert_eq!((fields["event"].as_str(), fields["ip"].as_str()), (Some("invalid_email"), Some("1.2.3.4")));
}

fn archive_fields(archive: &Archive, token: &str) -> String {
    let conn = db(archive.path());
    conn.query_row("SELECT fields FROM webhook_events WHERE token = ?1", [token], |r| r.get(0)).unwrap()
}

#[test]
fn records_come_back_exactly_as_they_were_decoded() {
    let mut archive = Archive::open_in_memory().unwrap();
    let rows = records(
        r#"{"emailId":"a$x@y.com","status":"无效邮件-地址不存在","subStatus":406,"subStatusDesc":"地址不存在",
            "apiUser":"u","recipients":"x@y.com","requestTime":"2024-05-20 10:00:00",
            "modifiedTime":"2024-05-20T10:00:05.250","sendLog":"550","labelId":7,"opened":true},
           {"emailId":"b$x@y.com","status":"???","requestTime":"yesterday"}"#,
    );
    archive.ingest(&rows, at("2024-05-20 11:00:00")).unwrap();
    let mut back = archive.records(&Selection::all()).unwrap();
    back.sort_by(|a, b| a.email_id.cmp(&b.email_id));
    // Every field and every output agree; only the raw text of a time in a
    // tolerated non-canonical form is not kept (it is stored as RFC 3339).
    let json = |r: &Record| serde_json::to_value(r).unwrap();
    assert_eq!(back.iter().map(json).collect::<Vec<_>>(), rows.iter().map(json).collect::<Vec<_>>());
    assert_eq!(back[1], rows[1]);
    assert_eq!(back[0].modified_time.as_ref().unwrap().datetime(), rows[0].modified_time.as_ref().unwrap().datetime());
    assert_eq!(json(&back[0])["modified_time"], "2024-05-20T10:00:05.250+08:00");
    assert_eq!(json(&back[1])["request_time"], "yesterday");
}

// ---------------------------------------------------------------- syncs

fn sandbox(records: u64, days: u32) -> Sandbox {
    let config = SandboxConfig::default()
        .with_records(records)
        .with_days_of_data(days)
        .with_today(today())
        .with_rate_limit(None)
        .with_seed(5);
    Sandbox::start(config).unwrap()
}

fn client(sb: &Sandbox) -> Client {
    Client::builder()
        .ignore_env()
        .credentials(DEMO_API_USER, DEMO_API_KEY)
        .base_url(sb.base_url())
        .rate_limit_per_minute(None)
        .build()
        .unwrap()
}

fn all_users(sb: &Sandbox) -> Vec<String> {
    sb.dataset().api_users().into_iter().map(str::to_owned).collect()
}

fn options(sb: &Sandbox, since: &str) -> SyncOptions {
    SyncOptions::default()
        .policy(SyncPolicy::default().since(Some(date(since))).rescan_after(Duration::ZERO))
        .api_users(all_users(sb))
        .clock(ServerClock::At(sb.now()))
}

/// The `emails` table equals the ground truth, field by field.
fn assert_equals_truth(path: &Path, truth: &[GroundRecord]) {
    let conn = db(path);
    let mut s = conn
        .prepare(
            "SELECT email_id, api_user, recipient, status, category, sub_status, request_time, modified_time, send_log
             FROM emails ORDER BY email_id",
        )
        .unwrap();
    type Row = (String, String, String, String, String, Option<u16>, String, String, String);
    let rows: Vec<Row> = s
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let t = |x: NaiveDateTime| x.format("%Y-%m-%dT%H:%M:%S+08:00").to_string();
    let mut expected: Vec<Row> = truth
        .iter()
        .map(|g| {
            (
                g.email_id.clone(),
                g.api_user.clone(),
                g.recipient.clone(),
                g.status_text(Language::Chinese),
                GroundRecord::category_name(g.status_code).to_owned(),
                g.sub_status,
                t(g.request_time),
                t(g.modified_time),
                g.send_log.clone(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(rows.len(), expected.len(), "row count");
    for (got, want) in rows.iter().zip(&expected) {
        assert_eq!(got, want);
    }
}

#[test]
fn a_sync_equals_the_server_and_a_second_one_adds_nothing() {
    let sb = sandbox(6_000, 6);
    let c = client(&sb);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut archive = Archive::open(&path).unwrap();
    let mut calls = 0;
    let report = archive.sync(&c, &options(&sb, "2024-05-15"), |_| calls += 1).unwrap();
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-15"), today()).with_api_users(all_users(&sb)));
    assert_eq!(report.days_read, 6);
    assert!(report.is_exact());
    assert_eq!((report.records_seen, report.ingested.inserted), (truth.len() as u64, truth.len() as u64));
    assert!(calls > 0, "progress reported");
    assert_equals_truth(&path, &truth);
    let conn = db(&path);
    assert_eq!(count(&conn, "SELECT count(*) FROM status_history"), truth.len() as i64);
    let run: (String, i64, i64) = conn
        .query_row("SELECT outcome, requests, inserted FROM sync_runs", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!(run, ("complete".to_owned(), report.requests as i64, truth.len() as i64));

    // The planner's memory: every day complete, its rows and sending rows counted.
    let scope = Scope::new(all_users(&sb)).unwrap();
    let states = archive.day_states(&scope).unwrap();
    assert_eq!(states.len(), 6);
    for s in &states {
        let day = truth.iter().filter(|g| g.request_time.date() == s.day);
        let sending = truth.iter().filter(|g| g.request_time.date() == s.day && g.status_code == 18).count();
        assert!(s.complete, "{}", s.day);
        assert_eq!((s.rows, s.sending), (day.count() as u64, sending as u64), "{}", s.day);
    }

    // Again, nothing changed on the server: the lookback is read, nothing written.
    let again = archive.sync(&c, &options(&sb, "2024-05-15"), |_| {}).unwrap();
    assert_eq!((again.ingested.inserted, again.ingested.changed), (0, 0));
    assert!(again.days_read >= 4, "the lookback was read: {again}");
    assert_eq!(count(&conn, "SELECT count(*) FROM status_history"), truth.len() as i64, "no history added");
    assert_equals_truth(&path, &truth);
    assert_eq!(count(&conn, "SELECT count(*) FROM sync_runs WHERE outcome = 'complete'"), 2);
}

#[test]
fn rows_that_settle_between_syncs_get_their_new_state_in_the_history() {
    let sb = sandbox(4_000, 5);
    let c = client(&sb);
    let mut archive = Archive::open_in_memory().unwrap();
    archive.sync(&c, &options(&sb, "2024-05-16"), |_| {}).unwrap();
    sb.set_live(LiveConfig::off().with_settle_per_second(400.0));
    std::thread::sleep(Duration::from_millis(150));
    sb.set_live(LiveConfig::off());
    let settled: Vec<String> = sb.changes().into_iter().map(|c| c.email_id).collect();
    assert!(settled.len() >= 20, "{}", settled.len());
    let report = archive.sync(&c, &options(&sb, "2024-05-16"), |_| {}).unwrap();
    assert_eq!(report.ingested.changed, settled.len() as u64);
    for id in &settled {
        let email = archive.email(id).unwrap().unwrap();
        let states: Vec<&str> = email.history.iter().map(|h| h.category.name()).collect();
        assert_eq!(states.len(), 2, "{id}: {states:?}");
        assert_eq!(states[0], "sending");
        assert_ne!(states[1], "sending");
        assert_eq!(email.record.category.name(), states[1]);
    }
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-16"), today()).with_api_users(all_users(&sb)));
    let archived = archive.records(&Selection::all()).unwrap();
    let by_id: BTreeMap<&str, &Record> = archived.iter().map(|r| (r.email_id.as_deref().unwrap(), r)).collect();
    assert_eq!(by_id.len(), truth.len());
    for g in &truth {
        assert_eq!(
            by_id[g.email_id.as_str()].category.name(),
            GroundRecord::category_name(g.status_code),
            "{}",
            g.email_id
        );
    }
}

#[test]
fn old_days_still_sending_are_read_by_the_ids_of_those_rows() {
    // Ten days; the lookback covers the last four; older days hold ~2 % sending rows.
    let sb = sandbox(20_000, 10);
    let c = client(&sb);
    let mut archive = Archive::open_in_memory().unwrap();
    let opts = options(&sb, "2024-05-11");
    archive.sync(&c, &opts, |_| {}).unwrap();
    sb.clear_log();
    let report = archive.sync(&c, &opts, |_| {}).unwrap();
    let log = sb.request_log();
    let by_ids: Vec<_> = log.iter().filter(|r| r.param("emailIds").is_some()).collect();
    // 2024-05-13 .. 2024-05-16: within the 7-day maximum age, before the lookback.
    let days: std::collections::BTreeSet<&str> = by_ids.iter().filter_map(|r| r.param("startDate")).collect();
    assert_eq!(days.into_iter().collect::<Vec<_>>(), ["2024-05-13", "2024-05-14", "2024-05-15", "2024-05-16"]);
    assert!(by_ids.iter().all(|r| r.param("startDate") == r.param("endDate")));
    assert_eq!(report.days_read, 4 + 4);
    assert_eq!(report.ingested.changed, 0);
}

#[test]
fn a_second_writer_is_told_the_archive_is_busy_and_readers_are_not_blocked() {
    let sb = sandbox(500, 2);
    let c = client(&sb);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut first = Archive::open(&path).unwrap();
    first.sync(&c, &options(&sb, "2024-05-19"), |_| {}).unwrap();
    let lock = SyncLock::acquire(&path).unwrap(); // a sync in progress elsewhere
    let mut second = Archive::open(&path).unwrap();
    let err = second.sync(&c, &options(&sb, "2024-05-19"), |_| {}).unwrap_err();
    assert!(matches!(err, Error::Busy { .. }), "{err}");
    assert!(err.to_string().contains("busy"));
    let reader = Archive::open_existing(&path).unwrap();
    assert!(!reader.records(&Selection::all()).unwrap().is_empty());
    drop(lock);
    second.sync(&c, &options(&sb, "2024-05-19"), |_| {}).unwrap();
}

#[test]
fn a_cancelled_sync_keeps_whole_pages_and_the_next_one_finishes() {
    let sb = sandbox(4_000, 4);
    let c = client(&sb);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut archive = Archive::open(&path).unwrap();
    let flag = Arc::new(AtomicBool::new(false));
    let opts = options(&sb, "2024-05-17").cancel_flag(flag.clone());
    // Stop after the first page, from the progress callback (any thread may set the flag).
    let err = archive.sync(&c, &opts, |_| flag.store(true, Ordering::Release)).unwrap_err();
    assert!(matches!(err, Error::Cancelled), "{err}");
    let conn = db(&path);
    let (outcome, error): (String, Option<String>) =
        conn.query_row("SELECT outcome, error FROM sync_runs", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((outcome.as_str(), error), ("interrupted", None));
    let kept = count(&conn, "SELECT count(*) FROM emails");
    assert!(kept > 0 && kept % 100 == 0, "whole pages only: {kept}");
    // A flag set before the start stops it before any request.
    sb.clear_log();
    assert!(matches!(archive.sync(&c, &opts, |_| {}), Err(Error::Cancelled)));
    assert!(sb.request_log().is_empty());

    flag.store(false, Ordering::Release);
    let report = archive.sync(&c, &opts, |_| {}).unwrap();
    assert!(report.is_exact());
    let truth = sb.dataset().query(&Filter::dates(date("2024-05-17"), today()).with_api_users(all_users(&sb)));
    assert_equals_truth(&path, &truth);
}

#[test]
fn offline_selections_answer_like_the_api() {
    let sb = sandbox(3_000, 4);
    let c = client(&sb);
    let mut archive = Archive::open_in_memory().unwrap();
    archive.sync(&c, &options(&sb, "2024-05-17"), |_| {}).unwrap();
    let some_address = sb.dataset().query(&Filter::days(today(), 2).with_status(4))[0].recipient.clone();
    let users = all_users(&sb);
    let queries = [
        Query::builder().days(2).build().unwrap(),
        Query::builder().dates(date("2024-05-17"), date("2024-05-19")).status(Status::Invalid).build().unwrap(),
        Query::builder().days(4).sub_status([503, 509]).api_users(users.iter()).build().unwrap(),
        Query::builder().days(4).email(some_address.to_uppercase()).api_users(users.iter()).build().unwrap(),
    ];
    for query in queries {
        let online: Vec<Record> =
            c.export(query.clone()).today(today()).records().unwrap().map(Result::unwrap).collect();
        let mut selection = Selection::from_query(&query, today()).unwrap();
        if selection.api_users.is_empty() {
            selection = selection.api_users([DEMO_API_USER]); // the server's default
        }
        let offline = archive.records(&selection).unwrap();
        assert!(!online.is_empty(), "{query:?}");
        assert_eq!(offline, online, "{query:?}");
    }
    let labels = Query::builder().days(1).label_id(1).build().unwrap();
    assert!(matches!(Selection::from_query(&labels, today()), Err(Error::Unsupported(_))));
}
