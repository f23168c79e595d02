//! `completions SHELL`: the shell's completion script for every command and
//! option, generated from the clap definitions (clap_complete), on stdout.
//! `README.md` says where each shell looks for it.

use crate::exit::{Outcome, Refused};
use clap_complete::Shell;
use std::io::Write;

/// Which script, and the command line it completes (`cli` hands over its
/// clap definition: this layer cannot reach back up to it).
#[derive(Debug, Clone)]
pub struct Config {
    pub shell: Shell,
    pub command: clap::Command,
}

pub fn command(config: &Config) -> Result<Outcome, Refused> {
    let script = script(config);
    // A closed pipe (`| head`) is not an error; another write error is.
    match std::io::stdout().lock().write_all(&script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Refused::msg(format!(
            "cannot write the completion script: {e}"
        ))),
        _ => Ok(Outcome::Done),
    }
}

/// The script as bytes: clap_complete panics on a write error, so it writes
/// into memory and the command writes that.
pub fn script(config: &Config) -> Vec<u8> {
    let mut command = config.command.clone();
    let name = command.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(config.shell, &mut command, name, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    fn demo() -> clap::Command {
        clap::Command::new("demo")
            .subcommand(clap::Command::new("launch").arg(clap::arg!(--"fuel-kind" <KIND>)))
    }

    #[test]
    fn every_shell_gets_a_script_naming_the_commands_and_flags() {
        for &shell in Shell::value_variants() {
            let text = String::from_utf8(script(&Config {
                shell,
                command: demo(),
            }))
            .expect("UTF-8");
            assert!(text.contains("launch"), "{shell}: {text}");
            assert!(text.contains("fuel-kind"), "{shell}: {text}");
        }
    }
}
