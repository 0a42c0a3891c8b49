//! The progress bar on stderr: shown only when stderr is a terminal and
//! neither `--quiet` nor `-v` is given (log lines would tear it).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar in use, so the Ctrl-C handler can clear it.
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Records fetched so far, as a spinner (or a bar with `--max-records`).
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress display; hidden unless `enabled` and stderr is a terminal.
    pub fn new(enabled: bool, max_records: Option<u64>) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = match max_records {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template(
                    "{spinner} [{bar:30}] {human_pos}/{human_len} records · {per_sec} · {elapsed} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            ),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(
                ProgressStyle::with_template("{spinner} {human_pos} records · {per_sec} · {elapsed} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            ),
        };
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut current) = CURRENT.lock() {
            *current = Some(bar.clone());
        }
        Progress { bar: Some(bar) }
    }

    /// A bar over the days a sync reads; hidden unless `enabled` and stderr
    /// is a terminal.
    pub fn days(enabled: bool, days: u64) -> Progress {
        if !enabled || !std::io::stderr().is_terminal() || days == 0 {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(days), ProgressDrawTarget::stderr()).with_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} days · {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        if let Ok(mut current) = CURRENT.lock() {
            *current = Some(bar.clone());
        }
        Progress { bar: Some(bar) }
    }

    /// Moves the bar to `position`; `message` says what is being read.
    pub fn set(&self, position: u64, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            bar.set_message(message);
        }
    }

    /// `n` more records; `window` names the window being read, `requests`
    /// counts the requests sent so far (shown as a rate).
    pub fn advance(&self, n: u64, window: Option<String>, requests: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
            let secs = bar.elapsed().as_secs_f64().max(0.001);
            let rate = format!("{:.0} requests/s", requests as f64 / secs);
            bar.set_message(match window {
                Some(w) => format!("{w} · {rate}"),
                None => rate,
            });
        }
    }

    /// Runs `f` with the bar hidden (for writes to the same terminal).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Ok(mut current) = CURRENT.lock() {
            *current = None;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Called by the Ctrl-C handler.
pub fn clear_on_interrupt() {
    if let Ok(mut current) = CURRENT.try_lock()
        && let Some(bar) = current.take()
    {
        bar.finish_and_clear();
    }
}
