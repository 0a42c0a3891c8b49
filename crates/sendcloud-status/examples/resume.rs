//! Export in installments: take 250 records, save the cursor, and resume
//! from it — as a cron job would across runs. The two parts together are
//! the whole export, without gaps or repeats.
//!
//! ```sh
//! cargo run -p sendcloud-status --example resume
//! ```
#![allow(clippy::print_stdout)]

mod common;

use std::collections::HashSet;

use sendcloud_status::{Cursor, Query};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sandbox) = common::client()?;
    let query = Query::builder().days(3).build()?;

    let mut first = client.export(query.clone()).max_records(250).records()?;
    let mut seen: HashSet<String> = HashSet::new();
    for r in first.by_ref() {
        seen.extend(r?.email_id);
    }
    let Some(cursor) = first.cursor() else {
        println!("everything fit in the first run ({} records)", seen.len());
        return Ok(());
    };
    let saved = cursor.to_string(); // store this string anywhere
    println!("first run: {} records, cursor {saved}", seen.len());

    let resumed: Cursor = saved.parse()?;
    let mut second = 0;
    for r in client.export(query).resume(resumed).records()? {
        let id = r?.email_id.unwrap_or_default();
        assert!(seen.insert(id), "a resumed export never repeats a record");
        second += 1;
    }
    println!("second run: {second} more records, {} in all", seen.len());
    Ok(())
}
