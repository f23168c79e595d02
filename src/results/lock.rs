//! One run per results file: an exclusive advisory lock on the sidecar `FILE.lock`.
//!
//! An advisory lock (flock on Linux, via `File::try_lock`) is released by the kernel
//! when the process dies, kill -9 included, so unlike a pid file it never goes stale.
//! It sits on a sidecar rather than on FILE itself because compaction replaces FILE
//! by a rename, which would silently drop a lock held on the old inode.

use super::error::{ResultsError, io_at};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Held for as long as the run owns the results file; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct RunLock {
    _file: File,
}

impl RunLock {
    /// Take the lock for `results` without waiting: `Locked` if another run holds it.
    pub(crate) fn acquire(results: &Path) -> Result<RunLock, ResultsError> {
        let path = super::lock_path(results);
        // Never truncated or removed: removing it could let two runs lock two
        // different inodes of the same name.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_at(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(ResultsError::Locked {
                path: results.to_path_buf(),
            }),
            Err(TryLockError::Error(e)) => Err(ResultsError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_same_file_is_refused_until_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("r.csv");
        let first = RunLock::acquire(&results).unwrap();
        let second = RunLock::acquire(&results);
        assert!(
            matches!(second, Err(ResultsError::Locked { ref path }) if path == &results),
            "{second:?}"
        );
        drop(first);
        let third = RunLock::acquire(&results);
        assert!(third.is_ok(), "{third:?}");
        // The lock file is kept (never removed) so every run locks the same inode.
        assert!(dir.path().join("r.csv.lock").exists());
    }
}
