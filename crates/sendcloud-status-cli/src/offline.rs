//! `--db FILE`: the report commands answered from a local archive, with no
//! API call. The same queries are built from the same flags; the archive
//! answers each one as the server would (the same records, in the same
//! order), so every report and format is the online one.

use std::ops::ControlFlow;
use std::path::Path;

use sendcloud_status::chrono::NaiveDate;
use sendcloud_status::{Query, Record};
use sendcloud_status_archive::{Archive, Selection};
use sendcloud_status_sandbox::DEMO_API_USER;

use crate::cli::GlobalArgs;
use crate::exit::Failure;

/// An archive opened for reading.
#[derive(Debug)]
pub struct Offline {
    /// The archive.
    pub archive: Archive,
    /// The server day `--days` counts back from.
    pub today: NaiveDate,
    /// The apiUsers a query without `--api-user-list` covers: the calling
    /// apiUser when one is known (as online), else every apiUser.
    pub default_users: Vec<String>,
}

impl Offline {
    /// Opens `path`, which must be an archive already.
    pub fn open(g: &GlobalArgs, path: &Path) -> Result<Offline, Failure> {
        let archive = Archive::open_existing(path)?;
        let user = if g.sandbox {
            Some(g.api_user.clone().filter(|_| g.api_user_on_command_line).unwrap_or_else(|| DEMO_API_USER.to_owned()))
        } else {
            g.api_user.clone()
        };
        let default_users = user.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()).into_iter().collect();
        Ok(Offline { archive, today: today(g), default_users })
    }

    /// The selection that answers `query` from the archive.
    pub fn selection(&self, query: &Query) -> Result<Selection, Failure> {
        let selection = Selection::from_query(query, self.today)?;
        Ok(if selection.api_users.is_empty() { selection.api_users(self.default_users.clone()) } else { selection })
    }

    /// Every record of `queries` (one after the other, at most
    /// `max_records` in all) into `each`; the counterpart of
    /// [`crate::commands::stream`].
    pub fn stream(
        &self,
        queries: Vec<Query>,
        max_records: Option<u64>,
        mut each: impl FnMut(&[Record]) -> Result<(), Failure>,
    ) -> Result<u64, Failure> {
        let mut seen = 0u64;
        for query in queries {
            let selection = self.selection(&query)?;
            let mut failed: Option<Failure> = None;
            self.archive.scan(&selection, |record| {
                if max_records.is_some_and(|m| seen >= m) {
                    return ControlFlow::Break(());
                }
                seen += 1;
                match each(std::slice::from_ref(&record)) {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => {
                        failed = Some(e);
                        ControlFlow::Break(())
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Ok(seen)
    }

    /// Who the records belong to, for report headings.
    pub fn api_users_label(&self, query: &Query) -> String {
        let users = if query.api_users().is_empty() { &self.default_users[..] } else { query.api_users() };
        match users {
            [] => "every apiUser in the archive".to_owned(),
            [one] => format!("apiUser {one}"),
            many => format!("apiUsers {}", many.join(", ")),
        }
    }
}

/// The server's today: `--today`, or this machine's clock at UTC+08:00.
pub fn today(g: &GlobalArgs) -> NaiveDate {
    g.today.unwrap_or_else(|| {
        let offset = sendcloud_status::core::Decoder::default().offset();
        sendcloud_status::chrono::Utc::now().with_timezone(&offset).date_naive()
    })
}
