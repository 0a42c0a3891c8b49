//! Fetch one page of today's delivery statuses and print a line per email.
//!
//! ```sh
//! cargo run -p sendcloud-status --example one_page
//! SENDCLOUD_API_USER=… SENDCLOUD_API_KEY=… cargo run -p sendcloud-status --example one_page
//! ```
#![allow(clippy::print_stdout)]

mod common;

use sendcloud_status::Query;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _sandbox) = common::client()?;
    let page = client.page(&Query::builder().days(1).limit(10).build()?)?;
    println!("{} emails today; the first {}:", page.total.unwrap_or_default(), page.records.len());
    for r in &page.records {
        println!(
            "{:<32} {:<12} {}",
            r.recipient.as_deref().unwrap_or("?"),
            r.category,
            r.sub_status_description.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
