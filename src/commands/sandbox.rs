//! `sandbox` command: serve the fake Graph API on loopback until Ctrl-C.
//! Prints `listening on http://127.0.0.1:PORT` on stdout first, so scripts
//! and tests started with `--port 0` can read the port.

use crate::exit::Exit;
use crate::sandbox::{Sandbox, SandboxArgs, SandboxConfig};
use std::io::Write;

pub async fn command(args: SandboxArgs) -> Exit {
    let config = match SandboxConfig::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("waba-provision: {e}");
            return Exit::Usage;
        }
    };
    let port = config.port;
    let sandbox = match Sandbox::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("waba-provision: cannot serve on 127.0.0.1:{port}: {e}");
            return Exit::Usage;
        }
    };
    let mut out = std::io::stdout();
    // A closed stdout is not a reason to stop serving.
    let _ = writeln!(out, "listening on {}", sandbox.url());
    let _ = out.flush();
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("waba-provision: cannot wait for Ctrl-C: {e}");
    }
    sandbox.shutdown().await;
    Exit::Success
}
