//! `watch`: follow emails (by id, or every email to an address) until each
//! is final, printing every change as it is seen. The core's watch machine
//! decides what to ask and when; each poll's queries run as exports.

use std::io::Write as _;
use std::time::Duration;

use sendcloud_status::chrono::{FixedOffset, NaiveDateTime, TimeZone};
use sendcloud_status::core::watch::{Transition, WatchEnd, WatchOutcome};
use sendcloud_status::{Category, DEFAULT_WATCH_TIMEOUT, Error, Language, WatchEvent, Wording};
use sendcloud_status_archive::Archive;
use serde_json::json;

use crate::cli::{GlobalArgs, WatchArgs, WatchFormat};
use crate::exit::{self, Failure};
use crate::filters::expand_email_ids;
use crate::session::Session;

pub fn run(g: &GlobalArgs, args: &WatchArgs) -> Result<(), Failure> {
    let ids = expand_email_ids(&args.email_ids)?;
    let email = args.email.as_deref().map(str::trim);
    if ids.is_empty() && email.is_none() {
        return Err(Failure::usage("give --email-id (repeatable, or @FILE) and/or --email"));
    }
    if args.interval < Duration::from_secs(1) {
        return Err(Failure::usage("invalid --interval: at least 1s"));
    }
    let deadline = if g.timeout_on_command_line { Duration::from_secs_f64(g.timeout) } else { DEFAULT_WATCH_TIMEOUT };
    let format = args.format.unwrap_or(WatchFormat::Text);
    let mut archive = args.db.as_deref().map(Archive::open).transpose()?;
    // Each request keeps the usual timeout: `--timeout` is the watch's deadline here.
    let mut globals = g.clone();
    globals.timeout = sendcloud_status::settings::DEFAULT_TIMEOUT.as_secs_f64();
    let session = Session::connect(&globals)?;
    let client = &session.client;
    let offset = client.server_utc_offset();
    let mut request = client
        .watch(ids)
        .interval(args.interval)
        .soft_bounce_grace(args.soft_bounce_grace)
        .timeout(Some(deadline))
        .report_polls(archive.is_some());
    if let Some(email) = email {
        request = request.email(email);
    }
    // `--today` anchors the 3-day windows (an address, ids without a time) on
    // another server day, as in the other commands.
    if let Some(day) = g.today {
        request = request.today(day);
    }
    let watcher = request.start().map_err(|e| flag_error(&e))?;
    let mut out = std::io::stdout();

    let mut outcome = None;
    for event in watcher {
        match event? {
            WatchEvent::Notice(notice) if !session.quiet => {
                let _ = writeln!(std::io::stderr(), "warning: {notice}");
            }
            WatchEvent::PollFailed(e) if !session.quiet && e.is_retryable() => {
                let _ = writeln!(std::io::stderr(), "note: a poll failed, trying again at the next one: {e}");
            }
            WatchEvent::Polled { records, at } => {
                if let Some(archive) = archive.as_mut() {
                    archive.ingest(&records, at)?;
                }
            }
            WatchEvent::Transition(t) => {
                let line = match format {
                    WatchFormat::Text => text_line(&t, offset, args.language.language),
                    WatchFormat::Jsonl => json_line(&t, offset),
                };
                writeln!(out, "{line}")
                    .and_then(|()| out.flush())
                    .map_err(|e| Failure::output("writing to stdout", &e))?;
            }
            WatchEvent::Done(o) => outcome = Some(o),
            _ => {}
        }
    }
    let outcome = outcome.ok_or_else(|| Failure::api(&Error::internal("the watch ended without an outcome")))?;
    if !session.quiet {
        let _ = writeln!(std::io::stderr(), "{}", summary(&outcome));
    }
    match outcome.end {
        WatchEnd::Failed => Err(Failure::new(exit::WATCH_FAILED, "")),
        WatchEnd::DeadlinePassed => Err(Failure::new(exit::WATCH_PENDING, "")),
        _ => Ok(()),
    }
}

/// A validation error of the watch's settings, naming the flag.
fn flag_error(e: &Error) -> Failure {
    let flag = match e.field() {
        Some("email_ids") => "--email-id",
        Some("email") => "--email",
        Some("interval") => "--interval",
        Some("soft_bounce_grace") => "--soft-bounce-grace",
        Some("timeout") => "--timeout",
        _ => return Failure::api(e),
    };
    Failure::usage(format!("invalid {flag}: {}", e.explanation()))
}

fn state(category: Option<Category>) -> &'static str {
    category.map_or("unseen", Category::name)
}

fn when(t: &Transition, offset: FixedOffset) -> String {
    let local = t.changed_at.map(|d| d.with_timezone(&offset).naive_local()).unwrap_or(t.observed_at);
    local.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// `2024-05-20 10:02:31  1716…$a@b.com  a@b.com  sending → invalid 406 (Invalid — address does not exist)`
/// (a transition holds codes, not the server's words: `server` shows the documented English).
fn text_line(t: &Transition, offset: FixedOffset, wording: Wording) -> String {
    let lang = match wording {
        Wording::Documented(lang) => lang,
        _ => Language::English,
    };
    let sub = t.sub_status.map_or(String::new(), |s| format!(" {} ({})", s.code(), s.describe(lang)));
    format!(
        "{}  {}  {}  {} → {}{sub}",
        when(t, offset),
        t.email_id,
        t.recipient.as_deref().unwrap_or("-"),
        state(t.from),
        t.to.name()
    )
}

fn rfc3339(t: NaiveDateTime, offset: FixedOffset) -> String {
    offset.from_local_datetime(&t).single().map_or_else(|| t.to_string(), |d| d.to_rfc3339())
}

fn json_line(t: &Transition, offset: FixedOffset) -> String {
    json!({
        "email_id": t.email_id,
        "recipient": t.recipient,
        "from": t.from.map(Category::name),
        "to": t.to.name(),
        "sub_status": t.sub_status.map(|s| s.code()),
        "sub_status_description": t.sub_status.map(|s| s.describe(Language::English)),
        "changed_at": t.changed_at.map(|d| d.to_rfc3339()),
        "observed_at": rfc3339(t.observed_at, offset),
    })
    .to_string()
}

fn summary(o: &WatchOutcome) -> String {
    let head = match o.end {
        WatchEnd::AllDelivered => "watch: every email delivered",
        WatchEnd::Failed => "watch: at least one email failed",
        _ => "watch: deadline passed with emails still pending",
    };
    format!(
        "{head} ({} delivered, {} invalid, {} soft bounces past the grace, {} pending; {} polls)",
        o.delivered, o.invalid, o.soft_bounced, o.pending, o.polls
    )
}
