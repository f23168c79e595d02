//! `man [--out DIR]`: the manual page, generated from the clap definitions
//! (clap_mangen). On stdout, the main page; with `--out DIR`, one page per
//! command (`waba-provision.1`, `waba-provision-run.1`, …), ready for a
//! `man1` directory.

use crate::exit::{Outcome, Refused};
use crate::ui::Output;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the pages go, and the command line they describe (`cli` hands over
/// its clap definition: this layer cannot reach back up to it).
#[derive(Debug, Clone)]
pub struct Config {
    pub command: clap::Command,
    /// `--out DIR`: write every page there instead of the main one to stdout.
    pub out: Option<PathBuf>,
    pub output: Output,
}

pub fn command(config: &Config) -> Result<Outcome, Refused> {
    match &config.out {
        None => {
            let page = page(&config.command)?;
            match io::stdout().lock().write_all(&page) {
                Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                    Err(Refused::msg(format!("cannot write the man page: {e}")))
                }
                _ => Ok(Outcome::Done),
            }
        }
        Some(dir) => {
            let written = write_pages(&config.command, dir).map_err(|e| {
                Refused::msg(format!("cannot write man pages to {}: {e}", dir.display()))
            })?;
            if !config.output.quiet() {
                eprintln!(
                    "waba-provision: wrote {} man pages to {}",
                    written.len(),
                    dir.display()
                );
            }
            Ok(Outcome::Done)
        }
    }
}

/// The main page, in roff.
pub fn page(command: &clap::Command) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command.clone()).render(&mut out)?;
    Ok(out)
}

/// One page per command, subcommands named `NAME-SUB.1` (as clap_mangen
/// names them once the command is built), into `dir` (created if missing).
/// Returns the files written, the main page first.
pub fn write_pages(command: &clap::Command, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    // `help` is clap's, not ours: no page for it. Building fixes the
    // subcommands' display names (`waba-provision-run`).
    let mut command = command.clone().disable_help_subcommand(true);
    command.build();
    let mut written = Vec::new();
    let mut todo = vec![command];
    while let Some(cmd) = todo.pop() {
        todo.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        written.push(clap_mangen::Man::new(cmd).generate_to(dir)?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> clap::Command {
        clap::Command::new("demo")
            .about("Demo tool")
            .subcommand(clap::Command::new("launch").about("Launch it"))
            .subcommand(clap::Command::new("land").about("Land it"))
    }

    #[test]
    fn the_main_page_names_every_subcommand() {
        let text = String::from_utf8(page(&demo()).unwrap()).unwrap();
        assert!(text.starts_with(".ie"), "roff: {text}");
        assert!(text.contains(".TH demo 1"), "{text}");
        for sub in ["launch", "land"] {
            assert!(text.contains(sub), "{sub}: {text}");
        }
    }

    #[test]
    fn out_dir_gets_one_page_per_command() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_pages(&demo(), &dir.path().join("man1")).unwrap();
        let mut names: Vec<String> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names[0], "demo.1");
        names.sort();
        assert_eq!(names, ["demo-land.1", "demo-launch.1", "demo.1"]);
        for p in &written {
            assert!(
                std::fs::read_to_string(p).unwrap().contains(".TH "),
                "{}",
                p.display()
            );
        }
    }
}
