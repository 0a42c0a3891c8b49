//! `sendcloud-status-sandbox`: serve the simulator until killed.
#![allow(clippy::print_stdout)]

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;
use sendcloud_status_sandbox::{DEMO_API_KEY, DEMO_API_USER, Sandbox, SandboxArgs};

/// A local simulator of the SendCloud emailStatus API.
#[derive(Parser)]
#[command(name = "sendcloud-status-sandbox", version, about)]
struct Cli {
    #[command(flatten)]
    sandbox: SandboxArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let sandbox = match Sandbox::start_on(cli.sandbox.addr(), cli.sandbox.to_config()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sendcloud-status-sandbox: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A snapshot held for the process's life would keep a copy of every record a live
    // account changes: read it and let it go.
    let (records, first_day, today) = {
        let ds = sandbox.dataset();
        (ds.len(), ds.first_day(), ds.today())
    };
    println!("listening on {}", sandbox.base_url());
    println!("also at {}", sandbox.base_url_v2());
    println!("apiUser: {DEMO_API_USER}");
    println!("apiKey: {DEMO_API_KEY}  (a public demo key)");
    println!("{records} records from {first_day} to {today} (server time UTC+8)");
    println!("server clock {}", sandbox.now().format("%Y-%m-%d %H:%M:%S"));
    let _ = std::io::stdout().flush();
    // Serve until the process is killed (Ctrl-C's default action ends it).
    loop {
        std::thread::park();
    }
}
