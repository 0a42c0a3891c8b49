//! Python bindings for sendcloud-status (being built).

use pyo3::prelude::*;

/// The native module behind the `sendcloud_status` package.
#[pymodule]
fn _native(_m: &Bound<'_, PyModule>) -> PyResult<()> {
    Ok(())
}
