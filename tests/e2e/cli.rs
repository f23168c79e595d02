//! End-to-end tests of what every command shares: `--version`, `completions`,
//! `man`, and the global `--quiet` / `--verbose` / `--color` on the real
//! binary.

use crate::support::{bin, fixture};
use clap::CommandFactory;
use waba_provision::cli::{Cli, DEFAULT_API_VERSION};

/// Exit code, stdout, stderr of `waba-provision ARGS` in the fixtures' manifests.
fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = bin();
    cmd.current_dir(fixture("manifests"))
        .args(args)
        .env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The names of the real subcommands, from the clap definition.
fn subcommands() -> Vec<String> {
    Cli::command()
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect()
}

const ESC: char = '\x1b';

#[test]
fn version_names_the_crate_and_the_default_graph_api_version() {
    for flag in ["--version", "-V"] {
        let (code, out, _) = run(&[flag], &[]);
        assert_eq!(code, 0);
        assert_eq!(
            out,
            format!(
                "waba-provision {} (Graph API {DEFAULT_API_VERSION} by default)\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
    // The same constant is the --api-version default shown in --help.
    let (_, help, _) = run(&["run", "--help"], &[]);
    assert!(
        help.contains(&format!("[default: {DEFAULT_API_VERSION}]")),
        "{help}"
    );
}

#[test]
fn completions_for_every_shell_name_real_commands_and_flags() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, script, err) = run(&["completions", shell], &[]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(err.is_empty(), "{shell}: {err}");
        for word in ["validate", "retry", "audit-log", "rate-per-waba"] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
    }
    let (code, _, err) = run(&["completions", "tcsh"], &[]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_man_page_names_every_subcommand() {
    let (code, page, err) = run(&["man"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(page.contains(".TH waba-provision 1"), "{page}");
    assert!(page.contains(DEFAULT_API_VERSION));
    let names = subcommands();
    assert!(names.len() >= 7, "{names:?}");
    for name in &names {
        assert!(
            page.contains(&format!("waba\\-provision\\-{name}(1)")),
            "the page does not point to {name}"
        );
    }
}

#[test]
fn man_out_writes_one_page_per_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("man1");
    let (code, stdout, err) = run(&["man", "--out", out.to_str().expect("UTF-8")], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.is_empty(), "{stdout}");
    let mut expected: Vec<String> = subcommands()
        .iter()
        .map(|s| format!("waba-provision-{s}.1"))
        .collect();
    expected.push("waba-provision.1".into());
    expected.sort();
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .expect("DIR made")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, expected);
    let run_page = std::fs::read_to_string(out.join("waba-provision-run.1")).expect("page");
    assert!(run_page.contains("audit\\-log"), "{run_page}");
    assert!(
        err.contains(&format!("wrote {} man pages", expected.len())),
        "{err}"
    );
}

#[test]
fn colour_only_when_asked() {
    // A refused file (an error line) and a warning-only manifest.
    for args in [
        &["validate", "missing.csv"][..],
        &["validate", "warnings.csv"],
    ] {
        let with = |extra: &[&str], env: &[(&str, &str)]| {
            let mut all = extra.to_vec();
            all.extend_from_slice(args);
            run(&all, env)
        };
        let (_, _, always) = with(&["--color", "always"], &[]);
        let (_, _, never) = with(&["--color", "never"], &[]);
        let (_, _, no_color) = with(&[], &[("NO_COLOR", "1")]);
        let (_, _, piped) = with(&["--color", "auto"], &[]);
        for (what, err) in [
            ("never", &never),
            ("NO_COLOR", &no_color),
            ("not a terminal", &piped),
        ] {
            assert!(!err.contains(ESC), "{args:?} {what}: {err:?}");
        }
        if args[1] == "missing.csv" {
            // The contrast: the same command coloured on request.
            assert!(always.contains("\x1b[1;31merror:\x1b[0m"), "{always:?}");
            assert_eq!(
                always.replace("\x1b[1;31m", "").replace("\x1b[0m", ""),
                never
            );
        }
    }
    // clap's own help follows --color too.
    let (_, help, _) = run(&["--color", "never", "--help"], &[]);
    assert!(!help.contains(ESC));
    let (_, help, _) = run(&["--color", "always", "--help"], &[]);
    assert!(help.contains(ESC));
}

#[test]
fn quiet_validate_prints_errors_and_the_count_but_no_warnings() {
    let (code, _, loud) = run(&["validate", "warnings.csv"], &[]);
    assert_eq!(code, 0);
    assert!(loud.contains(": warning: "), "{loud}");
    let (code, out, quiet) = run(&["validate", "warnings.csv", "--quiet"], &[]);
    assert_eq!(code, 0);
    assert!(out.is_empty());
    assert_eq!(
        quiet,
        "0 errors, 4 warnings; 2 of 2 rows valid; manifest valid\n"
    );

    let (code, _, quiet) = run(&["-q", "validate", "bad_rows.csv"], &[]);
    assert_eq!(code, 2);
    let lines: Vec<&str> = quiet.lines().collect();
    assert!(lines.len() > 1, "{quiet}");
    assert!(
        lines[..lines.len() - 1]
            .iter()
            .all(|l| l.contains(": error: ")),
        "{quiet}"
    );
    assert!(
        lines[lines.len() - 1].ends_with("manifest INVALID"),
        "{quiet}"
    );
}

#[test]
fn quiet_plan_prints_the_plan_without_warnings() {
    let (code, loud_plan, loud) = run(&["plan", "warnings.csv"], &[]);
    assert_eq!(code, 0, "{loud}");
    assert!(loud.contains(": warning: "), "{loud}");
    let (code, plan, quiet) = run(&["plan", "warnings.csv", "-q"], &[]);
    assert_eq!(code, 0, "{quiet}");
    assert_eq!(plan, loud_plan);
    assert!(!quiet.contains(": warning: "), "{quiet}");
    assert!(plan.ends_with('\n'), "{plan:?}");
}

#[test]
fn quiet_and_verbose_contradict_each_other() {
    let (code, _, err) = run(&["validate", "good.csv", "-q", "-v"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
}
