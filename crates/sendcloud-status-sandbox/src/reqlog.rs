//! What the sandbox saw: one [`LoggedRequest`] per request, never the apiKey's value.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

use crate::faults::FaultKind;

/// The log keeps this many most recent requests (long benchmarks must not grow it forever).
pub const REQUEST_LOG_CAPACITY: usize = 100_000;

/// Placeholder stored instead of the apiKey's value.
pub const REDACTED: &str = "<redacted>";

/// One request as the sandbox saw it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Parameter names, from the query string then the form body, in order (duplicates kept).
    pub param_names: Vec<String>,
    /// Name/value pairs in the same order; the apiKey's value is [`REDACTED`].
    pub params: Vec<(String, String)>,
    /// `apiKey` was in the URL query string (a client leaking its key into URLs).
    pub key_in_url: bool,
    /// The API `statusCode` answered (200, 40005, 50000, …), or 0 for transport faults
    /// (502, reset, truncated).
    pub status_code: i64,
    /// HTTP status sent (0 when the connection was closed without a response).
    pub http_status: u16,
    /// The injected fault, if any.
    pub fault: Option<FaultKind>,
    /// When the request reached a worker.
    pub received: Instant,
}

impl LoggedRequest {
    /// The value of parameter `name` (last occurrence, as the server reads it).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Bounded, shared request log.
#[derive(Debug)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
    /// When the log was made: the zero of the `received_ms` the control API reports.
    created: Instant,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog { entries: Mutex::default(), created: Instant::now() }
    }
}

impl RequestLog {
    /// Milliseconds from the log's creation to when `entry` reached a worker.
    pub fn received_ms(&self, entry: &LoggedRequest) -> u64 {
        u64::try_from(entry.received.saturating_duration_since(self.created).as_millis()).unwrap_or(u64::MAX)
    }
    pub fn push(&self, entry: LoggedRequest) {
        let mut e = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if e.len() == REQUEST_LOG_CAPACITY {
            e.pop_front();
        }
        e.push_back(entry);
    }
    pub fn snapshot(&self) -> Vec<LoggedRequest> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
