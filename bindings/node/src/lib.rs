//! Node.js bindings for `sendcloud-status` (napi-rs 3).
//!
//! A thin layer: options in, plain objects out. Validation, encoding,
//! decoding, pagination, retries, rate limiting and cursors are the core's
//! and the client's; this crate only moves values across and runs every
//! network call on the libuv thread pool through [`napi::bindgen_prelude::AsyncTask`]
//! (no async runtime), so the event loop never blocks.
//!
//! The JS package in `node/` wraps these classes: `NativeClient` becomes
//! `Client`, the export stream becomes an async iterable with a `cursor`,
//! and errors (plain JS errors with a `code`, built in [`error`]) become
//! `SendCloudError`s.
//!
//! - `options`: JS option objects → client builder, `Query`, export settings.
//! - `convert`: records, pages, summaries, suppressions → JS objects.
//! - `client`: `NativeClient`, `NativeRecords`, `NativeBatch`.
//! - `task`: the `AsyncTask` that runs a closure off the main thread.
//! - `helpers`: `decodePage`, `encodeQuery`, `encodeRequest`.
//! - [`error`]: error objects, field names, panic guard.

pub mod client;
pub mod convert;
pub mod error;
pub mod helpers;
pub mod options;
pub mod task;

use napi_derive::napi;

/// The package version.
#[napi]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
