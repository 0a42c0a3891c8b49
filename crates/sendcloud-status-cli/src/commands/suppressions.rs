//! `suppressions`: the unique addresses that should no longer be mailed.

use sendcloud_status::Status;
use sendcloud_status::core::report::Suppressions;

use super::Source;
use crate::cli::{GlobalArgs, SuppressionFormat, SuppressionsArgs};
use crate::exit::Failure;
use crate::filters::Filters;
use crate::output::{csv_document, json_document};

pub fn run(g: &GlobalArgs, args: &SuppressionsArgs) -> Result<(), Failure> {
    let filters = Filters::from_args(&args.filters)?;
    // Fetch only what counts: invalid emails, plus soft bounces when asked
    // (unless the user chose the status filter).
    let mut queries = vec![filters.build(Some(Status::Invalid))?];
    if args.soft_bounces.is_some() && !filters.has_status_filter {
        queries.push(filters.build(Some(Status::SoftBounce))?);
    }
    let path = args.output.output.as_deref();
    let format = args.format.unwrap_or(match super::extension(path).as_deref() {
        Some("csv") => SuppressionFormat::Csv,
        Some("json") => SuppressionFormat::Json,
        _ => SuppressionFormat::Lines,
    });
    let source = Source::open(g, args.archive.db.as_deref(), &queries)?;
    super::with_sink(path, |sink| {
        let list = Suppressions::new().with_wording(args.language.language);
        let mut list = match args.soft_bounces {
            Some(n) => list.with_soft_bounce_threshold(n),
            None => list,
        };
        let progress = super::progress(g, filters.max_records);
        source.stream(queries, filters.max_records, &progress, false, |records| {
            records.iter().for_each(|r| list.add(r));
            Ok(())
        })?;
        let entries = list.entries();
        let bytes = match format {
            SuppressionFormat::Lines => {
                let mut out = String::new();
                for e in &entries {
                    out.push_str(&e.address);
                    out.push('\n');
                }
                out.into_bytes()
            }
            SuppressionFormat::Csv => {
                csv_document(&entries, &["address", "reason", "code", "description", "failures", "last_seen"])?
            }
            SuppressionFormat::Json => json_document(&entries)?,
        };
        sink.write_all(&bytes)
    })
}
