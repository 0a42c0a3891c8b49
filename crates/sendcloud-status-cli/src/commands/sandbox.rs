//! `sandbox`: the API simulator in the foreground until Ctrl-C.

use std::io::Write as _;

use sendcloud_status_sandbox::{DEMO_API_KEY, DEMO_API_USER, Sandbox};

use crate::cli::{GlobalArgs, SandboxCommandArgs};
use crate::exit::{self, Failure};
use crate::output::thousands;

pub fn run(_g: &GlobalArgs, args: &SandboxCommandArgs) -> Result<(), Failure> {
    let a = &args.sandbox;
    if a.webhook_url.is_some() && a.to_config().webhook.is_none() {
        return Err(Failure::usage("--webhook-url needs a non-empty --webhook-key (or SENDCLOUD_WEBHOOK_KEY)"));
    }
    let sandbox = Sandbox::start_on(a.addr(), a.to_config())
        .map_err(|e| Failure::new(exit::API, format!("cannot start the sandbox on {}: {e}", a.addr())))?;
    let cfg = sandbox.config();
    let rate = cfg.rate_limit_per_minute.map_or_else(|| "off".to_owned(), |n| format!("{n}/min"));
    let live = cfg.live.clone();
    let live_note = if live.arrivals_per_second > 0.0 || live.settle_per_second > 0.0 {
        format!(
            "live account: {} arrivals/s, {} settles/s, {} first\n",
            live.arrivals_per_second,
            live.settle_per_second,
            live.order.as_str()
        )
    } else {
        String::new()
    };
    let push_note = match &cfg.webhook {
        Some(w) => format!(
            "pushing signed event webhooks of the live changes to {} ({} bodies, {} spelling, retries after {} ms × 1, 2, 4, 8, 16)\n",
            w.url,
            format!("{:?}", w.format).to_lowercase(),
            format!("{:?}", w.spelling).to_lowercase(),
            w.retry_unit.as_millis()
        ),
        None => String::new(),
    };
    // A snapshot of the account, dropped before serving: a live account
    // would otherwise keep copies of every part that changes.
    let ds = sandbox.dataset();
    let text = format!(
        "sandbox listening on {base}\n\
         also at {v2} (sendcloud.net v2 path)\n\
         apiUser: {DEMO_API_USER}\n\
         apiKey:  {DEMO_API_KEY}  (a public demo key)\n\
         {n} records from {first} to {now} (server time UTC+08:00), rate limit {rate}\n\
         {live_note}\
         {push_note}\
         try: sendcloud-status --base-url {base} --api-user {DEMO_API_USER} --api-key {DEMO_API_KEY} summary --days 3\n\
         Ctrl-C stops it.\n",
        base = sandbox.base_url(),
        v2 = sandbox.base_url_v2(),
        n = thousands(ds.len()),
        first = ds.first_day(),
        now = sandbox.now().format("%Y-%m-%d %H:%M:%S"),
    );
    drop(ds);
    let mut stdout = std::io::stdout();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Failure::output("writing to stdout", &e))?;
    // Serve until Ctrl-C: the handler ends the process with 130.
    loop {
        std::thread::park();
    }
}
