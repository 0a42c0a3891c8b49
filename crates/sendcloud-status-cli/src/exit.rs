//! Exit codes, and turning any failure into one `error: …` line.

use std::io::Write as _;
use std::process::ExitCode;

use sendcloud_status::{Error, ErrorKind};

/// Success.
pub const OK: u8 = 0;
/// The output (or the archive) could not be written (disk full, unwritable path).
pub const OUTPUT: u8 = 1;
/// Usage or validation error: nothing was sent.
pub const USAGE: u8 = 2;
/// The credentials were refused.
pub const AUTH: u8 = 3;
/// Still rate limited after the retries (or the account's quota is used up).
pub const RATE_LIMIT: u8 = 4;
/// Any other API or network failure, or the archive is busy (another sync writes it).
pub const API: u8 = 5;
/// `watch`: at least one email failed (invalid, or a soft bounce past the grace).
pub const WATCH_FAILED: u8 = 6;
/// `watch`: the deadline passed with emails still pending.
pub const WATCH_PENDING: u8 = 7;
/// Interrupted by Ctrl-C.
pub const INTERRUPTED: u8 = 130;

/// The exit-code table shown at the end of `--help`.
pub const HELP: &str = "\
Exit codes:
  0    success
  1    the output or the archive could not be written
  2    usage or validation error: nothing was sent (also: --db names no archive, another kind of
       file, or an archive of a newer version; a filter the archive cannot answer)
  3    authentication failed (wrong apiUser/apiKey, or an account of another region)
  4    still rate limited after the retries, or the request quota is used up
  5    any other API or network failure; the archive is busy (another sync is writing it);
       webhook serve cannot listen on its address
  6    watch: at least one email failed (invalid, or a soft bounce past --soft-bounce-grace)
  7    watch: the deadline (--timeout) passed with emails still pending
  130  interrupted (Ctrl-C); a partial --output file is removed, an archive keeps every whole page

Environment: SENDCLOUD_API_USER, SENDCLOUD_API_KEY, SENDCLOUD_REGION, SENDCLOUD_BASE_URL, SENDCLOUD_WEBHOOK_KEY,
HTTPS_PROXY / ALL_PROXY / NO_PROXY, RUST_LOG (when -v is not given).";

/// Why the command failed: an exit code and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The process exit code.
    pub code: u8,
    /// One line, without the `error: ` prefix. Empty: exit silently.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Failure { code, message: message.into() }
    }

    /// A usage or validation error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure::new(USAGE, message)
    }

    /// The output could not be written. A closed pipe (`| head`) is not
    /// an error: the reader has what it wanted, so exit quietly with 0.
    pub fn output(context: &str, err: &std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure::new(OK, "");
        }
        Failure::new(OUTPUT, format!("{context}: {err}"))
    }

    /// Maps an error of the client onto the documented exit codes.
    pub fn api(err: &Error) -> Self {
        Failure::new(code_of(err), err.message())
    }

    /// Prints the message (if any) and returns the exit code.
    pub fn report(&self) -> ExitCode {
        if !self.message.is_empty() {
            let line = self.message.replace(['\n', '\r'], " ");
            let _ = writeln!(std::io::stderr(), "error: {line}");
        }
        ExitCode::from(self.code)
    }
}

/// Maps an archive error onto the documented exit codes.
pub fn archive(err: &sendcloud_status_archive::Error) -> Failure {
    use sendcloud_status_archive::Error as A;
    let code = match err {
        A::Busy { .. } => API,
        A::Missing { .. } | A::NotAnArchive { .. } | A::NewerSchema { .. } | A::Unsupported(_) => USAGE,
        A::Storage { .. } | A::Io { .. } => OUTPUT,
        A::Api(e) => return Failure::api(e),
        _ => API,
    };
    Failure::new(code, err.to_string())
}

impl From<sendcloud_status_archive::Error> for Failure {
    fn from(err: sendcloud_status_archive::Error) -> Self {
        archive(&err)
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::api(&err)
    }
}

/// The exit code of a client error, from its structure (never its text).
///
/// A validation error raised before sending is 2; one the server answered
/// (a 400xx code, say an unknown label id) means a request went out, so it
/// is 5 like other API errors.
pub fn code_of(err: &Error) -> u8 {
    match err.kind() {
        ErrorKind::Validation if err.is_before_sending() => USAGE,
        ErrorKind::Auth => AUTH,
        ErrorKind::RateLimited | ErrorKind::Quota => RATE_LIMIT,
        _ => API,
    }
}

/// Prints a clap error (usage errors as one line) and returns its exit
/// code: 0 for `--help` and `--version`, 2 otherwise.
pub fn clap_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind as K;
    match err.kind() {
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(if err.kind() == K::DisplayHelpOnMissingArgumentOrSubcommand { USAGE } else { OK })
        }
        _ => {
            // clap's first paragraph ("error: …" and "[possible values: …]"), on one line.
            let rendered = err.render().to_string();
            let first: Vec<&str> =
                rendered.lines().map(str::trim).skip_while(|l| l.is_empty()).take_while(|l| !l.is_empty()).collect();
            let first = first.join(" ");
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            Failure::usage(format!("{first} (see --help)")).report()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sendcloud_status::Query;

    #[test]
    fn validation_before_sending_is_a_usage_error() {
        let err = Query::builder().days(0).build().unwrap_err();
        assert_eq!(code_of(&err), USAGE);
        assert_eq!(code_of(&Error::transport("refused")), API);
        assert_eq!(code_of(&Error::internal("a bug")), API);
        // A parameter the server refused: a request went out.
        let refused = sendcloud_status::core::Decoder::default()
            .decode(200, br#"{"result":false,"statusCode":40007,"message":"bad startDate"}"#)
            .unwrap_err();
        assert_eq!((refused.field(), code_of(&refused)), (Some("start_date"), API));
    }

    #[test]
    fn a_closed_pipe_ends_quietly() {
        let f = Failure::output("writing", &std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!((f.code, f.message.as_str()), (OK, ""));
    }
}
