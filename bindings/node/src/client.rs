//! The `NativeClient` class: one `sendcloud_status::Client`, its methods
//! returning Promises of work done on the libuv pool, and the export stream
//! (`NativeRecords`, handing out `NativeBatch`es page by page).

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi_derive::napi;
use sendcloud_status::chrono::FixedOffset;
use sendcloud_status::core::report::{Summary, Suppressions};
use sendcloud_status::{CancelHandle, Client, Cursor, ExportRequest, Method, Page, Pages, Parallelism, Records};

use crate::archive::{NativeSync, SyncSettings};

use crate::convert::{EmailRecord, EndpointInfo, PageResult, Stats, SummaryResult, SuppressionEntry};
use crate::error::{guard, js_error};
use crate::options::{ClientOptions, CoreResult, QueryOptions, parallel_value};
use crate::task::{Failure, Job};
use crate::watch::{NativeWatch, WatchOptions};

/// Runs a synchronous check or build, throwing its error as a JS error.
pub(crate) fn checked<T>(env: &Env, f: impl FnOnce() -> CoreResult<T>) -> Result<T> {
    guard(f)?.map_err(|e| js_error(env, &e))
}

/// A client: settings, connection pool and rate limiter. Its `Debug` (and
/// the JS wrapper's inspection) never shows the key.
#[napi]
#[derive(Debug)]
pub struct NativeClient {
    client: Client,
    method: Method,
    parallel: Parallelism,
    offset: FixedOffset,
}

#[napi]
impl NativeClient {
    /// Builds a client; settings left unset fall back to `SENDCLOUD_*`
    /// environment variables.
    #[napi(constructor)]
    pub fn new(env: Env, options: Option<ClientOptions>) -> Result<Self> {
        let options = options.unwrap_or_default();
        checked(&env, || {
            Ok(NativeClient {
                method: options.method()?,
                parallel: options.parallelism()?,
                offset: options.offset()?,
                client: options.build()?,
            })
        })
    }

    /// The `apiUser`.
    #[napi(getter)]
    pub fn api_user(&self) -> String {
        self.client.api_user().to_owned()
    }

    /// Where requests go.
    #[napi(getter)]
    pub fn endpoint(&self) -> EndpointInfo {
        EndpointInfo::from(self.client.endpoint())
    }

    /// `POST` or `GET`.
    #[napi(getter)]
    pub fn method(&self) -> String {
        self.method.as_str().to_owned()
    }

    /// `'auto'` or the fixed number of requests in flight during exports.
    #[napi(getter, ts_return_type = "number | 'auto'")]
    pub fn parallel(&self) -> Either<u32, String> {
        parallel_value(self.parallel)
    }

    /// Today on the server's calendar, `yyyy-MM-dd`.
    #[napi]
    pub fn server_today(&self) -> String {
        self.client.server_today().to_string()
    }

    /// Exactly the page the query describes.
    #[napi(ts_return_type = "Promise<PageResult>")]
    pub fn page(&self, env: Env, options: QueryOptions) -> Result<AsyncTask<Job<PageResult>>> {
        let query = checked(&env, || options.query())?;
        let client = self.client.clone();
        Ok(Job::spawn(move || Ok(PageResult::from(client.page(&query)?))))
    }

    /// Every matching record, page by page.
    #[napi]
    pub fn records(&self, env: Env, options: QueryOptions) -> Result<NativeRecords> {
        let pages = checked(&env, || self.pages(&options))?;
        let initial_cursor = pages.cursor();
        let cancel = pages.cancel_handle();
        Ok(NativeRecords { pages: Arc::new(Mutex::new(pages)), initial_cursor, cancel })
    }

    /// A sync of the archive at `path` (created when missing), validated
    /// now; `run()` carries it out on the libuv pool.
    #[napi]
    pub fn sync_job(&self, env: Env, path: String, settings: Option<SyncSettings>) -> Result<NativeSync> {
        let settings = settings.unwrap_or_default();
        checked(&env, || NativeSync::new(self.client.clone(), self.offset, &path, &settings))
    }

    /// A watch of `emailIds` and/or `options.email`, checked now; nothing is
    /// sent until its first `step()`.
    #[napi]
    pub fn watch(&self, env: Env, email_ids: Vec<String>, options: Option<WatchOptions>) -> Result<NativeWatch> {
        let options = options.unwrap_or_default();
        checked(&env, || Ok(NativeWatch::new(options.start(&self.client, email_ids)?, self.offset)))
    }

    /// The deliverability summary of every matching record.
    #[napi(ts_return_type = "Promise<SummaryResult>")]
    pub fn summary(&self, env: Env, options: QueryOptions) -> Result<AsyncTask<Job<SummaryResult>>> {
        let records = checked(&env, || self.records_iter(&options))?;
        Ok(Job::spawn(move || {
            let mut summary = Summary::default();
            for record in records {
                summary.add(&record?);
            }
            Ok(SummaryResult::from(&summary))
        }))
    }

    /// The addresses to stop mailing among every matching record.
    #[napi(ts_return_type = "Promise<SuppressionEntry[]>")]
    pub fn suppressions(&self, env: Env, options: QueryOptions) -> Result<AsyncTask<Job<Vec<SuppressionEntry>>>> {
        let (records, threshold) = checked(&env, || Ok((self.records_iter(&options)?, options.soft_bounces()?)))?;
        Ok(Job::spawn(move || {
            let mut list = match threshold {
                Some(n) => Suppressions::new().with_soft_bounce_threshold(n),
                None => Suppressions::new(),
            };
            for record in records {
                list.add(&record?);
            }
            Ok(list.entries().into_iter().map(SuppressionEntry::from).collect())
        }))
    }
}

impl NativeClient {
    /// The export the options describe: filters, `maxRecords`, `cursor`,
    /// `parallel`, `today` or `serverNow`.
    fn export(&self, options: &QueryOptions) -> CoreResult<ExportRequest<'_>> {
        let mut export = self.client.export(options.query()?).resume_from(options.cursor()?);
        if let Some(n) = options.max_records()? {
            export = export.max_records(n);
        }
        if let Some(n) = options.parallel()? {
            export = export.parallel(n);
        }
        if let Some(day) = options.today()? {
            export = export.today(day);
        }
        if let Some(now) = options.server_now()? {
            export = export.server_now(now);
        }
        Ok(export)
    }

    /// Pages for `records()`: read ahead, so the next page is fetched on a
    /// Rust thread while JavaScript works through the current one.
    fn pages(&self, options: &QueryOptions) -> CoreResult<Pages> {
        self.export(options)?.read_ahead(true).pages()
    }

    fn records_iter(&self, options: &QueryOptions) -> CoreResult<Records> {
        self.export(options)?.records()
    }
}

/// An export in progress. Each `nextBatch()` fetches the next page on the
/// libuv pool; the JS wrapper hands the records out one by one. Garbage
/// collection of an unfinished one cancels the export (`Pages`' drop).
#[napi]
#[derive(Debug)]
pub struct NativeRecords {
    pages: Arc<Mutex<Pages>>,
    initial_cursor: Option<Cursor>,
    /// Cancels without the `pages` lock, which a `nextBatch()` may hold.
    cancel: CancelHandle,
}

#[napi]
impl NativeRecords {
    /// The batch before the first page: no records, and its cursor is the
    /// export's starting point (the JS wrapper asks every batch the same way).
    #[napi]
    pub fn start(&self) -> NativeBatch {
        let stats = self.pages.try_lock().map(|p| Stats::from(p.stats())).unwrap_or_default();
        NativeBatch { len: 0, records: Some(Vec::new()), page: None, after: self.initial_cursor, stats, ended: false }
    }

    /// Counters as of the last page or error; `null` while a page is being
    /// fetched. (After an error there is no batch to carry them.)
    #[napi]
    pub fn current_stats(&self) -> Option<Stats> {
        self.pages.try_lock().ok().map(|pages| Stats::from(pages.stats()))
    }

    /// Cancels the export: nothing more is sent and its threads end; a
    /// `nextBatch()` in progress rejects, later ones are `done`. Never blocks
    /// the event loop.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.cancel();
        // Free the driver and its threads now, unless a fetch holds it (it
        // ends soon, cancelled).
        if let Ok(mut pages) = self.pages.try_lock() {
            pages.close();
        }
    }

    /// The next page (an empty, `done` batch after the last one).
    #[napi(ts_return_type = "Promise<NativeBatch>")]
    pub fn next_batch(&self) -> AsyncTask<Job<NativeBatch>> {
        let pages = self.pages.clone();
        Job::spawn(move || {
            let mut pages =
                pages.lock().map_err(|_| Failure::Internal("the export stopped after an internal error".into()))?;
            let next = pages.next().transpose()?;
            let after = pages.cursor();
            let stats = Stats::from(pages.stats());
            Ok(match next {
                Some(mut page) => {
                    let records: Vec<EmailRecord> =
                        std::mem::take(&mut page.records).into_iter().map(EmailRecord::from).collect();
                    NativeBatch {
                        len: records.len(),
                        records: Some(records),
                        page: Some(page),
                        after,
                        stats,
                        ended: false,
                    }
                }
                None => NativeBatch { len: 0, records: Some(Vec::new()), page: None, after, stats, ended: true },
            })
        })
    }
}

/// One page of an export, and the cursors into it.
#[napi]
#[derive(Debug)]
pub struct NativeBatch {
    len: usize,
    records: Option<Vec<EmailRecord>>,
    /// The page without its records (kept for its cursors); `None` at the
    /// end, and in the start batch.
    page: Option<Page>,
    after: Option<Cursor>,
    stats: Stats,
    /// The export has ended: no page came.
    ended: bool,
}

#[napi]
impl NativeBatch {
    /// No page came: the export has ended.
    #[napi(getter)]
    pub fn done(&self) -> bool {
        self.ended
    }

    /// Records in the batch.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        u32::try_from(self.len).unwrap_or(u32::MAX)
    }

    /// Export counters after this page.
    #[napi(getter)]
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// The records (moved out: a second call returns none).
    #[napi]
    pub fn take_records(&mut self) -> Vec<EmailRecord> {
        self.records.take().unwrap_or_default()
    }

    /// The cursor once `handed_out` records of this batch were handed out
    /// (the core's rule): at the next one, else after the batch (`null`
    /// once complete).
    #[napi]
    pub fn cursor_at(&self, handed_out: u32) -> Option<String> {
        Page::resume_point(self.page.as_ref(), handed_out as usize, self.after).map(|c| c.to_string())
    }
}
