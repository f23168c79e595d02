//! `validate` command: read and check a manifest, print every problem, and end
//! `Done` when it is valid (warnings allowed), `Refused` when not. `--quiet`
//! leaves out the warnings (errors and the count line stay).

use crate::exit::{Outcome, Refused};
use crate::ui::Output;
use crate::ui::diagnostics::print_validation_as;
use crate::validate::{ValidateOptions, load_and_validate};
use std::path::PathBuf;

/// What `validate` checks.
#[derive(Debug, Clone)]
pub struct Config {
    pub manifest: PathBuf,
    pub options: ValidateOptions,
    pub output: Output,
}

pub fn command(config: &Config) -> Result<Outcome, Refused> {
    let v = load_and_validate(&config.manifest, &config.options)?;
    print_validation_as(&v, &config.manifest, &config.output);
    Ok(if v.is_valid() {
        Outcome::Done
    } else {
        Outcome::Refused
    })
}
