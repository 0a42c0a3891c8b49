//! `NativeClient`: a [`Client`] built from Python keyword arguments (with the
//! builder's environment fallbacks), its single-page fetch and its exports.

use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyInt, PyString, PyTuple};
use sendcloud_status::chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use sendcloud_status::core::query::parse_date;
use sendcloud_status::settings::{self, DELAY, DurationBounds, TIMEOUT, TimeUnit};
use sendcloud_status::{Client, Cursor, Method, Parallelism, Region, RetryPolicy};

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
        api_user=None, api_key=None, *, region=None, base_url=None, method=None, timeout=None,
        connect_timeout=None, max_retries=None, rate_limit_per_minute=None, parallel=None,
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
        method: Option<&str>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
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
        // Numbers are converted with the core's bounds (the one set every
        // surface uses); `None` leaves the builder's default.
        if let Some(d) = max_window_days {
            b = b.max_window_days(settings::MAX_WINDOW_DAYS.check_u32("max_window_days", d).or_raise(py)?);
        }
        let method: Method = method.map_or(Ok(Method::default()), str::parse).or_raise(py)?;
        b = b.method(method);
        if let Some(s) = timeout {
            b = b.timeout(seconds(py, TIMEOUT, "timeout", s)?);
        }
        if let Some(s) = connect_timeout {
            b = b.connect_timeout(seconds(py, TIMEOUT, "connect_timeout", s)?);
        }
        let mut retry = RetryPolicy::default();
        for (field, value, slot) in [
            ("retry_base_delay", retry_base_delay, &mut retry.base_delay),
            ("retry_rate_limit_delay", retry_rate_limit_delay, &mut retry.rate_limit_base_delay),
            ("retry_max_delay", retry_max_delay, &mut retry.max_delay),
            ("retry_deadline", retry_deadline, &mut retry.deadline),
        ] {
            if let Some(s) = value {
                *slot = seconds(py, DELAY, field, s)?;
            }
        }
        b = b.retry_policy(retry);
        if let Some(n) = max_retries {
            b = b.max_retries(settings::MAX_RETRIES.check_u32("max_retries", n).or_raise(py)?);
        }
        // `None` is the user's `None`: no client pacing, like `0` (the
        // Python layer passes the default, 3000, when the argument is not given).
        b = b.rate_limit_per_minute(match rate_limit_per_minute.filter(|v| !v.is_none()) {
            Some(v) => {
                let n = int(py, "rate_limit_per_minute", v)?;
                Some(settings::RATE_LIMIT_PER_MINUTE.check_u32("rate_limit_per_minute", n).or_raise(py)?)
            }
            None => None,
        });
        let parallel = match parallel {
            Some(v) => parallelism(py, v)?,
            None => Parallelism::default(),
        };
        b = b.parallelism(parallel);
        let offset = match server_utc_offset {
            None => settings::DEFAULT_SERVER_UTC_OFFSET,
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
            b = b.email_id_chunk(settings::EMAIL_ID_CHUNK.check_usize("email_id_chunk", n).or_raise(py)?);
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
        // Giving both is refused by the export request itself.
        if let Some(t) = today.filter(|v| !v.is_none()) {
            let day = crate::query::date(py, "today", t)?;
            request = request.today(parse_date("today", &day).or_raise(py)?);
        }
        if let Some(t) = server_now.filter(|v| !v.is_none()) {
            request = request.server_now(server_time(py, self.offset, t)?);
        }
        if let Some(n) = max_records.filter(|v| !v.is_none()) {
            let n = settings::MAX_RECORDS.check_u64("max_records", int(py, "max_records", n)?).or_raise(py)?;
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
            .interval(duration_arg(py, DELAY, "interval", interval)?)
            .soft_bounce_grace(duration_arg(py, DELAY, "soft_bounce_grace", soft_bounce_grace)?);
        request = request.timeout(match timeout.filter(|v| !v.is_none()) {
            Some(v) => Some(duration_arg(py, TIMEOUT, "timeout", v)?),
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

/// `parallel`: `"auto"` or an `int` (not a bool, not a numeric string);
/// which names and counts are valid is the core's rule.
pub(crate) fn parallelism(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<Parallelism> {
    if let Ok(s) = v.cast::<PyString>() {
        return Parallelism::from_name(&s.to_cow()?).or_raise(py);
    }
    if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
        return Err(crate::errors::to_py_err(py, &Parallelism::invalid(crate::query::type_name(v))));
    }
    match v.extract::<i64>() {
        Ok(n) => Parallelism::fixed(n).or_raise(py),
        Err(_) => Err(crate::errors::to_py_err(py, &Parallelism::invalid(v.str()?))),
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
        return settings::parse_server_time("server_now", &s.to_cow()?).or_raise(py);
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

/// A number of seconds (an `int` or a `float`) within the core's `bounds`.
fn seconds(py: Python<'_>, bounds: DurationBounds, field: &'static str, s: f64) -> PyResult<Duration> {
    bounds.from_number(field, s, TimeUnit::Seconds).or_raise(py)
}

/// `+08:00`, `-05:30`, `+0800`, `+08`, `Z`/`UTC` (the core's parser), or
/// an `int` of seconds east of UTC.
pub(crate) fn utc_offset(py: Python<'_>, v: &Bound<'_, PyAny>) -> PyResult<FixedOffset> {
    if v.is_instance_of::<PyInt>() && !v.is_instance_of::<PyBool>() {
        return settings::utc_offset_from_seconds(int(py, "server_utc_offset", v)?).or_raise(py);
    }
    match v.cast::<PyString>() {
        Ok(s) => settings::parse_utc_offset(&s.to_cow()?).or_raise(py),
        Err(_) => Err(validation(
            py,
            "server_utc_offset",
            format!("must be a string like +08:00 or seconds east of UTC, got {}", crate::query::type_name(v)),
        )),
    }
}
