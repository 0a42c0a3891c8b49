//! Export every record of the last N days (default 7) as JSON lines on
//! stdout. Windows longer than the region allows are split, pages followed,
//! faults retried, the rate limit respected.
//!
//! ```sh
//! cargo run -p sendcloud-status --example export_jsonl -- 7 > statuses.jsonl
//! ```

mod common;

use std::io::{BufWriter, Write};

use sendcloud_status::Query;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let days: u32 = std::env::args().nth(1).map(|d| d.parse()).transpose()?.unwrap_or(7);
    let (client, _sandbox) = common::client()?;
    let mut records = client.export(Query::last_days(days)?).parallel(4).records()?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    for record in records.by_ref() {
        serde_json::to_writer(&mut out, &record?)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let stats = records.stats();
    eprintln!("{} records in {} requests ({} retried)", stats.records, stats.requests, stats.retries);
    Ok(())
}
