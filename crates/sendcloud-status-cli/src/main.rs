//! `sendcloud-status`: delivery statuses, bounce summaries, suppression
//! lists and soft-bounce retry plans from the SendCloud / Aurora SendCloud
//! `data/emailStatus` API, on the command line.
//!
//! - `cli`: the clap types; `filters`: filter flags → a validated query;
//! - `session`: the client (and the embedded sandbox of `--sandbox`);
//!   `offline`: the archive of `--db` as the source of reports;
//! - `commands`: one module per subcommand and the shared export loop;
//! - `output`: stdout or an atomically written file, record writers;
//! - `progress`: the progress bar; `exit`: exit codes and error lines.

mod cli;
mod commands;
mod exit;
mod filters;
mod offline;
mod output;
mod progress;
mod session;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => return exit::clap_error(&e),
    };
    init_logging(cli.global.verbose, cli.global.quiet);
    // `webhook serve` stops gracefully on SIGTERM and Ctrl-C itself.
    if !matches!(cli.command, cli::Command::Webhook(_)) {
        install_interrupt_handler();
    }
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// `-v`: one debug line per request from the client; `-vv`: trace, with
/// bodies. Other crates stay at `warn`. Without `-v`, `RUST_LOG` applies.
fn init_logging(verbose: u8, quiet: bool) {
    use log::LevelFilter;
    let mut b = env_logger::Builder::new();
    b.target(env_logger::Target::Stderr);
    if verbose == 0 {
        b.filter_level(if quiet { LevelFilter::Error } else { LevelFilter::Warn });
        // Without -v a warning is a one-line note for people, not a log line.
        b.format(|buf, record| {
            use std::io::Write as _;
            writeln!(buf, "note: {}", record.args())
        });
        if let Ok(spec) = std::env::var("RUST_LOG") {
            b.parse_filters(&spec);
        }
    } else {
        let ours = if verbose == 1 { LevelFilter::Debug } else { LevelFilter::Trace };
        b.filter_level(LevelFilter::Warn);
        for module in ["sendcloud_status", "sendcloud_status_core", "sendcloud_status_sandbox"] {
            b.filter_module(module, ours);
        }
    }
    let _ = b.try_init();
}

/// Ctrl-C: clear the progress bar, flush what reached stdout (or remove a
/// partial `--output` file), and exit with 130.
fn install_interrupt_handler() {
    let result = ctrlc::set_handler(|| {
        progress::clear_on_interrupt();
        output::cleanup_on_interrupt();
        exit::Failure::new(exit::INTERRUPTED, "interrupted").report();
        std::process::exit(i32::from(exit::INTERRUPTED));
    });
    if let Err(e) = result {
        log::warn!("cannot handle Ctrl-C: {e}");
    }
}
