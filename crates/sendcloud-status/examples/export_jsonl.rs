//! Export every record of the last N days (default 7) as JSON lines on
//! stdout. Windows longer than the region allows are split, pages followed,
//! faults retried, the rate limit respected.
//!
//! ```sh
//! cargo run -p sendcloud-status --example export_jsonl -- 7 > statuses.jsonl
//! cargo run -p sendcloud-status --example export_jsonl -- 3 | head
//! ```
//!
//! A reader that stops early (`| head`) closes the pipe: that ends the
//! export quietly, as for any Unix filter, instead of an error.

mod common;

use std::io::{BufWriter, Write};

use sendcloud_status::Query;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let days: u32 = std::env::args().nth(1).map(|d| d.parse()).transpose()?.unwrap_or(7);
    let (client, _sandbox) = common::client()?;
    let mut records = client.export(Query::last_days(days)?).parallel(4).records()?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let written = records.by_ref().try_for_each(|record| -> Result<(), Box<dyn std::error::Error>> {
        serde_json::to_writer(&mut out, &record?)?;
        out.write_all(b"\n")?;
        Ok(())
    });
    match written.and_then(|()| out.flush().map_err(Into::into)) {
        Err(e) if is_broken_pipe(e.as_ref()) => return Ok(()),
        other => other?,
    }
    let stats = records.stats();
    eprintln!("{} records in {} requests ({} retried)", stats.records, stats.requests, stats.retries);
    Ok(())
}

/// Whether writing failed because the reader went away (`| head`).
fn is_broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let kind = match (e.downcast_ref::<std::io::Error>(), e.downcast_ref::<serde_json::Error>()) {
        (Some(io), _) => Some(io.kind()),
        (None, Some(json)) => json.io_error_kind(),
        (None, None) => None,
    };
    kind == Some(std::io::ErrorKind::BrokenPipe)
}
