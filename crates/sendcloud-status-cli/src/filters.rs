//! Filter flags → a validated [`Query`]. Every rule is the core's
//! (`Query::builder()`); this module only gathers the flags and names them
//! in the messages.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use sendcloud_status::{Error, Query, QueryBuilder, Status, ValidationReason};

use crate::cli::FilterArgs;
use crate::exit::Failure;

/// Filters gathered and checked, ready to build one query per status.
#[derive(Debug, Clone)]
pub struct Filters {
    builder: QueryBuilder,
    /// The user constrained the status or sub-status.
    pub has_status_filter: bool,
    /// `--max-records`.
    pub max_records: Option<u64>,
    /// `--from` was given (names the missing half of a range).
    from_given: bool,
}

impl Filters {
    /// Gathers the flags (reading `@file` id lists). Nothing is sent.
    pub fn from_args(args: &FilterArgs) -> Result<Filters, Failure> {
        let mut b = Query::builder();
        if let Some(n) = args.days {
            b = b.days(n);
        }
        if let Some(from) = &args.from {
            b = b.start_date_str(from);
        }
        if let Some(to) = &args.to {
            b = b.end_date_str(to);
        }
        let from_given = args.from.is_some();
        if let Some(s) = &args.status {
            b = b.status(s.parse::<Status>().map_err(|e| flag_error(&e, from_given))?);
        }
        if !args.sub_status.is_empty() {
            let mut codes = Vec::with_capacity(args.sub_status.len());
            for raw in &args.sub_status {
                let code = raw.trim().parse::<i64>().map_err(|_| {
                    Failure::usage(format!("invalid --sub-status: {raw:?} is not a code like 401 or 503"))
                })?;
                codes.push(code);
            }
            b = b.sub_status(codes);
        }
        if let Some(e) = &args.email {
            b = b.email(e.clone());
        }
        if !args.email_ids.is_empty() {
            b = b.email_ids(expand_email_ids(&args.email_ids)?);
        }
        if let Some(id) = args.label_id {
            b = b.label_id(id);
        }
        if let Some(name) = &args.label_name {
            b = b.label_name(name.clone());
        }
        if !args.api_user_list.is_empty() {
            b = b.api_users(args.api_user_list.iter().cloned());
        }
        let filters = Filters {
            builder: b,
            has_status_filter: args.status.is_some() || !args.sub_status.is_empty(),
            max_records: args.max_records,
            from_given,
        };
        // Validate now, so that every mistake is reported before anything is sent.
        filters.build(None)?;
        Ok(filters)
    }

    /// The query, with `status` added when the user gave no status or
    /// sub-status filter (the reports use it to fetch only what they read).
    pub fn build(&self, status: Option<Status>) -> Result<Query, Failure> {
        let mut b = self.builder.clone();
        if let (Some(s), false) = (status, self.has_status_filter) {
            b = b.status(s);
        }
        b.build().map_err(|e| flag_error(&e, self.from_given))
    }
}

/// A builder error, with the flag named instead of the builder's field:
/// mapped on the error's field and reason, never on its text.
fn flag_error(err: &Error, from_given: bool) -> Failure {
    let Some(field) = err.field() else { return Failure::api(err) };
    if field == "window" {
        let range = "an inclusive range of server days, yyyy-MM-dd";
        return Failure::usage(match err.validation_reason() {
            Some(ValidationReason::Conflict) => "give either --days or --from/--to, not both".to_owned(),
            Some(ValidationReason::Incomplete) if from_given => format!("--from needs --to ({range})"),
            Some(ValidationReason::Incomplete) => format!("--to needs --from ({range})"),
            _ => "give --days N or --from DATE --to DATE".to_owned(),
        });
    }
    let flag = match field {
        "days" => "--days",
        "start_date" => "--from",
        "end_date" => "--to",
        "email" => "--email",
        "email_ids" => "--email-id",
        "label_id" => "--label-id",
        "label_name" => "--label-name",
        "api_users" => "--api-user-list",
        "status" => "--status",
        "sub_status" => "--sub-status",
        other => other,
    };
    Failure::usage(format!("invalid {flag}: {}", err.explanation()))
}

/// `--email-id` values: ids as given, `@FILE` read one id per line (blank
/// lines and `#` comments skipped), `@-` read from stdin.
pub fn expand_email_ids(values: &[String]) -> Result<Vec<String>, Failure> {
    let mut ids = Vec::new();
    for value in values {
        let Some(path) = value.strip_prefix('@') else {
            ids.push(value.clone());
            continue;
        };
        let read_err = |e: std::io::Error| Failure::usage(format!("invalid --email-id: cannot read {path:?}: {e}"));
        let reader: Box<dyn Read> = if path == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::fs::File::open(Path::new(path)).map_err(read_err)?)
        };
        let before = ids.len();
        for line in BufReader::new(reader).lines() {
            let line = line.map_err(read_err)?;
            let id = line.trim();
            if !id.is_empty() && !id.starts_with('#') {
                ids.push(id.to_owned());
            }
        }
        if ids.len() == before {
            return Err(Failure::usage(format!("invalid --email-id: {path:?} holds no ids")));
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::USAGE;

    fn args() -> FilterArgs {
        FilterArgs { days: Some(1), ..FilterArgs::default() }
    }

    #[test]
    fn messages_name_the_flags() {
        let f = Filters::from_args(&FilterArgs { days: Some(0), ..args() }).unwrap_err();
        assert_eq!(f.code, USAGE);
        assert!(f.message.starts_with("invalid --days: "), "{}", f.message);
        let f = Filters::from_args(&FilterArgs { days: None, ..args() }).unwrap_err();
        assert_eq!(f.message, "give --days N or --from DATE --to DATE");
        let f = Filters::from_args(&FilterArgs { from: Some("2024-01-01".into()), days: None, ..args() }).unwrap_err();
        assert!(f.message.starts_with("--from needs --to"));
        let bad_date =
            FilterArgs { days: None, from: Some("2024-13-01".into()), to: Some("2024-12-01".into()), ..args() };
        assert!(Filters::from_args(&bad_date).unwrap_err().message.starts_with("invalid --from: "));
        let f = Filters::from_args(&FilterArgs { sub_status: vec!["40x".into()], ..args() }).unwrap_err();
        assert!(f.message.starts_with("invalid --sub-status: "));
        let f = Filters::from_args(&FilterArgs { sub_status: vec!["200".into()], ..args() }).unwrap_err();
        assert!(f.message.starts_with("invalid --sub-status: "));
        let f = Filters::from_args(&FilterArgs { status: Some("bounced".into()), ..args() }).unwrap_err();
        assert!(f.message.starts_with("invalid --status: ") && f.message.contains("soft_bounce"), "{}", f.message);
        let f = Filters::from_args(&FilterArgs { to: Some("2024-01-01".into()), days: None, ..args() }).unwrap_err();
        assert!(f.message.starts_with("--to needs --from"), "{}", f.message);
        let f = Filters::from_args(&FilterArgs { from: Some("2024-01-01".into()), ..args() }).unwrap_err();
        assert_eq!(f.message, "give either --days or --from/--to, not both");
        let reversed =
            FilterArgs { days: None, from: Some("2024-05-03".into()), to: Some("2024-05-01".into()), ..args() };
        let f = Filters::from_args(&reversed).unwrap_err();
        assert_eq!(f.message, "invalid --from: 2024-05-03 is after the end date 2024-05-01");
        // Both spellings of a status, as everywhere.
        for spelling in ["soft-bounce", "soft_bounce"] {
            let f = Filters::from_args(&FilterArgs { status: Some(spelling.into()), ..args() }).unwrap();
            assert_eq!(f.build(None).unwrap().status(), Some(Status::SoftBounce));
        }
    }

    #[test]
    fn report_status_applies_only_without_user_status_filters() {
        let f = Filters::from_args(&args()).unwrap();
        assert_eq!(f.build(Some(Status::Invalid)).unwrap().status(), Some(Status::Invalid));
        let f = Filters::from_args(&FilterArgs { sub_status: vec!["503".into()], ..args() }).unwrap();
        assert_eq!(f.build(Some(Status::Invalid)).unwrap().status(), None);
    }

    #[test]
    fn email_ids_come_from_files_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.txt");
        std::fs::write(&path, "# ids\na$x@y.com\n\n  b$x@y.com \n").unwrap();
        let ids = expand_email_ids(&["c$z@y.com".into(), format!("@{}", path.display())]).unwrap();
        assert_eq!(ids, ["c$z@y.com", "a$x@y.com", "b$x@y.com"]);
        assert!(expand_email_ids(&["@/nonexistent/ids".into()]).is_err());
    }
}
