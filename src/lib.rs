//! waba-provision: declarative batch provisioning of WhatsApp Business phone
//! numbers. The modules follow the pipeline:
//! manifest → validate → plan → schedule/send → results. See ARCHITECTURE.md.

pub mod cli;
pub mod commands;
pub mod exit;
pub mod graph;
pub mod limits;
pub mod manifest;
pub mod plan;
pub mod progress;
pub mod results;
pub mod runner;
pub mod sandbox;
pub mod schedule;
pub mod secret;
pub mod send;
pub mod summary;
pub mod validate;

use cli::{Cli, Command};
use exit::Exit;

/// Run one parsed command line to its exit code.
pub async fn run(cli: Cli) -> Exit {
    match cli.command {
        Command::Validate(a) => commands::validate::command(a),
        Command::Plan(a) => commands::plan::command(a),
        Command::Run(a) => commands::run::run(a).await,
        Command::Retry(a) => commands::run::retry(a).await,
        Command::Sandbox(a) => commands::sandbox::command(a).await,
    }
}
