//! `soft-bounces`: soft-bounced addresses with the suggested next retry.

use std::fmt::Write as _;
use std::io::IsTerminal;

use sendcloud_status::core::report::{SoftBounce, SoftBounces};
use sendcloud_status::{RetrySchedule, Status};

use super::Source;
use crate::cli::{GlobalArgs, SoftBounceFormat, SoftBouncesArgs};
use crate::exit::Failure;
use crate::filters::Filters;
use crate::output::{csv_document, json_document, truncate};

pub fn run(g: &GlobalArgs, args: &SoftBouncesArgs) -> Result<(), Failure> {
    let filters = Filters::from_args(&args.filters)?;
    let query = filters.build(Some(Status::SoftBounce))?;
    let path = args.output.output.as_deref();
    let format = args.format.unwrap_or_else(|| match super::extension(path).as_deref() {
        Some("json") => SoftBounceFormat::Json,
        Some(_) => SoftBounceFormat::Csv,
        None if std::io::stdout().is_terminal() => SoftBounceFormat::Table,
        None => SoftBounceFormat::Csv,
    });
    let source = Source::open(g, args.archive.db.as_deref(), std::slice::from_ref(&query))?;
    super::with_sink(path, |sink| {
        let mut bounces = SoftBounces::new(RetrySchedule::default()).with_wording(args.language.language);
        let progress = super::progress(g, filters.max_records);
        source.stream(vec![query], filters.max_records, &progress, false, |records| {
            records.iter().for_each(|r| bounces.add(r));
            Ok(())
        })?;
        let entries = bounces.entries();
        let bytes = match format {
            SoftBounceFormat::Table => table(&entries).into_bytes(),
            SoftBounceFormat::Csv => csv_document(
                &entries,
                &[
                    "address",
                    "bounces",
                    "code",
                    "description",
                    "last_bounce",
                    "advice",
                    "retry_at",
                    "retry_after_seconds",
                ],
            )?,
            SoftBounceFormat::Json => json_document(&entries)?,
        };
        sink.write_all(&bytes)
    })
}

fn table(entries: &[SoftBounce]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<36}  {:>7}  {:<4}  {:<25}  {:<25}  {:<7}  DESCRIPTION",
        "ADDRESS", "BOUNCES", "CODE", "LAST BOUNCE", "RETRY AT", "ADVICE"
    );
    for e in entries {
        let _ = writeln!(
            out,
            "{:<36}  {:>7}  {:<4}  {:<25}  {:<25}  {:<7}  {}",
            truncate(&e.address, 36),
            e.bounces,
            e.code.map_or_else(String::new, |c| c.to_string()),
            e.last_bounce.as_deref().unwrap_or(""),
            e.retry_at.as_deref().unwrap_or("-"),
            e.advice.replace('_', " "),
            e.description
        );
    }
    if entries.is_empty() {
        out.push_str("(no soft bounces)\n");
    }
    out
}
