// Types of the public API of `sendcloud-status` (hand-written; the
// generated lib/binding.d.ts describes the internal native layer).

/** Values of the `status` filter. */
export type Status = 'delivered' | 'invalid' | 'soft_bounce' | 'sending'

/** What happened to an email, derived from the sub-status, then the status text. */
export type Category = Status | 'unknown'

/** Region presets. An account works only in its own region. */
export type Region = 'aurora-sg' | 'aurora-us' | 'aurora-hk' | 'sendcloud-intl' | 'sendcloud-cn'

/** HTTP method. POST (the default) keeps the key out of URLs. */
export type Method = 'POST' | 'GET'

/**
 * Requests in flight during an export: `'auto'` (as many as fill the rate
 * limit at the latency the client observes, up to 32, backing off when the
 * server throttles) or a fixed number from 1 to 64 (`1`: one at a time).
 */
export type Parallel = 'auto' | number

/** Settings of a client. Unset credentials, region and base URL fall back to the environment. */
export interface ClientOptions {
  /** The `apiUser`; default `SENDCLOUD_API_USER`. */
  apiUser?: string
  /** The `apiKey`; default `SENDCLOUD_API_KEY`. Kept in native memory, never shown. */
  apiKey?: string
  /** A region preset (default `aurora-sg`, or `SENDCLOUD_REGION`). Case-insensitive. */
  region?: Region | (string & {})
  /** A custom base URL (default `SENDCLOUD_BASE_URL`); wins over `region`. HTTPS, or plain HTTP on loopback. */
  baseUrl?: string
  /** The longest window one request may span, for custom base URLs (default 3 days). */
  maxWindowDays?: number
  /** `POST` (default) or `GET` (puts the key in the URL, as the API requires for GET). Case-insensitive. */
  method?: Method | 'post' | 'get'
  /** Whole-request timeout, connect to last byte (default 30000 ms). */
  timeoutMs?: number
  /** Connect timeout (default 10000 ms). */
  connectTimeoutMs?: number
  /** Retries per request after the first attempt (default `DEFAULTS.maxRetries`; 0 never retries; at most 100). */
  maxRetries?: number
  /** Client-side rate limit in requests per minute (default 3000, the account limit); `0` or `null` turns client-side pacing off. */
  rateLimitPerMinute?: number | null
  /** Requests in flight at once during exports (default `'auto'`). Output order is the same. */
  parallel?: Parallel
  /** The server's UTC offset for dates and times, like `'+08:00'` (the default), `'-05:30'` or `'Z'`. */
  serverUtcOffset?: string
  /** `emailIds` sent per request when a query has many (default 20). */
  emailIdChunk?: number
  /** The `User-Agent` header (default `sendcloud-status/<version>`): a valid header value, no control characters such as a newline. */
  userAgent?: string
  /** An HTTP or SOCKS proxy URL (default: `HTTPS_PROXY`/`ALL_PROXY`, honouring `NO_PROXY`; none for loopback). */
  proxy?: string
  /** Backoff base after server and transport faults, ms (default 200). */
  retryBaseDelayMs?: number
  /** Backoff base after a rate-limit answer, ms (default 1000). */
  retryRateLimitDelayMs?: number
  /** The longest single wait between attempts, ms (default 30000). */
  retryMaxDelayMs?: number
  /** Give up on a request this long after its first attempt, ms (default 300000). */
  retryDeadlineMs?: number
  /** Seed of the retry jitter (default: from the clock), for reproducible runs. */
  jitterSeed?: number
}

/**
 * Query filters. Give exactly one window: `days`, or `startDate` with
 * `endDate`. Dates and `days` are days of the server's calendar (UTC+08:00
 * by default). Unset filters are not sent.
 */
export interface Filters {
  /** The last N days: `1` is today. */
  days?: number
  /** First day, `yyyy-MM-dd`, with `endDate`. */
  startDate?: string
  /** Last day, inclusive, `yyyy-MM-dd`, with `startDate`. */
  endDate?: string
  /** One recipient address. */
  email?: string
  /** Email ids returned by the send API (long lists are sent in chunks). */
  emailIds?: string[]
  /** A label id (wins over `labelName` on the server). */
  labelId?: number
  /** A label name (fuzzy match when sent alone). */
  labelName?: string
  /** Several apiUsers of the account (`apiUserList`); default: the client's apiUser only. */
  apiUsers?: string[]
  /** Only records of this status. */
  status?: Status
  /** Only these sub-status codes (4xx invalid, 5xx soft bounce). */
  subStatus?: number[]
  /** First offset (default 0). */
  start?: number
  /** Page size, 1..100 (default 100). */
  limit?: number
}

/**
 * Where an export is planned. By default, on the server's clock as this
 * machine reads it (at `serverUtcOffset`), once, when the export starts:
 * `days` becomes dates, and rows changed after the start show the account
 * moving under the export. Give at most one of these.
 */
export interface PlanOptions {
  /** The server-local day (`yyyy-MM-dd`) that anchors `days` windows, instead of today. */
  today?: string
  /**
   * Plan the export as if the server's clock read this time
   * (`'yyyy-MM-dd HH:mm:ss'`, server-local): for a server whose clock is not
   * this machine's, such as a sandbox.
   */
  serverNow?: string
}

/** Options of `client.records()`. */
export interface RecordsOptions extends Filters, PlanOptions {
  /** Stop after this many records (the cursor then resumes after them). */
  maxRecords?: number
  /** Resume an export of the same filters from a saved `records.cursor`. `null`/absent: from the start. */
  cursor?: string | null
  /** Requests in flight at once for this export (default: the client's `parallel`, `'auto'` unless set). */
  parallel?: Parallel
}

/** Options of `client.summary()`. */
export interface SummaryOptions extends Filters, PlanOptions {
  /** Count only the first N records. */
  maxRecords?: number
  /** Requests in flight at once for this export (default: the client's `parallel`, `'auto'` unless set). */
  parallel?: Parallel
}

/** Options of `client.suppressions()`. */
export interface SuppressionsOptions extends Filters, PlanOptions {
  /** Look at the first N records only. */
  maxRecords?: number
  /** Also list addresses that soft-bounced at least this many times (≥ 1). */
  softBounces?: number
  /** Requests in flight at once for this export (default: the client's `parallel`, `'auto'` unless set). */
  parallel?: Parallel
}

/** One email's delivery status. Absent fields are `null`. */
export interface EmailRecord {
  /** `emailId` from the send API (holds `$`, `@`, `.`). */
  emailId: string | null
  /** `status` exactly as the server wrote it: display text such as `投递成功` or `Invalid Mail - Spam`. */
  status: string | null
  /** The category derived from the sub-status, then the status text. */
  category: Category
  /** The bounce sub-status code (4xx permanent, 5xx temporary). */
  subStatus: number | null
  /** The server's description of the sub-status, else the documented English one. */
  subStatusDescription: string | null
  /** The apiUser that sent the email. */
  apiUser: string | null
  /** The recipient address (`recipients` on the wire). */
  recipient: string | null
  /** When the send was requested (the server's local time with its offset applied); `null` if absent or unparsable. */
  requestTime: Date | null
  /** `requestTime` exactly as received (`yyyy-MM-dd HH:mm:ss`, server time). */
  requestTimeRaw: string | null
  /** When the status last changed. */
  modifiedTime: Date | null
  /** `modifiedTime` exactly as received. */
  modifiedTimeRaw: string | null
  /** The receiving server's answer. */
  sendLog: string | null
  /** A permanent failure (invalid, 4xx): stop mailing this recipient. */
  shouldSuppress: boolean
  /** Row fields this library does not model (and mistyped known ones), as received. `{}` when none. */
  extra: Record<string, unknown>
}

/** One page: `client.page()`. */
export interface Page {
  /** `info.total`: rows matching the request, when the server said. */
  total: number | null
  /** The records. */
  records: EmailRecord[]
  /** Rows the server returned. */
  rowsReceived: number
  /** The window of the page when it was sent as dates; `null` for `days`. */
  window: { startDate: string; endDate: string } | null
}

/** A decoded body: `decodePage()`. */
export interface DecodedPage {
  total: number | null
  /** `info.voListSize`. */
  listSize: number | null
  records: EmailRecord[]
}

/** A window × `emailIds` chunk whose results were still moving after the last re-read. */
export interface UnstableUnit {
  /** First server day of the window, `yyyy-MM-dd`. */
  start: string
  /** Last server day of the window (inclusive). */
  end: string
  /** Index of the `emailIds` chunk (0 without `emailIds`). */
  chunk: number
}

/**
 * Counters of an export. The export is exact when `unstableUnits` is empty:
 * then every row that did not change while it ran was handed out, once.
 */
export interface ExportStats {
  /** Requests sent, retries included. */
  requests: number
  /** Requests that were retries. */
  retries: number
  /** Rate-limit answers received. */
  rateLimited: number
  /** Failed attempts of any kind. */
  failures: number
  /** Records handed out. */
  records: number
  /** Rows skipped because the same window and id chunk already handed out their email id. */
  duplicates: number
  /** Pages fetched. */
  pages: number
  /** Passes over windows × id chunks: one per unit read, plus every re-read. */
  passes: number
  /** Windows × id chunks read again because their results moved while being paged. */
  unitsReread: number
  /** How far `total` moved, summed over passes. */
  totalDrift: number
  /** Non-empty pages shorter than the page size while `total` said more rows remained. */
  shortPages: number
  /** Empty pages while `total` said more rows remained. */
  emptyPages: number
  /** Windows × id chunks still moving after the last re-read; empty in an exact export. */
  unstableUnits: UnstableUnit[]
}

/** The deliverability summary (`report::Summary` of the Rust core). */
export interface Summary {
  /** Records counted. */
  total: number
  /** Delivered ÷ (delivered + invalid + soft bounce); `null` when none has an outcome. */
  deliverabilityRate: number | null
  /** One line per category, in the order of `CATEGORIES`. */
  categories: Array<{ category: Category; count: number; share: number }>
  /** Sub-statuses, most frequent first. */
  subStatuses: Array<{
    code: number
    description: string
    class: 'permanent' | 'temporary' | 'unknown'
    count: number
    /** Share of all records. */
    share: number
  }>
  /** Per server-local day of the request time, oldest first. */
  days: Array<{
    date: string
    total: number
    delivered: number
    invalid: number
    softBounce: number
    sending: number
    unknown: number
    deliverabilityRate: number | null
  }>
  /** Records without a parseable request time. */
  undated: number
}

/** One address to stop mailing (`report::Suppression` of the Rust core). */
export interface Suppression {
  /** The address as the server wrote it (matched case-insensitively). */
  address: string
  /** A permanent failure, or at least `softBounces` soft bounces. */
  reason: 'permanent' | 'repeated_soft_bounces'
  /** The latest sub-status code seen for it. */
  code: number | null
  /** Its description (or the raw status text). */
  description: string
  /** Failing records seen for the address. */
  failures: number
  /** The latest failure, RFC 3339 with the server's offset (or as received). */
  lastSeen: string | null
}

/** Where requests go. */
export interface EndpointInfo {
  /** The base URL, ending with `/`. */
  baseUrl: string
  /** The endpoint URL (`baseUrl + 'data/emailStatus'`). */
  url: string
  /** The longest window one request may span. */
  maxWindowDays: number
  /** The region preset, `null` for a custom URL. */
  region: Region | null
}

/**
 * The records of an export as an async iterable (`for await`). Pages are
 * fetched off the main thread as the loop asks for records. Breaking out of
 * the loop, `close()`, `await using` and garbage collection stop the export
 * (requests and threads); the cursor still resumes after the last record seen.
 */
export declare class Records implements AsyncIterableIterator<EmailRecord> {
  private constructor()
  /**
   * Where a later export of the same filters resumes: the next record this
   * one would hand out. `null` once the export is complete. Pass it as
   * `cursor` to `client.records()`, even in another process.
   */
  readonly cursor: string | null
  /** Counters so far. */
  readonly stats: ExportStats
  /** Whether the export has ended (complete, `maxRecords` reached, or failed) and every record was handed out, or was closed. */
  readonly done: boolean
  /** The next record. Rejects with a `SendCloudError`; after an error the stream ends. */
  next(): Promise<IteratorResult<EmailRecord, undefined>>
  /** Called by `break`: closes the stream (see `close()`). */
  return(): Promise<IteratorResult<EmailRecord, undefined>>
  /**
   * Stops the export at once: its requests and threads are cancelled, a
   * pending `next()` resolves `done`, the stream ends. `cursor` still resumes
   * after the last record handed out. Idempotent.
   */
  close(): Promise<void>
  /** `await using records = client.records(…)` closes it (where the runtime has `Symbol.asyncDispose`). */
  [Symbol.asyncDispose](): Promise<void>
  [Symbol.asyncIterator](): this
  /** Every remaining record. */
  toArray(): Promise<EmailRecord[]>
}

/** Options of `client.watch()`. */
export interface WatchOptions {
  /** Also follow every email to this address sent in the last 3 days (found as they appear). */
  email?: string
  /**
   * Least time between the starts of two polls (default `DEFAULTS.watchIntervalMs`, 10 minutes:
   * the server answers the same query from its cache for that long), plus up to a tenth of it as
   * jitter. At least 1000 ms (for sandboxes and tests); below 10 minutes against a host that is
   * not loopback, a warning says answers may be cached.
   */
  intervalMs?: number
  /** A soft bounce unchanged this long after its `modifiedTime` is final (default 1 hour): the vendor may retry it until then. */
  softBounceGraceMs?: number
  /** Stop this long after the start, final or not (default 2 hours); `null` or `Infinity`: never. */
  timeoutMs?: number | null
  /** The server day (`yyyy-MM-dd`) that anchors the 3-day windows (an address, ids without a time prefix), instead of today. */
  today?: string
  /** Seed of the jitter between polls (default: from the clock). */
  jitterSeed?: number
}

/** An email that changed state, as a poll saw it. */
export interface WatchTransition {
  emailId: string
  /** The recipient, once known. */
  recipient: string | null
  /** The state before; `null` at the first sighting. */
  from: Category | null
  /** The sub-status before. */
  fromSubStatus: number | null
  /** The state now. */
  to: Category
  /** The sub-status now (4xx invalid, 5xx soft bounce). */
  subStatus: number | null
  /** The documented English text of `subStatus`. */
  subStatusDescription: string | null
  /** When the server says it changed (`modifiedTime`), if it said. */
  changedAt: Date | null
  /** When the poll that saw it started. */
  observedAt: Date
}

/**
 * How a watch ended: every email delivered; at least one failed (invalid,
 * or a soft bounce unchanged for the grace period); or the deadline passed
 * with emails pending, none failed.
 */
export type WatchEnd = 'all_delivered' | 'failed' | 'deadline_passed'

/** The outcome of a watch, by email id. */
export interface WatchResult {
  endedBy: WatchEnd
  delivered: string[]
  /** Permanent failures. */
  invalid: string[]
  /** Soft bounces unchanged for the grace period. */
  softBounced: string[]
  /** `invalid` and `softBounced`. */
  failed: string[]
  /** Emails not final at the end (an address with no email seen adds no id). */
  pending: string[]
  /** Polls completed. */
  polls: number
}

/**
 * The transitions of a watch as an async iterable (`for await`); the final
 * `next()` resolves `{ done: true, value: result }`. Polls run off the main
 * thread and the waits between them are timers: the event loop never
 * blocks. A failed poll is tried again at the next one; one that cannot
 * succeed (AUTH, QUOTA…), or three in a row, reject. Breaking out of the
 * loop, `close()`, `await using` and garbage collection stop the watch.
 */
export declare class Watcher implements AsyncIterableIterator<WatchTransition, WatchResult | undefined> {
  private constructor()
  /** How the watch ended, once it has; `null` before, and for a watch closed before its end or failed. */
  readonly result: WatchResult | null
  /** Warnings given so far (each also emitted with `process.emitWarning`, code `SENDCLOUD_CACHED_ANSWERS`). */
  readonly notices: string[]
  /** Whether `close()` was called. */
  readonly closed: boolean
  /** The next transition; rejects with a `SendCloudError` (the watch then ends). */
  next(): Promise<IteratorResult<WatchTransition, WatchResult | undefined>>
  /** Called by `break`: closes the watch (see `close()`). */
  return(): Promise<IteratorResult<WatchTransition, undefined>>
  /** Stops the watch at once: a poll in progress is cancelled, a pending `next()` resolves `done`. Idempotent. */
  close(): Promise<void>
  /** `await using watcher = client.watch(…)` closes it (where the runtime has `Symbol.asyncDispose`). */
  [Symbol.asyncDispose](): Promise<void>
  [Symbol.asyncIterator](): this
}

/** A SendCloud / Aurora SendCloud `emailStatus` client. Inspecting it never shows the key. */
export declare class Client {
  /** @throws {ValidationError} for bad or missing settings (every option is checked here, before any request). */
  constructor(options?: ClientOptions)
  /** The `apiUser`. */
  readonly apiUser: string
  /** Where requests go. */
  readonly endpoint: EndpointInfo
  /** `'POST'` or `'GET'`. */
  readonly method: Method
  /** `'auto'` or the fixed number of requests in flight during exports. */
  readonly parallel: Parallel
  /** Today on the server's calendar (`yyyy-MM-dd`), which anchors `days`. */
  serverToday(): string
  /**
   * Exactly the page the filters describe (`start`, `limit`). Its window
   * must fit the endpoint's maximum; use `records()` for longer ones.
   */
  page(filters: Filters): Promise<Page>
  /**
   * Every matching record: long windows are split, long `emailIds` lists
   * chunked, pages followed, duplicates dropped, faults retried.
   * @throws {ValidationError} at once for bad input (nothing is sent).
   */
  records(options: RecordsOptions): Records
  /** Counts by category, sub-status and day over every matching record. */
  summary(options: SummaryOptions): Promise<Summary>
  /** The addresses to stop mailing, sorted. */
  suppressions(options: SuppressionsOptions): Promise<Suppression[]>
  /**
   * Follows emails until each is final (delivered, invalid, or a soft bounce
   * unchanged for `softBounceGraceMs`) or the deadline passes, yielding every
   * change as a poll sees it (the CLI's `watch`). Polls ask for pending
   * emails only.
   * @param emailIds an id, a list of ids, or `null` to follow `options.email` only
   * @throws {ValidationError} at once for bad input (no ids and no address, an interval below 1000 ms…): nothing is sent.
   */
  watch(emailIds: string | string[] | null, options?: WatchOptions): Watcher
  /** `client.watch(null, options)`. */
  watch(options: WatchOptions & { email: string }): Watcher
  /**
   * Brings the local archive at `path` (an SQLite file, created when missing)
   * up to date with the account, on Node's thread pool; read it with
   * `new Archive(path)`. Which days are read is the planner's choice (the
   * CLI's `sync`): on a first run every day from `since` (default 30 days
   * back) to today; later the days after the last complete one plus the
   * `lookbackDays` before it, days whose last read was not exact, and older
   * days still holding "sending" rows. Each page is written in one
   * transaction, with a history row for every email whose state changed.
   *
   * Rejects with a VALIDATION error for bad settings (nothing opened or
   * sent), ARCHIVE_BUSY while another sync writes the file, NOT_AN_ARCHIVE /
   * ARCHIVE_VERSION for another kind of file (left untouched), ARCHIVE when
   * SQLite or the disk fails, and the API's errors as `records()` does.
   * Aborting `signal` stops the sync after the page being written and
   * rejects with the signal's reason; every whole page stays, and the next
   * sync reads the unfinished days again.
   */
  sync(path: string, options?: SyncOptions): Promise<SyncReport>
  /** `{ apiUser, endpoint, method }`: what `JSON.stringify` shows. */
  toJSON(): { apiUser: string; endpoint: string; method: Method }
}

/** Settings of `client.sync()`. Defaults: `DEFAULTS.lookbackDays`, `.sendingMaxAgeDays`, `.rescanAfterMs`. */
export interface SyncOptions {
  /** The first day to read, `yyyy-MM-dd` (default: the archive's oldest day, or 30 days back on a first run). */
  since?: string
  /** Days before the last complete day that are read again: late bounces still change them (default 3). */
  lookbackDays?: number
  /** The oldest day, in days before today, read again for its rows still "sending" (default 7). */
  sendingMaxAgeDays?: number
  /** A day read less than this long ago (ms) is skipped: the server answers from its 10-minute cache (default 600000; 0 never skips). */
  rescanAfterMs?: number
  /** The `apiUserList` to sync (default: the calling apiUser). */
  apiUsers?: string[]
  /** The server's today, `yyyy-MM-dd` (not with `serverNow`). */
  today?: string
  /** The server's time now, `'yyyy-MM-dd HH:mm:ss'` (a server whose clock is not this machine's). */
  serverNow?: string
  /** Stops the sync after the page being written; the promise rejects with `signal.reason`. */
  signal?: AbortSignal
}

/** What a sync did. A sync that fails rejects instead (the pages it wrote stay). */
export interface SyncReport {
  /** The run's row in the archive's `sync_runs` table. */
  runId: number
  /** `'complete'`, or `'inexact'` when some days kept changing while read (the next sync reads them again). */
  outcome: 'complete' | 'inexact'
  /** The server's today the plan was made on, `yyyy-MM-dd`. */
  today: string
  /** The first day considered. */
  start: string
  /** The `since` asked for, when it was past the server's 180-day retention. */
  clampedSince: string | null
  /** Days the plan read. */
  daysPlanned: number
  /** Each planned day and why: `new`, `incomplete`, `lookback` or `sending` (read by the ids of its "sending" rows). */
  planned: Array<{ day: string; reason: 'new' | 'incomplete' | 'lookback' | 'sending' }>
  /** Days skipped: read less than `rescanAfterMs` ago. */
  skippedRecent: string[]
  /** Days read to the end. */
  daysRead: number
  /** Days whose results kept moving while read. */
  inexactDays: string[]
  /** Requests sent, retries included. */
  requests: number
  /** Records read. */
  recordsSeen: number
  /** Emails new to the archive. */
  inserted: number
  /** Emails whose state changed (one history row each). */
  changed: number
  /** Emails seen again in the archived state. */
  unchanged: number
  /** Records older than the archived state (a cached answer), ignored. */
  stale: number
  /** Records without an email id (they cannot be archived). */
  withoutId: number
  /** The exports' counters, merged. */
  stats: ExportStats
}

/** The filters of an archive read: those of a query but `start`/`limit`; `today` anchors `days`. */
export interface ArchiveFilters extends Omit<Filters, 'start' | 'limit'> {
  /** The server day `days` counts back from, `yyyy-MM-dd` (default: today at the archive's `serverUtcOffset`). */
  today?: string
}

/** Options of `archive.suppressions()`. */
export interface ArchiveSuppressionsOptions extends ArchiveFilters {
  /** Also list addresses that soft-bounced at least this many times (≥ 1). */
  softBounces?: number
}

/** Settings of `new Archive()`. */
export interface ArchiveOptions {
  /** The server's UTC offset (default `'+08:00'`): `days` count back from today there. */
  serverUtcOffset?: string
}

/** One state an archived email was seen in. */
export interface HistoryEntry {
  /** The status text, as the server wrote it. */
  status: string | null
  category: Category
  subStatus: number | null
  /** The row's `modifiedTime` in that state, if it parsed. */
  modifiedTime: Date | null
  /** `modifiedTime` as archived (RFC 3339, or as received when it did not parse). */
  modifiedTimeRaw: string | null
  /** When a sync first saw the state. */
  seenAt: Date | null
}

/** One archived email: its current record and the states it went through. */
export interface ArchivedEmail {
  /** The current state, as the online methods return it. */
  record: EmailRecord
  /** When a sync first saw it. */
  firstSeenAt: Date | null
  /** When a sync last saw it. */
  lastSeenAt: Date | null
  /** Every state observed, oldest first: the first sighting, then each change. */
  history: HistoryEntry[]
}

/**
 * Archived records as an async iterable, read in batches by a reader thread.
 * Breaking out of the loop, `close()`, `await using` and garbage collection
 * stop it.
 */
export declare class ArchiveRecords implements AsyncIterableIterator<EmailRecord> {
  private constructor()
  /** Whether every record was handed out (or the stream failed or was closed). */
  readonly done: boolean
  next(): Promise<IteratorResult<EmailRecord, undefined>>
  return(): Promise<IteratorResult<EmailRecord, undefined>>
  /** Stops the reader; a pending `next()` resolves `done`. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
  [Symbol.asyncIterator](): this
  /** Every remaining record. */
  toArray(): Promise<EmailRecord[]>
}

/**
 * A local archive written by `client.sync()`, read offline (no request, no
 * credentials), in the shapes and order of the online methods. No window
 * means every archived day; without `apiUsers`, every apiUser in the archive
 * (a sync without `apiUsers` archives the calling apiUser only, so the two
 * agree). Nothing is opened until the first call, which rejects with
 * ARCHIVE_MISSING, NOT_AN_ARCHIVE or ARCHIVE_VERSION for a bad file. Every
 * read runs on Node's thread pool; a sync writing the file never blocks it.
 */
export declare class Archive {
  /** @throws {ValidationError} for a bad path or options. */
  constructor(path: string, options?: ArchiveOptions)
  /** The archive file. */
  readonly path: string
  /** Whether `close()` was called. */
  readonly closed: boolean
  /** The selected records, oldest request first. @throws {ValidationError} at once for bad filters. */
  records(filters?: ArchiveFilters): ArchiveRecords
  /** Every archived email sent to an address (case-insensitively), or the one with that id (ids hold a `$`). */
  history(addressOrId: string): Promise<ArchivedEmail[]>
  /** `client.summary()` over the selected archived records. */
  summary(filters?: ArchiveFilters): Promise<Summary>
  /** `client.suppressions()` over the selected archived records. */
  suppressions(filters?: ArchiveSuppressionsOptions): Promise<Suppression[]>
  /** Closes the connection (open record streams keep theirs); later calls reject. Idempotent. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** The stable error codes. */
export type ErrorCode =
  | 'VALIDATION'
  | 'AUTH'
  | 'RATE_LIMITED'
  | 'QUOTA'
  | 'SERVER'
  | 'TRANSPORT'
  | 'DECODE'
  | 'API'
  | 'INTERNAL'
  | 'ARCHIVE'
  | 'ARCHIVE_BUSY'
  | 'ARCHIVE_MISSING'
  | 'NOT_AN_ARCHIVE'
  | 'ARCHIVE_VERSION'
  | 'WEBHOOK_MALFORMED'
  | 'WEBHOOK_SIGNATURE'
  | 'WEBHOOK_STALE'

export interface SendCloudErrorDetails {
  code?: ErrorCode
  apiCode?: number | null
  field?: string | null
  reason?: string | null
  httpStatus?: number | null
  retryable?: boolean
  cause?: unknown
}

/**
 * Every error this package throws for input, settings, the API or the
 * network. Switch on `code`, or test the subclasses. Messages never contain
 * the key.
 */
export declare class SendCloudError extends Error {
  constructor(message: string, details?: SendCloudErrorDetails)
  /**
   * - `VALIDATION`: bad input or settings, nothing sent (or the server refused a parameter, 400xx); see `field`.
   * - `AUTH`: credentials refused (40005, 40301, 6001, HTTP 401/403); mind the region.
   * - `RATE_LIMITED`: 50000 / HTTP 429 after every retry.
   * - `QUOTA`: the account's request quota is used up (40913); not retried.
   * - `SERVER`: 501 or HTTP 5xx after every retry.
   * - `TRANSPORT`: no complete answer (connect, reset, timeout, body cut short).
   * - `DECODE`: a complete answer that is not the documented JSON.
   * - `API`: any other `result: false` answer; see `apiCode`.
   * - `INTERNAL`: a bug of this library (a panic caught in Rust); please report it.
   * - `ARCHIVE`: the local archive failed (SQLite, the disk: full, read-only).
   * - `ARCHIVE_BUSY`: another sync is writing the archive (retryable once it is done).
   * - `ARCHIVE_MISSING`: no archive at the path (`field` is `path`).
   * - `NOT_AN_ARCHIVE`: the file is not an archive (left untouched; `field` is `path`).
   * - `ARCHIVE_VERSION`: written by a newer version (left untouched; `field` is `path`).
   * - `WEBHOOK_MALFORMED`: `verifyWebhook`: not an event (`httpStatus` 400).
   * - `WEBHOOK_SIGNATURE`: `verifyWebhook`: the signature does not match (`httpStatus` 403).
   * - `WEBHOOK_STALE`: `verifyWebhook`: the timestamp is too far from now (`httpStatus` 403).
   */
  readonly code: ErrorCode
  /** The API's `statusCode` when the server answered with one. */
  readonly apiCode: number | null
  /** For VALIDATION: the option at fault (`days`, `startDate`, `emailIds`, `window`, `apiKey`…), else `null`. */
  readonly field: string | null
  /**
   * The detail below `code`, a stable name (branch on it, never on the message): for
   * VALIDATION why (`missing`, `conflict`, `incomplete`, `out_of_range`, `malformed`,
   * `unknown_name`, `contradiction`, `rejected_by_server`, `other`), for TRANSPORT what
   * failed (`dns`, `refused`, `connect`, `timeout`, `connection_reset`, `body_incomplete`,
   * `tls`, `other`, `fatal`); else `null`.
   */
  readonly reason: string | null
  /** The HTTP status of the answer, when there was one. */
  readonly httpStatus: number | null
  /** Whether the same request may succeed later (RATE_LIMITED, SERVER, TRANSPORT, DECODE, ARCHIVE_BUSY). */
  readonly retryable: boolean
}
export declare class ValidationError extends SendCloudError {
  readonly code: 'VALIDATION'
}
/** Credentials refused (the Python package's name too). */
export declare class AuthenticationError extends SendCloudError {
  readonly code: 'AUTH'
}
/** Still rate limited after the retries (the Python package's name too). */
export declare class RateLimitError extends SendCloudError {
  readonly code: 'RATE_LIMITED'
}
/** The earlier name of `AuthenticationError`: the same class. */
export declare const AuthError: typeof AuthenticationError
export type AuthError = AuthenticationError
/** The earlier name of `RateLimitError`: the same class. */
export declare const RateLimitedError: typeof RateLimitError
export type RateLimitedError = RateLimitError
export declare class QuotaError extends SendCloudError {
  readonly code: 'QUOTA'
}
export declare class ServerError extends SendCloudError {
  readonly code: 'SERVER'
}
export declare class TransportError extends SendCloudError {
  readonly code: 'TRANSPORT'
}
export declare class DecodeError extends SendCloudError {
  readonly code: 'DECODE'
}
export declare class ApiError extends SendCloudError {
  readonly code: 'API'
}
export declare class InternalError extends SendCloudError {
  readonly code: 'INTERNAL'
}
/** Every archive failure; the subclasses name the cases a program handles. */
export declare class ArchiveError extends SendCloudError {
  readonly code: 'ARCHIVE' | 'ARCHIVE_BUSY' | 'ARCHIVE_MISSING' | 'NOT_AN_ARCHIVE' | 'ARCHIVE_VERSION'
}
export declare class ArchiveBusyError extends ArchiveError {
  readonly code: 'ARCHIVE_BUSY'
}
export declare class ArchiveMissingError extends ArchiveError {
  readonly code: 'ARCHIVE_MISSING'
}
export declare class NotAnArchiveError extends ArchiveError {
  readonly code: 'NOT_AN_ARCHIVE'
}
export declare class ArchiveVersionError extends ArchiveError {
  readonly code: 'ARCHIVE_VERSION'
}

/** The error codes. */
export declare const ERROR_CODES: readonly ErrorCode[]
/** The `status` filter values. */
export declare const STATUSES: readonly Status[]
/** The record categories. */
export declare const CATEGORIES: readonly Category[]

/**
 * The keys of a record's canonical form (the CLI's JSON and CSV, Python's
 * `Record.to_dict()`), in order, snake_case; JS records carry them camelCased.
 */
export declare const RECORD_FIELDS: readonly string[]

/** The Rust client's defaults (and `sync`'s), read from the addon: the options left unset take these. */
export declare const DEFAULTS: Readonly<{
  /** `'POST'`. */
  method: 'POST' | 'GET'
  /** Whole-request timeout, ms (30000). */
  timeoutMs: number
  /** Connect timeout, ms (10000). */
  connectTimeoutMs: number
  /** The server's UTC offset, `'+08:00'`. */
  serverUtcOffset: string
  /** Rows per page of an export (100). */
  pageSize: number
  /** Email ids per request for long `emailIds` lists (20). */
  emailIdChunk: number
  /** The window maximum of a custom base URL, days (3). */
  maxWindowDays: number
  /** Backoff base after server and transport faults, ms. */
  retryBaseDelayMs: number
  /** Backoff base after a rate-limit answer, ms. */
  retryRateLimitDelayMs: number
  /** The longest single wait between attempts, ms. */
  retryMaxDelayMs: number
  /** Give up on a request this long after its first attempt, ms. */
  retryDeadlineMs: number
  /** `'auto'`. */
  parallel: 'auto'
  /** 3000: the documented account limit. */
  rateLimitPerMinute: number
  /** Retries per request after the first attempt. */
  maxRetries: number
  /** The most requests a client or an export may keep in flight (64). */
  maxParallel: number
  /** `sync`: days before the last complete day read again. */
  lookbackDays: number
  /** `sync`: oldest day, in days before today, re-read for its "sending" rows. */
  sendingMaxAgeDays: number
  /** `sync`: a day read less than this long ago (ms) is not read again (the server caches answers 10 minutes). */
  rescanAfterMs: number
  /** `sync`: days a first run reads without `since` (today included). */
  firstRunDays: number
  /** `watch`: time between polls, ms (600000: the server's cache period). */
  watchIntervalMs: number
  /** `watch`: the shortest interval accepted, ms (1000). */
  minWatchIntervalMs: number
  /** `watch`: a soft bounce unchanged this long (ms) is final (3600000). */
  softBounceGraceMs: number
  /** `watch`: the deadline, ms (7200000). */
  watchTimeoutMs: number
}>

/**
 * Decodes one API answer as the client does (lenient; see the project's
 * API notes): the page, or the classified `SendCloudError` thrown.
 * @param serverUtcOffset like `'+08:00'` (the default)
 */
export declare function decodePage(
  httpStatus: number,
  body: string | Uint8Array,
  serverUtcOffset?: string | null,
): DecodedPage

/**
 * The wire parameters of the page the filters describe, in order,
 * credentials excluded, unset filters omitted.
 * @throws {ValidationError}
 */
export declare function encodeQuery(filters: Filters): Array<[name: string, value: string]>

/** Where `encodeRequest` sends. Nothing falls back to the environment. */
export interface EncodeOptions {
  apiUser: string
  apiKey: string
  region?: Region | (string & {})
  baseUrl?: string
  maxWindowDays?: number
  method?: Method | 'post' | 'get'
}

/** The request one page becomes. */
export interface EncodedRequest {
  method: Method
  /** The URL; for GET it holds every parameter, the key included. */
  url: string
  headers: Array<[name: string, value: string]>
  /** The form body for POST (holds the key), `''` for GET. */
  body: string
  /** As `encodeQuery` gives them. */
  params: Array<[name: string, value: string]>
}

/**
 * The request one page of the filters becomes, including the endpoint's
 * window check. The result holds the key you pass: do not log it.
 * @throws {ValidationError}
 */
export declare function encodeRequest(filters: Filters, options: EncodeOptions): EncodedRequest

/**
 * A webhook delivery refused by `verifyWebhook`. `httpStatus` is what the
 * receiver answers: 400 for a malformed body, 403 otherwise.
 */
export declare class WebhookError extends SendCloudError {
  readonly code: 'WEBHOOK_MALFORMED' | 'WEBHOOK_SIGNATURE' | 'WEBHOOK_STALE'
  readonly httpStatus: number
}
/** Not an event: unreadable body, a required field missing or empty, a bad timestamp, a signed field twice. */
export declare class WebhookMalformedError extends WebhookError {
  readonly code: 'WEBHOOK_MALFORMED'
}
/** The signature is not `HMAC-SHA256(app key, timestamp + token)`. */
export declare class WebhookSignatureError extends WebhookError {
  readonly code: 'WEBHOOK_SIGNATURE'
}
/** The timestamp is further from now than the tolerance (a replay, or a clock far off). */
export declare class WebhookStaleError extends WebhookError {
  readonly code: 'WEBHOOK_STALE'
  /** `now - timestamp`, ms (negative: in the future). */
  readonly skewMs: number
  /** The tolerance in force, ms. */
  readonly toleranceMs: number
}

/** The default `toleranceMs` of `verifyWebhook` (35 minutes), from the Rust core. */
export declare const DEFAULT_WEBHOOK_TOLERANCE_MS: number

/** Options of `verifyWebhook`. */
export interface VerifyWebhookOptions {
  /** The request's `Content-Type`; informative only: the body decides (JSON when it starts with `{` or `[`, else a form). */
  contentType?: string
  /** The receiver's clock (default: now). */
  now?: Date | number
  /** How far the timestamp may be from now, either way, ms (default `DEFAULT_WEBHOOK_TOLERANCE_MS`). */
  toleranceMs?: number
  /** Tokens stored before: a token in it makes the event `repeated`. */
  seen?: ReadonlySet<string> | { has(token: string): boolean }
}

/** One verified webhook event (frozen). Only `timestamp` and `token` are signed by the vendor. */
export interface WebhookEvent {
  /** One spelling per kind: `request`, `delivered`, `invalid`, `soft_bounce`, `open`, `click`, `unsubscribe`, `spam_report`, `route`, or the name lower-cased with `-` → `_`. */
  readonly kind: string
  /** `event` exactly as received. */
  readonly event: string
  /** The record category a status event reports; `null` for engagement and other events. */
  readonly category: Exclude<Category, 'unknown'> | null
  readonly emailId: string
  readonly recipient: string | null
  readonly apiUser: string | null
  /** `labelId` when numeric (otherwise it stays in `extra`). */
  readonly labelId: number | null
  readonly labelName: string | null
  /** `timestamp` as received: the signed text. */
  readonly timestamp: string
  /** What `timestamp` means (milliseconds, or seconds below 10¹¹). */
  readonly time: Date
  /** Store it to recognise repeats (`seen`). */
  readonly token: string
  /** `signature` as received (hex). */
  readonly signature: string
  /** The bounce sub-status code (`subStatus`, `subStat`, `sub_status`, `substatus`). */
  readonly subStatus: number | null
  readonly message: string | null
  /** Every other field: form values as strings (a repeated one as an array), JSON values as they were. */
  readonly extra: Readonly<Record<string, unknown>>
  /** `seen` held the token: a vendor retry or a replay; answer 200 and store nothing. */
  readonly repeated: boolean
}

/**
 * Parses and checks one webhook delivery (pass the raw body): parse →
 * signature → age → seen token. A repeat is not an error (`repeated`).
 * Pure and fast; the app key never appears in an event or an error.
 * @throws {WebhookMalformedError} `httpStatus` 400
 * @throws {WebhookSignatureError} `httpStatus` 403
 * @throws {WebhookStaleError} `httpStatus` 403
 * @throws {ValidationError} an empty `appKey`, a bad option
 */
export declare function verifyWebhook(
  body: string | Uint8Array,
  appKey: string,
  opts?: VerifyWebhookOptions,
): WebhookEvent

/** The package version. */
export declare function version(): string
