//! `status ADDRESS|EMAIL_ID`: every send to an address (or one email), its
//! current state and, from an archive, the states it went through.

use std::fmt::Write as _;

use sendcloud_status::{Record, ServerTime, Status, Wording};
use sendcloud_status_archive::{ArchivedEmail, Selection};
use serde_json::{Value, json};

use crate::cli::{FilterArgs, GlobalArgs, StatusArgs, StatusFormat};
use crate::exit::Failure;
use crate::filters::Filters;
use crate::offline::Offline;
use crate::output::json_document;

/// One email of the timeline: its record and, from an archive, its history.
struct Entry {
    record: Record,
    archived: Option<ArchivedEmail>,
}

pub fn run(g: &GlobalArgs, args: &StatusArgs) -> Result<(), Failure> {
    let target = args.target.trim();
    if target.is_empty() {
        return Err(Failure::usage("give an address or an email id"));
    }
    // Email ids hold a `$` (`…$someone@example.com`); addresses cannot.
    let by_id = target.contains('$');
    let window_given = args.days.is_some() || args.from.is_some() || args.to.is_some();
    let filters = FilterArgs {
        days: if window_given { args.days } else { Some(30) },
        from: args.from.clone(),
        to: args.to.clone(),
        email: (!by_id).then(|| target.to_owned()),
        email_ids: if by_id { vec![target.to_owned()] } else { Vec::new() },
        api_user_list: args.api_user_list.clone(),
        ..FilterArgs::default()
    };
    if target.starts_with('@') && by_id {
        return Err(Failure::usage("invalid email id: it starts with '@' (ids look like 1716…$someone@example.com)"));
    }
    let query = Filters::from_args(&filters)?.build(None)?;
    let path = args.output.output.as_deref();
    let format = args.format.unwrap_or(match super::extension(path).as_deref() {
        Some("json") => StatusFormat::Json,
        _ => StatusFormat::Table,
    });

    let (entries, from) = match &args.db {
        Some(db) => {
            let offline = Offline::open(g, db)?;
            let mut selection = Selection::all().api_users(query.api_users().iter());
            if window_given {
                let (start, end) = query.window().date_range(offline.today);
                selection = selection.dates(start, end);
            }
            let entries = offline.archive.emails(&selection.address_or_email_id(target))?;
            let entries =
                entries.into_iter().map(|email| Entry { record: email.record.clone(), archived: Some(email) });
            (entries.collect(), format!("archive {}", db.display()))
        }
        None => {
            let session = crate::session::Session::connect(g)?;
            let (start, end) = query.window().date_range(session.today());
            let progress = super::progress(g, None);
            let mut entries = Vec::new();
            super::stream(&session, vec![query.clone()], None, &progress, false, |records| {
                entries.extend(records.iter().cloned().map(|record| Entry { record, archived: None }));
                Ok(())
            })?;
            (entries, format!("API, {start} to {end}"))
        }
    };

    super::with_sink(path, |sink| {
        let bytes = match format {
            StatusFormat::Json => json_document(&entries.iter().map(to_json).collect::<Vec<Value>>())?,
            StatusFormat::Table => table(target, by_id, &from, &entries, args.language.language).into_bytes(),
        };
        sink.write_all(&bytes)
    })
}

/// The record's JSON form (the keys of `query` output), plus `first_seen_at`,
/// `last_seen_at` and `history` from an archive.
fn to_json(e: &Entry) -> Value {
    let mut v = serde_json::to_value(&e.record).unwrap_or(Value::Null);
    if let (Some(a), Some(map)) = (&e.archived, v.as_object_mut()) {
        map.insert("first_seen_at".into(), json!(a.first_seen_at));
        map.insert("last_seen_at".into(), json!(a.last_seen_at));
        let history: Vec<Value> = a
            .history
            .iter()
            .map(|h| {
                json!({
                    "status": h.status, "category": h.category.name(), "sub_status": h.sub_status,
                    "modified_time": h.modified_time, "seen_at": h.seen_at,
                })
            })
            .collect();
        map.insert("history".into(), Value::Array(history));
    }
    v
}

/// `2024-05-20T09:31:59+08:00` → `2024-05-20 09:31:59`.
fn short(t: &str) -> String {
    match sendcloud_status::chrono::DateTime::parse_from_rfc3339(t) {
        Ok(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => t.to_owned(),
    }
}

fn time(t: Option<&ServerTime>) -> String {
    t.map_or_else(|| "-".to_owned(), |t| short(&t.to_rfc3339_or_raw()))
}

fn state(category: &str, code: Option<u16>, text: Option<&str>) -> String {
    let mut s = category.replace('_', " ");
    if let Some(c) = code {
        let _ = write!(s, " {c}");
    }
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        let _ = write!(s, "  {t}");
    }
    s
}

fn table(target: &str, by_id: bool, from: &str, entries: &[Entry], g_wording: Wording) -> String {
    let mut out = String::new();
    let what = if by_id { "email" } else { "address" };
    let n = match entries.len() {
        1 => "1 email".to_owned(),
        n => format!("{n} emails"),
    };
    let _ = writeln!(out, "{what} {target}: {n} ({from}, times UTC+08:00)");
    if entries.is_empty() {
        let _ = writeln!(out, "(nothing found)");
    }
    for e in entries {
        let r = &e.record;
        let _ = writeln!(out, "\n{}", r.email_id.as_deref().unwrap_or("(no email id)"));
        let _ = writeln!(
            out,
            "  requested  {}   to {}   apiUser {}",
            time(r.request_time.as_ref()),
            r.recipient.as_deref().unwrap_or("-"),
            r.api_user.as_deref().unwrap_or("-")
        );
        // The category is shown: a detail only names the sub-status, or repeats the server's words.
        let detail = match g_wording {
            Wording::Server => Some(r.describe(Wording::Server)),
            wording => r.sub_status.map(|_| r.describe(wording)),
        };
        let _ = writeln!(
            out,
            "  now        {}   (modified {})",
            state(r.category.name(), r.sub_status.map(|s| s.code()), detail.as_deref()),
            time(r.modified_time.as_ref())
        );
        if r.category == Status::Invalid.into() {
            let _ = writeln!(out, "             a permanent failure: stop mailing this address");
        }
        if let Some(log) = r.send_log.as_deref().filter(|l| !l.is_empty()) {
            let _ = writeln!(out, "  send log   {log}");
        }
        if let Some(a) = &e.archived {
            let _ = writeln!(out, "  seen       {} … {}", short(&a.first_seen_at), short(&a.last_seen_at));
            for (i, h) in a.history.iter().enumerate() {
                let label = if i == 0 { "  history" } else { "" };
                let modified =
                    h.modified_time.as_deref().map_or_else(String::new, |m| format!("  (modified {})", short(m)));
                let _ = writeln!(
                    out,
                    "{label:<11}{}  {}{modified}",
                    short(&h.seen_at),
                    state(h.category.name(), h.sub_status, h.status.as_deref())
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_well() {
        assert_eq!(state("soft_bounce", Some(503), Some("x")), "soft bounce 503  x");
        assert_eq!(state("delivered", None, Some("")), "delivered");
        assert_eq!(short("2024-05-20T09:31:59+08:00"), "2024-05-20 09:31:59");
        assert_eq!(short("yesterday"), "yesterday");
    }
}
