//! Shared by the examples: a client from `SENDCLOUD_*` variables, or — when
//! no key is set — one pointed at an in-process sandbox, so every example
//! runs without an account.

use sendcloud_status::Client;
use sendcloud_status_sandbox::{DEMO_API_KEY, DEMO_API_USER, Sandbox, SandboxConfig};

/// The client, and the sandbox it talks to (kept alive by the caller).
pub fn client() -> Result<(Client, Option<Sandbox>), Box<dyn std::error::Error>> {
    if std::env::var_os("SENDCLOUD_API_KEY").is_some() {
        return Ok((Client::from_env()?, None));
    }
    let sandbox = Sandbox::start(SandboxConfig::default().with_records(5_000))?;
    eprintln!("SENDCLOUD_API_KEY is not set: using a local sandbox at {}", sandbox.base_url());
    let client =
        Client::builder().ignore_env().credentials(DEMO_API_USER, DEMO_API_KEY).base_url(sandbox.base_url()).build()?;
    Ok((client, Some(sandbox)))
}
