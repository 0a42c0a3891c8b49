//! The command line, as clap types: global connection options, the shared
//! filters, and one struct per subcommand.

use std::convert::Infallible;
use std::fmt;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use sendcloud_status::settings::{self, TimeUnit};
use sendcloud_status::{Parallelism, Region, Wording};
use sendcloud_status_sandbox::SandboxArgs;

use crate::exit;

/// Find out what happened to the emails you sent through SendCloud / Aurora
/// SendCloud: delivered, invalid, soft bounce or still sending, with the
/// bounce sub-status, for any time range.
#[derive(Debug, Parser)]
#[command(
    name = "sendcloud-status",
    version,
    about = "Delivery statuses, bounce summaries, suppression lists and soft-bounce retry plans from the SendCloud / Aurora SendCloud emailStatus API.",
    after_help = exit::HELP,
    after_long_help = exit::HELP,
    max_term_width = 110,
    args_override_self = true
)]
pub struct Cli {
    /// Connection and output options, accepted before or after the subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `apiKey`: kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

fn parse_secret(s: &str) -> Result<Secret, Infallible> {
    Ok(Secret(s.to_owned()))
}

fn parse_region(s: &str) -> Result<Region, String> {
    s.parse::<Region>().map_err(|e| e.to_string())
}

/// Seconds, or a number with a unit (`s`, `m`, `h`), within the core's
/// timeout bounds.
fn parse_timeout(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let (number, scale) = match s.char_indices().last() {
        Some((i, 's')) => (&s[..i], 1.0),
        Some((i, 'm')) => (&s[..i], 60.0),
        Some((i, 'h')) => (&s[..i], 3600.0),
        _ => (s, 1.0),
    };
    let seconds = number.trim().parse::<f64>().map_err(|_| "expected seconds, or 90s, 30m, 2h".to_owned())? * scale;
    settings::TIMEOUT.from_number("timeout", seconds, TimeUnit::Seconds).map_err(|e| e.explanation().to_owned())?;
    Ok(seconds)
}

/// A count within `bounds`, the message in the core's words ("at least 1").
fn parse_count(s: &str, field: &'static str, bounds: settings::Bounds) -> Result<u64, String> {
    let n = s.trim().parse::<i64>().map_err(|_| format!("{s:?} is not a whole number"))?;
    bounds.check_u64(field, n).map_err(|e| e.explanation().to_owned())
}

fn parse_max_records(s: &str) -> Result<u64, String> {
    parse_count(s, "max_records", settings::MAX_RECORDS)
}

fn parse_soft_bounces(s: &str) -> Result<u64, String> {
    parse_count(s, "soft_bounces", settings::SOFT_BOUNCES)
}

fn parse_wording(s: &str) -> Result<Wording, String> {
    s.parse::<Wording>().map_err(|e| e.explanation().to_owned())
}

/// HTTP method of the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Form POST: the key stays out of URLs (default).
    Post,
    /// GET: every parameter, the key included, goes in the query string.
    Get,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// The account's apiUser.
    #[arg(long, env = "SENDCLOUD_API_USER", value_name = "USER", global = true, help_heading = "Connection")]
    pub api_user: Option<String>,

    /// The account's apiKey (never printed).
    #[arg(
        long,
        env = "SENDCLOUD_API_KEY",
        hide_env_values = true,
        value_name = "KEY",
        value_parser = parse_secret,
        allow_hyphen_values = true,
        global = true,
        help_heading = "Connection"
    )]
    pub api_key: Option<Secret>,

    /// Region preset: aurora-sg (default), aurora-us, aurora-hk, sendcloud-intl, sendcloud-cn.
    #[arg(
        long,
        env = "SENDCLOUD_REGION",
        value_name = "REGION",
        value_parser = parse_region,
        global = true,
        help_heading = "Connection"
    )]
    pub region: Option<Region>,

    /// Custom base URL (the endpoint is BASE_URL + data/emailStatus); wins over --region.
    #[arg(long, env = "SENDCLOUD_BASE_URL", value_name = "URL", global = true, help_heading = "Connection")]
    pub base_url: Option<String>,

    /// HTTP method.
    #[arg(long, value_enum, default_value = "post", global = true, help_heading = "Connection")]
    pub method: MethodArg,

    /// Timeout of one request, in seconds (or 90s, 2m).
    ///
    /// In the `watch` subcommand this flag is the deadline of the whole watch instead (e.g. 30m, 2h;
    /// default 2h); each request then keeps the default 30 s.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = settings::DEFAULT_TIMEOUT.as_secs_f64(),
        value_parser = parse_timeout,
        global = true,
        help_heading = "Connection"
    )]
    pub timeout: f64,

    /// Retries of a failed request (rate limited, server fault, network) before giving up (0 to 100).
    #[arg(
        long,
        value_name = "N",
        default_value_t = settings::DEFAULT_MAX_RETRIES,
        global = true,
        help_heading = "Connection"
    )]
    pub max_retries: u32,

    /// Client-side pacing in requests per minute (0: off). The account limit is 3000.
    ///
    /// In the `sandbox` subcommand this flag sets the simulator's limit instead.
    #[arg(
        long,
        value_name = "PER_MINUTE",
        default_value_t = settings::DEFAULT_REQUESTS_PER_MINUTE,
        global = true,
        help_heading = "Connection"
    )]
    pub rate_limit: u32,

    /// Requests in flight at once: `auto` (as many as fill the rate limit at the latency seen) or
    /// 1 to 64. The output order stays the same.
    #[arg(
        long,
        value_name = "auto|N",
        default_value = "auto",
        value_parser = parse_parallel,
        global = true,
        help_heading = "Connection"
    )]
    pub parallel: Parallelism,

    /// Count --days back from this server day (yyyy-MM-dd) instead of the current one: reproducible
    /// runs, or a simulator whose calendar is not the real one.
    #[arg(long, value_name = "DATE", global = true, value_parser = parse_day, help_heading = "Filters")]
    pub today: Option<sendcloud_status::chrono::NaiveDate>,

    /// Start the embedded API simulator in-process and query it with its demo credentials.
    #[arg(long, global = true, conflicts_with_all = ["base_url", "region"], help_heading = "Connection")]
    pub sandbox: bool,

    /// No progress bar and no notes on stderr (errors are still printed).
    #[arg(short, long, global = true, help_heading = "Output")]
    pub quiet: bool,

    /// Log requests to stderr (-v: one line per request, -vv: bodies). The key is redacted.
    #[arg(short, long, action = ArgAction::Count, global = true, help_heading = "Output")]
    pub verbose: u8,

    /// Whether --api-user came from the command line (not the environment).
    #[arg(skip)]
    pub api_user_on_command_line: bool,

    /// Whether --api-key came from the command line (not the environment).
    #[arg(skip)]
    pub api_key_on_command_line: bool,

    /// Whether --timeout came from the command line (not its default).
    #[arg(skip)]
    pub timeout_on_command_line: bool,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export every matching record as JSON lines, CSV or a table.
    #[command(
        args_override_self = true,
        after_help = "Example: sendcloud-status query --days 3 --status invalid > bounces.jsonl"
    )]
    Query(QueryArgs),
    /// Counts and shares by category, sub-status and day, with the deliverability rate.
    #[command(args_override_self = true, after_help = "Example: sendcloud-status summary --days 7")]
    Summary(SummaryArgs),
    /// The unique addresses to stop mailing: permanent (4xx) failures, optionally repeated soft bounces.
    #[command(
        args_override_self = true,
        after_help = "Example: sendcloud-status suppressions --days 30 --soft-bounces 3 > remove.txt"
    )]
    Suppressions(SuppressionsArgs),
    /// Soft-bounced addresses with the suggested next retry time.
    #[command(
        args_override_self = true,
        after_help = "Retry plan: 1 h, 4 h, 12 h, then 24 h after each bounce, then give up. A 506 (soft \"address does\n\
                      not exist\", which usually turns permanent) gets one retry: given up after its second bounce.\n\n\
                      Example: sendcloud-status soft-bounces --days 1 --format csv"
    )]
    SoftBounces(SoftBouncesArgs),
    /// Bring a local archive (SQLite) of every email's status and its history up to date.
    #[command(
        args_override_self = true,
        after_help = "Example: sendcloud-status sync --db status.db --since 2024-05-01\n\n\
                      Then, with no API call: sendcloud-status summary --db status.db --days 7"
    )]
    Sync(SyncArgs),
    /// The timeline of one address or email: every send, its current state and (with --db) its history.
    #[command(
        args_override_self = true,
        after_help = "Examples: sendcloud-status status someone@example.com --days 7\n\
                      \u{20}         sendcloud-status status '1716…$someone@example.com' --db status.db"
    )]
    Status(StatusArgs),
    /// Follow emails until each is delivered or failed: one line per change, as it happens.
    #[command(
        args_override_self = true,
        after_help = "Examples: sendcloud-status watch --email-id '1716…$someone@example.com' --timeout 30m\n\
                      \u{20}         sendcloud-status watch --email someone@example.com --format jsonl --db status.db\n\n\
                      Exit codes: 0 every email delivered; 6 at least one failed (invalid, or a soft bounce past\n\
                      --soft-bounce-grace); 7 the deadline (--timeout) passed with emails still pending."
    )]
    Watch(WatchArgs),
    /// Receive the vendor's event webhooks into a local archive.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Run the API simulator on 127.0.0.1 in the foreground until Ctrl-C.
    #[command(args_override_self = true, after_help = "Example: sendcloud-status sandbox --port 8080 --records 100000")]
    Sandbox(SandboxCommandArgs),
}

/// Filters shared by every query command.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    /// The last N days on the server's calendar (UTC+08:00); 1 = today. Any length: windows are split.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub days: Option<i64>,

    /// First day of an inclusive date range, yyyy-MM-dd (with --to).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,

    /// Last day of an inclusive date range, yyyy-MM-dd (with --from).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,

    /// Only this status: delivered, invalid, soft_bounce (or soft-bounce) or sending.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,

    /// Only these sub-status codes, comma-separated (e.g. 401,406 or 503).
    #[arg(long, value_name = "CODES", value_delimiter = ',', allow_negative_numbers = true)]
    pub sub_status: Vec<String>,

    /// Only this recipient address.
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,

    /// Only these email ids (repeatable); @FILE reads one id per line (@- from stdin).
    #[arg(long = "email-id", value_name = "ID|@FILE", action = ArgAction::Append)]
    pub email_ids: Vec<String>,

    /// Only this label id.
    #[arg(long, value_name = "ID", allow_negative_numbers = true)]
    pub label_id: Option<i64>,

    /// Only labels matching this name (fuzzy when sent without --label-id).
    #[arg(long, value_name = "NAME")]
    pub label_name: Option<String>,

    /// Several apiUsers of the account, comma-separated (default: the calling apiUser only).
    #[arg(long, value_name = "USERS", value_delimiter = ',')]
    pub api_user_list: Vec<String>,

    /// Stop after N records.
    #[arg(long, value_name = "N", value_parser = parse_max_records)]
    pub max_records: Option<u64>,
}

/// `--db FILE` of the report commands: answer from a local archive.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Archive")]
pub struct ArchiveArg {
    /// Answer from this archive (made by `sync`) with no API call: same filters, formats and output.
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,
}

/// Where a result goes.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Write to FILE (atomically: a temporary file renamed on success) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `--language` of the commands that describe emails in words (the
/// `sandbox` subcommand has its own: the simulator's language).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct LanguageArg {
    /// Descriptions of what happened to an email: en (the documented English, default), zh (the
    /// documented Chinese) or server (the server's own text, also kept in the JSON `status` field).
    #[arg(long, value_name = "en|zh|server", default_value = "en", value_parser = parse_wording, help_heading = "Output")]
    pub language: Wording,
}

/// Formats of `query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordFormat {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
    /// Aligned columns for reading.
    Table,
}

/// `query` options.
#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub archive: ArchiveArg,
    /// Output format [default: table on a terminal, else jsonl; csv for an --output ending in .csv].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<RecordFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub language: LanguageArg,
}

/// Formats of `summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// Readable tables.
    Table,
    /// One JSON document.
    Json,
}

/// `summary` options.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub archive: ArchiveArg,
    /// Output format [default: table; json for an --output ending in .json].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<SummaryFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub language: LanguageArg,
}

/// Formats of `suppressions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SuppressionFormat {
    /// One address per line, nothing else.
    Lines,
    /// CSV: address, reason, code, description, failures, last_seen.
    Csv,
    /// A JSON array of objects with the CSV's fields.
    Json,
}

/// `suppressions` options.
#[derive(Debug, Args)]
pub struct SuppressionsArgs {
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub archive: ArchiveArg,
    /// Also list addresses that soft-bounced at least N times.
    #[arg(long, value_name = "N", value_parser = parse_soft_bounces)]
    pub soft_bounces: Option<u64>,
    /// Output format [default: lines; csv/json for an --output ending in .csv/.json].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<SuppressionFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub language: LanguageArg,
}

/// Formats of `soft-bounces`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SoftBounceFormat {
    /// Aligned columns for reading.
    Table,
    /// CSV: address, bounces, code, description, last_bounce, advice, retry_at, retry_after_seconds.
    Csv,
    /// A JSON array of objects with the CSV's fields.
    Json,
}

/// `soft-bounces` options.
#[derive(Debug, Args)]
pub struct SoftBouncesArgs {
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub archive: ArchiveArg,
    /// Output format [default: table on a terminal, else csv; csv/json for an --output ending in .csv/.json].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<SoftBounceFormat>,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub language: LanguageArg,
}

/// `sync` options.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The archive file (created on the first run).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,

    /// First server day to read (yyyy-MM-dd) [default: the archive's first day; 30 days back on a first run].
    /// At most the server's 180-day retention.
    #[arg(long, value_name = "DATE", value_parser = parse_day)]
    pub since: Option<sendcloud_status::chrono::NaiveDate>,

    /// Days before the last complete day that are read again (late bounces still change them).
    #[arg(long, value_name = "DAYS", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=180))]
    pub lookback: u32,

    /// Oldest day (days before today) read again for its rows still "sending".
    #[arg(long, value_name = "DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(0..=180))]
    pub sending_max_age: u32,

    /// Do not read again a day read less than this long ago (the server caches answers for 10 minutes):
    /// 90s, 10m, 2h, 1d; 0s reads every planned day.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub rescan_after: std::time::Duration,

    /// Several apiUsers of the account, comma-separated (default: the calling apiUser only).
    #[arg(long, value_name = "USERS", value_delimiter = ',')]
    pub api_user_list: Vec<String>,
}

/// Formats of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// One block per email, for reading.
    Table,
    /// A JSON array: one object per email, with its history.
    Json,
}

/// `status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// A recipient address, or an email id (ids hold a `$`).
    #[arg(value_name = "ADDRESS|EMAIL_ID")]
    pub target: String,

    #[command(flatten)]
    pub language: LanguageArg,

    /// Read the archive instead of the API (every apiUser in it unless --api-user-list).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// The last N server days [default: 30 from the API; every day in an archive].
    #[arg(long, value_name = "N", allow_negative_numbers = true, help_heading = "Filters")]
    pub days: Option<i64>,

    /// First day of an inclusive date range, yyyy-MM-dd (with --to).
    #[arg(long, value_name = "DATE", help_heading = "Filters")]
    pub from: Option<String>,

    /// Last day of an inclusive date range, yyyy-MM-dd (with --from).
    #[arg(long, value_name = "DATE", help_heading = "Filters")]
    pub to: Option<String>,

    /// Several apiUsers of the account, comma-separated.
    #[arg(long, value_name = "USERS", value_delimiter = ',', help_heading = "Filters")]
    pub api_user_list: Vec<String>,

    /// Output format [default: table; json for an --output ending in .json].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<StatusFormat>,

    #[command(flatten)]
    pub output: OutputArgs,
}

/// Formats of `watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WatchFormat {
    /// One line per change, for reading.
    Text,
    /// One JSON object per change.
    Jsonl,
}

/// `watch` options.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// An email id to follow (repeatable); @FILE reads one id per line (@- from stdin).
    #[arg(long = "email-id", value_name = "ID|@FILE", action = ArgAction::Append)]
    pub email_ids: Vec<String>,

    #[command(flatten)]
    pub language: LanguageArg,

    /// Follow every email to this address sent in the last 3 days.
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,

    /// Least time between two polls (at least 1s). The server answers the same query from its cache
    /// for 10 minutes: a shorter interval against the real service shows nothing sooner.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub interval: std::time::Duration,

    /// A soft bounce unchanged this long after it happened counts as failed (the vendor may retry it
    /// until then).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub soft_bounce_grace: std::time::Duration,

    /// Also record every state seen into this archive (as `sync` does; created when missing).
    #[arg(long, value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// Output format [default: text].
    #[arg(long, value_enum, help_heading = "Output")]
    pub format: Option<WatchFormat>,
}

/// `webhook` subcommands.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Serve an HTTP endpoint for the vendor's event webhooks: verify each event and store it once in
    /// the archive. Runs until SIGTERM or Ctrl-C.
    #[command(
        args_override_self = true,
        after_help = "Example: SENDCLOUD_WEBHOOK_KEY=… sendcloud-status webhook serve --listen 0.0.0.0:8787 --db status.db\n\n\
                      Answers: 200 stored (or a repeat, stored before), 403 bad signature or stale timestamp,\n\
                      400 malformed body, 413 body too large. GET /healthz answers 200 with counters."
    )]
    Serve(WebhookServeArgs),
}

/// `webhook serve` options.
#[derive(Debug, Args)]
pub struct WebhookServeArgs {
    /// The address to listen on, e.g. 127.0.0.1:8787 or 0.0.0.0:8787 (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// The archive to store events in (created when missing).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,

    /// The account's webhook app key (never printed).
    #[arg(
        long,
        env = "SENDCLOUD_WEBHOOK_KEY",
        hide_env_values = true,
        value_name = "KEY",
        value_parser = parse_secret,
        allow_hyphen_values = true
    )]
    pub app_key: Option<Secret>,

    /// The path events are POSTed to.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub path: String,

    /// How far an event's timestamp may be from now (the vendor retries for 31 minutes).
    #[arg(long, value_name = "DURATION", default_value = "35m", value_parser = parse_duration)]
    pub tolerance: std::time::Duration,

    /// The largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 65_536, value_parser = clap::value_parser!(u64).range(1..=16_777_216))]
    pub max_body: u64,
}

/// `sandbox` options: the simulator's own flags.
#[derive(Debug, Args)]
pub struct SandboxCommandArgs {
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Parses the process arguments; clap errors (and `--help`/`--version`)
/// come back as `Err` for the caller to print.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// Parses `args` (the first item is the program name).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::{CommandFactory, FromArgMatches, parser::ValueSource};
    let args = subcommand_options_after_the_subcommand(Cli::command(), args.into_iter().map(Into::into).collect());
    let matches = Cli::command().try_get_matches_from(args)?;
    let mut cli = Cli::from_arg_matches(&matches)?;
    let on_command_line = |id: &str| {
        let mut m = Some(&matches);
        while let Some(cur) = m {
            if cur.try_contains_id(id).unwrap_or(false) && cur.value_source(id) == Some(ValueSource::CommandLine) {
                return true;
            }
            m = cur.subcommand().map(|(_, sub)| sub);
        }
        false
    };
    cli.global.api_user_on_command_line = on_command_line("api_user");
    cli.global.api_key_on_command_line = on_command_line("api_key");
    cli.global.timeout_on_command_line = on_command_line("timeout");
    Ok(cli)
}

/// Moves a subcommand's own options written before it (`--days 3 query`)
/// to just after it (`query --days 3`), so every option may come before or
/// after the subcommand: clap itself only allows that for `global` options,
/// and filters cannot be global (not every subcommand takes them).
///
/// Tokens are read as clap reads them: an option of the top level keeps its
/// place (with its value); another option takes a value when any subcommand
/// gives it one; the first bare word that names a subcommand is the
/// subcommand (and a word after it naming one of its own subcommands, as in
/// `webhook serve`). Anything else is left for clap to report.
fn subcommand_options_after_the_subcommand(
    top: clap::Command,
    args: Vec<std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    /// How the option written as `token` (`--name`, `--name=v`, `-x`) takes its value, if it is one of `args`.
    fn takes_value<'a>(mut args: impl Iterator<Item = &'a clap::Arg>, token: &str) -> Option<bool> {
        let (name, inline) = match token.split_once('=') {
            Some((n, _)) => (n, true),
            None => (token, false),
        };
        let arg = if let Some(long) = name.strip_prefix("--") {
            args.find(|a| a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|al| al.contains(&long)))?
        } else {
            let short = name.strip_prefix('-')?.chars().next()?;
            args.find(|a| a.get_short() == Some(short))?
        };
        // A short flag with a value glued on (`-ofile`) carries it.
        let glued = !name.starts_with("--") && name.len() > 2;
        Some(arg.get_action().takes_values() && !inline && !glued)
    }
    let Some((program, rest)) = args.split_first() else { return args };
    let mut before = vec![program.clone()];
    let mut moved = Vec::new();
    let mut iter = rest.iter().cloned();
    let mut path: Vec<std::ffi::OsString> = Vec::new();
    while let Some(token) = iter.next() {
        let Some(text) = token.to_str() else {
            before.push(token);
            continue;
        };
        if text == "--" || text == "-" {
            before.push(token);
            break;
        }
        if text.starts_with('-') {
            let own = takes_value(top.get_arguments(), text);
            let any = || {
                top.get_subcommands()
                    .flat_map(|c| std::iter::once(c).chain(c.get_subcommands()))
                    .find_map(|c| takes_value(c.get_arguments(), text))
            };
            let (list, value) = match own {
                Some(v) => (&mut before, v),
                None => (&mut moved, any().unwrap_or(false)),
            };
            list.push(token);
            if value && let Some(v) = iter.next() {
                list.push(v);
            }
            continue;
        }
        match top.find_subcommand(text) {
            Some(sub) => {
                path.push(token);
                let sub = sub.clone();
                // `webhook serve`: the nested subcommand comes next, before any option.
                let nested =
                    iter.clone().next().filter(|n| n.to_str().is_some_and(|n| sub.find_subcommand(n).is_some()));
                if let Some(n) = nested {
                    iter.next();
                    path.push(n);
                }
                break;
            }
            None => {
                before.push(token);
                break;
            }
        }
    }
    if path.is_empty() {
        // No subcommand: leave everything as written, for clap to explain.
        return args;
    }
    before.extend(path);
    before.extend(moved);
    before.extend(iter);
    before
}

/// `auto`, or a number of requests in flight within the core's bounds.
fn parse_parallel(s: &str) -> Result<Parallelism, String> {
    s.parse::<Parallelism>().map_err(|e| e.explanation().to_owned())
}

/// A server day, `yyyy-MM-dd` (the core's date rule).
fn parse_day(s: &str) -> Result<sendcloud_status::chrono::NaiveDate, String> {
    sendcloud_status::core::query::parse_date("date", s).map_err(|e| e.explanation().to_owned())
}

/// A duration: a number and a unit (`s`, `m`, `h`, `d`; seconds without one).
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => 0,
    };
    match digits.parse::<u64>() {
        Ok(n) if seconds > 0 && n <= 366 * 86_400 => Ok(std::time::Duration::from_secs(n * seconds)),
        _ => Err(format!("{s:?} is not a duration like 0s, 90s, 10m, 2h or 1d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn durations_take_a_unit() {
        let secs = |s: &str| parse_duration(s).map(|d| d.as_secs());
        assert_eq!(secs("0s"), Ok(0));
        assert_eq!(secs("90"), Ok(90));
        assert_eq!(secs("10m"), Ok(600));
        assert_eq!(secs("2h"), Ok(7200));
        assert_eq!(secs("1d"), Ok(86_400));
        for bad in ["", "m", "10 minutes", "-1s", "1.5h", "99999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sync_and_status_parse() {
        let cli = parse_from(["x", "sync", "--db", "a.db", "--since", "2024-05-01", "--rescan-after", "0s"]).unwrap();
        let Command::Sync(s) = cli.command else { panic!() };
        assert_eq!((s.lookback, s.sending_max_age, s.rescan_after.as_secs()), (3, 7, 0));
        assert_eq!(s.since.map(|d| d.to_string()).as_deref(), Some("2024-05-01"));
        assert!(parse_from(["x", "sync"]).is_err(), "--db is required");
        let cli = parse_from(["x", "status", "a@b.com", "--db", "a.db"]).unwrap();
        let Command::Status(s) = cli.command else { panic!() };
        assert_eq!(s.target, "a@b.com");
        let cli = parse_from(["x", "summary", "--db", "a.db", "--days", "2"]).unwrap();
        let Command::Summary(s) = cli.command else { panic!() };
        assert_eq!(s.archive.db.as_deref(), Some(std::path::Path::new("a.db")));
    }

    #[test]
    fn the_command_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn globals_go_before_or_after_the_subcommand_and_remember_their_source() {
        let cli = parse_from(["x", "--api-key", "k1", "summary", "--days", "2", "--api-user", "u"]).unwrap();
        assert_eq!(cli.global.api_key, Some(Secret("k1".into())));
        assert!(cli.global.api_key_on_command_line);
        assert!(cli.global.api_user_on_command_line);
        let Command::Summary(s) = cli.command else { panic!() };
        assert_eq!(s.filters.days, Some(2));
    }

    #[test]
    fn subcommand_options_may_come_before_the_subcommand() {
        let cli = parse_from([
            "x",
            "--format",
            "csv",
            "-o",
            "out.csv",
            "--days",
            "3",
            "--max-records=5",
            "--status",
            "invalid",
            "-q",
            "query",
            "--api-user",
            "u",
        ])
        .unwrap();
        assert!(cli.global.quiet);
        let Command::Query(q) = cli.command else { panic!() };
        assert_eq!(q.format, Some(RecordFormat::Csv));
        assert_eq!(q.output.output.as_deref(), Some(std::path::Path::new("out.csv")));
        assert_eq!((q.filters.days, q.filters.max_records), (Some(3), Some(5)));
        assert_eq!(q.filters.status.as_deref(), Some("invalid"));
        // A value that names a subcommand stays a value.
        let cli = parse_from(["x", "--label-name", "query", "summary"]).unwrap();
        let Command::Summary(s) = cli.command else { panic!() };
        assert_eq!(s.filters.label_name.as_deref(), Some("query"));
        // Nested subcommands: the options go after `webhook serve`.
        let cli = parse_from(["x", "--listen", "127.0.0.1:0", "--db", "a.db", "webhook", "serve"]).unwrap();
        let Command::Webhook(WebhookCommand::Serve(w)) = cli.command else { panic!() };
        assert_eq!(w.db, std::path::Path::new("a.db"));
        // An option the subcommand does not take is still an error, and so is an unknown one.
        assert!(parse_from(["x", "--days", "3", "sandbox"]).is_err());
        assert!(parse_from(["x", "--no-such-flag", "query"]).is_err());
        // Values after `--` are not touched.
        assert!(parse_from(["x", "status", "--", "--days"]).is_ok());
    }

    #[test]
    fn sandbox_subcommand_owns_its_rate_limit() {
        let cli = parse_from(["x", "sandbox", "--rate-limit", "0", "--records", "5"]).unwrap();
        let Command::Sandbox(s) = cli.command else { panic!() };
        assert_eq!(s.sandbox.to_config().rate_limit_per_minute, None);
        assert_eq!(s.sandbox.records, 5);
        let cli = parse_from(["x", "query", "--days", "1", "--rate-limit", "60"]).unwrap();
        assert_eq!(cli.global.rate_limit, 60);
    }

    #[test]
    fn bounds_read_as_words() {
        let err = parse_from(["x", "query", "--days", "1", "--max-records", "0"]).unwrap_err().to_string();
        assert!(err.contains("must be at least 1, got 0"), "{err}");
        assert!(!err.contains("18446744073709551615"), "{err}");
        let err = parse_from(["x", "query", "--days", "1", "--parallel", "65"]).unwrap_err().to_string();
        assert!(err.contains("from 1 to 64"), "{err}");
        assert!(parse_from(["x", "query", "--days", "1", "--timeout", "0"]).is_err());
        assert!(parse_from(["x", "query", "--days", "1", "--timeout", "25h"]).is_err());
        let cli = parse_from(["x", "query", "--days", "1"]).unwrap();
        assert_eq!((cli.global.timeout, cli.global.max_retries, cli.global.rate_limit), (30.0, 7, 3000));
        let Command::Query(q) = cli.command else { panic!() };
        assert_eq!(q.language.language, Wording::default());
        let cli = parse_from(["x", "query", "--language", "server", "--days", "1"]).unwrap();
        let Command::Query(q) = cli.command else { panic!() };
        assert_eq!(q.language.language, Wording::Server);
        assert!(parse_from(["x", "query", "--days", "1", "--language", "fr"]).is_err());
        // The simulator keeps its own --language.
        assert!(parse_from(["x", "sandbox", "--language", "en"]).is_ok());
    }

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(format!("{:?}", Secret("SENTINEL".into())), "Secret(<redacted>)");
    }
}
