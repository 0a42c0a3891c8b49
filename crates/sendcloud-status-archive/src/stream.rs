//! Archived records handed out in batches from a reader thread, so that an
//! archive of any size streams with bounded memory and the caller's thread
//! never waits on SQLite for more than one batch handoff (the Python binding
//! waits without the GIL, the Node binding on the libuv pool).
//!
//! The thread opens its own connection (an [`Archive`] is one connection,
//! and the caller's stays free for `history` or `summary` while the stream
//! is open), scans the selection, and sends batches through a bounded
//! channel: it reads ahead at most [`CHANNEL_BATCHES`] batches. Closing the
//! stream (or dropping it) stops the thread at its next batch.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use crate::{Archive, Error, Selection};
use sendcloud_status::Record;
use sendcloud_status::chrono::FixedOffset;

/// Records per batch.
pub const BATCH: usize = 1000;
/// Batches read ahead of the caller.
const CHANNEL_BATCHES: usize = 2;

enum Message {
    Batch(Vec<Record>),
    Failed(Error),
    End,
}

/// What the next batch is.
#[derive(Debug)]
#[non_exhaustive]
pub enum Next {
    /// Records, in the archive's (the server's) order.
    Batch(Vec<Record>),
    /// The archive failed; the stream has ended.
    Failed(Error),
    /// Every record was handed out, or the stream was closed.
    End,
    /// The reader thread stopped without saying why (it panicked): a bug.
    Lost,
}

/// A stream of archived records. See the module doc.
#[derive(Debug)]
pub struct RecordStream {
    rx: Mutex<Option<Receiver<Message>>>,
    stop: Arc<AtomicBool>,
}

impl RecordStream {
    /// Starts the reader thread for `selection` of the archive at `path`.
    pub fn start(path: PathBuf, offset: FixedOffset, selection: Selection) -> std::io::Result<RecordStream> {
        let (tx, rx) = sync_channel(CHANNEL_BATCHES);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::Builder::new()
            .name("sendcloud-archive-read".into())
            .spawn(move || read(&path, offset, &selection, &tx, &stopped))?;
        Ok(RecordStream { rx: Mutex::new(Some(rx)), stop })
    }

    /// The next batch; blocks until the reader thread has one.
    pub fn next(&self) -> Next {
        let rx = self.rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(rx) = rx.as_ref() else { return Next::End };
        match rx.recv() {
            Ok(Message::Batch(records)) => Next::Batch(records),
            Ok(Message::Failed(e)) => Next::Failed(e),
            Ok(Message::End) => Next::End,
            // Closed from another thread while this one waited: a quiet end.
            Err(_) if self.stop.load(Ordering::Acquire) => Next::End,
            Err(_) => Next::Lost,
        }
    }

    /// Stops the reader thread (at its next batch) and drops what it read
    /// ahead. Never blocks; idempotent.
    pub fn close(&self) {
        self.stop.store(true, Ordering::Release);
        // A `next()` waiting in another thread holds the receiver: it ends
        // when the reader thread, seeing `stop`, drops its sender.
        if let Ok(mut rx) = self.rx.try_lock() {
            rx.take();
        }
    }
}

impl Drop for RecordStream {
    fn drop(&mut self) {
        self.close();
    }
}

fn read(path: &PathBuf, offset: FixedOffset, selection: &Selection, tx: &SyncSender<Message>, stop: &AtomicBool) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut gone = false;
    let scanned = Archive::open_existing(path).map(|a| a.with_server_offset(offset)).and_then(|archive| {
        archive.scan(selection, |record| {
            batch.push(record);
            if batch.len() >= BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if stop.load(Ordering::Acquire) || tx.send(Message::Batch(full)).is_err() {
                    gone = true;
                    return std::ops::ControlFlow::Break(());
                }
            }
            std::ops::ControlFlow::Continue(())
        })
    });
    if gone || stop.load(Ordering::Acquire) {
        return;
    }
    let _ = match scanned {
        Ok(_) => {
            if !batch.is_empty() && tx.send(Message::Batch(batch)).is_err() {
                return;
            }
            tx.send(Message::End)
        }
        Err(e) => tx.send(Message::Failed(e)),
    };
}
