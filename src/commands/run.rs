//! `run` and `retry` commands.

use crate::exit::Exit;

pub async fn run(_args: crate::cli::RunArgs) -> Exit {
    eprintln!("waba-provision: `run` is not built yet");
    Exit::Usage
}

pub async fn retry(_args: crate::cli::RetryArgs) -> Exit {
    eprintln!("waba-provision: `retry` is not built yet");
    Exit::Usage
}
