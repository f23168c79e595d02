//! `sandbox` command: serve the fake Graph API on loopback until Ctrl-C.
//! Prints `listening on http://127.0.0.1:PORT` on stdout first, so scripts
//! and tests started with `--port 0` can read the port.

use crate::exit::{Outcome, Refused};
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::ui::print_error;
use std::io::Write;

pub async fn command(config: SandboxConfig) -> Result<Outcome, Refused> {
    let port = config.port;
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|e| Refused::msg(format!("cannot serve on 127.0.0.1:{port}: {e}")))?;
    let mut out = std::io::stdout();
    // A closed stdout is not a reason to stop serving.
    let _ = writeln!(out, "listening on {}", sandbox.url());
    let _ = out.flush();
    if let Err(e) = tokio::signal::ctrl_c().await {
        print_error(&format!("cannot wait for Ctrl-C: {e}"));
    }
    sandbox.shutdown().await;
    Ok(Outcome::Done)
}
