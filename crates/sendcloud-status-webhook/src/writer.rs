//! The one thread that writes the archive: events come in over a channel,
//! each is committed in its own transaction, and the answer goes back to the
//! handler waiting for it.

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;

use sendcloud_status::chrono::NaiveDateTime;
use sendcloud_status::core::webhook::WebhookEvent;
use sendcloud_status_archive::{Archive, EventWrite};
use tokio::sync::oneshot;

/// What the writer answers: the write, or why it failed (as text).
pub(crate) type WriteResult = Result<EventWrite, String>;

struct Job {
    event: WebhookEvent,
    received_at: NaiveDateTime,
    reply: oneshot::Sender<WriteResult>,
}

/// The writer thread and the way to it.
pub(crate) struct Writer {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    pub fn start(mut archive: Archive) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new().name("webhook-writer".into()).spawn(move || {
            // Ends when every sender is gone and the queue is empty.
            for job in rx {
                let result = archive.record_event(&job.event, job.received_at).map_err(|e| e.to_string());
                if let Err(e) = &result {
                    log::warn!("webhook event {} not stored: {e}", job.event.token);
                }
                // The handler may have given up waiting (answer budget): the
                // write stands, and the vendor's retry will be a repeat.
                let _ = job.reply.send(result);
            }
        })?;
        Ok(Writer { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    /// Queues an event; `None` once the writer is closed (shutting down).
    pub fn submit(&self, event: WebhookEvent, received_at: NaiveDateTime) -> Option<oneshot::Receiver<WriteResult>> {
        let (reply, answer) = oneshot::channel();
        let guard = self.tx.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref()?.send(Job { event, received_at, reply }).ok()?;
        Some(answer)
    }

    /// Accepts no more events, lets the thread finish the queue, joins it.
    pub fn close(&self) {
        drop(self.tx.lock().unwrap_or_else(|e| e.into_inner()).take());
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}
