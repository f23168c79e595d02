//! `validate` command.

use crate::exit::Exit;

pub fn command(_args: crate::cli::ValidateArgs) -> Exit {
    eprintln!("waba-provision: `validate` is not built yet");
    Exit::Usage
}
