//! [`Client`]: one page, or an export of every record, over the core's
//! state machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{NaiveDate, NaiveDateTime};
use sendcloud_status_core::{
    Cursor, Decoder, Encoder, Endpoint, Error, Export, ExportConfig, Page, Parallelism, Query, Result, RetryPolicy,
    SharedLimiter, ValidationReason, settings,
};

use crate::builder::ClientBuilder;
use crate::driver::{Execute, Pages, Records};
use crate::transport::{Outcome, Transport};

/// A blocking client. Cheap to clone; clones share the connection pool and
/// the rate limiter, so every request of a program counts against one
/// limit.
///
/// ```no_run
/// use sendcloud_status::{Client, Query, Status};
/// let client = Client::from_env()?;       // SENDCLOUD_API_USER / SENDCLOUD_API_KEY
/// let query = Query::builder().days(7).status(Status::Invalid).build()?;
/// for record in client.records(query)? {
///     let record = record?;
///     println!("{:?} {:?}", record.recipient, record.sub_status_description);
/// }
/// # Ok::<(), sendcloud_status::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) encoder: Encoder,
    pub(crate) decoder: Decoder,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: SharedLimiter,
    pub(crate) parallelism: Parallelism,
    pub(crate) email_id_chunk: usize,
    pub(crate) jitter_seed: u64,
}

static EXPORT_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Execute for Inner {
    fn execute(&self, request: &sendcloud_status_core::HttpRequest) -> Outcome {
        self.transport.execute(request)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", self.inner.encoder.endpoint())
            .field("credentials", self.inner.encoder.credentials())
            .field("method", &self.inner.encoder.method())
            .field("parallelism", &self.inner.parallelism)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `SENDCLOUD_*` environment variables only.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::default().build()
    }

    pub(crate) fn from_inner(inner: Inner) -> Client {
        Client { inner: Arc::new(inner) }
    }

    /// The endpoint requests go to.
    pub fn endpoint(&self) -> &Endpoint {
        self.inner.encoder.endpoint()
    }

    /// The `apiUser` (the key is never exposed by the client).
    pub fn api_user(&self) -> &str {
        self.inner.encoder.credentials().api_user()
    }

    /// "Today" on the server's calendar (its UTC offset), which anchors
    /// `days` windows.
    pub fn server_today(&self) -> NaiveDate {
        self.server_now().date()
    }

    /// The time now on the server's clock, as this machine's clock and the
    /// configured UTC offset tell it.
    pub fn server_now(&self) -> NaiveDateTime {
        chrono::Utc::now().with_timezone(&self.inner.decoder.offset()).naive_local()
    }

    /// The server's UTC offset: its calendar and clock.
    pub fn server_utc_offset(&self) -> chrono::FixedOffset {
        self.inner.decoder.offset()
    }

    /// Fetches exactly the page `query` describes (its window, `start` and
    /// `limit`), with retries and rate limiting. The window must fit the
    /// endpoint's maximum; use [`Client::records`] for longer ones.
    pub fn page(&self, query: &Query) -> Result<Page> {
        let one = Parallelism::Fixed(1);
        let export = Export::single_page(self.export_config(None, one), query.clone())?;
        let mut pages = Pages::new(self.inner.clone(), export, one, false);
        match pages.next() {
            Some(page) => page,
            None => unreachable!("a single-page export always yields a page or an error"),
        }
    }

    /// Every record matching `query`, across pages, windows and id chunks,
    /// fetched lazily. Shorthand for `client.export(query).records()`.
    pub fn records(&self, query: Query) -> Result<Records> {
        self.export(query).records()
    }

    /// Every page of the export of `query`, lazily.
    pub fn pages(&self, query: Query) -> Result<Pages> {
        self.export(query).pages()
    }

    /// An export with options: record limit, resume cursor, parallelism.
    pub fn export(&self, query: Query) -> ExportRequest<'_> {
        ExportRequest {
            client: self,
            query,
            max_records: None,
            cursor: None,
            parallelism: None,
            today: None,
            server_now: None,
            read_ahead: false,
        }
    }

    fn export_config(&self, max_records: Option<u64>, parallelism: Parallelism) -> ExportConfig {
        let inner = &self.inner;
        let n = EXPORT_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut config = ExportConfig::new(inner.encoder.clone());
        config.decoder = inner.decoder;
        config.retry = inner.retry.clone();
        config.limiter = inner.limiter.clone();
        config.jitter_seed = inner.jitter_seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        config.email_id_chunk = inner.email_id_chunk;
        config.parallelism = parallelism;
        config.max_records = max_records;
        config
    }
}

/// Options of one export; finish with [`ExportRequest::records`] or
/// [`ExportRequest::pages`].
#[derive(Debug)]
#[must_use = "an export request does nothing until .records() or .pages()"]
pub struct ExportRequest<'a> {
    client: &'a Client,
    query: Query,
    max_records: Option<u64>,
    cursor: Option<Cursor>,
    parallelism: Option<Parallelism>,
    today: Option<NaiveDate>,
    server_now: Option<NaiveDateTime>,
    read_ahead: bool,
}

impl ExportRequest<'_> {
    /// Stop after `n` records (at least 1, [`settings::MAX_RECORDS`]).
    pub fn max_records(mut self, n: u64) -> Self {
        self.max_records = Some(n);
        self
    }

    /// Resume after the last record delivered when `cursor` was taken.
    pub fn resume(mut self, cursor: Cursor) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// Resume from an optional cursor (no-op for `None`).
    pub fn resume_from(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Fetch up to `n` independent pages at once (threads; 1 to
    /// [`MAX_PARALLELISM`](crate::MAX_PARALLELISM)), or
    /// [`Parallelism::Auto`], under the client's shared limiter; the output
    /// is the same as sequential.
    pub fn parallel(mut self, n: impl Into<Parallelism>) -> Self {
        self.parallelism = Some(n.into());
        self
    }

    /// Fetch the next page on a background thread while the caller works
    /// through the current one (one page ahead; the same requests, in the
    /// same order, as without). Worth it when handling a page costs about
    /// as much as fetching it — for example when converting records for
    /// another language. `cursor()` and `stats()` still describe the pages
    /// handed out.
    pub fn read_ahead(mut self, on: bool) -> Self {
        self.read_ahead = on;
        self
    }

    /// Anchor `days` windows on this server-local day instead of today.
    /// Exclusive with [`server_now`](Self::server_now), which sets the day
    /// as well as the time.
    pub fn today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// Plan the export as if the server's clock read `now` (for a server
    /// whose clock is not this machine's, such as a sandbox): `days`
    /// windows resolve on its date, and rows changed after it show the
    /// account moving under the export.
    pub fn server_now(mut self, now: NaiveDateTime) -> Self {
        self.server_now = Some(now);
        self
    }

    /// The pages, lazily. Nothing is sent, and no thread started, until the
    /// first page is asked for.
    pub fn pages(self) -> Result<Pages> {
        let parallelism = self.parallelism.unwrap_or(self.client.inner.parallelism).check()?;
        if let Some(n) = self.max_records {
            settings::MAX_RECORDS.check_unsigned("max_records", n)?;
        }
        let mut config = self.client.export_config(self.max_records, parallelism);
        // The window is resolved once, here: an export that runs past the
        // server's midnight keeps the dates it started with.
        let (today, started_at) = match (self.today, self.server_now) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid_value(
                    "server_now",
                    ValidationReason::Conflict,
                    "give today or server_now, not both (server_now sets the day as well as the time)",
                ));
            }
            (None, Some(now)) => (now.date(), Some(now)),
            (Some(today), None) => (today, None),
            (None, None) => {
                let now = self.client.server_now();
                (now.date(), Some(now))
            }
        };
        config.started_at = started_at;
        let export = Export::new(config, self.query, today, self.cursor.as_ref())?;
        Ok(Pages::new(self.client.inner.clone(), export, parallelism, self.read_ahead))
    }

    /// The records, lazily.
    pub fn records(self) -> Result<Records> {
        Ok(Records::new(self.pages()?))
    }
}
