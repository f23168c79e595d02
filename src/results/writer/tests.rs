//! Tests of the results writer: open modes, repair, lock, compaction, and a property
//! test that a crash anywhere in the file loses only the line being written.

use super::*;
use crate::results::reader::tests::{line, rec};
use crate::results::{Journal, read_results};
use crate::schema::Status;
use proptest::prelude::*;
use std::os::unix::fs::MetadataExt;

fn header() -> String {
    header_line(&[])
}

/// A new temporary directory and `r.csv` in it (no file yet), opened in `mode`.
fn open_new(mode: OpenMode) -> (tempfile::TempDir, PathBuf, ResultsFile) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let (f, existing) = ResultsFile::open(&path, mode).unwrap();
    assert!(existing.is_empty());
    (dir, path, f)
}

#[test]
fn fresh_writes_header_and_lines_and_refuses_an_existing_file() {
    let (dir, path, mut f) = open_new(OpenMode::Fresh);
    assert_eq!(f.path(), path);
    let a = rec(2, Status::Created, "");
    let b = rec(1, Status::Failed, "(#100) bad, \"really\"\nbad");
    f.write(&a).unwrap();
    f.write(&b).unwrap();
    // Each line is with the OS before `write` returns: readable without sync or drop.
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{}{}{}", header(), line(&a), line(&b))
    );
    f.sync().unwrap();
    drop(f);

    let err = ResultsFile::open(&path, OpenMode::Fresh).unwrap_err();
    assert!(matches!(err, ResultsError::Exists { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("--resume") && msg.contains("--force") && msg.contains("r.csv.bak"),
        "{msg}"
    );

    // Even an empty file is refused, and left alone.
    let empty = dir.path().join("empty.csv");
    fs::write(&empty, "").unwrap();
    assert!(matches!(
        ResultsFile::open(&empty, OpenMode::Fresh),
        Err(ResultsError::Exists { .. })
    ));
    assert_eq!(fs::read(&empty).unwrap(), b"");
}

#[test]
fn force_keeps_the_old_file_as_bak_replacing_an_older_bak() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let bak = dir.path().join("r.csv.bak");
    fs::write(&bak, "oldest").unwrap();
    fs::write(&path, "previous run").unwrap();
    let (mut f, existing) = ResultsFile::open(&path, OpenMode::Force).unwrap();
    assert!(existing.is_empty());
    f.write(&rec(1, Status::Created, "")).unwrap();
    drop(f);
    assert_eq!(fs::read_to_string(&bak).unwrap(), "previous run");
    assert_eq!(
        read_results(&path).unwrap(),
        vec![rec(1, Status::Created, "")]
    );

    // Without a file, Force is Fresh.
    let other = dir.path().join("new.csv");
    let (_f, existing) = ResultsFile::open(&other, OpenMode::Force).unwrap();
    assert!(existing.is_empty());
    assert!(!dir.path().join("new.csv.bak").exists());
    assert_eq!(fs::read_to_string(&other).unwrap(), header());
}

#[test]
fn resume_without_a_file_starts_one_and_with_a_file_keeps_and_appends() {
    let (_dir, path, mut f) = open_new(OpenMode::Resume);
    let first = vec![
        rec(1, Status::Created, ""),
        rec(2, Status::Skipped, "interrupted"),
    ];
    for r in &first {
        f.write(r).unwrap();
    }
    drop(f);

    let (mut f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
    assert_eq!(existing, first);
    assert!(f.repaired().is_none());
    let again = rec(2, Status::Created, "");
    f.write(&again).unwrap();
    drop(f);
    let all = read_results(&path).unwrap();
    assert_eq!(all, vec![first[0].clone(), first[1].clone(), again]);
}

#[test]
fn resume_of_empty_or_half_header_file_writes_the_header() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [("empty.csv", ""), ("half.csv", "row,source,waba_")] {
        let path = dir.path().join(name);
        fs::write(&path, content).unwrap();
        let (mut f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
        assert!(existing.is_empty(), "{name}");
        f.write(&rec(1, Status::Created, "")).unwrap();
        drop(f);
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            format!("{}{}", header(), line(&rec(1, Status::Created, ""))),
            "{name}"
        );
    }
}

#[test]
fn resume_cuts_off_a_torn_last_line_and_appends_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let good = vec![
        rec(1, Status::Created, ""),
        rec(2, Status::Failed, "a,\"b\"\nc"),
    ];
    let mut base = header();
    for r in &good {
        base.push_str(&line(r));
    }
    let next = line(&rec(3, Status::Failed, "x\ny"));
    let cut_in_quote = next.find("x\n").unwrap() + 2;
    for tail in [
        next.trim_end().to_string(),
        next[..cut_in_quote].to_string(),
        "\u{0}\u{0}\u{0}".to_string(),
        "3,m.csv:4\n".to_string(),
    ] {
        fs::write(&path, format!("{base}{tail}")).unwrap();
        let (mut f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
        assert_eq!(existing, good, "{tail:?}");
        assert_eq!(
            f.repaired(),
            Some(&Repair {
                line: base.matches('\n').count() as u64 + 1,
                bytes_removed: tail.len() as u64,
            }),
            "{tail:?}"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), base, "{tail:?}");
        let third = rec(3, Status::Created, "");
        f.write(&third).unwrap();
        drop(f);
        let mut expected = good.clone();
        expected.push(third);
        assert_eq!(read_results(&path).unwrap(), expected, "{tail:?}");
    }
}

#[test]
fn resume_refuses_a_corrupt_middle_line_or_a_foreign_file_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let text = format!(
        "{}{}garbage\n{}",
        header(),
        line(&rec(1, Status::Created, "")),
        line(&rec(2, Status::Created, ""))
    );
    fs::write(&path, &text).unwrap();
    let err = ResultsFile::open(&path, OpenMode::Resume).unwrap_err();
    assert!(
        matches!(err, ResultsError::Corrupt { line: 3, .. }),
        "{err:?}"
    );
    assert_eq!(fs::read_to_string(&path).unwrap(), text);

    let foreign = dir.path().join("manifest.csv");
    let text = "waba_id,cc,phone_number\n1,1,5550100001\n";
    fs::write(&foreign, text).unwrap();
    let err = ResultsFile::open(&foreign, OpenMode::Resume).unwrap_err();
    assert!(matches!(err, ResultsError::ForeignHeader { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("not a waba-provision results file"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&foreign).unwrap(), text);
}

#[test]
fn a_second_open_while_the_first_is_held_is_locked_and_touches_nothing() {
    let (dir, path, mut held) = open_new(OpenMode::Fresh);
    held.write(&rec(1, Status::Created, "")).unwrap();
    let before = fs::read(&path).unwrap();
    for mode in [OpenMode::Fresh, OpenMode::Force, OpenMode::Resume] {
        let err = ResultsFile::open(&path, mode).unwrap_err();
        assert!(
            matches!(err, ResultsError::Locked { .. }),
            "{mode:?}: {err:?}"
        );
        assert!(err.to_string().contains("another run"), "{err}");
    }
    // Force did not rename the file away from under the running one.
    assert!(!dir.path().join("r.csv.bak").exists());
    assert_eq!(fs::read(&path).unwrap(), before);
    drop(held);
    assert!(ResultsFile::open(&path, OpenMode::Resume).is_ok());
}

#[test]
fn compaction_keeps_the_line_that_counts_per_row_in_row_order() {
    let (dir, path, mut f) = open_new(OpenMode::Fresh);
    for r in [
        rec(3, Status::Created, ""),
        rec(1, Status::Skipped, "interrupted"),
        rec(2, Status::Skipped, "interrupted"),
    ] {
        f.write(&r).unwrap();
    }
    drop(f);
    let (mut f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
    assert_eq!(existing.len(), 3);
    f.write(&rec(2, Status::Failed, "code 100, \"bad\""))
        .unwrap();
    f.write(&rec(1, Status::Created, "reconciled")).unwrap();
    f.compact().unwrap();

    let expected = vec![
        rec(1, Status::Created, "reconciled"),
        rec(2, Status::Failed, "code 100, \"bad\""),
        rec(3, Status::Created, ""),
    ];
    let mut text = header();
    for r in &expected {
        text.push_str(&line(r));
    }
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert!(!dir.path().join("r.csv.tmp").exists());
    // The lock went with the compacted file.
    let (_f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
    assert_eq!(existing, expected);
}

#[test]
fn compaction_copies_lines_byte_for_byte_and_ends_every_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    // A file saved again by another tool with CRLF line ends, rows out of order.
    let (a, b) = (
        rec(2, Status::Created, "x\r\ny"),
        rec(1, Status::Failed, "e"),
    );
    let crlf = |r: &ResultRecord| line(r).replace("Z\n", "Z\r\n");
    fs::write(&path, format!("{}{}{}", header(), crlf(&a), crlf(&b))).unwrap();
    let (mut f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
    assert_eq!(existing, vec![a.clone(), b.clone()]);
    let c = rec(3, Status::Created, "");
    f.write(&c).unwrap();
    f.compact().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        format!("{}{}{}{}", header(), crlf(&b), crlf(&a), line(&c))
    );
}

#[test]
fn compaction_of_an_already_compact_file_leaves_it_alone() {
    let (_dir, path, mut f) = open_new(OpenMode::Fresh);
    f.write(&rec(1, Status::Created, "")).unwrap();
    f.write(&rec(2, Status::Failed, "e")).unwrap();
    let inode = fs::metadata(&path).unwrap().ino();
    let before = fs::read(&path).unwrap();
    f.compact().unwrap();
    assert_eq!(fs::metadata(&path).unwrap().ino(), inode, "no rename");
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn compaction_replaces_the_file_by_rename_and_a_stale_tmp_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    fs::write(dir.path().join("r.csv.tmp"), "junk from an earlier crash").unwrap();
    let (mut f, _) = ResultsFile::open(&path, OpenMode::Fresh).unwrap();
    f.write(&rec(2, Status::Created, "")).unwrap();
    f.write(&rec(1, Status::Created, "")).unwrap();
    let inode = fs::metadata(&path).unwrap().ino();
    f.compact().unwrap();
    assert_ne!(
        fs::metadata(&path).unwrap().ino(),
        inode,
        "replaced atomically"
    );
    assert_eq!(
        read_results(&path).unwrap(),
        vec![rec(1, Status::Created, ""), rec(2, Status::Created, "")]
    );
    assert!(!dir.path().join("r.csv.tmp").exists());
}

#[test]
fn fresh_and_force_set_an_old_journal_aside_resume_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let journal = dir.path().join("r.csv.journal");
    fs::write(&journal, "send 1 1 1700000000000\n").unwrap();
    let (f, _) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
    drop(f);
    assert_eq!(Journal::read_sent(&path).unwrap().len(), 1);

    let (f, _) = ResultsFile::open(&path, OpenMode::Force).unwrap();
    drop(f);
    assert!(!journal.exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("r.csv.journal.bak")).unwrap(),
        "send 1 1 1700000000000\n"
    );
    assert!(Journal::read_sent(&path).unwrap().is_empty());

    let other = dir.path().join("o.csv");
    fs::write(dir.path().join("o.csv.journal"), "send 2 1 1\n").unwrap();
    let (_f, _) = ResultsFile::open(&other, OpenMode::Fresh).unwrap();
    assert!(Journal::read_sent(&other).unwrap().is_empty());
    assert!(dir.path().join("o.csv.journal.bak").exists());
}

#[test]
fn a_directory_is_refused_in_every_mode_and_never_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    fs::create_dir(&path).unwrap();
    for mode in [OpenMode::Fresh, OpenMode::Force, OpenMode::Resume] {
        let err = ResultsFile::open(&path, mode).unwrap_err();
        assert!(matches!(err, ResultsError::Io { .. }), "{mode:?}: {err:?}");
    }
    assert!(path.is_dir());
    assert!(!dir.path().join("out.bak").exists());
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s).{0,12}",
        "[a-z ,\"\r\né🙂=]{0,12}",
        Just(String::new()),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Created),
        Just(Status::Failed),
        Just(Status::Invalid),
        Just(Status::Skipped),
    ]
}

fn record() -> impl Strategy<Value = ResultRecord> {
    (1u32..1000, status(), text(), text(), text(), 0u32..10).prop_map(
        |(row, status, name, message, source, attempts)| ResultRecord {
            verified_name: name,
            source,
            attempts,
            ..rec(row, status, &message)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Write records, cut the file anywhere (a crash mid-append), resume: the records
    /// written completely before the cut come back exactly, the file is a clean prefix,
    /// and a new line appends cleanly after it.
    #[test]
    fn resume_after_a_cut_anywhere_returns_exactly_the_complete_lines(
        records in prop::collection::vec(record(), 0..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let (_dir, path, mut f) = open_new(OpenMode::Fresh);
        let mut ends = vec![header().len()];
        for r in &records {
            f.write(r).unwrap();
            ends.push(fs::metadata(&path).unwrap().len() as usize);
        }
        drop(f);
        let full = fs::read(&path).unwrap();
        let at = cut.index(full.len() + 1);
        fs::write(&path, &full[..at]).unwrap();

        let (mut f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
        let complete = ends[1..].iter().filter(|&&e| e <= at).count();
        prop_assert_eq!(&existing[..], &records[..complete]);
        let clean = if at < ends[0] { ends[0] } else { ends[complete] };
        prop_assert_eq!(&fs::read(&path).unwrap()[..], &full[..clean]);

        let extra = rec(1000, Status::Created, "after resume");
        f.write(&extra).unwrap();
        drop(f);
        let mut expected = records[..complete].to_vec();
        expected.push(extra);
        prop_assert_eq!(read_results(&path).unwrap(), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Whatever lines a run and its resumes appended, compaction leaves every row
    /// exactly once, in row order, each the line that counts, and a `created` line is
    /// never lost.
    #[test]
    fn compaction_leaves_each_row_once_with_the_line_that_counts(
        lines in prop::collection::vec(
            (1u32..12, status(), text()).prop_map(|(row, s, m)| rec(row, s, &m)),
            0..30,
        ),
    ) {
        let (_dir, path, mut f) = open_new(OpenMode::Fresh);
        for r in &lines {
            f.write(r).unwrap();
        }
        f.compact().unwrap();
        let after = read_results(&path).unwrap();
        prop_assert_eq!(&after, &crate::results::latest_per_row(&lines));
        prop_assert!(after.windows(2).all(|w| w[0].row < w[1].row));
        for r in &lines {
            prop_assert!(after.iter().any(|a| a.row == r.row));
            if r.status == Status::Created {
                prop_assert!(after.iter().any(|a| a.row == r.row && a.status == Status::Created));
            }
        }
    }
}

#[test]
fn resume_upgrades_a_first_version_file_then_appends_in_the_current_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csv");
    let v1_header = COLUMNS[..crate::schema::V1_COLUMNS].join(",");
    let v1_line = "1,m.csv:2,102290129340398,1,5550100001,false,,Acme,,created,901,,,,,,,1,2026-11-25T15:55:34Z";
    fs::write(&path, format!("{v1_header}\n{v1_line}\n2,m.csv:3,1022")).unwrap();
    let (mut f, existing) = ResultsFile::open(&path, OpenMode::Resume).unwrap();
    assert_eq!(existing.len(), 1);
    assert_eq!(existing[0].phone_number_id, "901");
    assert_eq!(existing[0].step(), crate::schema::Step::Create);
    f.write(&rec(2, Status::Failed, "x")).unwrap();
    drop(f);
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(&header()), "{text}");
    let lines = read_results(&path).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].phone_number_id, "901");
    assert_eq!((lines[1].row, lines[1].status), (2, Status::Failed));
}
