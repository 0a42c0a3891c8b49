//! `webhook serve`: the event webhook receiver in the foreground until
//! SIGTERM or Ctrl-C.

use std::io::Write as _;
use std::time::Duration;

use sendcloud_status::core::webhook::AppKey;
use sendcloud_status_webhook::{Error as ReceiverError, HEALTH_PATH, Receiver, ReceiverConfig};

use crate::cli::{GlobalArgs, WebhookCommand, WebhookServeArgs};
use crate::exit::{self, Failure};

pub fn run(g: &GlobalArgs, cmd: &WebhookCommand) -> Result<(), Failure> {
    match cmd {
        WebhookCommand::Serve(args) => serve(g, args),
    }
}

fn serve(g: &GlobalArgs, args: &WebhookServeArgs) -> Result<(), Failure> {
    let key = args.app_key.as_ref().filter(|k| !k.0.trim().is_empty()).ok_or_else(|| {
        Failure::usage("missing --app-key (or set SENDCLOUD_WEBHOOK_KEY): the account's webhook app key")
    })?;
    let key = AppKey::new(key.0.as_str()).map_err(|e| Failure::usage(format!("invalid --app-key: {e}")))?;
    let path = args.path.trim();
    if path.is_empty() || path.contains(['?', '#', ' ']) {
        return Err(Failure::usage(format!("invalid --path {path:?}: give a path such as / or /sendcloud/events")));
    }
    if args.tolerance < Duration::from_secs(1) {
        return Err(Failure::usage("invalid --tolerance: at least 1s"));
    }
    let config = ReceiverConfig::new(args.listen, &args.db, key)
        .path(path)
        .tolerance(args.tolerance)
        .max_body(usize::try_from(args.max_body).unwrap_or(usize::MAX));
    let receiver = Receiver::start(config).map_err(|e| match e {
        ReceiverError::Config(m) => Failure::usage(format!("invalid --path: {m}")),
        ReceiverError::Archive(a) => exit::archive(&a),
        other => Failure::new(exit::API, other.to_string()),
    })?;
    receiver
        .shutdown_on_signals()
        .map_err(|e| Failure::new(exit::API, format!("cannot handle SIGTERM/Ctrl-C: {e}")))?;
    if !g.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "webhook receiver on {} (health: http://{}{HEALTH_PATH}), storing into {}; SIGTERM or Ctrl-C stops it",
            receiver.url(),
            receiver.addr(),
            args.db.display()
        );
    }
    // Also on stdout, for scripts that start it on port 0.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on {}", receiver.url()).and_then(|()| stdout.flush());
    let stats = receiver.wait();
    if !g.quiet {
        let _ = writeln!(
            std::io::stderr(),
            "stopped: {} requests, {} events stored, {} repeats, {} bad signatures, {} stale, {} malformed, {} too large, {} failed",
            stats.requests,
            stats.stored,
            stats.repeated,
            stats.bad_signature,
            stats.stale,
            stats.malformed,
            stats.too_large,
            stats.failed
        );
    }
    Ok(())
}
