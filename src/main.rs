//! The `waba-provision` binary: parse, build the runtime, run, exit.

use clap::Parser;
use std::process::ExitCode;
use waba_provision::{
    cli::{Cli, Command},
    exit::Outcome,
};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help/--version are not errors; clap prints either way.
            let _ = e.print();
            return if e.use_stderr() {
                Outcome::Refused.into()
            } else {
                Outcome::Done.into()
            };
        }
    };
    init_logging();
    // The runner is one event loop waiting on the network: a single thread
    // avoids cross-thread wake-ups and measured ~1.8x the rows/s of the
    // multi-threaded runtime on 2 cores. The sandbox server uses every core.
    let mut builder = if matches!(cli.command, Command::Sandbox(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waba-provision: error: cannot start the async runtime: {e}");
            return Outcome::Refused.into();
        }
    };
    runtime.block_on(waba_provision::run(cli)).into()
}

/// Log lines (warnings by default) go to stderr; `WABA_LOG=debug` shows more,
/// e.g. the `facebook-api-version` that served each call. Nothing logged ever
/// carries a token.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WABA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
