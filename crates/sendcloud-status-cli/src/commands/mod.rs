//! One module per subcommand, and the export loop they share.

mod query;
mod sandbox;
mod soft_bounces;
mod status;
mod summary;
mod suppressions;
mod sync;
mod watch;
mod webhook;

use std::path::Path;

use std::io::Write as _;

use sendcloud_status::chrono::NaiveDate;
use sendcloud_status::{ExportStats, Query, Record};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::exit::Failure;
use crate::offline::Offline;
use crate::output::Sink;
use crate::progress::Progress;
use crate::session::Session;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let g = &cli.global;
    match &cli.command {
        Command::Query(args) => query::run(g, args),
        Command::Summary(args) => summary::run(g, args),
        Command::Suppressions(args) => suppressions::run(g, args),
        Command::SoftBounces(args) => soft_bounces::run(g, args),
        Command::Sync(args) => sync::run(g, args),
        Command::Status(args) => status::run(g, args),
        Command::Watch(args) => watch::run(g, args),
        Command::Webhook(cmd) => webhook::run(g, cmd),
        Command::Sandbox(args) => sandbox::run(g, args),
    }
}

/// Where a report's records come from: the API, or an archive (`--db`).
#[derive(Debug)]
pub enum Source {
    /// The API, through a client.
    Api(Session),
    /// A local archive, with no API call.
    Archive(Offline),
}

impl Source {
    /// The archive at `db`, else a connection to the API. Every query is
    /// checked against the source before anything is read or written.
    pub fn open(g: &GlobalArgs, db: Option<&Path>, queries: &[Query]) -> Result<Source, Failure> {
        let source = match db {
            Some(path) => Source::Archive(Offline::open(g, path)?),
            None => Source::Api(Session::connect(g)?),
        };
        if let Source::Archive(offline) = &source {
            for q in queries {
                offline.selection(q)?;
            }
        }
        Ok(source)
    }

    /// The server day `--days` counts back from in this run.
    pub fn today(&self) -> NaiveDate {
        match self {
            Source::Api(s) => s.today(),
            Source::Archive(o) => o.today,
        }
    }

    /// Who the records of `query` belong to, for headings.
    pub fn api_users_label(&self, query: &Query) -> String {
        match (self, query.api_users()) {
            (Source::Archive(o), _) => o.api_users_label(query),
            (Source::Api(s), []) => format!("apiUser {}", s.client.api_user()),
            (Source::Api(_), [one]) => format!("apiUser {one}"),
            (Source::Api(_), many) => format!("apiUsers {}", many.join(", ")),
        }
    }

    /// [`stream`] from the API, or the same records from the archive.
    pub fn stream(
        &self,
        queries: Vec<Query>,
        max_records: Option<u64>,
        progress: &Progress,
        hide_progress: bool,
        each: impl FnMut(&[Record]) -> Result<(), Failure>,
    ) -> Result<u64, Failure> {
        match self {
            Source::Api(session) => stream(session, queries, max_records, progress, hide_progress, each),
            Source::Archive(offline) => {
                progress.finish();
                offline.stream(queries, max_records, each)
            }
        }
    }
}

/// Streams every record of `queries` (one export after the other, at most
/// `max_records` in all) into `each`, page by page: memory holds one page.
/// `each` gets the page's records; the progress bar is hidden while it runs
/// when `hide_progress` (output to the same terminal).
pub fn stream(
    session: &Session,
    queries: Vec<Query>,
    max_records: Option<u64>,
    progress: &Progress,
    hide_progress: bool,
    mut each: impl FnMut(&[Record]) -> Result<(), Failure>,
) -> Result<u64, Failure> {
    let mut seen: u64 = 0;
    let mut stats = ExportStats::default();
    for query in queries {
        let mut export = session.export(query);
        if let Some(max) = max_records {
            if seen >= max {
                break;
            }
            export = export.max_records(max - seen);
        }
        let mut pages = export.pages()?;
        while let Some(page) = pages.next() {
            let page = page?;
            let n = page.records.len() as u64;
            seen += n;
            let message =
                page.window.map(|(from, to)| if from == to { format!("· {from}") } else { format!("· {from} … {to}") });
            progress.advance(n, message, stats.requests + pages.stats().requests);
            if hide_progress {
                progress.suspend(|| each(&page.records))?;
            } else {
                each(&page.records)?;
            }
        }
        stats.merge(pages.stats());
    }
    progress.finish();
    log::info!("export: {stats}");
    if !session.quiet {
        warn_if_inexact(&stats);
    }
    Ok(seen)
}

/// The one-line warning of an export whose result kept moving after every
/// re-read (the run still succeeds: what was read is written).
fn warn_if_inexact(stats: &ExportStats) {
    let Some(first) = stats.unstable_units.first() else { return };
    let window =
        if first.start == first.end { first.start.to_string() } else { format!("{} … {}", first.start, first.end) };
    let more = match stats.unstable_units.len() {
        1 => String::new(),
        n => format!(" (and {} more windows)", n - 1),
    };
    let _ = writeln!(
        std::io::stderr(),
        "warning: the results of {window}{more} kept changing while they were read, even after re-reading \
         them; rows that did not change may be missing: run the export again for that range"
    );
}

/// Opens the output, runs `body`, and completes or abandons the output.
pub fn with_sink(path: Option<&Path>, body: impl FnOnce(&Sink) -> Result<(), Failure>) -> Result<(), Failure> {
    let sink = Sink::open(path)?;
    match body(&sink) {
        Ok(()) => sink.finish(),
        Err(e) => {
            sink.abandon();
            Err(e)
        }
    }
}

/// The progress display for a run.
pub fn progress(g: &GlobalArgs, max_records: Option<u64>) -> Progress {
    Progress::new(!g.quiet && g.verbose == 0, max_records)
}

/// The extension of `--output`, lower-cased.
pub fn extension(path: Option<&Path>) -> Option<String> {
    path.and_then(Path::extension).map(|e| e.to_string_lossy().to_ascii_lowercase())
}
