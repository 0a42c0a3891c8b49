//! `query`: every matching record, streamed as JSON lines, CSV or a table.

use std::io::IsTerminal;

use super::Source;
use crate::cli::{GlobalArgs, QueryArgs, RecordFormat};
use crate::exit::Failure;
use crate::filters::Filters;
use crate::output::RecordWriter;

pub fn run(g: &GlobalArgs, args: &QueryArgs) -> Result<(), Failure> {
    let filters = Filters::from_args(&args.filters)?;
    let query = filters.build(None)?;
    let path = args.output.output.as_deref();
    let format = args.format.unwrap_or_else(|| match super::extension(path).as_deref() {
        Some("csv") => RecordFormat::Csv,
        Some(_) => RecordFormat::Jsonl,
        None if std::io::stdout().is_terminal() => RecordFormat::Table,
        None => RecordFormat::Jsonl,
    });
    let source = Source::open(g, args.archive.db.as_deref(), std::slice::from_ref(&query))?;
    super::with_sink(path, |sink| {
        let mut writer = RecordWriter::new(format, args.language.language);
        writer.header(sink)?;
        let progress = super::progress(g, filters.max_records);
        let terminal = sink.is_terminal();
        let n = source.stream(vec![query], filters.max_records, &progress, terminal, |records| {
            for r in records {
                writer.write(sink, r)?;
            }
            if terminal { sink.flush() } else { Ok(()) }
        })?;
        log::info!("{n} records written");
        Ok(())
    })
}
