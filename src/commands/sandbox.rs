//! `sandbox` command: serve the fake Graph API until Ctrl-C.

use crate::exit::Exit;

pub async fn command(_args: crate::sandbox::SandboxArgs) -> Exit {
    eprintln!("waba-provision: `sandbox` is not built yet");
    Exit::Usage
}
