//! Request encoding: one table of wire names, one function from a page of a
//! query to method + URL + headers + body.

use std::fmt;
use std::str::FromStr;

use crate::credentials::Credentials;
use crate::endpoint::Endpoint;
use crate::error::{Error, Result, ValidationReason};
use crate::query::{Query, Window};

/// The `User-Agent` sent unless the caller sets another.
pub const DEFAULT_USER_AGENT: &str = concat!("sendcloud-status/", env!("CARGO_PKG_VERSION"));

/// Every request parameter: the one table of wire names (camelCase only;
/// `docs/protocol.md` §3) and the field names used in validation errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Param {
    /// `apiUser`
    ApiUser,
    /// `apiKey`
    ApiKey,
    /// `days`
    Days,
    /// `startDate`
    StartDate,
    /// `endDate`
    EndDate,
    /// `email`
    Email,
    /// `emailIds`
    EmailIds,
    /// `labelId`
    LabelId,
    /// `labelName`
    LabelName,
    /// `apiUserList`
    ApiUserList,
    /// `status`
    Status,
    /// `subStatus`
    SubStatus,
    /// `start`
    Start,
    /// `limit`
    Limit,
}

impl Param {
    /// Every parameter, in the order they are encoded.
    pub const ALL: [Param; 14] = [
        Param::ApiUser,
        Param::ApiKey,
        Param::Days,
        Param::StartDate,
        Param::EndDate,
        Param::Email,
        Param::EmailIds,
        Param::LabelId,
        Param::LabelName,
        Param::ApiUserList,
        Param::Status,
        Param::SubStatus,
        Param::Start,
        Param::Limit,
    ];

    /// The name on the wire.
    pub fn wire_name(self) -> &'static str {
        match self {
            Param::ApiUser => "apiUser",
            Param::ApiKey => "apiKey",
            Param::Days => "days",
            Param::StartDate => "startDate",
            Param::EndDate => "endDate",
            Param::Email => "email",
            Param::EmailIds => "emailIds",
            Param::LabelId => "labelId",
            Param::LabelName => "labelName",
            Param::ApiUserList => "apiUserList",
            Param::Status => "status",
            Param::SubStatus => "subStatus",
            Param::Start => "start",
            Param::Limit => "limit",
        }
    }

    /// The name of the matching query field (as in validation errors).
    pub fn field_name(self) -> &'static str {
        match self {
            Param::ApiUser => "api_user",
            Param::ApiKey => "api_key",
            Param::Days => "days",
            Param::StartDate => "start_date",
            Param::EndDate => "end_date",
            Param::Email => "email",
            Param::EmailIds => "email_ids",
            Param::LabelId => "label_id",
            Param::LabelName => "label_name",
            Param::ApiUserList => "api_users",
            Param::Status => "status",
            Param::SubStatus => "sub_status",
            Param::Start => "start",
            Param::Limit => "limit",
        }
    }
}

/// HTTP method. POST (form body) is the default so the key never sits in a
/// URL; GET puts every parameter, the key included, in the query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Method {
    /// `GET` with a query string.
    Get,
    /// `POST` with `application/x-www-form-urlencoded` (default).
    #[default]
    Post,
}

impl Method {
    /// `GET` or `POST`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

impl FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "GET" => Ok(Method::Get),
            "POST" => Ok(Method::Post),
            _ => {
                Err(Error::invalid_value("method", ValidationReason::UnknownName, format!("{s:?} is not GET or POST")))
            }
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// How to encode requests: everything but the query.
#[derive(Debug, Clone)]
pub struct Encoder {
    endpoint: Endpoint,
    credentials: Credentials,
    method: Method,
    user_agent: String,
    url: String,
}

impl Encoder {
    /// An encoder for this endpoint and account, POST and the default
    /// user agent.
    pub fn new(endpoint: Endpoint, credentials: Credentials) -> Self {
        let url = endpoint.url();
        Encoder { endpoint, credentials, method: Method::Post, user_agent: DEFAULT_USER_AGENT.to_owned(), url }
    }

    /// Sets the method.
    pub fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Sets the `User-Agent`, refusing a value that is not a valid header
    /// value (see [`validate_user_agent`]).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Result<Self> {
        let user_agent = user_agent.into();
        validate_user_agent(&user_agent)?;
        self.user_agent = user_agent;
        Ok(self)
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The credentials (key redacted when formatted).
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Encodes the single page the query describes (its window, `start`
    /// and `limit`, all its email ids). A window longer than the endpoint's
    /// maximum is a validation error here; exports split it instead.
    ///
    /// ```
    /// use sendcloud_status_core::{Credentials, Encoder, Endpoint, Query};
    /// let enc = Encoder::new(Endpoint::default(), Credentials::new("u", "k").unwrap());
    /// let q = Query::builder().days(2).email_ids(["1$a@b.com"]).build().unwrap();
    /// let req = enc.encode(&q).unwrap();
    /// assert_eq!(req.method().as_str(), "POST");
    /// assert_eq!(req.body(), b"apiUser=u&apiKey=k&days=2&emailIds=1%24a%40b.com&start=0&limit=100");
    /// assert!(!format!("{req:?}").contains("apiKey=k"));
    /// ```
    pub fn encode(&self, query: &Query) -> Result<HttpRequest> {
        let max = self.endpoint.max_window_days();
        if query.window.len_days() > u64::from(max) {
            let field = if matches!(query.window, Window::Days(_)) { "days" } else { "end_date" };
            return Err(Error::invalid_value(
                field,
                ValidationReason::OutOfRange,
                format!(
                    "the window spans {} days; {} allows at most {max} per request (exports split longer windows)",
                    query.window.len_days(),
                    self.endpoint.describe()
                ),
            ));
        }
        Ok(self.encode_page(query, query.window, &query.email_ids, query.start, query.limit))
    }

    /// Encodes one page of an export: the query with a given window, id
    /// chunk and offset. The window must already fit the endpoint.
    pub(crate) fn encode_page(
        &self,
        query: &Query,
        window: Window,
        email_ids: &[String],
        start: u32,
        limit: u32,
    ) -> HttpRequest {
        let params = wire_params(query, window, email_ids, start, limit);
        let mut form = form_urlencoded::Serializer::new(String::with_capacity(128));
        form.append_pair(Param::ApiUser.wire_name(), self.credentials.api_user());
        form.append_pair(Param::ApiKey.wire_name(), self.credentials.api_key().expose());
        for (param, value) in &params {
            form.append_pair(param.wire_name(), value);
        }
        let encoded = form.finish();
        let mut headers = vec![("User-Agent", self.user_agent.clone()), ("Accept", "application/json".to_owned())];
        let (url, body) = match self.method {
            Method::Get => (format!("{}?{encoded}", self.url), Vec::new()),
            Method::Post => {
                headers.push(("Content-Type", "application/x-www-form-urlencoded".to_owned()));
                (self.url.clone(), encoded.into_bytes())
            }
        };
        HttpRequest { method: self.method, url, headers, body }
    }
}

/// Checks a `User-Agent` value: an HTTP field value (RFC 9110 §5.5) of
/// visible ASCII, spaces, tabs and non-ASCII text, not empty, without
/// surrounding whitespace and without control characters — a CR or LF would
/// split the header.
///
/// ```
/// use sendcloud_status_core::request::validate_user_agent;
/// assert!(validate_user_agent("my-app/1.2 (ops@example.com)").is_ok());
/// let e = validate_user_agent("my-app\r\nX-Evil: 1").unwrap_err();
/// assert_eq!(e.field(), Some("user_agent"));
/// assert!(validate_user_agent("").is_err());
/// ```
pub fn validate_user_agent(user_agent: &str) -> Result<()> {
    let field = "user_agent";
    if user_agent.trim().is_empty() {
        return Err(Error::invalid_value(field, ValidationReason::Missing, "must not be empty"));
    }
    if user_agent.starts_with([' ', '\t']) || user_agent.ends_with([' ', '\t']) {
        return Err(Error::invalid_value(field, ValidationReason::Malformed, "must not start or end with whitespace"));
    }
    if let Some(c) = user_agent.chars().find(|&c| c.is_ascii_control() && c != '\t') {
        return Err(Error::invalid_value(
            field,
            ValidationReason::Malformed,
            format!("must not contain control characters (found {:?}); a CR or LF would split the header", c),
        ));
    }
    Ok(())
}

/// The parameters of one page, credentials excluded, unset ones omitted,
/// in table order.
pub fn wire_params(
    query: &Query,
    window: Window,
    email_ids: &[String],
    start: u32,
    limit: u32,
) -> Vec<(Param, String)> {
    let mut p = Vec::with_capacity(8);
    match window {
        Window::Days(n) => p.push((Param::Days, n.to_string())),
        Window::Dates { start, end } => {
            p.push((Param::StartDate, start.format("%Y-%m-%d").to_string()));
            p.push((Param::EndDate, end.format("%Y-%m-%d").to_string()));
        }
    }
    if let Some(email) = &query.email {
        p.push((Param::Email, email.clone()));
    }
    if !email_ids.is_empty() {
        p.push((Param::EmailIds, email_ids.join(";")));
    }
    if let Some(id) = query.label_id {
        p.push((Param::LabelId, id.to_string()));
    }
    if let Some(name) = &query.label_name {
        p.push((Param::LabelName, name.clone()));
    }
    if !query.api_users.is_empty() {
        p.push((Param::ApiUserList, query.api_users.join(";")));
    }
    if let Some(status) = query.status {
        p.push((Param::Status, status.code().to_string()));
    }
    if !query.sub_status.is_empty() {
        let codes: Vec<String> = query.sub_status.iter().map(|s| s.code().to_string()).collect();
        p.push((Param::SubStatus, codes.join(";")));
    }
    p.push((Param::Start, start.to_string()));
    p.push((Param::Limit, limit.to_string()));
    p
}

/// An encoded request, ready for any HTTP client.
///
/// `Debug` redacts the key. For GET the URL itself holds the key: log
/// [`HttpRequest::redacted_url`], never [`HttpRequest::url`].
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl HttpRequest {
    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }
    /// The full URL (for GET, with every parameter including the key).
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The URL with the `apiKey` value replaced by `***`.
    pub fn redacted_url(&self) -> String {
        redact_form(&self.url)
    }
    /// Header names and values.
    pub fn headers(&self) -> &[(&'static str, String)] {
        &self.headers
    }
    /// The form body (empty for GET).
    pub fn body(&self) -> &[u8] {
        &self.body
    }
    /// The body with the `apiKey` value replaced by `***`, for logs.
    pub fn redacted_body(&self) -> String {
        redact_form(&String::from_utf8_lossy(&self.body))
    }
    /// Converts into the `http` crate's request type (what ureq 3 sends).
    ///
    /// Fails with a validation error naming the setting at fault when the
    /// URL or a header value is not valid HTTP (the encoder's settings are
    /// checked when set, so this is a last line of defence). Messages never
    /// hold the URL, which for GET carries the key.
    pub fn to_http(&self) -> Result<http::Request<Vec<u8>>> {
        let uri = http::Uri::try_from(self.url.as_str())
            .map_err(|_| Error::validation("base_url", "the request URL is not a valid HTTP URI"))?;
        let mut request = http::Request::new(self.body.clone());
        *request.method_mut() = match self.method {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
        };
        *request.uri_mut() = uri;
        for (name, value) in &self.headers {
            let field = if name.eq_ignore_ascii_case("User-Agent") { "user_agent" } else { "headers" };
            let invalid = || Error::validation(field, format!("the {name} header is not valid in HTTP"));
            let header = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let value = http::HeaderValue::try_from(value.as_str()).map_err(|_| invalid())?;
            request.headers_mut().append(header, value);
        }
        Ok(request)
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.redacted_url())
            .field("headers", &self.headers)
            .field("body", &self.redacted_body())
            .finish()
    }
}

/// Replaces the value of `apiKey=` in a form-encoded string (or a URL with
/// one as its query) by `***`.
pub fn redact_form(s: &str) -> String {
    let key = Param::ApiKey.wire_name();
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find(key) {
        let at_boundary = pos == 0 || matches!(rest.as_bytes()[pos - 1], b'&' | b'?');
        let after = &rest[pos + key.len()..];
        if at_boundary && after.starts_with('=') {
            out.push_str(&rest[..pos + key.len() + 1]);
            out.push_str("***");
            let end = after.find('&').unwrap_or(after.len());
            rest = &after[end..];
        } else {
            out.push_str(&rest[..pos + key.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    fn encoder() -> Encoder {
        Encoder::new(Endpoint::default(), Credentials::new("user", "K3Y&=x").unwrap())
    }

    #[test]
    fn post_is_form_encoded_and_key_free_url() {
        let q = Query::builder()
            .date_strings("2024-01-01", "2024-01-03")
            .email("a+b@example.com")
            .email_ids(["1425758592214_4576_32113_9310.sc-10_10_127_105-inbound0$ben@ifaxin.com", "x"])
            .label_id(7)
            .label_name("news letter")
            .api_users(["u1", "u2"])
            .status(Status::Invalid)
            .sub_status([406, 401])
            .start(200)
            .limit(50)
            .build()
            .unwrap();
        let r = encoder().encode(&q).unwrap();
        assert_eq!(r.url(), "https://api.aurorasendcloud.com/api/data/emailStatus");
        let body = String::from_utf8(r.body().to_vec()).unwrap();
        assert_eq!(
            body,
            "apiUser=user&apiKey=K3Y%26%3Dx&startDate=2024-01-01&endDate=2024-01-03&email=a%2Bb%40example.com\
             &emailIds=1425758592214_4576_32113_9310.sc-10_10_127_105-inbound0%24ben%40ifaxin.com%3Bx\
             &labelId=7&labelName=news+letter&apiUserList=u1%3Bu2&status=4&subStatus=406%3B401&start=200&limit=50"
        );
        let decoded: Vec<(String, String)> = form_urlencoded::parse(r.body()).into_owned().collect();
        assert_eq!(decoded[1], ("apiKey".into(), "K3Y&=x".into()));
        assert!(r.headers().iter().any(|(n, v)| *n == "User-Agent" && v.starts_with("sendcloud-status/")));
        assert!(!format!("{r:?}").contains("K3Y"));
        assert!(r.redacted_body().contains("apiKey=***&"));
    }

    #[test]
    fn get_puts_params_in_url_and_redacts_it() {
        let q = Query::last_days(1).unwrap();
        let r = encoder().with_method(Method::Get).encode(&q).unwrap();
        assert!(r.body().is_empty());
        assert!(r.url().contains("?apiUser=user&apiKey=K3Y%26%3Dx&days=1&start=0&limit=100"));
        assert_eq!(
            r.redacted_url(),
            "https://api.aurorasendcloud.com/api/data/emailStatus?apiUser=user&apiKey=***&days=1&start=0&limit=100"
        );
        let h = r.to_http().unwrap();
        assert_eq!(h.method(), "GET");
        assert_eq!(h.uri(), r.url());
    }

    #[test]
    fn window_over_the_endpoint_maximum_is_refused_for_single_pages() {
        let e = encoder().encode(&Query::last_days(4).unwrap()).unwrap_err();
        assert_eq!(e.field(), Some("days"));
        assert!(e.message().contains("at most 3"));
        let q = Query::builder().date_strings("2024-01-01", "2024-01-04").build().unwrap();
        assert_eq!(encoder().encode(&q).unwrap_err().field(), Some("end_date"));
        let cn = Encoder::new(Endpoint::preset(crate::Region::SendcloudCn), Credentials::new("u", "k").unwrap());
        assert!(cn.encode(&Query::last_days(30).unwrap()).is_ok());
    }

    #[test]
    fn user_agents_must_be_header_values() {
        for ok in ["app/1.0", "app/1.0 (contact; ops@example.com)", "tab\tinside", "naïve-ünïcode/2"] {
            let r = encoder().with_user_agent(ok).unwrap().encode(&Query::last_days(1).unwrap()).unwrap();
            let h = r.to_http().unwrap_or_else(|e| panic!("{ok:?}: {e}"));
            assert_eq!(h.headers()["user-agent"].as_bytes(), ok.as_bytes());
        }
        for bad in ["", "  ", "a\nb", "a\r\nX-Injected: 1", "nul\0", "del\u{7f}", " leading", "trailing\t", "bell\u{7}"]
        {
            let e = encoder().with_user_agent(bad).unwrap_err();
            assert_eq!((e.kind(), e.field()), (crate::ErrorKind::Validation, Some("user_agent")), "{bad:?}");
        }
    }

    #[test]
    fn to_http_reports_bad_values_instead_of_panicking() {
        let mut r = encoder().encode(&Query::last_days(1).unwrap()).unwrap();
        r.headers[0].1 = "two\nlines".into(); // bypasses the encoder's check
        let e = r.to_http().unwrap_err();
        assert_eq!((e.kind(), e.field()), (crate::ErrorKind::Validation, Some("user_agent")));
        let mut r = encoder().with_method(Method::Get).encode(&Query::last_days(1).unwrap()).unwrap();
        r.url.push_str(" with spaces");
        let e = r.to_http().unwrap_err();
        assert_eq!(e.field(), Some("base_url"));
        assert!(!e.message().contains("K3Y"), "{e}");
    }

    #[test]
    fn redaction_handles_edge_cases() {
        assert_eq!(redact_form("apiKey=abc"), "apiKey=***");
        assert_eq!(redact_form("x=1&apiKey=&y=2"), "x=1&apiKey=***&y=2");
        assert_eq!(redact_form("myapiKey=1&apiKey=2"), "myapiKey=1&apiKey=***");
    }

    #[test]
    fn every_param_has_distinct_names() {
        let mut names: Vec<_> = Param::ALL.iter().map(|p| p.wire_name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Param::ALL.len());
    }
}
