//! Nothing to use: this crate's test (`tests/readme.rs`) runs the Rust code
//! blocks of the repository's README.md that are marked `<!-- readme-test -->`,
//! against the loopback sandbox. `build.rs` extracts them; the Python, JS and
//! shell blocks are run by `scripts/test-readme.py`.
