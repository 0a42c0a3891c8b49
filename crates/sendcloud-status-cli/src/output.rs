//! Where results go and how they are written: a [`Sink`] (stdout, or a
//! temporary file renamed into place on success) and the record writers
//! (JSON lines, CSV, table), all streaming one record at a time.
//!
//! The sink is shared with the Ctrl-C handler, which flushes what was
//! already written to stdout, or removes the temporary file, before the
//! process exits.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use sendcloud_status::{Record, Wording};

use crate::cli::RecordFormat;
use crate::exit::Failure;

enum Target {
    Stdout(io::Stdout),
    File(File),
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::Stdout(s) => s.write(buf),
            Target::File(f) => f.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Target::Stdout(s) => s.flush(),
            Target::File(f) => f.flush(),
        }
    }
}

type Shared = Arc<Mutex<BufWriter<Target>>>;

/// What the Ctrl-C handler must clean up.
struct Active {
    writer: Shared,
    temp: Option<PathBuf>,
}

static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The destination of a command's output.
pub struct Sink {
    writer: Shared,
    temp: Option<tempfile::TempPath>,
    dest: Option<PathBuf>,
    terminal: bool,
}

impl std::fmt::Debug for Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sink").field("dest", &self.dest).field("terminal", &self.terminal).finish_non_exhaustive()
    }
}

impl Sink {
    /// Stdout, or a temporary file next to `path` (created now, so an
    /// unwritable path fails before anything is sent).
    pub fn open(path: Option<&Path>) -> Result<Sink, Failure> {
        let (target, temp, dest, terminal) = match path {
            None => {
                let stdout = io::stdout();
                let terminal = stdout.is_terminal();
                (Target::Stdout(stdout), None, None, terminal)
            }
            Some(path) => {
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => Path::new("."),
                };
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let prefix = format!(".{name}.");
                let mut builder = tempfile::Builder::new();
                builder.prefix(&prefix).suffix(".partial");
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    // Like a plain create: the umask decides.
                    builder.permissions(std::fs::Permissions::from_mode(0o666));
                }
                let file = builder.tempfile_in(dir).map_err(|e| {
                    // tempfile's message names the hidden temporary file; the user named `path`.
                    let cause = e
                        .raw_os_error()
                        .map_or_else(|| e.kind().to_string(), |c| std::io::Error::from_raw_os_error(c).to_string());
                    Failure::new(crate::exit::OUTPUT, format!("cannot write --output {}: {cause}", path.display()))
                })?;
                let (file, temp) = file.into_parts();
                (Target::File(file), Some(temp), Some(path.to_path_buf()), false)
            }
        };
        let writer = Arc::new(Mutex::new(BufWriter::with_capacity(64 * 1024, target)));
        *lock(&ACTIVE) = Some(Active { writer: writer.clone(), temp: temp.as_ref().map(|t| t.to_path_buf()) });
        Ok(Sink { writer, temp, dest, terminal })
    }

    /// Whether the output is a terminal (stdout on a tty).
    pub fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// Writes one chunk (a whole line or more).
    pub fn write_all(&self, bytes: &[u8]) -> Result<(), Failure> {
        lock(&self.writer).write_all(bytes).map_err(|e| self.write_error(&e))
    }

    /// Pushes buffered output to the terminal or file.
    pub fn flush(&self) -> Result<(), Failure> {
        lock(&self.writer).flush().map_err(|e| self.write_error(&e))
    }

    fn write_error(&self, e: &io::Error) -> Failure {
        match &self.dest {
            Some(p) => Failure::output(&format!("writing {}", p.display()), e),
            None => Failure::output("writing to stdout", e),
        }
    }

    /// Completes the output: flushes, and moves the file into place.
    pub fn finish(mut self) -> Result<(), Failure> {
        self.flush()?;
        if let (Some(temp), Some(dest)) = (self.temp.take(), self.dest.take()) {
            {
                let guard = lock(&self.writer);
                if let Target::File(f) = guard.get_ref() {
                    f.sync_all().map_err(|e| Failure::output(&format!("writing {}", dest.display()), &e))?;
                }
            }
            temp.persist(&dest)
                .map_err(|e| Failure::output(&format!("moving the output to {}", dest.display()), &e.error))?;
        }
        // Only now: until the rename, Ctrl-C must still remove the temporary file.
        *lock(&ACTIVE) = None;
        Ok(())
    }

    /// Gives up on the output after a failure: what reached stdout is
    /// flushed; a temporary file is removed (on drop).
    pub fn abandon(self) {
        *lock(&ACTIVE) = None;
        if self.temp.is_none() {
            let _ = lock(&self.writer).flush();
        }
    }
}

/// Called by the Ctrl-C handler: removes a partial `--output` file and
/// flushes what was already written to stdout (without waiting long for a
/// writer that is blocked on a full pipe).
pub fn cleanup_on_interrupt() {
    // Held only for instants by the main thread: a blocking lock is fine.
    let Some(active) = lock(&ACTIVE).take() else { return };
    if let Some(temp) = &active.temp {
        let _ = std::fs::remove_file(temp);
        return;
    }
    let deadline = Instant::now() + Duration::from_millis(500);
    while Instant::now() < deadline {
        match active.writer.try_lock() {
            Ok(mut w) => {
                let _ = w.flush();
                return;
            }
            Err(TryLockError::Poisoned(p)) => {
                let _ = p.into_inner().flush();
                return;
            }
            Err(TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// The columns of CSV output: exactly the JSON-lines keys, from the core.
const RECORD_COLUMNS: [&str; 11] = Record::FIELDS;

/// A `Write` into a shared line buffer, so the CSV writer's output can be
/// taken out record by record.
#[derive(Clone, Default)]
struct LineBuf(Rc<RefCell<Vec<u8>>>);

impl Write for LineBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes records one at a time in one format.
pub struct RecordWriter {
    format: RecordFormat,
    /// Whose words the table's detail column uses.
    wording: Wording,
    buf: Vec<u8>,
    csv: Option<(csv::Writer<LineBuf>, LineBuf)>,
    header_done: bool,
}

impl std::fmt::Debug for RecordWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordWriter").field("format", &self.format).finish_non_exhaustive()
    }
}

impl RecordWriter {
    /// A writer for `format`; `wording` chooses the table's descriptions
    /// (JSON and CSV carry the record's fields as they are).
    pub fn new(format: RecordFormat, wording: Wording) -> Self {
        let csv = (format == RecordFormat::Csv).then(|| {
            let line = LineBuf::default();
            (csv::WriterBuilder::new().has_headers(false).from_writer(line.clone()), line)
        });
        RecordWriter { format, wording, buf: Vec::with_capacity(1024), csv, header_done: false }
    }

    /// The header (CSV, table), written before the first record even when
    /// there is none.
    pub fn header(&mut self, sink: &Sink) -> Result<(), Failure> {
        if self.header_done {
            return Ok(());
        }
        self.header_done = true;
        match self.format {
            RecordFormat::Jsonl => Ok(()),
            RecordFormat::Csv => self.csv_line(sink, &RECORD_COLUMNS.map(str::to_owned)),
            RecordFormat::Table => {
                let line = table_row(["REQUEST TIME (UTC+08:00)", "CATEGORY", "CODE", "RECIPIENT", "DETAIL"]);
                sink.write_all(line.as_bytes())
            }
        }
    }

    /// Writes a record (a whole line, so an interrupted run never leaves half a line).
    pub fn write(&mut self, sink: &Sink, record: &Record) -> Result<(), Failure> {
        self.header(sink)?;
        match self.format {
            RecordFormat::Jsonl => {
                self.buf.clear();
                serde_json::to_writer(&mut self.buf, record)
                    .map_err(|e| Failure::new(crate::exit::OUTPUT, format!("encoding a record: {e}")))?;
                self.buf.push(b'\n');
                sink.write_all(&self.buf)
            }
            RecordFormat::Csv => {
                let fields = csv_fields(record)?;
                self.csv_line(sink, &fields)
            }
            RecordFormat::Table => sink.write_all(table_record(record, self.wording).as_bytes()),
        }
    }

    fn csv_line(&mut self, sink: &Sink, fields: &[String]) -> Result<(), Failure> {
        let (w, line) = self.csv.as_mut().expect("a CSV writer for the CSV format");
        let encode = |e: &dyn std::fmt::Display| Failure::new(crate::exit::OUTPUT, format!("encoding CSV: {e}"));
        w.write_record(fields).map_err(|e| encode(&e))?;
        w.flush().map_err(|e| encode(&e))?;
        let result = sink.write_all(&line.0.borrow());
        line.0.borrow_mut().clear();
        result
    }
}

/// The CSV fields of a record, taken from its JSON form so that both
/// formats always agree: strings as is, numbers as digits, null as empty,
/// `extra` as a JSON string.
fn csv_fields(record: &Record) -> Result<Vec<String>, Failure> {
    let value = serde_json::to_value(record)
        .map_err(|e| Failure::new(crate::exit::OUTPUT, format!("encoding a record: {e}")))?;
    Ok(RECORD_COLUMNS
        .iter()
        .map(|&key| match value.get(key) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        })
        .collect())
}

const TIME_WIDTH: usize = 24;
const CATEGORY_WIDTH: usize = 11;
const CODE_WIDTH: usize = 4;
const RECIPIENT_WIDTH: usize = 36;

fn table_row(cols: [&str; 5]) -> String {
    format!(
        "{:<tw$}  {:<cw$}  {:<dw$}  {:<rw$}  {}\n",
        cols[0],
        cols[1],
        cols[2],
        truncate(cols[3], RECIPIENT_WIDTH),
        cols[4],
        tw = TIME_WIDTH,
        cw = CATEGORY_WIDTH,
        dw = CODE_WIDTH,
        rw = RECIPIENT_WIDTH
    )
}

fn table_record(r: &Record, wording: Wording) -> String {
    let time = r.request_time.as_ref().map_or_else(String::new, |t| match t.datetime() {
        Some(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => t.raw().into_owned(),
    });
    let code = r.sub_status.map_or_else(String::new, |s| s.code().to_string());
    let detail = r.describe(wording);
    let category = r.category.name().replace('_', " ");
    table_row([&time, &category, &code, r.recipient.as_deref().unwrap_or(""), &truncate(&detail, 60)])
}

/// `s` cut to `width` terminal columns, with `…` when cut (a Chinese
/// character takes two columns).
pub fn truncate(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthChar as _;
    if unicode_width::UnicodeWidthStr::width(s) <= width {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width.saturating_sub(1) {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `s` cut to `width` terminal columns and padded with spaces to exactly
/// that many: `{:<40}` counts characters, which misaligns Chinese text.
pub fn fit(s: &str, width: usize) -> String {
    let mut out = truncate(s, width);
    let used = unicode_width::UnicodeWidthStr::width(out.as_str());
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with one decimal.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Serializes `value` as pretty JSON plus a newline.
pub fn json_document<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Failure> {
    let mut bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Failure::new(crate::exit::OUTPUT, format!("encoding JSON: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Serializes rows of a struct as CSV with a header.
pub fn csv_document<T: serde::Serialize>(rows: &[T], header: &[&str]) -> Result<Vec<u8>, Failure> {
    let encode = |e: &dyn std::fmt::Display| Failure::new(crate::exit::OUTPUT, format!("encoding CSV: {e}"));
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    w.write_record(header).map_err(|e| encode(&e))?;
    for row in rows {
        w.serialize(row).map_err(|e| encode(&e))?;
    }
    w.into_inner().map_err(|e| encode(&e.error().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_helpers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(0.9123), "91.2%");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("无效邮件-地址不存在", 9), "无效邮件…");
        assert_eq!(fit("无效邮件", 10), "无效邮件  ");
        assert_eq!(fit("abc", 5), "abc  ");
    }

    #[test]
    fn csv_document_writes_options_as_empty_fields() {
        #[derive(serde::Serialize)]
        struct Row {
            a: &'static str,
            b: Option<u16>,
        }
        let out = csv_document(&[Row { a: "x,y", b: None }, Row { a: "z", b: Some(4) }], &["a", "b"]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a,b\n\"x,y\",\nz,4\n");
    }
}
