//! What can go wrong with the results file, its lock and its journal. Every variant
//! names the path, and the messages are written for the operator: they say what to
//! do next (`--resume`, `--force`, wait for the other run).

use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error(
        "results file {} already exists; use --resume to continue that run, or --force to start afresh (the old file is kept as {})",
        path.display(),
        super::backup_path(path).display()
    )]
    Exists { path: PathBuf },

    #[error(
        "results file {} is in use by another run (lock {} is held); wait for it to finish or choose another --results FILE",
        path.display(),
        super::lock_path(path).display()
    )]
    Locked { path: PathBuf },

    #[error(
        "cannot write the results file {}: the directory {} does not exist",
        path.display(),
        dir.display()
    )]
    NoDirectory { path: PathBuf, dir: PathBuf },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A line before the last one is broken. Only the last line can be torn by a crash,
    /// so this is damage from elsewhere: refuse, never rewrite.
    #[error(
        "{}:{line}: broken line ({message}); the file was left unchanged: repair or remove that line, or use --force to start afresh",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        line: u64,
        message: String,
    },

    /// `--resume` with other `--ignore-column`s than the file was written with.
    #[error(
        "{} carries the columns [{theirs}] after the standard ones, but this run carries [{ours}]: give the same --ignore-column options as the run that wrote it",
        path.display()
    )]
    Carried {
        path: PathBuf,
        theirs: String,
        ours: String,
    },

    /// The first line is not our header: this is not a results file of ours.
    #[error(
        "{} is not a waba-provision results file (its first line is {found:?}); choose another --results FILE, or use --force to set it aside",
        path.display()
    )]
    ForeignHeader { path: PathBuf, found: String },

    /// An append failed half-way and the partial line could not be cut off again:
    /// writing more would put a broken line in the middle of the file.
    #[error(
        "an earlier write to {} failed and left a partial line; stop this run and continue it with --resume (which repairs the file)",
        path.display()
    )]
    Poisoned { path: PathBuf },
}

impl ResultsError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ResultsError::Exists { path }
            | ResultsError::Locked { path }
            | ResultsError::NoDirectory { path, .. }
            | ResultsError::Io { path, .. }
            | ResultsError::Corrupt { path, .. }
            | ResultsError::ForeignHeader { path, .. }
            | ResultsError::Carried { path, .. }
            | ResultsError::Poisoned { path } => path,
        }
    }

    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        ResultsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// `result.map_err(io_at(path))`: attach the path to an I/O error.
pub(crate) fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ResultsError + '_ {
    move |source| ResultsError::io(path, source)
}
