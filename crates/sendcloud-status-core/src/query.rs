//! The query model. A [`Query`] can only be obtained from
//! [`QueryBuilder::build`], which checks every rule of `docs/protocol.md` §3, so an
//! encoded request is always one the server accepts (window length aside,
//! which the export machine splits).

use chrono::NaiveDate;

use crate::error::{Error, Result, ValidationReason};
use crate::settings;
use crate::status::{Status, SubStatus};

/// Page size when none is given (the API's default).
pub use crate::settings::DEFAULT_PAGE_SIZE;
/// Largest page the API serves (project decision: `limit` is 1..=100).
pub const MAX_PAGE_SIZE: u32 = settings::PAGE_SIZE.max() as u32;
/// Longest `days` accepted: data is kept six months, so anything longer is a
/// typo, not a query.
pub const MAX_DAYS: u32 = settings::DAYS.max() as u32;

/// The time window of a query: the last N days, or an inclusive date range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Window {
    /// `days=N`: today and the N−1 days before it, in the server's time zone.
    Days(u32),
    /// `startDate`..=`endDate`.
    Dates {
        /// First day, inclusive.
        start: NaiveDate,
        /// Last day, inclusive.
        end: NaiveDate,
    },
}

impl Window {
    /// The inclusive date range this window covers, given the server's today.
    pub fn date_range(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        match self {
            Window::Days(n) => (today - chrono::Days::new(u64::from(n.saturating_sub(1))), today),
            Window::Dates { start, end } => (start, end),
        }
    }

    /// Length in inclusive calendar days.
    pub fn len_days(self) -> u64 {
        match self {
            Window::Days(n) => u64::from(n),
            Window::Dates { start, end } => (end - start).num_days().unsigned_abs() + 1,
        }
    }
}

/// A validated query. Build one with [`Query::builder`].
///
/// ```
/// use sendcloud_status_core::{Query, Status};
/// let q = Query::builder().days(3).status(Status::Invalid).sub_status([406, 404]).build().unwrap();
/// assert_eq!(q.status(), Some(Status::Invalid));
///
/// let err = Query::builder().build().unwrap_err();           // no window
/// assert_eq!(err.field(), Some("window"));
/// let err = Query::builder().days(1).limit(500).build().unwrap_err();
/// assert_eq!(err.field(), Some("limit"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Query {
    pub(crate) window: Window,
    pub(crate) email: Option<String>,
    pub(crate) email_ids: Vec<String>,
    pub(crate) label_id: Option<u64>,
    pub(crate) label_name: Option<String>,
    pub(crate) api_users: Vec<String>,
    pub(crate) status: Option<Status>,
    pub(crate) sub_status: Vec<SubStatus>,
    pub(crate) start: u32,
    pub(crate) limit: u32,
}

impl Query {
    /// Starts a query.
    pub fn builder() -> QueryBuilder {
        QueryBuilder::default()
    }

    /// Shorthand for `Query::builder().days(n).build()`.
    pub fn last_days(n: u32) -> Result<Query> {
        Query::builder().days(n).build()
    }

    /// The window.
    pub fn window(&self) -> Window {
        self.window
    }
    /// The recipient filter.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }
    /// The email id filter (deduplicated, in the order given).
    pub fn email_ids(&self) -> &[String] {
        &self.email_ids
    }
    /// The label id filter.
    pub fn label_id(&self) -> Option<u64> {
        self.label_id
    }
    /// The label name filter (fuzzy when sent without a label id).
    pub fn label_name(&self) -> Option<&str> {
        self.label_name.as_deref()
    }
    /// The `apiUserList` filter.
    pub fn api_users(&self) -> &[String] {
        &self.api_users
    }
    /// The status filter.
    pub fn status(&self) -> Option<Status> {
        self.status
    }
    /// The sub-status filter.
    pub fn sub_status(&self) -> &[SubStatus] {
        &self.sub_status
    }
    /// The first offset (`start`).
    pub fn start(&self) -> u32 {
        self.start
    }
    /// The page size (`limit`).
    pub fn limit(&self) -> u32 {
        self.limit
    }
}

/// Builder for [`Query`]; every check runs in [`QueryBuilder::build`].
#[derive(Debug, Clone, Default)]
pub struct QueryBuilder {
    days: Option<i64>,
    /// A date, or why the text given for it is not one (reported by `build`).
    start_date: Option<Result<NaiveDate>>,
    end_date: Option<Result<NaiveDate>>,
    email: Option<String>,
    email_ids: Option<Vec<String>>,
    label_id: Option<i64>,
    label_name: Option<String>,
    api_users: Option<Vec<String>>,
    status: Option<Status>,
    sub_status: Option<Vec<i64>>,
    start: Option<i64>,
    limit: Option<i64>,
}

impl QueryBuilder {
    /// The last `n` days (`days=1` is today). Exclusive with a date range.
    pub fn days(mut self, n: impl Into<i64>) -> Self {
        self.days = Some(n.into());
        self
    }

    /// The first day of an inclusive date range; give
    /// [`end_date`](Self::end_date) too (both or neither, checked by
    /// [`build`](Self::build)). Exclusive with [`days`](Self::days).
    pub fn start_date(mut self, date: NaiveDate) -> Self {
        self.start_date = Some(Ok(date));
        self
    }

    /// The last day of an inclusive date range; give
    /// [`start_date`](Self::start_date) too.
    pub fn end_date(mut self, date: NaiveDate) -> Self {
        self.end_date = Some(Ok(date));
        self
    }

    /// [`start_date`](Self::start_date) from `yyyy-MM-dd` text (checked by
    /// [`build`](Self::build)).
    pub fn start_date_str(mut self, text: &str) -> Self {
        self.start_date = Some(parse_date("start_date", text));
        self
    }

    /// [`end_date`](Self::end_date) from `yyyy-MM-dd` text.
    pub fn end_date_str(mut self, text: &str) -> Self {
        self.end_date = Some(parse_date("end_date", text));
        self
    }

    /// An inclusive date range: both ends at once.
    pub fn dates(self, start: NaiveDate, end: NaiveDate) -> Self {
        self.start_date(start).end_date(end)
    }

    /// An inclusive date range from `yyyy-MM-dd` strings.
    pub fn date_strings(self, start: &str, end: &str) -> Self {
        self.start_date_str(start).end_date_str(end)
    }

    /// One recipient address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Email ids returned by the send API.
    pub fn email_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.email_ids = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// A label id (wins over a label name on the server).
    pub fn label_id(mut self, id: impl Into<i64>) -> Self {
        self.label_id = Some(id.into());
        self
    }

    /// A label name (fuzzy match when sent alone).
    pub fn label_name(mut self, name: impl Into<String>) -> Self {
        self.label_name = Some(name.into());
        self
    }

    /// Several apiUsers of the account (`apiUserList`).
    pub fn api_users<I, S>(mut self, users: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.api_users = Some(users.into_iter().map(Into::into).collect());
        self
    }

    /// Only records of this status.
    pub fn status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// Only records with one of these sub-status codes.
    pub fn sub_status<I, S>(mut self, codes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<SubStatusCode>,
    {
        self.sub_status = Some(codes.into_iter().map(|c| c.into().0).collect());
        self
    }

    /// The first offset (default 0). In an export it applies to the first
    /// window (and id chunk) only; later windows start at 0.
    pub fn start(mut self, start: impl Into<i64>) -> Self {
        self.start = Some(start.into());
        self
    }

    /// The page size, 1..=100 (default 100).
    pub fn limit(mut self, limit: impl Into<i64>) -> Self {
        self.limit = Some(limit.into());
        self
    }

    /// Checks every rule and returns the query, or a validation error naming
    /// the field.
    pub fn build(self) -> Result<Query> {
        let window = window(self.days, self.start_date, self.end_date)?;
        let email = self.email.map(|e| check_email(e.trim())).transpose()?;
        let email_ids = self.email_ids.map(|ids| check_list("email_ids", ids)).transpose()?.unwrap_or_default();
        let api_users = self.api_users.map(|u| check_list("api_users", u)).transpose()?.unwrap_or_default();
        let label_id = match self.label_id {
            Some(id) => Some(settings::LABEL_ID.check_u64("label_id", id)?),
            None => None,
        };
        let label_name = match self.label_name.map(|n| n.trim().to_owned()) {
            Some(n) if n.is_empty() => {
                return Err(Error::invalid_value("label_name", ValidationReason::Missing, "must not be empty"));
            }
            other => other,
        };

        if matches!(&self.sub_status, Some(v) if v.is_empty()) {
            return Err(Error::invalid_value("sub_status", ValidationReason::Missing, "must not be an empty list"));
        }
        let mut sub_status: Vec<SubStatus> = Vec::new();
        for code in self.sub_status.unwrap_or_default() {
            let sub = u16::try_from(code).ok().map(SubStatus::from_code).filter(|s| s.class().is_some()).ok_or_else(
                || {
                    Error::invalid_value(
                        "sub_status",
                        ValidationReason::Malformed,
                        format!("{code} is not a 4xx or 5xx sub-status code"),
                    )
                },
            )?;
            if let (Some(status), Some(belongs)) = (self.status, sub.status())
                && status != belongs
            {
                return Err(Error::invalid_value(
                    "sub_status",
                    ValidationReason::Contradiction,
                    format!("{code} belongs to status {belongs}, which contradicts status {status}"),
                ));
            }
            if !sub_status.contains(&sub) {
                sub_status.push(sub);
            }
        }

        let start = settings::START.check_u32("start", self.start.unwrap_or(0))?;
        let limit = settings::PAGE_SIZE.check_u32("limit", self.limit.unwrap_or(i64::from(DEFAULT_PAGE_SIZE)))?;

        Ok(Query {
            window,
            email,
            email_ids,
            label_id,
            label_name,
            api_users,
            status: self.status,
            sub_status,
            start,
            limit,
        })
    }
}

/// A sub-status code given to the builder: a plain integer or a
/// [`SubStatus`].
#[derive(Debug, Clone, Copy)]
pub struct SubStatusCode(i64);

impl From<SubStatus> for SubStatusCode {
    fn from(s: SubStatus) -> Self {
        SubStatusCode(i64::from(s.code()))
    }
}
macro_rules! sub_status_code_from_int {
    ($($t:ty),*) => {$(impl From<$t> for SubStatusCode {
        fn from(c: $t) -> Self { SubStatusCode(i64::from(c)) }
    })*};
}
sub_status_code_from_int!(u16, i32, u32, i64);

/// The window: `days`, or both ends of a date range (the one place that
/// checks "both or neither").
fn window(days: Option<i64>, start: Option<Result<NaiveDate>>, end: Option<Result<NaiveDate>>) -> Result<Window> {
    let start = start.transpose()?;
    let end = end.transpose()?;
    let window_error = |reason, explanation| Err(Error::invalid_value("window", reason, explanation));
    match (days, start, end) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            window_error(ValidationReason::Conflict, "give days or a date range, not both")
        }
        (None, None, None) => window_error(ValidationReason::Missing, "give days, or a start date and an end date"),
        (None, Some(_), None) => window_error(ValidationReason::Incomplete, "a start date needs an end date"),
        (None, None, Some(_)) => window_error(ValidationReason::Incomplete, "an end date needs a start date"),
        (Some(n), None, None) => Ok(Window::Days(settings::DAYS.check_u32("days", n)?)),
        (None, Some(start), Some(end)) if start > end => Err(Error::invalid_value(
            "start_date",
            ValidationReason::Contradiction,
            format!("{start} is after the end date {end}"),
        )),
        (None, Some(start), Some(end)) => Ok(Window::Dates { start, end }),
    }
}

/// Parses `yyyy-MM-dd`, naming `field` in the error.
pub fn parse_date(field: &'static str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        Error::invalid_value(
            field,
            ValidationReason::Malformed,
            format!("{s:?} is not a date like 2024-03-19 (yyyy-MM-dd)"),
        )
    })
}

fn check_email(email: &str) -> Result<String> {
    let bad = |reason, why: &str| Err(Error::invalid_value("email", reason, format!("{email:?} {why}")));
    if email.is_empty() {
        return bad(ValidationReason::Missing, "must not be empty");
    }
    if email.contains(|c: char| c.is_whitespace() || c == ';') {
        return bad(ValidationReason::Malformed, "must not contain spaces or ';'");
    }
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@') => {
            Ok(email.to_owned())
        }
        _ => bad(ValidationReason::Malformed, "is not an email address"),
    }
}

/// Non-empty list of non-empty items without `;` (the wire separator),
/// trimmed and deduplicated in order.
fn check_list(field: &'static str, items: Vec<String>) -> Result<Vec<String>> {
    if items.is_empty() {
        return Err(Error::invalid_value(
            field,
            ValidationReason::Missing,
            "must not be an empty list (leave it unset instead)",
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let item = item.trim();
        if item.is_empty() {
            return Err(Error::invalid_value(field, ValidationReason::Malformed, "items must not be empty"));
        }
        if item.contains(';') {
            return Err(Error::invalid_value(
                field,
                ValidationReason::Malformed,
                format!("{item:?} contains ';', the list separator"),
            ));
        }
        if !out.iter().any(|seen| seen == item) {
            out.push(item.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn field_and_reason(b: QueryBuilder) -> (Option<&'static str>, Option<ValidationReason>) {
        let e = b.build().unwrap_err();
        (e.field(), e.validation_reason())
    }

    #[test]
    fn a_date_range_needs_both_ends_or_neither() {
        use ValidationReason::*;
        let (start, end) = (d("2024-01-01"), d("2024-01-02"));
        assert_eq!(field_and_reason(Query::builder().start_date(start)), (Some("window"), Some(Incomplete)));
        assert_eq!(field_and_reason(Query::builder().end_date(end)), (Some("window"), Some(Incomplete)));
        assert_eq!(field_and_reason(Query::builder().end_date_str("2024-01-02")), (Some("window"), Some(Incomplete)));
        assert_eq!(field_and_reason(Query::builder()), (Some("window"), Some(Missing)));
        assert_eq!(field_and_reason(Query::builder().days(1).start_date(start)), (Some("window"), Some(Conflict)));
        assert_eq!(field_and_reason(Query::builder().days(1).end_date(end)), (Some("window"), Some(Conflict)));
        // Either end may come first; `dates` is the two at once.
        let q = Query::builder().end_date(end).start_date(start).build().unwrap();
        assert_eq!(q.window(), Window::Dates { start, end });
        assert_eq!(Query::builder().dates(start, end).build().unwrap(), q);
        assert_eq!(Query::builder().date_strings(" 2024-01-01", "2024-01-02 ").build().unwrap(), q);
        // A malformed end is reported as such, before the pair is checked.
        assert_eq!(field_and_reason(Query::builder().end_date_str("01/02/2024")), (Some("end_date"), Some(Malformed)));
        let msg = Query::builder().dates(end, start).build().unwrap_err();
        assert_eq!(msg.message(), "invalid start_date: 2024-01-02 is after the end date 2024-01-01");
    }

    #[test]
    fn numbers_are_checked_against_the_settings_bounds() {
        let e = Query::builder().days(3661).build().unwrap_err();
        assert_eq!(e.explanation(), "must be from 1 to 3660, got 3661");
        assert_eq!(e.validation_reason(), Some(ValidationReason::OutOfRange));
        let e = Query::builder().days(1).start(-1).build().unwrap_err();
        assert_eq!(e.explanation(), "must be at least 0, got -1");
        let e = Query::builder().days(1).label_id(0).build().unwrap_err();
        assert_eq!(e.explanation(), "must be at least 1, got 0");
        let e = Query::builder().days(1).limit(101).build().unwrap_err();
        assert_eq!(e.explanation(), "must be from 1 to 100, got 101");
    }

    #[test]
    fn window_is_exactly_one_of_days_or_dates() {
        assert_eq!(Query::builder().build().unwrap_err().field(), Some("window"));
        let both = Query::builder().days(1).dates(d("2024-01-01"), d("2024-01-02")).build();
        assert_eq!(both.unwrap_err().field(), Some("window"));
        assert_eq!(Query::builder().days(0).build().unwrap_err().field(), Some("days"));
        assert_eq!(Query::builder().days(-3).build().unwrap_err().field(), Some("days"));
        let rev = Query::builder().dates(d("2024-01-03"), d("2024-01-01")).build();
        assert_eq!(rev.unwrap_err().field(), Some("start_date"));
        assert_eq!(
            Query::builder().date_strings("2024-1-x", "2024-01-02").build().unwrap_err().field(),
            Some("start_date")
        );
        assert_eq!(
            Query::builder().date_strings("2024-01-01", "02/01/2024").build().unwrap_err().field(),
            Some("end_date")
        );
    }

    #[test]
    fn long_windows_are_valid_queries() {
        // The export machine splits them; only single-page requests refuse them.
        let q = Query::builder().dates(d("2024-01-01"), d("2024-03-01")).build().unwrap();
        assert_eq!(q.window().len_days(), 61);
    }

    #[test]
    fn lists_are_checked_trimmed_and_deduplicated() {
        let q = Query::builder().days(1).email_ids(["a$b@c", " a$b@c ", "x"]).build().unwrap();
        assert_eq!(q.email_ids(), ["a$b@c", "x"]);
        let empty: [&str; 0] = [];
        assert_eq!(Query::builder().days(1).email_ids(empty).build().unwrap_err().field(), Some("email_ids"));
        assert_eq!(Query::builder().days(1).email_ids(["a;b"]).build().unwrap_err().field(), Some("email_ids"));
        assert_eq!(Query::builder().days(1).api_users(["", "x"]).build().unwrap_err().field(), Some("api_users"));
    }

    #[test]
    fn scalar_rules() {
        let err = |b: QueryBuilder| b.build().unwrap_err().field().unwrap();
        let base = || Query::builder().days(1);
        assert_eq!(err(base().email("no-at-sign")), "email");
        assert_eq!(err(base().email("")), "email");
        assert_eq!(err(base().email("a b@c")), "email");
        assert_eq!(err(base().label_id(0)), "label_id");
        assert_eq!(err(base().label_name("  ")), "label_name");
        assert_eq!(err(base().start(-1)), "start");
        assert_eq!(err(base().limit(0)), "limit");
        assert_eq!(err(base().limit(101)), "limit");
        assert_eq!(err(base().sub_status([200])), "sub_status");
        assert_eq!(err(base().sub_status(Vec::<u16>::new())), "sub_status");
        assert_eq!(err(base().status(Status::Delivered).sub_status([406])), "sub_status");
        assert_eq!(err(base().status(Status::Invalid).sub_status([503])), "sub_status");
        let ok =
            base().status(Status::SoftBounce).sub_status([SubStatus::SoftOther.into(), SubStatusCode::from(503u16)]);
        assert_eq!(ok.build().unwrap().sub_status().len(), 2);
    }

    #[test]
    fn days_range_counts_today() {
        let (s, e) = Window::Days(3).date_range(d("2024-05-10"));
        assert_eq!((s, e), (d("2024-05-08"), d("2024-05-10")));
    }
}
