//! Blocking work on the libuv thread pool: a closure run by an
//! [`AsyncTask`], its result turned into a JS value or error on the main
//! thread. No async runtime is involved; the event loop never waits.

use napi::bindgen_prelude::*;
use napi::{Env, Task};
use sendcloud_status::Error as CoreError;
use sendcloud_status_archive::Error as ArchiveError;

use crate::error::{archive_js_error, guard, internal, js_error};

/// Why a job failed.
#[derive(Debug)]
pub enum Failure {
    /// A library error, thrown as a `SendCloudError`.
    Core(CoreError),
    /// An archive error, thrown with its archive `code`.
    Archive(ArchiveError),
    /// A misuse (a closed archive), thrown as a plain `Error`.
    Usage(String),
    /// A bug (a panic, a poisoned lock), thrown as a plain `Error`.
    Internal(String),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Core(e)
    }
}

impl From<ArchiveError> for Failure {
    fn from(e: ArchiveError) -> Self {
        match e {
            ArchiveError::Api(e) => Failure::Core(e),
            other => Failure::Archive(other),
        }
    }
}

type Work<T> = Box<dyn FnOnce() -> std::result::Result<T, Failure> + Send>;

/// A closure to run off the main thread; resolves to its `T`.
pub struct Job<T> {
    work: Option<Work<T>>,
}

impl<T> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("pending", &self.work.is_some()).finish()
    }
}

impl<T: Send + 'static> Job<T> {
    /// A task running `work` on the libuv pool when napi schedules it.
    pub(crate) fn spawn(work: impl FnOnce() -> std::result::Result<T, Failure> + Send + 'static) -> AsyncTask<Job<T>>
    where
        Job<T>: Task,
    {
        AsyncTask::new(Job { work: Some(Box::new(work)) })
    }
}

impl<T> Task for Job<T>
where
    T: ToNapiValue + TypeName + Send + 'static,
{
    type Output = std::result::Result<T, Failure>;
    type JsValue = T;

    fn compute(&mut self) -> Result<Self::Output> {
        let work = self.work.take().ok_or_else(|| internal("a task ran twice"))?;
        guard(work)
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<T> {
        match output {
            Ok(value) => Ok(value),
            Err(Failure::Core(e)) => Err(js_error(&env, &e)),
            Err(Failure::Archive(e)) => Err(archive_js_error(&env, &e)),
            Err(Failure::Usage(message)) => Err(napi::Error::new(Status::GenericFailure, message)),
            Err(Failure::Internal(message)) => Err(internal(message)),
        }
    }
}
