//! The `waba-provision` binary: parse, build the runtime, run, exit.

use std::process::ExitCode;
use waba_provision::{
    cli::Command,
    exit::Outcome,
    ui::{Output, Verbosity},
};

fn main() -> ExitCode {
    let cli = match waba_provision::cli::parse() {
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
    let output = cli.output();
    init_logging(&output);
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
            output.error(&format!("cannot start the async runtime: {e}"));
            return Outcome::Refused.into();
        }
    };
    runtime.block_on(waba_provision::run(cli, output)).into()
}

/// Log lines go to stderr: warnings by default, errors only with `--quiet`,
/// info with `--verbose`; `WABA_LOG=debug` shows more, e.g. the
/// `facebook-api-version` that served each call. Coloured only as `--color`
/// decided. Nothing logged ever carries a token.
fn init_logging(output: &Output) {
    let level = match output.verbosity {
        Verbosity::Quiet => "error",
        Verbosity::Normal => "warn",
        Verbosity::Verbose => "info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WABA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output.color)
        .with_target(false)
        .without_time()
        .try_init();
}
