//! The steps through `behaviour::handle` on a fake clock: the happy path, each
//! refusal of SPEC 7 and its alternative shape, the register window, faults
//! on steps, the number read, and that the log never holds a code or a PIN.

use crate::limits::Rate;
use crate::sandbox::behaviour::{Answer, State, handle};
use crate::sandbox::config::{
    ConnectedRegisterAnswer, NumberPins, RejectedCodeAnswer, SandboxConfig,
};
use crate::sandbox::ledger::CallKind;
use crate::sandbox::number::{CodeVerification, NumberStatus};
use crate::sandbox::test_support::*;
use std::time::{Duration, Instant};

const PIN: &str = "246810";

/// A sandbox with one number created at `t0`; returns its id.
fn one_number(config: SandboxConfig) -> (State, Instant, String) {
    let (mut s, t0) = state(config);
    let id = created(&mut s, "7", "5550100001", t0);
    (s, t0, id)
}

/// request_code then verify_code with the code the sandbox made.
fn verify(s: &mut State, id: &str, now: Instant) {
    assert_eq!(status_code(&handle(s, &request_code(id), now)).0, 200);
    let code = s.code_for(id).expect("a code was made");
    assert_eq!(status_code(&handle(s, &verify_code(id, &code), now)).0, 200);
}

fn error_code(s: &mut State, c: &crate::sandbox::behaviour::Call, now: Instant) -> Option<i64> {
    status_code(&handle(s, c, now)).1
}

#[test]
fn request_verify_register_then_read_connected() {
    let (mut s, t0, id) = one_number(SandboxConfig::default());
    let d = handle(&mut s, &request_code(&id), t0);
    assert_eq!(body(&d), &serde_json::json!({"success": true}));
    let code = s.code_for(&id).unwrap();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
    let codes = s.codes(t0);
    assert_eq!(codes[&id].code, code);
    assert_eq!(codes[&id].expires_in_ms, 600_000);

    assert_eq!(
        status_code(&handle(&mut s, &verify_code(&id, &code), t0)).0,
        200
    );
    assert_eq!(s.code_for(&id), None, "a used code is gone");
    let d = handle(&mut s, &register(&id, PIN), t0);
    assert_eq!(body(&d)["success"], true);

    let n = s.number(&id, t0).unwrap();
    assert!(n.verified() && n.connected() && n.has_pin);
    assert_eq!(n.register_calls, 1);
    let d = handle(
        &mut s,
        &read(
            &id,
            "status,code_verification_status,platform_type,quality_rating,throughput",
        ),
        t0,
    );
    let b = body(&d);
    assert_eq!(b["id"], id.as_str());
    assert_eq!(b["status"], "CONNECTED");
    assert_eq!(b["code_verification_status"], "VERIFIED");
    assert_eq!(b["platform_type"], "CLOUD_API");
    assert_eq!(b["quality_rating"], "GREEN");
    assert_eq!(b["throughput"]["level"], "STANDARD");
    assert!(
        b.get("display_phone_number").is_none(),
        "only the fields asked"
    );
    // The number's WABA is billed and named in the headers.
    assert!(
        header(&d, "x-business-use-case-usage")
            .unwrap()
            .contains("\"7\"")
    );

    let log = s.requests();
    let kinds: Vec<_> = log.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            CallKind::Create,
            CallKind::RequestCode,
            CallKind::VerifyCode,
            CallKind::Register,
            CallKind::Read
        ]
        .map(Some)
    );
    assert!(
        log.iter()
            .all(|e| e.phone_number_id.as_deref() == Some(id.as_str()))
    );
    assert!(log.iter().all(|e| e.waba_id.as_deref() == Some("7")));
    let text = serde_json::to_string(&log).unwrap() + &format!("{log:?}");
    assert!(!text.contains(&code) && !text.contains(PIN), "{text}");
    assert!(
        !format!("{s:?}").contains(PIN),
        "State's Debug hides the PIN"
    );
}

#[test]
fn wrong_then_right_code_and_expiry() {
    let config = SandboxConfig {
        code_ttl_ms: 1000,
        ..SandboxConfig::default()
    };
    let (mut s, t0, id) = one_number(config);
    handle(&mut s, &request_code(&id), t0);
    let code = s.code_for(&id).unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let d = handle(&mut s, &verify_code(&id, wrong), t0);
    assert_eq!(status_code(&d), (400, Some(136025)));
    assert!(!body(&d).to_string().contains(&code));
    // Only six digits are a code: the client strips the dash.
    let dashed = format!("{}-{}", &code[..3], &code[3..]);
    assert_eq!(
        error_code(&mut s, &verify_code(&id, &dashed), t0),
        Some(100)
    );
    // The code is still good after wrong tries, until it expires.
    let late = t0 + Duration::from_millis(1000);
    assert!(s.codes(late)[&id].expired);
    assert_eq!(
        error_code(&mut s, &verify_code(&id, &code), late),
        Some(136025)
    );
    // A new request replaces it: the old code no longer works.
    handle(&mut s, &request_code(&id), late);
    let fresh = s.code_for(&id).unwrap();
    if fresh != code {
        assert_eq!(
            error_code(&mut s, &verify_code(&id, &code), late),
            Some(136025)
        );
    }
    assert_eq!(
        status_code(&handle(&mut s, &verify_code(&id, &fresh), late)).0,
        200
    );
    assert_eq!(
        s.number(&id, late).unwrap().code_verification_status,
        CodeVerification::Verified
    );
}

#[test]
fn a_rejected_code_can_be_metas_documented_100() {
    let config = SandboxConfig {
        rejected_code_answer: RejectedCodeAnswer::Invalid100,
        ..SandboxConfig::default()
    };
    let (mut s, t0, id) = one_number(config);
    // No code requested yet: any code is wrong.
    let d = handle(&mut s, &verify_code(&id, "123456"), t0);
    assert_eq!(status_code(&d), (422, Some(100)));
    assert_eq!(
        body(&d)["error"]["message"],
        "(#100) The verification code is invalid or has expired"
    );
}

#[test]
fn request_code_once_verified_is_136024() {
    let (mut s, t0, id) = one_number(SandboxConfig::default());
    verify(&mut s, &id, t0);
    let d = handle(&mut s, &request_code(&id), t0);
    assert_eq!(status_code(&d), (400, Some(136024)));
    assert!(
        body(&d)["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("verified")
    );
    let bad = step(
        &id,
        "request_code",
        &[("code_method", "FAX"), ("language", "en_US")],
    );
    assert_eq!(error_code(&mut s, &bad, t0), Some(100));
}

#[test]
fn register_checks_params_verification_and_pin() {
    let config = SandboxConfig {
        numbers_with_pin: NumberPins([("15550100001".to_string(), "135790".to_string())].into()),
        ..SandboxConfig::default()
    };
    let (mut s, t0, id) = one_number(config);
    assert!(s.number(&id, t0).unwrap().has_pin);
    let d = handle(&mut s, &register(&id, PIN), t0);
    assert_eq!(status_code(&d), (400, Some(133006)));
    assert_eq!(error_code(&mut s, &register(&id, "12345"), t0), Some(100));
    let region = step(
        &id,
        "register",
        &[
            ("messaging_product", "whatsapp"),
            ("pin", PIN),
            ("data_localization_region", "FR"),
        ],
    );
    assert_eq!(error_code(&mut s, &region, t0), Some(100));
    verify(&mut s, &id, t0);
    assert_eq!(error_code(&mut s, &register(&id, PIN), t0), Some(133005));
    let good = step(
        &id,
        "register",
        &[
            ("messaging_product", "whatsapp"),
            ("pin", "135790"),
            ("data_localization_region", "DE"),
        ],
    );
    assert_eq!(status_code(&handle(&mut s, &good, t0)).0, 200);
    let n = s.number(&id, t0).unwrap();
    assert_eq!((n.status, n.register_calls), (NumberStatus::Connected, 5));
    // Registered now: the number's PIN is the one it had.
    assert_eq!(error_code(&mut s, &register(&id, PIN), t0), Some(133005));
}

#[test]
fn register_on_a_connected_number_answers_as_configured() {
    for (answer, want) in [
        (ConnectedRegisterAnswer::Success, (200, None)),
        (ConnectedRegisterAnswer::AlreadyRegistered, (422, Some(100))),
    ] {
        let config = SandboxConfig {
            connected_register_answer: answer,
            ..SandboxConfig::default()
        };
        let (mut s, t0, id) = one_number(config);
        verify(&mut s, &id, t0);
        handle(&mut s, &register(&id, PIN), t0);
        let d = handle(&mut s, &register(&id, PIN), t0);
        assert_eq!(status_code(&d), want, "{answer:?}");
        if want.0 == 422 {
            let m = body(&d)["error"]["message"].as_str().unwrap().to_string();
            assert!(m.contains("already registered or in invalid state for registration"));
        }
    }
}

#[test]
fn more_register_calls_than_the_window_allows_lock_the_number() {
    let per = Duration::from_secs(60);
    let config = SandboxConfig {
        register_limit: Rate { count: 3, per },
        ..SandboxConfig::default()
    };
    let (mut s, t0, id) = one_number(config);
    // Refused calls count: three 133006 fill the window.
    for i in 0..3 {
        let now = t0 + Duration::from_secs(i);
        assert_eq!(error_code(&mut s, &register(&id, PIN), now), Some(133006));
    }
    verify(&mut s, &id, t0);
    let at = t0 + Duration::from_secs(10);
    let d = handle(&mut s, &register(&id, PIN), at);
    assert_eq!(status_code(&d), (400, Some(133016)));
    let details = body(&d)["error"]["error_data"]["details"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        details.contains("locked") && details.contains("60 seconds"),
        "{details}"
    );
    let n = s.number(&id, at).unwrap();
    assert_eq!(n.register_calls, 4);
    assert_eq!(n.register_locked_until_ms, Some(70_000));
    // Still locked just before the end, although the first calls left the window.
    assert_eq!(
        error_code(
            &mut s,
            &register(&id, PIN),
            at + per - Duration::from_millis(1)
        ),
        Some(133016)
    );
    let d = handle(&mut s, &register(&id, PIN), at + per);
    assert_eq!(status_code(&d).0, 200);
    assert!(s.number(&id, at + per).unwrap().connected());
}

#[test]
fn unknown_numbers_and_methods_are_100_33() {
    let (mut s, t0, id) = one_number(SandboxConfig::default());
    for c in [
        request_code("1234567890"),
        register("1234567890", PIN),
        read("1234567890", "status"),
        call("GET", &format!("/v25.0/{id}/register"), Some("tok"), &[]),
        call(
            "POST",
            &format!("/v25.0/{id}"),
            Some("tok"),
            &[("pin", PIN)],
        ),
    ] {
        let d = handle(&mut s, &c, t0);
        assert_eq!(status_code(&d), (400, Some(100)), "{} {}", c.method, c.path);
        assert_eq!(body(&d)["error"]["error_subcode"], 33);
        assert_eq!(body(&d)["error"]["type"], "GraphMethodException");
        assert!(
            body(&d)["error"]["message"]
                .as_str()
                .unwrap()
                .contains("does not exist")
        );
    }
    // Authentication still comes first.
    let d = handle(
        &mut s,
        &call("POST", "/v25.0/1234567890/register", None, &[]),
        t0,
    );
    assert_eq!(status_code(&d).1, Some(104));
    assert_eq!(error_code(&mut s, &read(&id, "status,pin"), t0), Some(100));
    assert_eq!(
        error_code(&mut s, &step(&id, "deregister", &[]), t0),
        Some(2500)
    );
}

#[test]
fn steps_count_against_the_numbers_waba_budget() {
    let config = SandboxConfig {
        waba_budget: budget(3, Duration::from_secs(3600)),
        ..SandboxConfig::default()
    };
    let (mut s, t0, id) = one_number(config);
    let other = created(&mut s, "8", "5550100002", t0);
    handle(&mut s, &request_code(&id), t0);
    handle(&mut s, &read(&id, "status"), t0);
    let d = handle(&mut s, &register(&id, PIN), t0);
    assert_eq!(status_code(&d), (400, Some(80008)));
    assert!(
        header(&d, "x-business-use-case-usage")
            .unwrap()
            .starts_with("{\"7\"")
    );
    assert_eq!(
        s.number(&id, t0).unwrap().register_calls,
        0,
        "a throttled call never reached it"
    );
    assert_eq!(
        status_code(&handle(&mut s, &request_code(&other), t0)).0,
        200
    );
}

#[test]
fn faults_hit_steps_and_a_dropped_step_is_carried_out() {
    let mut config = SandboxConfig {
        faults: only_fault("transient"),
        ..SandboxConfig::default()
    };
    // Numbers are held from the start, so the create draws no fault.
    config.existing_numbers = vec![crate::sandbox::ExistingNumber {
        waba_id: "7".into(),
        cc: "1".into(),
        phone_number: "5550100001".into(),
    }];
    let (mut s, t0) = state(config.clone());
    let id = ledger(&s)[0].id.clone();
    let d = handle(&mut s, &request_code(&id), t0);
    assert_eq!(status_code(&d).0, 500);
    assert_eq!(s.code_for(&id), None, "nothing done");
    // Reads are faulted only when GETs are.
    assert_eq!(
        status_code(&handle(&mut s, &read(&id, "status"), t0)).0,
        200
    );

    config.faults = only_fault("drop");
    let (mut s, t0) = state(config);
    handle(&mut s, &request_code(&id), t0);
    let code = s.code_for(&id).unwrap();
    assert_eq!(
        handle(&mut s, &verify_code(&id, &code), t0).reply,
        Answer::Drop
    );
    assert!(s.number(&id, t0).unwrap().verified());
    let d = handle(&mut s, &register(&id, PIN), t0);
    assert_eq!(d.reply, Answer::Drop);
    let n = s.number(&id, t0).unwrap();
    assert!(n.connected() && n.has_pin);
    let last = s.requests().pop().unwrap();
    assert_eq!(
        (last.http_status, last.fault.as_deref()),
        (0, Some("drop_after_create"))
    );
    // A refused step is answered, not dropped.
    let d = handle(&mut s, &request_code(&id), t0);
    assert_eq!(status_code(&d), (400, Some(136024)));
}

#[test]
fn name_status_turns_approved_after_the_review_delay() {
    let config = SandboxConfig {
        name_review_delay_ms: 5000,
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    let named = call(
        "POST",
        "/v25.0/7/phone_numbers",
        Some("tok"),
        &[
            ("cc", "1"),
            ("phone_number", "5550100001"),
            ("verified_name", "Acme Support"),
        ],
    );
    let id = body(&handle(&mut s, &named, t0))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let plain = created(&mut s, "7", "5550100002", t0);
    let name_status = |s: &mut State, id: &str, now| {
        body(&handle(
            s,
            &read(id, "name_status,new_name_status,verified_name"),
            now,
        ))["name_status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(name_status(&mut s, &id, t0), "PENDING_REVIEW");
    assert_eq!(
        name_status(&mut s, &id, t0 + Duration::from_millis(4999)),
        "PENDING_REVIEW"
    );
    assert_eq!(
        name_status(&mut s, &id, t0 + Duration::from_secs(5)),
        "APPROVED"
    );
    assert_eq!(name_status(&mut s, &plain, t0), "NONE");
    // The listing reads the same state.
    let mut list = call("GET", "/v25.0/7/phone_numbers", Some("tok"), &[]);
    list.query = vec![("fields".into(), "id,status,name_status".into())];
    let d = handle(&mut s, &list, t0 + Duration::from_secs(5));
    assert_eq!(body(&d)["data"][0]["name_status"], "APPROVED");
    assert_eq!(body(&d)["data"][1]["status"], "PENDING");
}
