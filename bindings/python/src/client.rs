//! `NativeClient`: a [`Client`] built from Python keyword arguments (with the
//! builder's environment fallbacks), its single-page fetch and its exports.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyInt, PyString, PyTuple};
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use sendcloud_status::core::query::parse_date;
use sendcloud_status::{Client, Cursor, MAX_PARALLELISM, Method, Parallelism, Region, RetryPolicy};

use sendcloud_status_archive::ServerClock;

use crate::archive::{NativeSync, SyncSettings};
use crate::convert;
use crate::errors::{OrRaise, validation};
use crate::export::NativeExport;
use crate::query::{build_query, int};
use crate::watch::{NativeWatch, duration_arg};

/// The blocking client. Thread-safe: clones of the inner client share the
/// connection pool and the rate limiter.
#[pyclass(frozen, module = "sendcloud_status._native")]
pub struct NativeClient {
    client: Client,
    method: Method,
    parallel: Parallelism,
    offset: FixedOffset,
}

impl std::fmt::Debug for NativeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `Client`'s Debug redacts the key.
        f.debug_struct("NativeClient").field("client", &self.client).finish()
    }
}

#[pymethods]
impl NativeClient {
    #[new]
    #[pyo3(signature = (
        api_user=None, api_key=None, *, region=None, base_url=None, method="POST", timeout=30.0,
        connect_timeout=10.0, max_retries=None, rate_limit_per_minute=None, parallel=None,
        server_utc_offset=None, max_window_days=None, jitter_seed=None, user_agent=None, email_id_chunk=None,
        retry_base_delay=None, retry_rate_limit_delay=None, retry_max_delay=None, retry_deadline=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        api_user: Option<String>,
        api_key: Option<String>,
        region: Option<String>,
        base_url: Option<String>,
        method: &str,
        timeout: f64,
        connect_timeout: f64,
        max_retries: Option<i64>,
        rate_limit_per_minute: Option<&Bound<'_, PyAny>>,
        parallel: Option<&Bound<'_, PyAny>>,
        server_utc_offset: Option<&Bound<'_, PyAny>>,
        max_window_days: Option<i64>,
        jitter_seed: Option<u64>,
        user_agent: Option<String>,
        email_id_chunk: Option<i64>,
        retry_base_delay: Option<f64>,
        retry_rate_limit_delay: Option<f64>,
        retry_max_delay: Option<f64>,
        retry_deadline: Option<f64>,
    ) -> PyResult<Self> {
        let mut b = Client::builder();
        if let Some(u) = api_user {
            b = b.api_user(u);
        }
        if let Some(k) = api_key {
            b = b.api_key(k);
        }
        if let Some(r) = region {
            b = b.region(r.parse::<Region>().or_raise(py)?);
        }
        if let Some(u) = base_url {
            b = b.base_url(u);
        }
        if let Some(d) = max_window_days {
            let d = u32::try_from(d).map_err(|_| validation(py, "max_window_days", "must be at least 1"))?;
            b = b.max_window_days(d);
        }
        let method: Method = method.parse().or_raise(py)?;
        b = b.method(method).timeout(seconds(py, "timeout", timeout)?).connect_timeout(seconds(
            py,
            "connect_timeout",
            connect_timeout,
        )?);
        let mut retry = RetryPolicy::default();
        if let Some(s) = retry_base_delay {
            retry.base_delay = delay(py, "retry_base_delay", s)?;
        }
        if let Some(s) = retry_rate_limit_delay {
            retry.rate_limit_base_delay = delay(py, "retry_rate_limit_delay", s)?;
        }
        if let Some(s) = retry_max_delay {
            retry.max_delay = delay(py, "retry_max_delay", s)?;
        }
        if let Some(s) = retry_deadline {
            retry.deadline = seconds(py, "retry_deadline", s)?;
        }
        b = b.retry_policy(retry);
        if let Some(n) = max_retries {
            let n = u32::try_from(n).map_err(|_| validation(py, "max_retries", "must be an integer ≥ 0"))?;
            b = b.max_retries(n);
        }
        // Unset: the client's default (3000/min); None or 0: no client-side pacing.
        // The Python layer always passes the setting (its default is 3000):
        // `None` here is the user's `None`, no client pacing, like `0`.
        b = b.rate_limit_per_minute(match rate_limit_per_minute {
            Some(v) => rate_limit(py, v)?,
            None => None,
        });
        let parallel = match parallel {
            Some(v) => parallelism(py, v)?,
            None => Parallelism::default(),
        };
        b = b.parallelism(parallel);
        let offset = match server_utc_offset {
            None => FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset"),
            Some(v) => utc_offset(py, v)?,
        };
        b = b.server_utc_offset(offset);
        if let Some(seed) = jitter_seed {
            b = b.jitter_seed(seed);
        }
        if let Some(ua) = user_agent {
            b = b.user_agent(ua);
        }
        if let Some(n) = email_id_chunk {
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| validation(py, "email_id_chunk", "must be at least 1"))?;
            b = b.email_id_chunk(n);
        }
        let client = b.build().or_raise(py)?;
        Ok(NativeClient { client, method, parallel, offset })
    }

    /// The `apiUser` (the key is never exposed).
    #[getter]
    fn api_user(&self) -> &str {
        self.client.api_user()
    }

    /// The base URL, ending with `/`.
    #[getter]
    fn base_url(&self) -> &str {
        self.client.endpoint().base_url()
    }

    /// The full URL of the `emailStatus` endpoint.
    #[getter]
    fn endpoint_url(&self) -> String {
        self.client.endpoint().url()
    }

    /// The region preset, or `None` for a custom base URL.
    #[getter]
    fn region(&self) -> Option<&'static str> {
        self.client.endpoint().region().map(Region::name)
    }

    /// The longest window one request may span.
    #[getter]
    fn max_window_days(&self) -> u32 {
        self.client.endpoint().max_window_days()
    }

    /// `GET` or `POST`.
    #[getter]
    fn method(&self) -> &'static str {
        self.method.as_str()
    }

    /// Requests in flight at once during exports: `"auto"` or a number.
    #[getter]
    fn parallel<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self.parallel {
            Parallelism::Fixed(n) => n.into_pyobject(py)?.into_any(),
            _ => self.parallel.to_string().into_pyobject(py)?.into_any(),
        })
    }

    /// The server's UTC offset, like `+08:00`.
    #[getter]
    fn server_utc_offset(&self) -> String {
        self.offset.to_string()
    }

    /// "Today" on the server's calendar.
    fn server_today(&self) -> NaiveDate {
        self.client.server_today()
    }

    /// Exactly the page the filters describe (window, `start`, `limit`);
    /// the GIL is released while it is fetched.
    #[pyo3(signature = (**filters))]
    fn page<'py>(&self, py: Python<'py>, filters: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, PyTuple>> {
        let query = build_query(py, filters)?;
        let client = &self.client;
        let page = py.detach(|| client.page(&query)).or_raise(py)?;
        convert::page(py, &page)
    }

    /// A lazy export of every matching record; nothing is sent until it is
    /// iterated. Filters are validated here. `today` anchors `days` on a
    /// server day; `server_now` plans the export on a server time instead
    /// of this machine's clock (not both).
    #[pyo3(signature = (*, max_records=None, cursor=None, parallel=None, today=None, server_now=None, **filters))]
    #[allow(clippy::too_many_arguments)]
    fn export(
        &self,
        py: Python<'_>,
        max_records: Option<&Bound<'_, PyAny>>,
        cursor: Option<&Bound<'_, PyAny>>,
        parallel: Option<&Bound<'_, PyAny>>,
        today: Option<&Bound<'_, PyAny>>,
        server_now: Option<&Bound<'_, PyAny>>,
        filters: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<NativeExport> {
        let query = build_query(py, filters)?;
        let mut request = self.client.export(query);
        let today = today.filter(|v| !v.is_none());
        let server_now = server_now.filter(|v| !v.is_none());
        if today.is_some() && server_now.is_some() {
            return Err(validation(
                py,
                "server_now",
                "give today or server_now, not both (server_now sets the day as well as the time)",
            ));
        }
        if let Some(t) = today {
            let day = crate::query::date(py, "today", t)?;
            request = request.today(parse_date("today", &day).or_raise(py)?);
        }
        if let Some(t) = server_now {
            request = request.server_now(server_time(py, self.offset, t)?);
        }
        if let Some(n) = max_records.filter(|v| !v.is_none()) {
            let n = u64::try_from(int(py, "max_records", n)?)
                .map_err(|_| validation(py, "max_records", "must be an integer ≥ 0"))?;
            request = request.max_records(n);
        }
        if let Some(c) = cursor.filter(|v| !v.is_none()) {
            let text = c
                .cast::<PyString>()
                .map_err(|_| validation(py, "cursor", "must be a string from a previous export's .cursor"))?;
            request = request.resume(text.to_cow()?.parse::<Cursor>().or_raise(py)?);
        }
        if let Some(p) = parallel.filter(|v| !v.is_none()) {
            request = request.parallel(parallelism(py, p)?);
        }
        // Read ahead: the next page is fetched while Python works through
        // this one (turning records into Python objects costs about as much
        // as fetching them). Cursors still describe the records handed out.
        Ok(NativeExport::new(request.read_ahead(true).pages().or_raise(py)?))
    }

    /// A sync of the archive at `path` (created when missing), validated
    /// now; `run()` carries it out. `today` or `server_now` set the server's
    /// clock (not both).
    #[pyo3(signature = (
        path, *, since=None, lookback_days, sending_max_age_days, rescan_after, api_users=None, today=None,
        server_now=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn sync_job<'py>(
        &self,
        py: Python<'py>,
        path: &Bound<'py, PyAny>,
        since: Option<&Bound<'py, PyAny>>,
        lookback_days: &Bound<'py, PyAny>,
        sending_max_age_days: &Bound<'py, PyAny>,
        rescan_after: &Bound<'py, PyAny>,
        api_users: Option<&Bound<'py, PyAny>>,
        today: Option<&Bound<'py, PyAny>>,
        server_now: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<NativeSync> {
        let server_now = match server_now.filter(|v| !v.is_none()) {
            Some(v) => Some(ServerClock::At(server_time(py, self.offset, v)?)),
            None => None,
        };
        let settings =
            SyncSettings { since, lookback_days, sending_max_age_days, rescan_after, api_users, today, server_now };
        NativeSync::new(py, self.client.clone(), self.offset, path, settings)
    }

    /// A watch of `email_ids` (one id or an iterable) and/or every email
    /// to `email`, validated now; nothing is sent until `next_event()`.
    /// Durations are seconds; `timeout=None` means no deadline (the Python
    /// layer always passes it).
    #[pyo3(signature = (
        email_ids=None, *, email=None, interval, soft_bounce_grace, timeout, today=None, jitter_seed=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn watch(
        &self,
        py: Python<'_>,
        email_ids: Option<&Bound<'_, PyAny>>,
        email: Option<&Bound<'_, PyAny>>,
        interval: &Bound<'_, PyAny>,
        soft_bounce_grace: &Bound<'_, PyAny>,
        timeout: Option<&Bound<'_, PyAny>>,
        today: Option<&Bound<'_, PyAny>>,
        jitter_seed: Option<u64>,
    ) -> PyResult<NativeWatch> {
        let ids = match email_ids.filter(|v| !v.is_none()) {
            Some(v) => crate::query::strings(py, "email_ids", v)?,
            None => Vec::new(),
        };
        let mut request = self
            .client
            .watch(ids)
            .interval(duration_arg(py, "interval", interval)?)
            .soft_bounce_grace(duration_arg(py, "soft_bounce_grace", soft_bounce_grace)?);
        request = request.timeout(match timeout.filter(|v| !v.is_none()) {
            Some(v) => Some(duration_arg(py, "timeout", v)?),
            None => None,
        });
        if let Some(e) = email.filter(|v| !v.is_none()) {
            request = request.email(crate::query::string(py, "email", e)?);
        }
        if let Some(t) = today.filter(|v| !v.is_none()) {
            let day = crate::query::date(py, "today", t)?;
            request = request.today(parse_date("today", &day).or_raise(py)?);
        }
        if let Some(seed) = jitter_seed {
            request = request.jitter_seed(seed);
        }
        Ok(NativeWatch::new(request.start().or_raise(py)?, self.offset))
    }

    fn __repr__(&self) -> String {
        format!(
            "NativeClient(api_user={:?}, base_url={:?}, method={:?})",
            self.client.api_user(),
            self.client.endpoint().base_url(),
            self.method.as_str()
        )
    }
}

/// `parallel`: `"auto"` (any case) or a whole number from 1 to
/// [`MAX_PARALLELISM`]; not a bool, not another string.
pub(crate) fn parallelism(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Parallelism> {
    let bad = |got: String| {
        validation(py, "parallel", format!("must be \"auto\" or a whole number from 1 to {MAX_PARALLELISM}, got {got}"))
    };
    if let Ok(s) = v.cast::<PyString>() {
        let text = s.to_cow()?;
        return match text.trim() {
            t if t.eq_ignore_ascii_case("auto") => Ok(Parallelism::Auto),
            _ => Err(bad(format!("{text:?}"))),
        };
    }
    if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
        return Err(bad(crate::query::type_name(v)));
    }
    match v.extract::<i64>().ok().and_then(|n| usize::try_from(n).ok()) {
        Some(n) if (1..=MAX_PARALLELISM).contains(&n) => Ok(Parallelism::Fixed(n)),
        _ => Err(bad(v.str().map(|s| s.to_string()).unwrap_or_default())),
    }
}

/// `rate_limit_per_minute`: a whole number of requests per minute; `None`
/// or `0` turn client-side pacing off.
fn rate_limit(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Option<u32>> {
    if v.is_none() {
        return Ok(None);
    }
    let n = int(py, "rate_limit_per_minute", v)?;
    match u32::try_from(n) {
        Ok(0) => Ok(None),
        Ok(n) => Ok(Some(n)),
        Err(_) => Err(validation(
            py,
            "rate_limit_per_minute",
            format!("must be a whole number ≥ 0 (0 or None: no client-side pacing), got {n}"),
        )),
    }
}

/// `server_now`: a `datetime.datetime` (naive: the server's wall time;
/// aware: converted to the server's UTC offset) or a `yyyy-MM-dd HH:mm:ss`
/// string, as the API and the sandbox write times.
fn server_time(py: Python<'_>, offset: FixedOffset, v: &Bound<'_, PyAny>) -> PyResult<NaiveDateTime> {
    let bad = |what: String| {
        validation(
            py,
            "server_now",
            format!("must be a datetime.datetime or a \"yyyy-MM-dd HH:mm:ss\" string, got {what}"),
        )
    };
    if let Ok(s) = v.cast::<PyString>() {
        let text = s.to_cow()?;
        return parse_server_time(&text).ok_or_else(|| bad(format!("{text:?}")));
    }
    if v.is_instance_of::<PyDateTime>() {
        if let Ok(naive) = v.extract::<NaiveDateTime>() {
            return Ok(naive);
        }
        if let Ok(aware) = v.extract::<DateTime<FixedOffset>>() {
            return Ok(aware.with_timezone(&offset).naive_local());
        }
        return Err(bad("a datetime whose UTC offset is unknown".to_owned()));
    }
    let type_name = v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "an unknown type".to_owned());
    Err(bad(type_name))
}

/// `yyyy-MM-dd HH:mm:ss` (or with a `T`), optionally with fractions of a second.
fn parse_server_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"].iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A non-negative duration in seconds (zero allowed).
fn delay(py: Python<'_>, field: &'static str, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| validation(py, field, format!("must be a number of seconds ≥ 0, got {s}")))
}

/// A positive duration in seconds.
fn seconds(py: Python<'_>, field: &'static str, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| validation(py, field, format!("must be a positive number of seconds, got {s}")))
}

/// `+08:00`, `-05:30`, `+0800`, `Z`/`UTC`, or an integer of seconds east of UTC.
pub(crate) fn utc_offset(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<FixedOffset> {
    let bad = || validation(py, "server_utc_offset", "must look like +08:00, or be seconds east of UTC");
    if v.is_instance_of::<PyInt>() {
        let secs = int(py, "server_utc_offset", v)?;
        return i32::try_from(secs).ok().and_then(FixedOffset::east_opt).ok_or_else(bad);
    }
    let text: String = v.extract().map_err(|_| bad())?;
    parse_offset(&text).ok_or_else(bad)
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|&c| c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    if minutes >= 60 || (rest.contains(':') && rest.len() != 5) {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::{parse_offset, parse_server_time};

    #[test]
    fn server_times() {
        let t = |s: &str| parse_server_time(s).map(|t| t.to_string());
        assert_eq!(t("2024-05-20 15:00:00").as_deref(), Some("2024-05-20 15:00:00"));
        assert_eq!(t(" 2024-05-20T15:00:00.250 ").as_deref(), Some("2024-05-20 15:00:00.250"));
        for bad in ["", "2024-05-20", "2024-05-20 25:00:00", "20/05/2024 15:00:00", "2024-05-20 15:00"] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    #[test]
    fn offsets() {
        let secs = |s: &str| parse_offset(s).map(|o| o.local_minus_utc());
        assert_eq!(secs("+08:00"), Some(8 * 3600));
        assert_eq!(secs("-05:30"), Some(-(5 * 3600 + 1800)));
        assert_eq!(secs("+0800"), Some(8 * 3600));
        assert_eq!(secs("+09"), Some(9 * 3600));
        assert_eq!(secs("Z"), Some(0));
        for bad in ["", "8", "+8:00", "+08:60", "+08:00:00", "+ab:cd", "+25:00"] {
            assert_eq!(secs(bad), None, "{bad}");
        }
    }
}
