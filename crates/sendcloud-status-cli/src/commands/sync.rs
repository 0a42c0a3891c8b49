//! `sync`: bring a local archive up to date, then say in one line what it did.

use std::io::Write as _;

use sendcloud_status::core::sync::SyncPolicy;
use sendcloud_status_archive::{Archive, ServerClock, SyncOptions, SyncReport};

use crate::cli::{GlobalArgs, SyncArgs};
use crate::exit::Failure;
use crate::output::thousands;
use crate::progress::Progress;
use crate::session::Session;

pub fn run(g: &GlobalArgs, args: &SyncArgs) -> Result<(), Failure> {
    let users: Vec<String> = args.api_user_list.iter().map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).collect();
    if !args.api_user_list.is_empty() && users.is_empty() {
        return Err(Failure::usage("invalid --api-user-list: must name at least one apiUser"));
    }
    let session = Session::connect(g)?;
    let mut archive = Archive::open(&args.db)?;
    let policy = SyncPolicy::default()
        .since(args.since)
        .lookback_days(args.lookback)
        .sending_max_age_days(args.sending_max_age)
        .rescan_after(args.rescan_after);
    let clock = g.today.map_or(ServerClock::System, ServerClock::Day);
    let options = SyncOptions::default().policy(policy).api_users(users).clock(clock);

    let mut bar: Option<Progress> = None;
    let report = archive
        .sync(&session.client, &options, |p| {
            let bar = bar.get_or_insert_with(|| Progress::days(!g.quiet && g.verbose == 0, p.days_planned as u64));
            let window = p.window.map_or_else(String::new, |(from, to)| {
                if from == to { format!("· {from} ") } else { format!("· {from} … {to} ") }
            });
            bar.set(
                p.days_done as u64,
                format!(
                    "{window}· {} records · {} new · {} changed",
                    thousands(p.records_seen),
                    thousands(p.inserted),
                    thousands(p.changed)
                ),
            );
        })
        .map_err(|e| {
            if let Some(b) = &bar {
                b.finish();
            }
            Failure::from(e)
        })?;
    if let Some(b) = &bar {
        b.finish();
    }
    log::info!("sync: {}", report.stats);
    if !g.quiet {
        tell(&report, args);
    }
    Ok(())
}

/// The one-line report (and notes) on stderr.
fn tell(report: &SyncReport, args: &SyncArgs) {
    let mut err = std::io::stderr().lock();
    let plan = &report.plan;
    if let Some(asked) = plan.clamped_since {
        let _ =
            writeln!(err, "note: {asked} is past the server's 180-day retention; reading from {} instead", plan.start);
    }
    let mut line = format!(
        "sync: {} days read · {} requests · {} records seen · {} new · {} changed",
        report.days_read,
        thousands(report.requests),
        thousands(report.records_seen),
        thousands(report.ingested.inserted),
        thousands(report.ingested.changed)
    );
    if !plan.skipped_recent.is_empty() {
        line.push_str(&format!(
            " · {} days skipped (read less than {} ago; see --rescan-after)",
            plan.skipped_recent.len(),
            fmt_duration(args.rescan_after)
        ));
    }
    line.push_str(&format!(" · {}", args.db.display()));
    let _ = writeln!(err, "{line}");
    if let Some(first) = report.inexact_days.first() {
        let _ = writeln!(
            err,
            "warning: {} days ({first}{}) kept changing while they were read, even after re-reading them; \
             the next sync reads them again",
            report.inexact_days.len(),
            if report.inexact_days.len() > 1 { " …" } else { "" }
        );
    }
}

fn fmt_duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".to_owned(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
