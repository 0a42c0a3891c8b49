//! The README's Rust blocks marked `<!-- readme-test -->` run as written,
//! against the loopback sandbox: the credentials they read from the
//! environment (`Client::from_env()`) are the sandbox's.

// Setting the environment for the snippets is `unsafe` in edition 2024.
#![allow(unsafe_code)]

use sendcloud_status_sandbox::{DEMO_API_KEY, DEMO_API_USER, Sandbox, SandboxConfig};

include!(concat!(env!("OUT_DIR"), "/snippets.rs"));

#[test]
fn readme_rust_snippets_run_against_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default().with_records(2_000)).expect("sandbox");
    // SAFETY: this test binary has one test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("SENDCLOUD_API_USER", DEMO_API_USER);
        std::env::set_var("SENDCLOUD_API_KEY", DEMO_API_KEY);
        std::env::set_var("SENDCLOUD_BASE_URL", sandbox.base_url());
        std::env::remove_var("SENDCLOUD_REGION");
    }
    assert!(!SNIPPETS.is_empty(), "README.md has no Rust block marked <!-- readme-test -->");
    for (line, snippet) in SNIPPETS {
        let before = sandbox.request_log().len();
        if let Err(e) = snippet() {
            panic!("the README's Rust block at line {line} failed: {e}");
        }
        assert!(sandbox.request_log().len() > before, "the block at line {line} sent no request");
    }
}
