//! Creates through `behaviour::handle`: pre-verified numbers, migration from
//! another WABA (and its two-step refusal), the portfolio cap per WABA and per
//! token, configured PINs.

use crate::sandbox::behaviour::{State, handle};
use crate::sandbox::config::{CapScope, NumberPins, PortfolioCap, SandboxConfig};
use crate::sandbox::number::{CodeVerification, NumberStatus};
use crate::sandbox::test_support::*;
use crate::sandbox::{ExistingNumber, TokenGrants};

fn create_with(
    waba: &str,
    number: &str,
    token: &str,
    extra: &[(&str, &str)],
) -> crate::sandbox::behaviour::Call {
    let mut body = vec![("cc", "1"), ("phone_number", number)];
    body.extend_from_slice(extra);
    call(
        "POST",
        &format!("/v25.0/{waba}/phone_numbers"),
        Some(token),
        &body,
    )
}

fn on_waba(s: &State, waba: &str) -> Vec<String> {
    ledger(s)
        .into_iter()
        .filter(|e| e.waba_id == waba)
        .map(|e| e.phone_number)
        .collect()
}

#[test]
fn preverified_numbers_are_verified_unless_expired() {
    let config = SandboxConfig {
        expired_preverified_ids: vec!["pv-old".into()],
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    let d = handle(
        &mut s,
        &create_with("7", "5550100001", "tok", &[("preverified_id", "pv-1")]),
        t0,
    );
    let id = body(&d)["id"].as_str().unwrap().to_string();
    assert!(s.number(&id, t0).unwrap().verified());
    assert_eq!(
        status_code(&handle(&mut s, &request_code(&id), t0)).1,
        Some(136024)
    );
    assert_eq!(
        status_code(&handle(&mut s, &register(&id, "123456"), t0)).0,
        200
    );

    let d = handle(
        &mut s,
        &create_with("7", "5550100002", "tok", &[("preverified_id", "pv-old")]),
        t0,
    );
    let old = body(&d)["id"].as_str().unwrap().to_string();
    let n = s.number(&old, t0).unwrap();
    assert_eq!(n.code_verification_status, CodeVerification::Expired);
    assert_eq!(
        status_code(&handle(&mut s, &register(&old, "123456"), t0)).1,
        Some(133006)
    );
    // Not verified, so a code can be requested again.
    assert_eq!(status_code(&handle(&mut s, &request_code(&old), t0)).0, 200);
}

fn held_elsewhere(extra: impl FnOnce(&mut SandboxConfig)) -> (State, std::time::Instant, String) {
    let mut config = SandboxConfig {
        existing_numbers: vec![ExistingNumber {
            waba_id: "1".into(),
            cc: "1".into(),
            phone_number: "5550100001".into(),
        }],
        ..SandboxConfig::default()
    };
    extra(&mut config);
    let (s, t0) = state(config);
    let old = ledger(&s)[0].id.clone();
    (s, t0, old)
}

#[test]
fn migration_moves_the_number_as_a_fresh_one() {
    let (mut s, t0, old) = held_elsewhere(|_| {});
    // Without migrate_phone_number it is refused as held elsewhere.
    let d = handle(&mut s, &create_with("2", "5550100001", "tok", &[]), t0);
    assert_eq!(body(&d)["error"]["error_subcode"], 2388001);
    let d = handle(
        &mut s,
        &create_with(
            "2",
            "5550100001",
            "tok",
            &[("migrate_phone_number", "true")],
        ),
        t0,
    );
    let new = body(&d)["id"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(on_waba(&s, "1"), Vec::<String>::new());
    assert_eq!(on_waba(&s, "2"), vec!["5550100001".to_string()]);
    let n = s.number(&new, t0).unwrap();
    assert!(n.migrate_phone_number && !n.verified() && n.status == NumberStatus::Pending);
    // The old id is gone: Meta's "does not exist".
    let d = handle(&mut s, &read(&old, "status"), t0);
    assert_eq!(body(&d)["error"]["error_subcode"], 33);
    // The source WABA's listing no longer has it.
    let d = handle(
        &mut s,
        &call("GET", "/v25.0/1/phone_numbers", Some("tok"), &[]),
        t0,
    );
    assert_eq!(body(&d)["data"].as_array().unwrap().len(), 0);
    // Migrating again to where it now is: already here.
    let d = handle(
        &mut s,
        &create_with(
            "2",
            "5550100001",
            "tok",
            &[("migrate_phone_number", "true")],
        ),
        t0,
    );
    assert_eq!(body(&d)["error"]["error_subcode"], 2388012);
}

#[test]
fn migration_with_two_step_on_at_the_source_is_refused() {
    let (mut s, t0, old) = held_elsewhere(|c| c.two_step_on_source = vec!["15550100001".into()]);
    let d = handle(
        &mut s,
        &create_with(
            "2",
            "5550100001",
            "tok",
            &[("migrate_phone_number", "true")],
        ),
        t0,
    );
    assert_eq!(status_code(&d), (400, Some(100)));
    let e = &body(&d)["error"];
    assert_eq!(e["error_subcode"], 2388103);
    assert!(e["error_user_msg"].as_str().unwrap().contains("Two-step"));
    assert_eq!(ledger(&s)[0].id, old, "nothing moved");
}

#[test]
fn portfolio_cap_per_waba() {
    let config = SandboxConfig {
        portfolio_cap: Some(PortfolioCap {
            numbers: 2,
            scope: CapScope::Waba,
        }),
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    created(&mut s, "1", "5550100001", t0);
    created(&mut s, "1", "5550100002", t0);
    let d = handle(&mut s, &create("1", "5550100003"), t0);
    assert_eq!(status_code(&d), (403, Some(200)));
    let e = &body(&d)["error"];
    assert_eq!(e["error_subcode"], 1349175);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Phone number limit exceeded")
    );
    // A duplicate is still a duplicate, and another WABA has room.
    assert_eq!(
        body(&handle(&mut s, &create("1", "5550100001"), t0))["error"]["error_subcode"],
        2388012
    );
    created(&mut s, "2", "5550100003", t0);
    assert_eq!(ledger(&s).len(), 3);
}

#[test]
fn portfolio_cap_per_token_spans_wabas() {
    let mut grants = TokenGrants::default();
    grants.0.insert("tok-a".into(), vec!["*".into()]);
    grants.0.insert("tok-b".into(), vec!["*".into()]);
    let config = SandboxConfig {
        tokens: grants,
        portfolio_cap: Some(PortfolioCap {
            numbers: 2,
            scope: CapScope::Token,
        }),
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    for (waba, n) in [("1", "5550100001"), ("2", "5550100002")] {
        assert_eq!(
            status_code(&handle(&mut s, &create_with(waba, n, "tok-a", &[]), t0)).0,
            200
        );
    }
    let d = handle(&mut s, &create_with("3", "5550100003", "tok-a", &[]), t0);
    assert_eq!(status_code(&d), (403, Some(200)));
    assert!(
        body(&d)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("business portfolio")
    );
    assert_eq!(
        status_code(&handle(
            &mut s,
            &create_with("3", "5550100003", "tok-b", &[]),
            t0
        ))
        .0,
        200
    );
    assert!(
        !format!("{s:?}").contains("tok-a"),
        "the count is not keyed by the token"
    );
}

#[test]
fn configured_pins_apply_to_created_and_existing_numbers() {
    let (s, t0, old) = held_elsewhere(|c| {
        c.numbers_with_pin = NumberPins([("15550100001".to_string(), "111222".to_string())].into());
    });
    assert!(s.number(&old, t0).unwrap().has_pin);
    assert!(!format!("{s:?}").contains("111222"));
}
