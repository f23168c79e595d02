//! `plan` command.

use crate::exit::Exit;

pub fn command(_args: crate::cli::PlanArgs) -> Exit {
    eprintln!("waba-provision: `plan` is not built yet");
    Exit::Usage
}
