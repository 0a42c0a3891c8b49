//! Response bodies, written by hand so key order, spelling and types are exactly controlled
//! (and no workspace-wide serde_json feature is needed for ordered maps).

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDateTime, Timelike};

use crate::catalog::{self, API_USERS};
use crate::config::{Language, StatusCodeKey, SubStatusFormat};
use crate::dataset::Dataset;

/// The rate-limit answer, verbatim from the Aurora reference page (note the key's case and the
/// spaces); it ignores every fidelity switch.
pub(crate) const RATE_LIMITED_BODY: &str =
    r#"{"result": false, "statuscode": 50000, "message": "interface frequency limited", "info": {}}"#;

/// What an nginx gateway in front of the API answers when the upstream is down.
pub(crate) const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// The fidelity switches that shape a JSON body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub language: Language,
    pub key: StatusCodeKey,
    pub info_as_string: bool,
    pub sub_format: SubStatusFormat,
}

impl Style {
    fn code_key(&self) -> &'static str {
        match self.key {
            StatusCodeKey::LowerCase => "statuscode",
            _ => "statusCode",
        }
    }

    fn envelope(&self, ok: bool, code: i64, message: &str, info: &str) -> String {
        let info = if self.info_as_string { quote(info) } else { info.to_string() };
        format!(r#"{{"result":{ok},"{}":{code},"message":{},"info":{info}}}"#, self.code_key(), quote(message))
    }

    /// An API error body: `result:false`, the code, the message in the server's language.
    pub fn error(&self, code: i64, en: &str, zh: &str) -> String {
        let message = if self.language == Language::English { en } else { zh };
        self.envelope(false, code, message, "{}")
    }

    /// A success body for the records `page` out of `total` matches.
    pub fn success(&self, ds: &Dataset, total: usize, page: &[usize]) -> String {
        let mut info = String::with_capacity(128 + page.len() * 420);
        let _ = write!(info, r#"{{"total":"{total}","voListSize":{},"voList":["#, page.len());
        for (n, &i) in page.iter().enumerate() {
            if n > 0 {
                info.push(',');
            }
            self.row(&mut info, ds, i);
        }
        info.push_str("]}");
        let message = if self.language == Language::English { "success" } else { "请求成功" };
        self.envelope(true, 200, message, &info)
    }

    fn row(&self, out: &mut String, ds: &Dataset, i: usize) {
        let Some(g) = ds.record(i as u64) else { return };
        let r = ds.rec(i);
        let _ = write!(
            out,
            r#"{{"emailId":{},"status":{},"apiUser":{},"recipients":{},"requestTime":"{}","modifiedTime":"{}","sendLog":{}"#,
            quote(&g.email_id),
            quote(&catalog::status_text(g.status_code, g.sub_status, self.language)),
            quote(API_USERS[r.api_user as usize].0),
            quote(&g.recipient),
            time(g.request_time),
            time(g.modified_time),
            quote(&g.send_log),
        );
        match (self.sub_format, g.sub_status) {
            (SubStatusFormat::Null, _) => out.push_str(r#","subStatus":null"#),
            (SubStatusFormat::String, Some(s)) => {
                let _ = write!(out, r#","subStatus":"{s}""#);
            }
            (_, Some(s)) => {
                let _ = write!(out, r#","subStatus":{s}"#);
            }
            (_, None) => {}
        }
        if let Some(s) = g.sub_status {
            let _ = write!(out, r#","subStatusDesc":{}"#, quote(catalog::sub_status_desc(s, self.language)));
        }
        out.push('}');
    }
}

/// A JSON string literal.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// `yyyy-MM-dd HH:mm:ss`.
fn time(t: NaiveDateTime) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}
