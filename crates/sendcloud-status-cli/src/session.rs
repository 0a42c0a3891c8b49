//! The connection of a run: a [`Client`] built from the global options,
//! pointed at the embedded sandbox with `--sandbox`.

use std::io::Write as _;
use std::time::Duration;

use sendcloud_status::chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use sendcloud_status::{Client, ExportRequest, Method, Query};
use sendcloud_status_sandbox::{DEMO_API_KEY, DEMO_API_USER, Sandbox, SandboxConfig};

use crate::cli::{GlobalArgs, MethodArg};
use crate::exit::{self, Failure};

/// Records of the dataset `--sandbox` serves.
pub const EMBEDDED_SANDBOX_RECORDS: u64 = 20_000;

/// A client, and the sandbox it talks to when `--sandbox` started one.
#[derive(Debug)]
pub struct Session {
    /// The client.
    pub client: Client,
    /// `--quiet`: no progress bar, no notes or warnings.
    pub quiet: bool,
    /// The server's clock when the run started (or `--today`): every export
    /// of the run resolves `--days` on it, and reports name the same days.
    started: NaiveDateTime,
    /// `--today` was given: the time of day is unknown.
    today_given: bool,
    /// Kept alive for the whole run.
    _sandbox: Option<Sandbox>,
}

impl Session {
    /// The server day `--days` counts back from in this run.
    pub fn today(&self) -> NaiveDate {
        self.started.date()
    }

    /// An export of `query`, its window resolved on the run's start.
    pub fn export(&self, query: Query) -> ExportRequest<'_> {
        let export = self.client.export(query);
        if self.today_given { export.today(self.today()) } else { export.server_now(self.started) }
    }

    /// Builds the client (and starts the sandbox with `--sandbox`). Fails
    /// with exit 2 on a bad setting; nothing is sent.
    pub fn connect(g: &GlobalArgs) -> Result<Session, Failure> {
        let mut builder = Client::builder()
            .ignore_env() // clap already read SENDCLOUD_* into the options
            .method(match g.method {
                MethodArg::Post => Method::Post,
                MethodArg::Get => Method::Get,
            })
            .timeout(Duration::from_secs_f64(g.timeout))
            .max_retries(g.max_retries)
            .rate_limit_per_minute(Some(g.rate_limit)) // 0: off, the core's meaning
            .parallelism(g.parallel);

        let sandbox = if g.sandbox {
            // The demo credentials, unless given on the command line (the
            // environment's are for the real account).
            let user = g.api_user.as_deref().filter(|_| g.api_user_on_command_line).unwrap_or(DEMO_API_USER);
            let key = g.api_key.as_ref().filter(|_| g.api_key_on_command_line).map_or(DEMO_API_KEY, |k| &k.0);
            let config = SandboxConfig::default().with_records(EMBEDDED_SANDBOX_RECORDS);
            let sandbox = Sandbox::start(config)
                .map_err(|e| Failure::new(exit::API, format!("cannot start the embedded sandbox: {e}")))?;
            if !g.quiet {
                let ds = sandbox.dataset();
                // The account has several apiUsers and the API answers for the calling one
                // only: say so, or a summary shows half of the records announced.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: using the embedded sandbox at {} ({} simulated records, {} to {}, of apiUsers {}; \
                     the API answers for the calling apiUser {user} unless --api-user-list names others)",
                    sandbox.base_url(),
                    crate::output::thousands(ds.len()),
                    ds.first_day(),
                    ds.today(),
                    ds.api_users().join(", "),
                );
            }
            builder = builder.credentials(user, key).base_url(sandbox.base_url());
            Some(sandbox)
        } else {
            let user = g.api_user.as_deref().filter(|u| !u.trim().is_empty()).ok_or_else(|| {
                Failure::usage("missing --api-user (or set SENDCLOUD_API_USER); try --sandbox for a demo")
            })?;
            let key = g.api_key.as_ref().filter(|k| !k.0.trim().is_empty()).ok_or_else(|| {
                Failure::usage("missing --api-key (or set SENDCLOUD_API_KEY); try --sandbox for a demo")
            })?;
            builder = builder.credentials(user, key.0.as_str());
            if let Some(url) = &g.base_url {
                builder = builder.base_url(url.as_str());
            } else if let Some(region) = g.region {
                builder = builder.region(region);
            }
            None
        };

        let client = builder.build().map_err(|e| {
            let flag = match e.field() {
                Some("base_url") => "--base-url",
                Some("api_user") => "--api-user",
                Some("api_key") => "--api-key",
                Some("region") => "--region",
                Some("timeout") => "--timeout",
                Some("max_retries") => "--max-retries",
                Some("rate_limit_per_minute") => "--rate-limit",
                Some("parallel") => "--parallel",
                _ => return Failure::api(&e),
            };
            Failure::usage(format!("invalid {flag}: {}", e.explanation()))
        })?;
        log::debug!(
            "client ready: {} as apiUser {}, {}, {} in flight, {}, {} s per request, {} retries",
            client.endpoint().base_url(),
            client.api_user(),
            match g.method {
                MethodArg::Post => "POST",
                MethodArg::Get => "GET (the key goes in the query string)",
            },
            g.parallel,
            match g.rate_limit {
                0 => "no client pacing".to_owned(),
                n => format!("paced at {n} requests/min"),
            },
            g.timeout,
            g.max_retries,
        );
        let started = match g.today {
            Some(day) => day.and_time(NaiveTime::MIN),
            None => client.server_now(),
        };
        Ok(Session { client, quiet: g.quiet, started, today_given: g.today.is_some(), _sandbox: sandbox })
    }
}
