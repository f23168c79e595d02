//! Unit tests of the per-request decisions, with a fake clock (`now` is an
//! argument), no HTTP.

use super::*;
use crate::sandbox::config::{SandboxSecret, TokenGrants};
use crate::sandbox::test_support::*;

#[test]
fn creates_then_refuses_duplicates_here_and_elsewhere() {
    let (mut s, t0) = state(SandboxConfig::default());
    let d = handle(&mut s, &create("1", "5550100001"), t0);
    let Answer::Json { status: 200, body } = &d.reply else {
        panic!("{:?}", d.reply)
    };
    let id = body["id"].as_str().unwrap();
    assert!((15..=16).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(header(&d, "facebook-api-version"), Some("v25.0"));

    let here = handle(&mut s, &create("1", "5550100001"), t0);
    let Answer::Json { body, .. } = &here.reply else {
        panic!()
    };
    assert_eq!(body["error"]["error_subcode"], 2388012);
    let elsewhere = handle(&mut s, &create("2", "5550100001"), t0);
    assert_eq!(status_code(&elsewhere), (400, Some(100)));
    assert_eq!(ledger(&s).len(), 1);
    assert_eq!(s.requests().len(), 3);
}

#[test]
fn path_version_and_method_checks() {
    let (mut s, t0) = state(SandboxConfig::default());
    for path in [
        "/v25/1/phone_numbers",
        "/25.0/1/phone_numbers",
        "/v25.0/1/other",
    ] {
        let d = handle(&mut s, &call("POST", path, Some("t"), &[]), t0);
        assert_eq!(status_code(&d), (400, Some(2500)), "{path}");
    }
    let d = handle(
        &mut s,
        &call("DELETE", "/v25.0/1/phone_numbers", Some("t"), &[]),
        t0,
    );
    assert_eq!(status_code(&d), (400, Some(100)));
    let d = handle(
        &mut s,
        &call("POST", "/v25.0/abc/phone_numbers", Some("t"), &[]),
        t0,
    );
    assert_eq!(status_code(&d), (400, Some(100)));
}

#[test]
fn tokens_missing_unknown_expired_and_granted() {
    let mut grants = TokenGrants::default();
    grants.0.insert("tok".into(), vec!["1".into()]);
    grants.0.insert("all".into(), vec!["*".into()]);
    let config = SandboxConfig {
        tokens: grants,
        expired_tokens: crate::sandbox::TokenList(vec!["old".into()]),
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    let path = "/v25.0/1/phone_numbers";
    let body = [("cc", "1"), ("phone_number", "5550100001")];
    let d = handle(&mut s, &call("POST", path, None, &body), t0);
    assert_eq!(status_code(&d), (400, Some(104)));
    assert!(header(&d, "www-authenticate").is_some());
    let d = handle(&mut s, &call("POST", path, Some("nope"), &body), t0);
    assert_eq!(status_code(&d), (401, Some(190)));
    assert!(
        header(&d, "www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );
    let d = handle(&mut s, &call("POST", path, Some("old"), &body), t0);
    assert_eq!(status_code(&d), (400, Some(190)));
    let d = handle(
        &mut s,
        &call("POST", "/v25.0/2/phone_numbers", Some("tok"), &body),
        t0,
    );
    assert_eq!(status_code(&d), (403, Some(200)));
    let d = handle(
        &mut s,
        &call("POST", "/v25.0/2/phone_numbers", Some("all"), &body),
        t0,
    );
    assert_eq!(status_code(&d).0, 200);
    // The token as a parameter works, as at Meta, and is logged as such.
    let d = handle(
        &mut s,
        &call(
            "POST",
            path,
            None,
            &[
                ("access_token", "tok"),
                ("cc", "1"),
                ("phone_number", "5550100002"),
            ],
        ),
        t0,
    );
    assert_eq!(status_code(&d).0, 200);
    let last = s.requests().pop().unwrap();
    assert!(last.token_in_body && !last.had_bearer && !last.token_in_url);
}

#[test]
fn appsecret_proof_required_and_checked() {
    let config = SandboxConfig {
        app_secret: Some(SandboxSecret("shh".into())),
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    let path = "/v25.0/1/phone_numbers";
    let good = crate::secret::appsecret_proof("shh", "tok");
    let d = handle(&mut s, &call("POST", path, Some("tok"), &[]), t0);
    assert_eq!(status_code(&d), (400, Some(100)));
    let d = handle(
        &mut s,
        &call("POST", path, Some("tok"), &[("appsecret_proof", "00")]),
        t0,
    );
    let Answer::Json { body, .. } = &d.reply else {
        panic!()
    };
    assert_eq!(body["error"]["type"], "GraphMethodException");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid appsecret_proof")
    );
    let d = handle(
        &mut s,
        &call(
            "POST",
            path,
            Some("tok"),
            &[
                ("appsecret_proof", &good),
                ("cc", "1"),
                ("phone_number", "5550100001"),
            ],
        ),
        t0,
    );
    assert_eq!(status_code(&d).0, 200);
    let log = s.requests();
    assert_eq!(log[0].appsecret_proof_valid, None);
    assert_eq!(log[1].appsecret_proof_valid, Some(false));
    assert_eq!(log[2].appsecret_proof_valid, Some(true));
}

#[test]
fn waba_budget_throttles_with_regain_and_extension() {
    let config = SandboxConfig {
        waba_budget: budget(2, Duration::from_secs(120)),
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    assert_eq!(
        status_code(&handle(&mut s, &create("1", "5550100001"), t0)).0,
        200
    );
    assert_eq!(
        status_code(&handle(&mut s, &create("1", "5550100002"), t0)).0,
        200
    );
    // Another WABA has its own budget.
    assert_eq!(
        status_code(&handle(&mut s, &create("2", "5550100003"), t0)).0,
        200
    );
    let t1 = t0 + Duration::from_secs(30);
    let d = handle(&mut s, &create("1", "5550100004"), t1);
    assert_eq!(status_code(&d), (400, Some(80008)));
    let usage: Value =
        serde_json::from_str(header(&d, "x-business-use-case-usage").unwrap()).unwrap();
    assert_eq!(usage["1"][0]["call_count"], 100);
    // Refused at 30 s, counted: the oldest live call is now t0 (regain 90 s → 2 min).
    assert_eq!(usage["1"][0]["estimated_time_to_regain_access"], 2);
    assert!(header(&d, "retry-after").is_none());
    // Hammering at 60 s counts too: at 120 s both t0 calls have left, but
    // the refused calls at 30 s and 60 s fill the window.
    handle(
        &mut s,
        &create("1", "5550100004"),
        t0 + Duration::from_secs(60),
    );
    let d = handle(
        &mut s,
        &create("1", "5550100004"),
        t0 + Duration::from_secs(120),
    );
    assert_eq!(status_code(&d).1, Some(80008));
    // After a full quiet window it opens again.
    let d = handle(
        &mut s,
        &create("1", "5550100004"),
        t0 + Duration::from_secs(241),
    );
    assert_eq!(status_code(&d).0, 200);
    assert_eq!(ledger(&s).len(), 4);
}

#[test]
fn retry_after_carries_exact_seconds_and_minutes_round_down() {
    let config = SandboxConfig {
        waba_budget: budget(1, Duration::from_secs(2)),
        retry_after: true,
        throttle_extension: false,
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    handle(&mut s, &create("1", "5550100001"), t0);
    let d = handle(
        &mut s,
        &create("1", "5550100002"),
        t0 + Duration::from_millis(500),
    );
    assert_eq!(header(&d, "retry-after"), Some("2"));
    let usage: Value =
        serde_json::from_str(header(&d, "x-business-use-case-usage").unwrap()).unwrap();
    assert_eq!(usage["1"][0]["estimated_time_to_regain_access"], 0);
    // Without extension the refused call did not count: open at 2 s.
    let d = handle(
        &mut s,
        &create("1", "5550100002"),
        t0 + Duration::from_secs(2),
    );
    assert_eq!(status_code(&d).0, 200);
}

#[test]
fn app_budget_answers_code_4_and_counts_gets() {
    let config = SandboxConfig {
        app_budget: budget(2, Duration::from_secs(60)),
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    handle(&mut s, &create("1", "5550100001"), t0);
    handle(
        &mut s,
        &call("GET", "/v25.0/2/phone_numbers", Some("t"), &[]),
        t0,
    );
    let d = handle(&mut s, &create("3", "5550100002"), t0);
    assert_eq!(status_code(&d), (400, Some(4)));
    let app: Value = serde_json::from_str(header(&d, "x-app-usage").unwrap()).unwrap();
    assert_eq!(app["call_count"], 100);
}

#[test]
fn forbidden_waba_and_params_give_200_and_100() {
    let config = SandboxConfig {
        forbidden_wabas: vec!["9".into()],
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    assert_eq!(
        status_code(&handle(&mut s, &create("9", "5550100001"), t0)),
        (400, Some(200))
    );
    let bad = call("POST", "/v25.0/1/phone_numbers", Some("t"), &[("cc", "1")]);
    assert_eq!(status_code(&handle(&mut s, &bad, t0)), (400, Some(100)));
    assert!(ledger(&s).is_empty());
}

#[test]
fn faults_transient_html_slow_and_drop() {
    let mut config = SandboxConfig::default();
    config.faults.drop_after_create = 1.0;
    let (mut s, t0) = state(config.clone());
    let d = handle(&mut s, &create("1", "5550100001"), t0);
    assert_eq!(d.reply, Answer::Drop);
    assert_eq!(ledger(&s).len(), 1, "created although dropped");
    let log = s.requests().pop().unwrap();
    assert_eq!(
        (log.http_status, log.fault.as_deref()),
        (0, Some("drop_after_create"))
    );
    assert!(log.created_id.is_some());
    // GETs are untouched by default.
    let d = handle(
        &mut s,
        &call("GET", "/v25.0/1/phone_numbers", Some("t"), &[]),
        t0,
    );
    assert_eq!(status_code(&d).0, 200);

    config.faults = only_fault("transient");
    let (mut s, t0) = state(config.clone());
    let d = handle(&mut s, &create("1", "5550100001"), t0);
    let Answer::Json { status: 500, body } = &d.reply else {
        panic!()
    };
    assert_eq!(body["error"]["is_transient"], true);
    assert!(ledger(&s).is_empty());

    config.faults = only_fault("html_503");
    let (mut s, t0) = state(config.clone());
    let d = handle(&mut s, &create("1", "5550100001"), t0);
    assert_eq!(d.reply, Answer::Html503);
    assert!(d.headers.is_empty());

    config.faults = only_fault("slow");
    config.faults.slow_ms = 5000;
    config.latency_ms = 10;
    let (mut s, t0) = state(config);
    let d = handle(&mut s, &create("1", "5550100001"), t0);
    assert_eq!(d.delay, Duration::from_millis(5010));
    assert!(ledger(&s).is_empty(), "a slow answer creates nothing");
}

#[test]
fn listing_pages_with_cursors() {
    let (mut s, t0) = state(SandboxConfig::default());
    for n in 0..7 {
        handle(&mut s, &create("1", &format!("555010{n:04}")), t0);
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut c = call("GET", "/v25.0/1/phone_numbers", Some("t"), &[]);
        c.query = vec![
            ("limit".into(), "3".into()),
            ("fields".into(), "id,display_phone_number".into()),
        ];
        if let Some(a) = &after {
            c.query.push(("after".into(), a.clone()));
        }
        let d = handle(&mut s, &c, t0);
        let Answer::Json { status: 200, body } = &d.reply else {
            panic!("{:?}", d.reply)
        };
        pages += 1;
        for item in body["data"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_string());
            assert!(
                item["display_phone_number"]
                    .as_str()
                    .unwrap()
                    .starts_with("+1 555-010-")
            );
        }
        match body["paging"]["next"].as_str() {
            Some(next) => {
                assert!(next.starts_with("http://127.0.0.1:1/v25.0/1/phone_numbers?"));
                after = Some(
                    body["paging"]["cursors"]["after"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                );
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let ids: Vec<String> = ledger(&s).into_iter().map(|e| e.id).collect();
    assert_eq!(seen, ids);
}

#[test]
fn reset_forgets_but_never_reuses_ids() {
    let (mut s, t0) = state(SandboxConfig::default());
    handle(&mut s, &create("1", "5550100001"), t0);
    let first = ledger(&s)[0].id.clone();
    s.reset();
    assert!(ledger(&s).is_empty() && s.requests().is_empty());
    handle(&mut s, &create("1", "5550100001"), t0);
    assert_ne!(ledger(&s)[0].id, first);
}

#[test]
fn faults_hit_listings_only_when_asked() {
    let mut config = SandboxConfig {
        faults: only_fault("transient"),
        ..SandboxConfig::default()
    };
    let list = call("GET", "/v25.0/1/phone_numbers", Some("t"), &[]);
    let (mut s, t0) = state(config.clone());
    assert_eq!(status_code(&handle(&mut s, &list, t0)).0, 200);
    config.faults.on_get = true;
    let (mut s, t0) = state(config);
    assert_eq!(status_code(&handle(&mut s, &list, t0)).0, 500);
}

#[test]
fn existing_numbers_are_held_from_the_start_and_after_reset() {
    let config = SandboxConfig {
        existing_numbers: vec![crate::sandbox::ExistingNumber {
            waba_id: "1".into(),
            cc: "1".into(),
            phone_number: "5550100001".into(),
        }],
        ..SandboxConfig::default()
    };
    let (mut s, t0) = state(config);
    assert_eq!(ledger(&s).len(), 1);
    let d = handle(&mut s, &create("1", "5550100001"), t0);
    assert_eq!(status_code(&d), (400, Some(100)));
    s.reset();
    assert_eq!(ledger(&s).len(), 1);
}
