//! Core errors → JS `Error` objects carrying `code`, `apiCode`, `field`,
//! `reason`, `httpStatus` and `retryable`; the JS wrapper (`node/lib/errors.js`) turns
//! them into `SendCloudError` subclasses. Panics are caught at every entry
//! point and become plain internal errors: they never unwind into Node.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::bindgen_prelude::*;
use sendcloud_status::{Error as CoreError, ErrorKind};
use sendcloud_status_archive::Error as ArchiveError;

/// The `code` of a JS error for a core error kind. Stable strings: the JS
/// API and its types promise exactly these nine.
pub(crate) fn code_of(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Validation => "VALIDATION",
        ErrorKind::Auth => "AUTH",
        ErrorKind::RateLimited => "RATE_LIMITED",
        ErrorKind::Quota => "QUOTA",
        ErrorKind::Server => "SERVER",
        ErrorKind::Transport => "TRANSPORT",
        ErrorKind::Decode => "DECODE",
        ErrorKind::Internal => "INTERNAL",
        // `Api` and any kind the core adds later.
        _ => "API",
    }
}

/// The JS option name for a core field name: `start_date` → `startDate`,
/// `api_users` → `apiUsers`; durations (the builder's `timeout`, a watch's
/// `interval` and `soft_bounce_grace`) are options in milliseconds here.
pub(crate) fn js_field(field: &str) -> String {
    match field {
        "timeout" => return "timeoutMs".to_owned(),
        "interval" => return "intervalMs".to_owned(),
        "soft_bounce_grace" => return "softBounceGraceMs".to_owned(),
        _ => {}
    }
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A JS error object for a core error, as a napi error that throws (or
/// rejects with) exactly that object. The core's messages never hold the key.
pub(crate) fn js_error(env: &Env, e: &CoreError) -> napi::Error {
    build_js_error(env, e).unwrap_or_else(|fallback| fallback)
}

fn build_js_error(env: &Env, e: &CoreError) -> Result<napi::Error> {
    // A value refused before sending is named as the JS option, not the core's field.
    let message = match e.field() {
        Some(field) if e.is_before_sending() => format!("invalid {}: {}", js_field(field), e.explanation()),
        _ => e.message().to_owned(),
    };
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, message))?;
    obj.set_named_property("name", "SendCloudError")?;
    obj.set_named_property("code", code_of(e.kind()))?;
    obj.set_named_property("apiCode", e.api_code().map(|c| c as f64))?;
    obj.set_named_property("field", e.field().map(js_field))?;
    obj.set_named_property("reason", e.reason())?;
    obj.set_named_property("httpStatus", e.http_status().map(u32::from))?;
    obj.set_named_property("retryable", e.is_retryable())?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// The `code` of an archive failure (the client's errors keep theirs).
pub(crate) fn archive_code(e: &ArchiveError) -> &'static str {
    match e {
        ArchiveError::Api(e) => code_of(e.kind()),
        ArchiveError::Busy { .. } => "ARCHIVE_BUSY",
        ArchiveError::Missing { .. } => "ARCHIVE_MISSING",
        ArchiveError::NotAnArchive { .. } => "NOT_AN_ARCHIVE",
        ArchiveError::NewerSchema { .. } => "ARCHIVE_VERSION",
        ArchiveError::Unsupported(_) => "VALIDATION",
        ArchiveError::Cancelled => "ABORTED",
        _ => "ARCHIVE",
    }
}

/// A JS error object for an archive error: `SendCloudError`-shaped with an
/// archive `code` (`field` is `path` when the file is at fault). A cancelled
/// sync is a plain `AbortError` (`code: 'ABORTED'`), which the JS wrapper
/// replaces with its signal's reason. Messages name the file, never a key.
pub(crate) fn archive_js_error(env: &Env, e: &ArchiveError) -> napi::Error {
    if let ArchiveError::Api(core) = e {
        return js_error(env, core);
    }
    build_archive_error(env, e).unwrap_or_else(|fallback| fallback)
}

fn build_archive_error(env: &Env, e: &ArchiveError) -> Result<napi::Error> {
    let message = match e {
        ArchiveError::Missing { path } => format!("no archive at {}: sync into it first", path.display()),
        other => other.to_string(),
    };
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, message))?;
    let code = archive_code(e);
    if code == "ABORTED" {
        obj.set_named_property("name", "AbortError")?;
        obj.set_named_property("code", code)?;
        return Ok(napi::Error::from(obj.to_unknown()));
    }
    let field = match e {
        ArchiveError::Missing { .. } | ArchiveError::NotAnArchive { .. } | ArchiveError::NewerSchema { .. } => {
            Some("path")
        }
        _ => None,
    };
    obj.set_named_property("name", "SendCloudError")?;
    obj.set_named_property("code", code)?;
    obj.set_named_property("apiCode", Option::<f64>::None)?;
    obj.set_named_property("field", field)?;
    obj.set_named_property("reason", Option::<&str>::None)?;
    obj.set_named_property("httpStatus", Option::<u32>::None)?;
    obj.set_named_property("retryable", matches!(e, ArchiveError::Busy { .. }))?;
    Ok(napi::Error::from(obj.to_unknown()))
}

/// A plain internal error (not a `SendCloudError`): a bug, never input.
pub(crate) fn internal(message: impl std::fmt::Display) -> napi::Error {
    napi::Error::new(Status::GenericFailure, format!("sendcloud-status: internal error: {message}"))
}

/// Runs `f`, turning a panic into an internal error.
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| internal(format!("panic: {}", panic_text(&*payload))))
}

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "unknown panic payload"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_camel_case_option_names() {
        assert_eq!(js_field("start_date"), "startDate");
        assert_eq!(js_field("api_users"), "apiUsers");
        assert_eq!(js_field("max_window_days"), "maxWindowDays");
        assert_eq!(js_field("timeout"), "timeoutMs");
        assert_eq!(js_field("interval"), "intervalMs");
        assert_eq!(js_field("soft_bounce_grace"), "softBounceGraceMs");
        assert_eq!(js_field("window"), "window");
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(code_of(ErrorKind::RateLimited), "RATE_LIMITED");
        assert_eq!(code_of(ErrorKind::Api), "API");
        assert_eq!(code_of(ErrorKind::Internal), "INTERNAL");
    }

    #[test]
    fn archive_codes_are_stable() {
        let path = std::path::PathBuf::from("a.db");
        assert_eq!(archive_code(&ArchiveError::Busy { path: path.clone() }), "ARCHIVE_BUSY");
        assert_eq!(archive_code(&ArchiveError::Missing { path: path.clone() }), "ARCHIVE_MISSING");
        assert_eq!(archive_code(&ArchiveError::NotAnArchive { path: path.clone(), detail: None }), "NOT_AN_ARCHIVE");
        assert_eq!(archive_code(&ArchiveError::NewerSchema { path, found: 9, known: 1 }), "ARCHIVE_VERSION");
        assert_eq!(archive_code(&ArchiveError::Api(CoreError::validation("since", "x"))), "VALIDATION");
        assert_eq!(archive_code(&ArchiveError::Cancelled), "ABORTED");
    }

    #[test]
    fn guard_catches_panics() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = guard(|| -> u8 { panic!("boom") });
        std::panic::set_hook(prev);
        assert!(r.unwrap_err().reason.contains("boom"));
    }
}
