//! End-to-end: onboarding (SPEC 7). The real binary's `run` / `retry` with
//! `--through`, `--codes`, `--ask-codes`, `--pin-env` and
//! `--max-register-calls` against the in-process sandbox, which models every
//! step. Every assertion reads what the user and "Meta" see: exit codes, the
//! results file, the sandbox's ledger, request log and issued codes.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use waba_provision::limits::Rate;
use waba_provision::results::read_results;
use waba_provision::sandbox::{
    CallKind, ExistingNumber, FaultRates, NumberPins, RejectedCodeAnswer, RequestLogEntry,
    SandboxConfig,
};
use waba_provision::schema::{COLUMNS, ResultRecord, Status, Step};
use waba_provision::send::parse_times;

use crate::support::{
    PIN, SandboxEnv, TOKEN, assert_exit, bin, results_once, s, stderr, stdout, wait_until,
};

// --- helpers ------------------------------------------------------------------

/// One manifest row: WABA, UK mobile national number, migrate, preverified_id.
struct Row(&'static str, &'static str, bool, &'static str);

fn new(waba: &'static str, national: &'static str) -> Row {
    Row(waba, national, false, "")
}

fn preverified(waba: &'static str, national: &'static str, id: &'static str) -> Row {
    Row(waba, national, false, id)
}

fn migrating(waba: &'static str, national: &'static str) -> Row {
    Row(waba, national, true, "")
}

fn manifest(env: &SandboxEnv, rows: &[Row]) -> PathBuf {
    let mut text =
        String::from("waba_id,cc,phone_number,migrate_phone_number,preverified_id,verified_name\n");
    for Row(waba, national, migrate, pre) in rows {
        text.push_str(&format!(
            "{waba},44,{national},{migrate},{pre},Acme Support\n"
        ));
    }
    env.write("m.csv", &text)
}

/// The steps the sandbox saw on one number after its create, in order, with
/// their Graph error code (None = success).
fn steps_on(env: &SandboxEnv, id: &str) -> Vec<(CallKind, Option<i64>)> {
    env.sandbox()
        .requests()
        .into_iter()
        .filter(|r| r.phone_number_id.as_deref() == Some(id))
        .filter_map(|r| match r.kind {
            Some(CallKind::Create | CallKind::List) | None => None,
            Some(kind) => Some((kind, r.error_code)),
        })
        .collect()
}

fn count(log: &[RequestLogEntry], kind: CallKind) -> usize {
    log.iter().filter(|r| r.kind == Some(kind)).count()
}

/// `(status, step)` of a line, for one assert.
fn at(rec: &ResultRecord) -> (Status, Step) {
    (rec.status, rec.step())
}

/// No cell of the results file holds `secret`, except inside a
/// phone_number_id (16 random digits may contain 6 given ones).
#[track_caller]
fn assert_not_in_results(path: &Path, secret: &str, what: &str) {
    let id_col = COLUMNS
        .iter()
        .position(|c| *c == "phone_number_id")
        .unwrap();
    let mut reader = csv::Reader::from_path(path).unwrap();
    for (i, rec) in reader.records().enumerate() {
        for (col, cell) in rec.unwrap().iter().enumerate() {
            assert!(
                col == id_col || !cell.contains(secret),
                "{what} in {} line {} column {}",
                path.display(),
                i + 2,
                COLUMNS[col]
            );
        }
    }
}

#[track_caller]
fn assert_absent(haystack: &str, secret: &str, what: &str) {
    assert!(
        !haystack.contains(secret),
        "{what} leaked:\n{}",
        haystack
            .lines()
            .filter(|l| l.contains(secret))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Another code than the one sent: the last digit changed.
fn wrong(code: &str) -> String {
    let (head, last) = code.split_at(5);
    let d = last.parse::<u8>().unwrap();
    format!("{head}{}", (d + 1) % 10)
}

fn same(code: &str) -> String {
    code.to_string()
}

/// `run --through request-code`: every row `code_requested`, exit 0.
fn request_codes(env: &SandboxEnv, m: &Path, results: &Path, rows: usize) {
    let out = env.run(m, results, &["--through", "request-code"]);
    assert_exit(&out, 0);
    for rec in results_once(results, rows).values() {
        assert_eq!(
            at(rec),
            (Status::CodeRequested, Step::RequestCode),
            "{rec:?}"
        );
    }
}

// --- 1. new numbers -----------------------------------------------------------

#[test]
fn new_numbers_reach_registered_with_codes_from_a_file() {
    let env = SandboxEnv::new(SandboxConfig {
        seed: 101,
        ..SandboxConfig::default()
    });
    let m = manifest(
        &env,
        &[
            new("111", "7400000001"),
            new("111", "7400000002"),
            new("222", "7400000003"),
        ],
    );
    let (r1, r2) = (env.path("r1.csv"), env.path("r2.csv"));
    request_codes(&env, &m, &r1, 3);
    let first = results_once(&r1, 3);
    for rec in first.values() {
        let n = env.sandbox().number(&rec.phone_number_id).expect("held");
        assert!(!n.verified() && !n.connected(), "{n:?}");
    }
    // As the holders received them: "WhatsApp code 123-456".
    let codes = env.codes_file("codes.csv", &r1, |c| format!("{}-{}", &c[..3], &c[3..]));
    let issued: Vec<String> = first
        .values()
        .map(|r| env.sandbox().code_for(&r.phone_number_id).unwrap())
        .collect();

    let out = env.retry(&r1, &r2, &["--through", "register", "--codes", s(&codes)]);
    assert_exit(&out, 0);
    let after = results_once(&r2, 3);
    for (row, rec) in &after {
        assert_eq!(at(rec), (Status::Registered, Step::Register), "{rec:?}");
        assert_eq!(rec.phone_number_id, first[row].phone_number_id);
        assert_eq!(rec.source, first[row].source);
        assert_eq!(parse_times(&rec.register_calls).len(), 1, "{rec:?}");
        let id = &rec.phone_number_id;
        let n = env.sandbox().number(id).unwrap();
        assert!(n.verified() && n.connected(), "{n:?}");
        assert_eq!(n.register_calls, 1);
        // Each step once: the retry did not ask for a new code.
        assert_eq!(
            steps_on(&env, id),
            vec![
                (CallKind::RequestCode, None),
                (CallKind::VerifyCode, None),
                (CallKind::Register, None)
            ]
        );
    }
    assert_eq!(count(&env.sandbox().requests(), CallKind::Create), 3);
    for code in &issued {
        assert_not_in_results(&r2, code, "a verification code");
        assert_absent(&stderr(&out), code, "a verification code");
    }
}

#[test]
fn run_sandbox_through_register_in_one_go() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m.csv");
    let mut text = String::from("waba_id,cc,phone_number,verified_name\n");
    for i in 0..6 {
        text.push_str(&format!("{},44,74000001{i:02},Acme Support\n", 111 + i % 2));
    }
    std::fs::write(&m, text).unwrap();
    let res = dir.path().join("r.csv");
    // No token, no PIN, no codes: the demo supplies all three.
    let out = bin()
        .env_remove("WABA_REGISTER_PIN")
        .args([
            "run",
            s(&m),
            "--results",
            s(&res),
            "--sandbox",
            "--through",
            "register",
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let by_row = results_once(&res, 6);
    for rec in by_row.values() {
        assert_eq!(at(rec), (Status::Registered, Step::Register), "{rec:?}");
        assert!(!parse_times(&rec.register_calls).is_empty(), "{rec:?}");
    }
    let mut ids: Vec<_> = by_row.values().map(|r| &r.phone_number_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "one number per row");
    assert!(stderr(&out).contains("6 registered"), "{}", stderr(&out));
}

// --- 2. migration ---------------------------------------------------------------

#[test]
fn a_migration_registers_and_two_step_on_the_source_is_refused_with_advice() {
    let existing = |national: &str| ExistingNumber {
        waba_id: "999".into(),
        cc: "44".into(),
        phone_number: national.into(),
    };
    let env = SandboxEnv::new(SandboxConfig {
        seed: 102,
        existing_numbers: vec![existing("7400000101"), existing("7400000102")],
        two_step_on_source: vec!["447400000102".into()],
        ..SandboxConfig::default()
    });
    let old_id = |national: &str| {
        env.sandbox()
            .ledger()
            .into_iter()
            .find(|e| e.phone_number == national)
            .unwrap()
            .id
    };
    let (old_1, old_2) = (old_id("7400000101"), old_id("7400000102"));
    let m = manifest(
        &env,
        &[
            migrating("111", "7400000101"),
            migrating("111", "7400000102"),
        ],
    );
    let (r1, r2) = (env.path("r1.csv"), env.path("r2.csv"));
    let out = env.run(&m, &r1, &["--through", "request-code"]);
    assert_exit(&out, 1);
    let first = results_once(&r1, 2);
    assert_eq!(at(&first[&1]), (Status::CodeRequested, Step::RequestCode));
    let refused = &first[&2];
    assert_eq!(at(refused), (Status::Failed, Step::Create), "{refused:?}");
    assert_eq!(refused.error_subcode, "2388103");
    assert!(refused.phone_number_id.is_empty());
    // The user is told to turn two-step verification off at the source.
    let told = |text: &str| {
        let t = text.to_ascii_lowercase();
        t.contains("two-step") && t.contains("off")
    };
    assert!(told(&refused.error_message), "{refused:?}");
    assert!(told(&stderr(&out)), "{}", stderr(&out));

    let codes = env.codes_file("codes.csv", &r1, same);
    let out = env.retry(&r1, &r2, &["--through", "register", "--codes", s(&codes)]);
    assert_exit(&out, 1);
    let after = results_once(&r2, 2);
    let moved = &after[&1];
    assert_eq!(at(moved), (Status::Registered, Step::Register), "{moved:?}");
    let n = env.sandbox().number(&moved.phone_number_id).unwrap();
    assert_eq!(n.waba_id, "111", "the number moved to the destination WABA");
    assert!(n.migrate_phone_number && n.connected());
    assert!(env.sandbox().number(&old_1).is_none(), "it left the source");
    // Still on at the source: refused again, still where it was.
    assert_eq!(at(&after[&2]), (Status::Failed, Step::Create));
    assert_eq!(after[&2].error_subcode, "2388103");
    assert_eq!(env.sandbox().number(&old_2).unwrap().waba_id, "999");
    assert_eq!(env.sandbox().ledger().len(), 2);
}

// --- 3. pre-verified --------------------------------------------------------------

#[test]
fn a_pre_verified_number_registers_without_a_code_and_an_expired_one_asks_for_one() {
    let env = SandboxEnv::new(SandboxConfig {
        seed: 103,
        expired_preverified_ids: vec!["7002".into()],
        ..SandboxConfig::default()
    });
    let m = manifest(
        &env,
        &[
            preverified("111", "7400000201", "7001"),
            preverified("111", "7400000202", "7002"),
        ],
    );
    let (r1, r2) = (env.path("r1.csv"), env.path("r2.csv"));
    let out = env.run(&m, &r1, &["--through", "register"]);
    assert_exit(&out, 1);
    let first = results_once(&r1, 2);
    let (good, expired) = (&first[&1], &first[&2]);
    assert_eq!(at(good), (Status::Registered, Step::Register), "{good:?}");
    assert_eq!(
        steps_on(&env, &good.phone_number_id),
        vec![(CallKind::Register, None)],
        "create → register, no code"
    );
    // Meta says not verified (133006): back to request_code, then it waits for its code.
    assert_eq!(
        at(expired),
        (Status::CodeRequested, Step::RequestCode),
        "{expired:?}"
    );
    assert_eq!(
        steps_on(&env, &expired.phone_number_id),
        vec![
            (CallKind::Register, Some(133006)),
            (CallKind::RequestCode, None)
        ]
    );
    assert_eq!(parse_times(&expired.register_calls).len(), 1);

    let before = env.sandbox().requests().len();
    let codes = env.codes_file("codes.csv", &r1, same);
    let out = env.retry(&r1, &r2, &["--through", "register", "--codes", s(&codes)]);
    assert_exit(&out, 0);
    let after = results_once(&r2, 2);
    assert_eq!(after[&1], first[&1], "a registered row is copied unchanged");
    assert_eq!(at(&after[&2]), (Status::Registered, Step::Register));
    assert_eq!(
        parse_times(&after[&2].register_calls).len(),
        2,
        "the refused register call stays in the history"
    );
    let sent: Vec<_> = env.sandbox().requests()[before..]
        .iter()
        .map(|r| (r.kind, r.phone_number_id.clone()))
        .collect();
    let id2 = Some(expired.phone_number_id.clone());
    assert_eq!(
        sent,
        vec![
            (Some(CallKind::VerifyCode), id2.clone()),
            (Some(CallKind::Register), id2)
        ]
    );
}

// --- 4. already verified --------------------------------------------------------------

#[test]
fn already_verified_is_settled_by_reading_the_number() {
    let env = SandboxEnv::new(SandboxConfig {
        seed: 104,
        ..SandboxConfig::default()
    });
    let m = manifest(&env, &[new("111", "7400000401"), new("111", "7400000402")]);
    let (r1, r2, r3) = (env.path("r1.csv"), env.path("r2.csv"), env.path("r3.csv"));
    request_codes(&env, &m, &r1, 2);
    let first = results_once(&r1, 2);
    let (id1, id2) = (&first[&1].phone_number_id, &first[&2].phone_number_id);
    // The holder of number 1 verified it elsewhere (WhatsApp Manager).
    let code = env.sandbox().code_for(id1).unwrap();
    let url = format!("{}/v25.0/{id1}/verify_code", env.sandbox().url());
    let status = env.rt.block_on(async {
        reqwest::Client::new()
            .post(url)
            .bearer_auth("someone-else")
            .form(&[("code", code.as_str())])
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    let old_code_2 = env.sandbox().code_for(id2).unwrap();

    // `retry --through request-code` asks again: 136024 for number 1, read
    // back as VERIFIED; a new code for number 2.
    let out = env.retry(&r1, &r2, &["--through", "request-code"]);
    assert_exit(&out, 0);
    let second = results_once(&r2, 2);
    // `verified` is verify_code's status, however it was learnt.
    assert_eq!(
        at(&second[&1]),
        (Status::Verified, Step::VerifyCode),
        "{:?}",
        second[&1]
    );
    assert!(
        second[&1].error_message.contains("already verified"),
        "{:?}",
        second[&1]
    );
    assert_eq!(
        steps_on(&env, id1),
        vec![
            (CallKind::RequestCode, None),
            (CallKind::VerifyCode, None),
            (CallKind::RequestCode, Some(136024)),
            (CallKind::Read, None)
        ]
    );
    assert_eq!(at(&second[&2]), (Status::CodeRequested, Step::RequestCode));
    assert_eq!(count_kind_on(&env, id2, CallKind::RequestCode), 2);
    assert_ne!(
        env.sandbox().code_for(id2).unwrap(),
        old_code_2,
        "a new code"
    );

    // On to register: number 1 needs no code; number 2 has none and waits.
    let out = env.retry(&r2, &r3, &["--through", "register"]);
    assert_exit(&out, 1);
    let third = results_once(&r3, 2);
    assert_eq!(at(&third[&1]), (Status::Registered, Step::Register));
    assert_eq!(third[&2], second[&2], "waiting for its code: copied");
    assert_eq!(count_kind_on(&env, id2, CallKind::VerifyCode), 0);
    assert_eq!(
        count_kind_on(&env, id2, CallKind::RequestCode),
        2,
        "not asked again"
    );
}

fn count_kind_on(env: &SandboxEnv, id: &str, kind: CallKind) -> usize {
    steps_on(env, id).iter().filter(|(k, _)| *k == kind).count()
}

// --- 5. wrong code, then the right one -----------------------------------------------

#[test]
fn a_wrong_code_fails_at_verify_code_and_a_later_retry_with_the_right_one_registers() {
    // Both of Meta's shapes of a rejected code.
    for (answer, code) in [
        (RejectedCodeAnswer::Code136025, "136025"),
        (RejectedCodeAnswer::Invalid100, "100"),
    ] {
        let env = SandboxEnv::new(SandboxConfig {
            seed: 105,
            rejected_code_answer: answer,
            ..SandboxConfig::default()
        });
        let m = manifest(&env, &[new("111", "7400000501")]);
        let (r1, r2, r3) = (env.path("r1.csv"), env.path("r2.csv"), env.path("r3.csv"));
        request_codes(&env, &m, &r1, 1);
        let id = results_once(&r1, 1)[&1].phone_number_id.clone();

        let bad = env.codes_file("bad.csv", &r1, wrong);
        let out = env.retry(&r1, &r2, &["--through", "register", "--codes", s(&bad)]);
        assert_exit(&out, 1);
        let failed = &results_once(&r2, 1)[&1];
        assert_eq!(at(failed), (Status::Failed, Step::VerifyCode), "{failed:?}");
        assert_eq!(failed.error_code, code);
        assert_eq!(failed.phone_number_id, id, "the id is kept");
        assert!(failed.error_message.contains("--codes"), "{failed:?}");
        assert_eq!(
            steps_on(&env, &id).last(),
            Some(&(CallKind::VerifyCode, Some(code.parse().unwrap())))
        );
        assert_eq!(count_kind_on(&env, &id, CallKind::Register), 0);
        assert!(!env.sandbox().number(&id).unwrap().verified());

        let good = env.codes_file("good.csv", &r2, same);
        let out = env.retry(&r2, &r3, &["--through", "register", "--codes", s(&good)]);
        assert_exit(&out, 0);
        let done = &results_once(&r3, 1)[&1];
        assert_eq!(at(done), (Status::Registered, Step::Register), "{done:?}");
        assert_eq!(done.phone_number_id, id);
        let n = env.sandbox().number(&id).unwrap();
        assert!(n.verified() && n.connected());
        assert_eq!(
            count_kind_on(&env, &id, CallKind::RequestCode),
            1,
            "no new code asked for"
        );
    }
}

// --- 6. PIN mismatch ----------------------------------------------------------------------

#[test]
fn a_pin_mismatch_fails_at_register_with_advice_and_a_rows_pin_env_overrides_pin_env() {
    // Both numbers already have two-step verification on, with PIN 111111.
    let mut pins = std::collections::BTreeMap::new();
    pins.insert("447400000601".to_string(), "111111".to_string());
    pins.insert("447400000602".to_string(), "111111".to_string());
    let env = SandboxEnv::new(SandboxConfig {
        seed: 106,
        numbers_with_pin: NumberPins(pins),
        ..SandboxConfig::default()
    });
    let m = env.write(
        "m.csv",
        "waba_id,cc,phone_number,preverified_id,pin_env\n\
         111,44,7400000601,7601,\n\
         111,44,7400000602,7602,THEIR_PIN\n",
    );
    let res = env.path("r.csv");
    let args = [
        "run",
        s(&m),
        "--results",
        s(&res),
        "--through",
        "register",
        "--pin-env",
        "OUR_PIN",
    ];
    // A row that must register without its PIN: refused before anything is sent.
    let out = env
        .cmd(&args)
        .env_remove("WABA_REGISTER_PIN")
        .env("THEIR_PIN", "111111")
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("OUR_PIN is not set"),
        "{}",
        stderr(&out)
    );
    assert!(env.sandbox().requests().is_empty());
    assert!(!res.exists());

    let out = env
        .cmd(&args)
        .env_remove("WABA_REGISTER_PIN")
        .env("OUR_PIN", PIN)
        .env("THEIR_PIN", "111111")
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let by_row = results_once(&res, 2);
    let rec = &by_row[&1];
    assert_eq!(at(rec), (Status::Failed, Step::Register), "{rec:?}");
    assert_eq!(rec.error_code, "133005");
    assert!(!rec.phone_number_id.is_empty());
    let msg = rec.error_message.to_ascii_lowercase();
    assert!(
        msg.contains("two-step") && msg.contains("pin_env"),
        "{rec:?}"
    );
    assert_eq!(parse_times(&rec.register_calls).len(), 1);
    // Not retried: a PIN mismatch needs a person.
    assert_eq!(
        steps_on(&env, &rec.phone_number_id),
        vec![(CallKind::Register, Some(133005))]
    );
    assert!(
        !env.sandbox()
            .number(&rec.phone_number_id)
            .unwrap()
            .connected()
    );
    assert!(stderr(&out).contains("two-step"), "advice in the summary");
    // The row's own pin_env held the number's PIN.
    let theirs = &by_row[&2];
    assert_eq!(
        at(theirs),
        (Status::Registered, Step::Register),
        "{theirs:?}"
    );
    assert_eq!(theirs.pin_env, "THEIR_PIN");
}

// --- 7. register budget -----------------------------------------------------------------

/// `results` with `register_calls` of row `row` set to `times`, written to `to`.
fn with_register_calls(
    results: &Path,
    to: &Path,
    row: u32,
    times: &[chrono::DateTime<chrono::Utc>],
) {
    let mut w = csv::Writer::from_path(to).unwrap();
    for mut rec in read_results(results).unwrap() {
        if rec.row == row {
            rec.register_calls = times
                .iter()
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .collect::<Vec<_>>()
                .join(" ");
        }
        w.serialize(rec).unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn max_register_calls_refuses_before_sending_given_the_history_in_the_results() {
    let env = SandboxEnv::new(SandboxConfig {
        seed: 107,
        ..SandboxConfig::default()
    });
    let m = manifest(&env, &[preverified("111", "7400000701", "7701")]);
    let (r1, r1e, r2, r3) = (
        env.path("r1.csv"),
        env.path("r1-history.csv"),
        env.path("r2.csv"),
        env.path("r3.csv"),
    );
    let out = env.run(&m, &r1, &[]);
    assert_exit(&out, 0);
    // Three register calls in the last 72 hours (one older does not count).
    let now = chrono::Utc::now();
    let h = |n: i64| now - chrono::Duration::hours(n);
    with_register_calls(&r1, &r1e, 1, &[h(100), h(30), h(20), h(10)]);

    let out = env.retry(
        &r1e,
        &r2,
        &["--through", "register", "--max-register-calls", "3"],
    );
    assert_exit(&out, 1);
    let rec = &results_once(&r2, 1)[&1];
    assert_eq!(at(rec), (Status::Failed, Step::Register), "{rec:?}");
    assert!(rec.error_message.contains("register not sent"), "{rec:?}");
    let again =
        (h(30) + chrono::Duration::hours(72)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(rec.error_message.contains(&again), "says when: {rec:?}");
    assert_eq!(parse_times(&rec.register_calls).len(), 4, "history carried");
    assert_eq!(
        count(&env.sandbox().requests(), CallKind::Register),
        0,
        "nothing sent"
    );

    // One more allowed: it is sent, and joins the history.
    let out = env.retry(
        &r2,
        &r3,
        &["--through", "register", "--max-register-calls", "4"],
    );
    assert_exit(&out, 0);
    let rec = &results_once(&r3, 1)[&1];
    assert_eq!(at(rec), (Status::Registered, Step::Register));
    assert_eq!(parse_times(&rec.register_calls).len(), 5);
    assert_eq!(count(&env.sandbox().requests(), CallKind::Register), 1);
}

#[test]
fn repeated_failing_registers_meet_metas_lock_then_the_tools_own_limit() {
    let mut pins = std::collections::BTreeMap::new();
    pins.insert("447400000702".to_string(), "111111".to_string());
    let env = SandboxEnv::new(SandboxConfig {
        seed: 108,
        numbers_with_pin: NumberPins(pins),
        // Meta's 10 per 72 h, scaled down: 2 per hour, then locked an hour.
        register_limit: Rate {
            count: 2,
            per: Duration::from_secs(3600),
        },
        ..SandboxConfig::default()
    });
    let m = manifest(&env, &[preverified("111", "7400000702", "7702")]);
    let max = ["--through", "register", "--max-register-calls", "3"];
    let files: Vec<PathBuf> = (1..=4).map(|i| env.path(&format!("r{i}.csv"))).collect();
    let out = env.run(&m, &files[0], &max);
    assert_exit(&out, 1);
    assert_eq!(results_once(&files[0], 1)[&1].error_code, "133005");
    let out = env.retry(&files[0], &files[1], &max);
    assert_exit(&out, 1);
    assert_eq!(results_once(&files[1], 1)[&1].error_code, "133005");
    // The third call is over Meta's (scaled) limit: 133016, with the lock's end.
    let out = env.retry(&files[1], &files[2], &max);
    assert_exit(&out, 1);
    let locked = &results_once(&files[2], 1)[&1];
    assert_eq!(at(locked), (Status::Failed, Step::Register), "{locked:?}");
    assert_eq!(locked.error_code, "133016");
    let until = locked
        .error_message
        .split("do not retry before ")
        .nth(1)
        .unwrap_or_else(|| panic!("no lock end: {locked:?}"));
    let until = chrono::DateTime::parse_from_rfc3339(until.split([' ', ';']).next().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {locked:?}"));
    assert!(until > chrono::Utc::now());
    assert_eq!(
        parse_times(&locked.register_calls).len(),
        3,
        "{:?} {:?}",
        (0..3)
            .map(|i| results_once(&files[i], 1)[&1].register_calls.clone())
            .collect::<Vec<_>>(),
        env.sandbox().requests()
    );
    let id = &locked.phone_number_id;
    assert!(
        env.sandbox()
            .number(id)
            .unwrap()
            .register_locked_until_ms
            .is_some()
    );
    // Three calls in the history, --max-register-calls 3: nothing more is sent.
    let out = env.retry(&files[2], &files[3], &max);
    assert_exit(&out, 1);
    let refused = &results_once(&files[3], 1)[&1];
    assert_eq!(at(refused), (Status::Failed, Step::Register));
    assert!(
        refused.error_message.contains("register not sent"),
        "{refused:?}"
    );
    assert_eq!(
        steps_on(&env, id),
        vec![
            (CallKind::Register, Some(133005)),
            (CallKind::Register, Some(133005)),
            (CallKind::Register, Some(133016))
        ]
    );
}

// --- 8. kill -9 mid-register -------------------------------------------------------------

#[test]
fn kill_9_mid_register_then_resume_never_registers_twice() {
    // Answers take 800 ms, so the run can be killed between a register
    // reaching the sandbox and its answer.
    let env = SandboxEnv::new(SandboxConfig {
        seed: 109,
        latency_ms: 800,
        ..SandboxConfig::default()
    });
    let rows: Vec<Row> = [
        "7400000801",
        "7400000802",
        "7400000803",
        "7400000804",
        "7400000805",
        "7400000806",
    ]
    .iter()
    .enumerate()
    .map(|(i, n)| preverified(if i % 2 == 0 { "111" } else { "222" }, n, "7801"))
    .collect();
    let m = manifest(&env, &rows);
    let res = env.path("r.csv");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("waba-provision"))
        .args(["run", s(&m), "--results", s(&res), "--through", "register"])
        .args([
            "--graph-url",
            &env.sandbox().url(),
            "--rate-per-waba",
            "100000/s",
        ])
        .env_clear()
        .env("WABA_ACCESS_TOKEN", TOKEN)
        .env("WABA_REGISTER_PIN", PIN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        Duration::from_secs(60),
        "a register call at the sandbox",
        || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the run ended before any register: {status}");
            }
            count(&env.sandbox().requests(), CallKind::Register) > 0
        },
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let log = env.sandbox().requests();
    let registered_at_kill: Vec<String> = log
        .iter()
        .filter(|r| r.kind == Some(CallKind::Register))
        .filter_map(|r| r.phone_number_id.clone())
        .collect();
    let lines = read_results(&res).unwrap();
    let in_doubt: Vec<&String> = registered_at_kill
        .iter()
        .filter(|id| {
            !lines
                .iter()
                .any(|l| &l.phone_number_id == *id && l.status == Status::Registered)
        })
        .collect();
    assert!(!in_doubt.is_empty(), "some register answer was lost");
    let journal = std::fs::read_to_string(env.path("r.csv.journal")).expect("a journal");
    assert!(!journal.is_empty());
    assert_absent(&journal, TOKEN, "the token");
    assert_absent(&journal, PIN, "the PIN");

    let out = env.run(&m, &res, &["--through", "register", "--resume"]);
    assert_exit(&out, 0);
    let by_row = results_once(&res, 6);
    let log = env.sandbox().requests();
    for rec in by_row.values() {
        assert_eq!(at(rec), (Status::Registered, Step::Register), "{rec:?}");
        let id = &rec.phone_number_id;
        let registers: Vec<_> = log
            .iter()
            .filter(|r| {
                r.kind == Some(CallKind::Register) && r.phone_number_id.as_ref() == Some(id)
            })
            .collect();
        assert_eq!(registers.len(), 1, "register calls on {id}: {registers:?}");
        assert_eq!(registers[0].http_status, 200);
        assert!(env.sandbox().number(id).unwrap().connected());
        if in_doubt.contains(&id) {
            assert!(rec.error_message.contains("reconciled"), "{rec:?}");
            assert_eq!(parse_times(&rec.register_calls).len(), 1, "{rec:?}");
        }
    }
    assert_eq!(env.sandbox().ledger().len(), 6, "no number created twice");
}

// --- 9. secrets -----------------------------------------------------------------------

#[test]
fn the_pin_and_token_never_leak() {
    let mut pins = std::collections::BTreeMap::new();
    pins.insert("447400000902".to_string(), "111111".to_string());
    let env = SandboxEnv::new(SandboxConfig {
        seed: 110,
        numbers_with_pin: NumberPins(pins),
        faults: FaultRates {
            transient: 0.1,
            drop_after_create: 0.1,
            ..FaultRates::default()
        },
        ..SandboxConfig::default()
    });
    let m = manifest(
        &env,
        &[
            new("111", "7400000901"),
            preverified("111", "7400000902", "7902"),
            new("222", "7400000903"),
        ],
    );
    let (r1, r2) = (env.path("r1.csv"), env.path("r2.csv"));
    let (a1, a2, json) = (
        env.path("a1.ndjson"),
        env.path("a2.ndjson"),
        env.path("s.json"),
    );
    let verbose = ["-v", "--max-attempts", "10"];
    let mut args = vec![
        "run",
        s(&m),
        "--results",
        s(&r1),
        "--through",
        "request-code",
    ];
    args.extend(["--audit-log", s(&a1)]);
    args.extend(verbose);
    let first = env.cmd(&args).env("WABA_LOG", "debug").output().unwrap();
    assert!(
        first.status.code().is_some_and(|c| c <= 1),
        "{}",
        stderr(&first)
    );
    let codes = env.codes_file("codes.csv", &r1, same);
    let mut args = vec![
        "retry",
        s(&r1),
        "--results",
        s(&r2),
        "--through",
        "register",
    ];
    args.extend(["--codes", s(&codes), "--audit-log", s(&a2)]);
    args.extend(["--summary-json", s(&json)]);
    args.extend(verbose);
    let second = env.cmd(&args).env("WABA_LOG", "debug").output().unwrap();
    assert_exit(&second, 1); // the PIN mismatch
    let by_row = results_once(&r2, 3);
    assert_eq!(by_row[&2].error_code, "133005", "an error path was taken");
    assert_eq!(at(&by_row[&1]), (Status::Registered, Step::Register));

    let mut seen = vec![
        ("stdout", stdout(&first) + &stdout(&second)),
        ("stderr", stderr(&first) + &stderr(&second)),
        ("summary", std::fs::read_to_string(&json).unwrap()),
    ];
    assert!(
        seen[1].1.contains("DEBUG") || seen[1].1.contains("INFO"),
        "logging was on"
    );
    for audit in [&a1, &a2] {
        let text = std::fs::read_to_string(audit).unwrap();
        assert!(text.lines().count() > 3, "{text}");
        seen.push(("audit log", text));
    }
    let codes: Vec<String> = read_results(&r2)
        .unwrap()
        .iter()
        .filter_map(|r| {
            env.sandbox()
                .codes()
                .get(&r.phone_number_id)
                .map(|c| c.code.clone())
        })
        .chain(
            std::fs::read_to_string(&codes)
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split(',').nth(1).unwrap().to_string()),
        )
        .collect();
    assert!(!codes.is_empty());
    for (what, text) in &seen {
        assert_absent(text, TOKEN, &format!("the token in {what}"));
        assert_absent(text, PIN, &format!("the PIN in {what}"));
        for code in &codes {
            assert_absent(text, code, &format!("a verification code in {what}"));
        }
    }
    for results in [&r1, &r2] {
        assert_not_in_results(results, TOKEN, "the token");
        assert_not_in_results(results, PIN, "the PIN");
    }
    for req in env.sandbox().requests() {
        assert!(
            req.had_bearer && !req.token_in_url && !req.token_in_body,
            "{req:?}"
        );
    }
}

// --- 10. results files of the first version ----------------------------------------------

#[test]
fn a_first_version_results_file_is_accepted_by_retry_plan_and_resume() {
    let env = SandboxEnv::new(SandboxConfig {
        seed: 111,
        existing_numbers: vec![ExistingNumber {
            waba_id: "111".into(),
            cc: "44".into(),
            phone_number: "7400001001".into(),
        }],
        ..SandboxConfig::default()
    });
    let id = env.sandbox().ledger()[0].id.clone();
    // The 19 columns of the first version, written by hand.
    let old = env.write(
        "old.csv",
        &format!(
            "{}\n\
             1,m.csv:2,111,44,7400001001,false,,Acme Support,,created,{id},,,,,,,1,2025-01-02T03:04:05Z\n\
             2,m.csv:3,111,44,7400001002,false,,Acme Support,,failed,,2,,OAuthException,An unexpected error has occurred,AbC123,500,5,2025-01-02T03:04:06Z\n\
             3,m.csv:4,222,44,7400001003,false,,Acme Support,,skipped,,,,,not attempted: the run was interrupted,,,0,2025-01-02T03:04:07Z\n",
            COLUMNS[..19].join(",")
        ),
    );
    let m = manifest(
        &env,
        &[
            new("111", "7400001001"),
            new("111", "7400001002"),
            new("222", "7400001003"),
        ],
    );

    // plan reads it as a manifest, and as the file to resume.
    let out = bin().args(["plan", s(&old)]).output().unwrap();
    assert_exit(&out, 0);
    let plan = stdout(&out);
    assert!(
        plan.contains("2 rows to send") && plan.contains("1 skipped (already as far as asked)"),
        "{plan}"
    );
    let out = bin()
        .args(["plan", s(&m), "--resume", s(&old)])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stdout(&out).contains("skipped (already as far as asked)"),
        "{}",
        stdout(&out)
    );
    assert!(env.sandbox().requests().is_empty(), "plan sends nothing");

    // retry: the created row copied, the others sent.
    let new_file = env.path("new.csv");
    let out = env.retry(&old, &new_file, &[]);
    assert_exit(&out, 0);
    let header = std::fs::read_to_string(&new_file).unwrap();
    assert_eq!(
        header.lines().next().unwrap(),
        COLUMNS.join(","),
        "written in the current format"
    );
    let after = results_once(&new_file, 3);
    assert_eq!(after[&1].phone_number_id, id);
    assert_eq!(after[&1].step(), Step::Create);
    assert!(after.values().all(|r| r.status == Status::Created));
    let log = env.sandbox().requests();
    assert_eq!(count(&log, CallKind::Create), 2, "row 1 not sent again");

    // And on with onboarding from the old file: row 1's id gets its code.
    let next = env.path("next.csv");
    let out = env.retry(&old, &next, &["--through", "request-code"]);
    assert_exit(&out, 0);
    let next_rows = results_once(&next, 3);
    assert!(
        next_rows
            .values()
            .all(|r| r.status == Status::CodeRequested)
    );
    assert_eq!(next_rows[&1].phone_number_id, id);
    assert!(env.sandbox().code_for(&id).is_some());
    assert_eq!(
        env.sandbox().ledger().len(),
        3,
        "rows 2 and 3 reconciled, not created twice"
    );

    // --resume on a first-version file: final rows kept, the skipped one sent.
    env.sandbox().reset();
    let resumed = env.path("resumed.csv");
    std::fs::copy(&old, &resumed).unwrap();
    let out = env.run(&m, &resumed, &["--resume"]);
    assert_exit(&out, 1); // row 2 stays failed
    let rows = results_once(&resumed, 3);
    assert_eq!(rows[&1].phone_number_id, id);
    assert_eq!(rows[&2].status, Status::Failed);
    assert_eq!(rows[&3].status, Status::Created);
    let log = env.sandbox().requests();
    assert_eq!(
        count(&log, CallKind::Create),
        1,
        "only the skipped row is sent"
    );
    assert_eq!(log[0].waba_id.as_deref(), Some("222"));
}

// --- 11. --codes file errors -------------------------------------------------------------

#[test]
fn a_codes_file_with_an_unknown_or_second_line_is_refused_before_anything_is_sent() {
    let env = SandboxEnv::new(SandboxConfig {
        seed: 112,
        ..SandboxConfig::default()
    });
    let m = manifest(&env, &[new("111", "7400001101"), new("111", "7400001102")]);
    // By number, on a fresh run: nothing at all reaches the sandbox.
    let bad = env.write(
        "bad.csv",
        "cc,phone_number,code\n44,7400001101,123456\n44,7400009999,123456\n44,7400 001 101,654-321\n",
    );
    let res = env.path("r.csv");
    let out = env.run(&m, &res, &["--through", "register", "--codes", s(&bad)]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(err.contains("bad.csv:3: error: phone_number"), "{err}");
    assert!(
        err.contains("bad.csv:4: error: code: a second code"),
        "{err}"
    );
    assert!(
        !err.contains("654") && !err.contains("123456"),
        "no code shown: {err}"
    );
    assert!(env.sandbox().requests().is_empty());
    assert!(!res.exists(), "no results file");

    // By id, on a retry: the log does not grow.
    let r1 = env.path("r1.csv");
    request_codes(&env, &m, &r1, 2);
    let id = results_once(&r1, 2)[&1].phone_number_id.clone();
    let bad = env.write(
        "bad-ids.csv",
        &format!("phone_number_id,code\n{id},123456\n999999999999999,123456\n{id},123456\n"),
    );
    let before = env.sandbox().requests().len();
    let r2 = env.path("r2.csv");
    let out = env.retry(&r1, &r2, &["--through", "register", "--codes", s(&bad)]);
    assert_exit(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("bad-ids.csv:3: error: phone_number_id: 999999999999999"),
        "{err}"
    );
    assert!(
        err.contains("bad-ids.csv:4: error: code: a second code"),
        "{err}"
    );
    assert_eq!(env.sandbox().requests().len(), before);
    assert!(!r2.exists());
}

// --- 12. --ask-codes through a pseudo-terminal -------------------------------------------

/// A pseudo-terminal: the master side for the test, the slave for the child.
struct Pty {
    master: std::fs::File,
    slave: std::os::fd::OwnedFd,
}

fn openpty() -> Pty {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new descriptors into the pointers given; the
    // name, termios and winsize arguments may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe {
        Pty {
            master: std::fs::File::from_raw_fd(master),
            slave: std::os::fd::OwnedFd::from_raw_fd(slave),
        }
    }
}

#[test]
fn ask_codes_prompts_on_a_terminal_and_an_empty_answer_leaves_the_row_waiting() {
    let env = SandboxEnv::new(SandboxConfig {
        seed: 113,
        ..SandboxConfig::default()
    });
    let m = manifest(&env, &[new("111", "7400001201"), new("222", "7400001202")]);
    let (r1, r2) = (env.path("r1.csv"), env.path("r2.csv"));
    request_codes(&env, &m, &r1, 2);

    let pty = openpty();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("waba-provision"));
    cmd.args([
        "retry",
        s(&r1),
        "--results",
        s(&r2),
        "--through",
        "register",
        "--ask-codes",
    ])
    .args([
        "--graph-url",
        &env.sandbox().url(),
        "--rate-per-waba",
        "100000/s",
    ])
    .env_clear()
    .env("WABA_ACCESS_TOKEN", TOKEN)
    .env("WABA_REGISTER_PIN", PIN)
    .env("TERM", "dumb")
    .stdin(Stdio::from(pty.slave.try_clone().unwrap()))
    .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
    .stderr(Stdio::from(pty.slave.try_clone().unwrap()));
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // the parent keeps no copy of the slave: EOF when the child ends
    drop(pty.slave);
    let mut master = pty.master;
    let screen = Arc::new(Mutex::new(String::new()));
    let reader = {
        let screen = screen.clone();
        let mut master = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the child has closed the slave: the end.
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };

    // Answer the first prompt with its code, the second with nothing.
    let mut answered = HashMap::new();
    for answer_with_code in [true, false] {
        let n = answered.len();
        let mut asked = String::new();
        wait_until(Duration::from_secs(60), "a prompt", || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the run ended: {status}\n{}", screen.lock().unwrap());
            }
            let text = screen.lock().unwrap();
            match text.split("code for +").nth(n + 1) {
                Some(prompt) if prompt.contains("empty to leave it waiting") => {
                    asked = prompt.to_string();
                    true
                }
                _ => false,
            }
        });
        let id: String = asked
            .split("(id ")
            .nth(1)
            .expect("the prompt shows the id")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert!(
            asked.contains("WABA 111") || asked.contains("WABA 222"),
            "{asked}"
        );
        assert!(asked.contains("Acme Support"), "{asked}");
        let line = if answer_with_code {
            let code = env.sandbox().code_for(&id).unwrap();
            format!("{}-{}\n", &code[..3], &code[3..])
        } else {
            "\n".to_string()
        };
        master.write_all(line.as_bytes()).unwrap();
        answered.insert(id, answer_with_code);
    }
    let mut status = None;
    wait_until(Duration::from_secs(60), "the run to end", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    reader.join().unwrap();
    assert_eq!(
        status.unwrap().code(),
        Some(1),
        "{}",
        screen.lock().unwrap()
    );

    let by_row = results_once(&r2, 2);
    assert_eq!(answered.len(), 2, "one prompt per row");
    for rec in by_row.values() {
        let id = &rec.phone_number_id;
        if answered[id] {
            assert_eq!(at(rec), (Status::Registered, Step::Register), "{rec:?}");
            assert!(env.sandbox().number(id).unwrap().connected());
        } else {
            assert_eq!(
                at(rec),
                (Status::CodeRequested, Step::RequestCode),
                "{rec:?}"
            );
            assert_eq!(count_kind_on(&env, id, CallKind::VerifyCode), 0);
        }
    }
}

#[test]
fn ask_codes_without_a_terminal_is_refused() {
    let env = SandboxEnv::new(SandboxConfig::default());
    let m = manifest(&env, &[new("111", "7400001301")]);
    let res = env.path("r.csv");
    let out = env
        .cmd(&[
            "run",
            s(&m),
            "--results",
            s(&res),
            "--through",
            "register",
            "--ask-codes",
        ])
        .write_stdin("") // a pipe, not a terminal
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("--codes FILE"), "{}", stderr(&out));
    assert!(env.sandbox().requests().is_empty());
    assert!(!res.exists());
}
