//! The `waba-provision` binary: parse, build the runtime, run, exit.

use clap::Parser;
use std::process::ExitCode;
use waba_provision::{cli::Cli, exit::Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help/--version are not errors; clap prints either way.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Success.into()
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("waba-provision: cannot start the async runtime: {e}");
            return Exit::Usage.into();
        }
    };
    runtime.block_on(waba_provision::run(cli)).into()
}
