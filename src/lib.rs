//! waba-provision: declarative batch provisioning of WhatsApp Business phone
//! numbers. The modules follow the pipeline:
//! manifest → validate → plan → schedule/send → results. See ARCHITECTURE.md.

pub mod audit;
pub mod cli;
pub mod commands;
pub mod diagnostic;
pub mod exit;
pub mod graph;
pub mod limits;
pub mod manifest;
pub mod plan;
pub mod results;
pub mod runner;
pub mod sandbox;
pub mod schedule;
pub mod schema;
pub mod secret;
pub mod send;
pub mod text;
pub mod ui;
pub mod validate;

#[cfg(test)]
mod layering;

use exit::Outcome;

/// Run one parsed command line to its outcome, printing as `output` says
/// ([`cli::Cli::output`]); a refusal is printed here, once.
pub async fn run(cli: cli::Cli, output: ui::Output) -> Outcome {
    match cli::execute(cli, output).await {
        Ok(outcome) => outcome,
        Err(refused) => {
            output.error(&refused);
            Outcome::Refused
        }
    }
}
