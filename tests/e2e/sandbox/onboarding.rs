//! The onboarding steps of SPEC 7 over HTTP: request_code → the code on the
//! test-only path → verify_code → register → `GET /{id}`; each refusal
//! (136025, 136024, 133006, 133005, 133016 and its lock ending, the portfolio
//! cap), the name review, migration, a dropped register, and the Graph client
//! against the sandbox. Waits poll the sandbox's own state, never a fixed
//! sleep standing in for one; no wall-clock window is asserted.

use super::{create, fixture, json, serve};
use reqwest::{Client, Response};
use serde_json::Value;
use std::time::{Duration, Instant};
use waba_provision::graph::{ApiVersion, ClientConfig, Credentials, ErrorClass, GraphClient};
use waba_provision::limits::Rate;
use waba_provision::sandbox::{
    CallKind, CapScope, ExistingNumber, PortfolioCap, Sandbox, SandboxConfig, SandboxSecret,
};
use waba_provision::secret::{AppSecret, Token};

const PIN: &str = "246810";

async fn post(c: &Client, sb: &Sandbox, id: &str, edge: &str, form: &[(&str, &str)]) -> Response {
    c.post(format!("{}/v25.0/{id}/{edge}", sb.url()))
        .bearer_auth("tok")
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn request_code(c: &Client, sb: &Sandbox, id: &str) -> Response {
    post(
        c,
        sb,
        id,
        "request_code",
        &[("code_method", "SMS"), ("language", "en_US")],
    )
    .await
}

async fn verify_code(c: &Client, sb: &Sandbox, id: &str, code: &str) -> Response {
    post(c, sb, id, "verify_code", &[("code", code)]).await
}

async fn register(c: &Client, sb: &Sandbox, id: &str, pin: &str) -> Response {
    post(
        c,
        sb,
        id,
        "register",
        &[("messaging_product", "whatsapp"), ("pin", pin)],
    )
    .await
}

async fn read(c: &Client, sb: &Sandbox, id: &str, fields: &str) -> Value {
    let r = c
        .get(format!("{}/v25.0/{id}?fields={fields}", sb.url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    json(r).await
}

/// The code the number's holder would receive, from the test-only path.
async fn code_on_test_path(c: &Client, sb: &Sandbox, id: &str) -> String {
    let codes = json(
        c.get(format!("{}/__sandbox/codes", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(codes[id]["expired"], false);
    codes[id]["code"].as_str().unwrap().to_string()
}

/// (HTTP status, Graph error code).
async fn answer(r: Response) -> (u16, Option<i64>) {
    let status = r.status().as_u16();
    (status, json(r).await["error"]["code"].as_i64())
}

async fn created(c: &Client, sb: &Sandbox, waba: &str, number: &str) -> String {
    let r = create(c, sb, waba, number).await;
    assert_eq!(r.status(), 200);
    json(r).await["id"].as_str().unwrap().to_string()
}

/// request_code then verify_code with the code from the test path.
async fn verify(c: &Client, sb: &Sandbox, id: &str) {
    assert_eq!(request_code(c, sb, id).await.status(), 200);
    let code = code_on_test_path(c, sb, id).await;
    assert_eq!(verify_code(c, sb, id, &code).await.status(), 200);
}

/// Poll `done` every 20 ms until it holds; panics after 20 s (a hung test, not
/// a timing assertion).
async fn until(mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done().await {
        assert!(Instant::now() < deadline, "the sandbox never got there");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The log and the ledger as JSON never hold a code or a PIN (nor the token).
async fn assert_no_secrets(c: &Client, sb: &Sandbox, secrets: &[&str]) {
    for path in ["requests", "ledger"] {
        let text = c
            .get(format!("{}/__sandbox/{path}", sb.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for s in secrets {
            assert!(!text.contains(s), "{s} in /__sandbox/{path}: {text}");
        }
    }
    let log = format!("{:?}", sb.requests());
    assert!(secrets.iter().all(|s| !log.contains(s)));
}

#[tokio::test]
async fn request_verify_register_then_read_connected() {
    let (sb, c) = serve(SandboxConfig::default()).await;
    let id = created(&c, &sb, "123", "5550100001").await;
    let before = read(
        &c,
        &sb,
        &id,
        "status,code_verification_status,platform_type",
    )
    .await;
    assert_eq!(before["status"], "PENDING");
    assert_eq!(before["code_verification_status"], "NOT_VERIFIED");
    assert_eq!(before["platform_type"], "NOT_APPLICABLE");

    let r = request_code(&c, &sb, &id).await;
    assert_eq!(json(r).await, serde_json::json!({"success": true}));
    let code = code_on_test_path(&c, &sb, &id).await;
    assert_eq!(sb.code_for(&id).as_deref(), Some(code.as_str()));
    assert_eq!(
        json(verify_code(&c, &sb, &id, &code).await).await["success"],
        true
    );
    assert_eq!(
        json(register(&c, &sb, &id, PIN).await).await["success"],
        true
    );

    let after = read(
        &c,
        &sb,
        &id,
        "id,display_phone_number,status,code_verification_status,platform_type,quality_rating,throughput",
    )
    .await;
    assert_eq!(after["status"], "CONNECTED");
    assert_eq!(after["code_verification_status"], "VERIFIED");
    assert_eq!(after["platform_type"], "CLOUD_API");
    assert_eq!(after["throughput"]["level"], "STANDARD");
    assert_eq!(after["display_phone_number"], "+1 555-010-0001");

    let n = sb.number(&id).unwrap();
    assert!(n.verified() && n.connected() && n.has_pin);
    assert_eq!(n.register_calls, 1);
    let kinds: Vec<_> = sb.requests().into_iter().map(|e| e.kind).collect();
    use CallKind::*;
    assert_eq!(
        kinds,
        [Create, Read, RequestCode, VerifyCode, Register, Read].map(Some)
    );
    assert!(
        sb.requests()
            .iter()
            .all(|e| e.phone_number_id.as_deref() == Some(id.as_str()))
    );
    assert_no_secrets(&c, &sb, &[&code, PIN]).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn a_wrong_code_is_136025_then_the_right_one_verifies() {
    let (sb, c) = serve(SandboxConfig::default()).await;
    let id = created(&c, &sb, "123", "5550100001").await;
    request_code(&c, &sb, &id).await;
    let code = code_on_test_path(&c, &sb, &id).await;
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let r = verify_code(&c, &sb, &id, wrong).await;
    assert_eq!(r.status(), 400);
    let e = json(r).await;
    assert_eq!(e["error"]["code"], 136025);
    assert!(e["error"]["fbtrace_id"].is_string());
    assert!(!sb.number(&id).unwrap().verified());
    assert_eq!(verify_code(&c, &sb, &id, &code).await.status(), 200);
    assert!(sb.number(&id).unwrap().verified());
    // Used: gone from the test path.
    let codes = json(
        c.get(format!("{}/__sandbox/codes", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(codes.get(&id).is_none());
    assert_no_secrets(&c, &sb, &[&code, wrong]).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn request_code_on_a_verified_number_is_136024() {
    let (sb, c) = serve(SandboxConfig::default()).await;
    let id = created(&c, &sb, "123", "5550100001").await;
    verify(&c, &sb, &id).await;
    assert_eq!(
        answer(request_code(&c, &sb, &id).await).await,
        (400, Some(136024))
    );
    let state = read(&c, &sb, &id, "code_verification_status").await;
    assert_eq!(state["code_verification_status"], "VERIFIED");
    sb.shutdown().await;
}

#[tokio::test]
async fn register_before_verify_is_133006_and_a_set_pin_must_match() {
    let config = SandboxConfig::from_file(&fixture("sandbox/onboarding.yaml")).unwrap();
    let (sb, c) = serve(config).await;
    let plain = created(&c, &sb, "123", "5550100001").await;
    assert_eq!(
        answer(register(&c, &sb, &plain, PIN).await).await,
        (400, Some(133006))
    );

    // 15550100042 has two-step on with 135790 (the fixture).
    let locked = created(&c, &sb, "123", "5550100042").await;
    assert!(sb.number(&locked).unwrap().has_pin);
    verify(&c, &sb, &locked).await;
    let r = register(&c, &sb, &locked, PIN).await;
    let e = json(r).await;
    assert_eq!(e["error"]["code"], 133005);
    assert!(e["error"]["error_data"]["details"].is_string());
    assert_eq!(register(&c, &sb, &locked, "135790").await.status(), 200);
    assert!(sb.number(&locked).unwrap().connected());
    assert_no_secrets(&c, &sb, &["135790", PIN]).await;
    sb.shutdown().await;
}

#[tokio::test]
async fn eleven_register_calls_in_the_window_lock_the_number_until_it_passes() {
    let config = SandboxConfig {
        register_limit: Rate {
            count: 10,
            per: Duration::from_secs(3),
        },
        ..SandboxConfig::default()
    };
    let (sb, c) = serve(config).await;
    let id = created(&c, &sb, "123", "5550100001").await;
    // Ten calls refused before verification count all the same.
    for _ in 0..10 {
        assert_eq!(
            answer(register(&c, &sb, &id, PIN).await).await.1,
            Some(133006)
        );
    }
    verify(&c, &sb, &id).await;
    let r = register(&c, &sb, &id, PIN).await;
    let e = json(r).await;
    assert_eq!(e["error"]["code"], 133016);
    let details = e["error"]["error_data"]["details"].as_str().unwrap();
    assert!(details.contains("locked"), "{details}");
    let n = sb.number(&id).unwrap();
    assert_eq!(n.register_calls, 11);
    assert!(n.register_locked_until_ms.is_some() && !n.connected());

    // Wait for the lock to end by watching the sandbox, then register.
    until(async || sb.number(&id).unwrap().register_locked_until_ms.is_none()).await;
    assert_eq!(register(&c, &sb, &id, PIN).await.status(), 200);
    assert!(sb.number(&id).unwrap().connected());
    // The log shows the order: ten 133006, the lock, then the success.
    let codes: Vec<Option<i64>> = sb
        .requests()
        .into_iter()
        .filter(|e| e.kind == Some(CallKind::Register))
        .map(|e| e.error_code)
        .collect();
    assert_eq!(codes[..10], [Some(133006); 10]);
    assert_eq!(codes[10..], [Some(133016), None]);
    sb.shutdown().await;
}

#[tokio::test]
async fn name_status_turns_approved_after_the_review_delay() {
    let config = SandboxConfig::from_file(&fixture("sandbox/onboarding.yaml")).unwrap();
    let (sb, c) = serve(config).await;
    let r = c
        .post(format!("{}/v25.0/123/phone_numbers", sb.url()))
        .bearer_auth("tok")
        .form(&[
            ("cc", "1"),
            ("phone_number", "5550100001"),
            ("verified_name", "Acme Support"),
        ])
        .send()
        .await
        .unwrap();
    let id = json(r).await["id"].as_str().unwrap().to_string();
    let first = read(&c, &sb, &id, "name_status,new_name_status,verified_name").await;
    assert_eq!(first["name_status"], "PENDING_REVIEW");
    assert_eq!(first["verified_name"], "Acme Support");
    assert_eq!(first["new_name_status"], "NONE");
    until(async || read(&c, &sb, &id, "name_status").await["name_status"] == "APPROVED").await;
    // By the sandbox's clock, approval came no sooner than the delay (1.5 s).
    let log = sb.requests();
    let created_at = log[0].at_ms;
    let approved_at = log.last().unwrap().at_ms;
    assert!(
        approved_at >= created_at + 1500,
        "{created_at} → {approved_at}"
    );
    // Without a display name there is nothing to review.
    let plain = created(&c, &sb, "123", "5550100002").await;
    assert_eq!(
        read(&c, &sb, &plain, "name_status").await["name_status"],
        "NONE"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn the_portfolio_cap_answers_403_200_1349175() {
    let config = SandboxConfig {
        portfolio_cap: Some(PortfolioCap {
            numbers: 2,
            scope: CapScope::Waba,
        }),
        ..SandboxConfig::default()
    };
    let (sb, c) = serve(config).await;
    created(&c, &sb, "123", "5550100001").await;
    created(&c, &sb, "123", "5550100002").await;
    let r = create(&c, &sb, "123", "5550100003").await;
    assert_eq!(r.status(), 403);
    let e = json(r).await;
    assert_eq!(
        (
            e["error"]["code"].as_i64(),
            e["error"]["error_subcode"].as_i64()
        ),
        (Some(200), Some(1349175))
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Phone number limit exceeded")
    );
    assert_eq!(sb.ledger().len(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn migration_moves_a_number_from_another_waba() {
    let config = SandboxConfig::from_file(&fixture("sandbox/onboarding.yaml")).unwrap();
    let (sb, c) = serve(config).await;
    let old = sb
        .ledger()
        .into_iter()
        .find(|e| e.phone_number == "5550100066")
        .unwrap()
        .id;
    let migrate = |number: &'static str| {
        c.post(format!("{}/v25.0/2002/phone_numbers", sb.url()))
            .bearer_auth("tok")
            .form(&[
                ("cc", "1"),
                ("phone_number", number),
                ("migrate_phone_number", "true"),
            ])
            .send()
    };
    let r = migrate("5550100066").await.unwrap();
    assert_eq!(r.status(), 200);
    let new = json(r).await["id"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let moved = sb.number(&new).unwrap();
    assert_eq!(moved.waba_id, "2002");
    assert!(moved.migrate_phone_number && !moved.verified() && !moved.connected());
    assert!(sb.number(&old).is_none());
    let r = c
        .get(format!("{}/v25.0/{old}?fields=status", sb.url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(json(r).await["error"]["error_subcode"], 33);
    // The moved number goes through the steps on its new WABA.
    verify(&c, &sb, &new).await;
    assert_eq!(register(&c, &sb, &new, PIN).await.status(), 200);

    // Two-step still on at the source: refused, nothing moves.
    let r = migrate("5550100077").await.unwrap();
    let e = json(r).await;
    assert_eq!(e["error"]["error_subcode"], 2388103);
    assert!(
        e["error"]["error_user_msg"]
            .as_str()
            .unwrap()
            .contains("Two-step")
    );
    let held = sb
        .ledger()
        .into_iter()
        .find(|e| e.phone_number == "5550100077")
        .unwrap();
    assert_eq!(held.waba_id, "1001");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_register_whose_answer_is_dropped_is_still_carried_out() {
    let mut config = SandboxConfig {
        existing_numbers: vec![ExistingNumber {
            waba_id: "123".into(),
            cc: "1".into(),
            phone_number: "5550100001".into(),
        }],
        ..SandboxConfig::default()
    };
    config.faults.drop_after_create = 1.0;
    let (sb, c) = serve(config).await;
    let id = sb.ledger()[0].id.clone();
    // Every POST is carried out, then the connection closes unanswered.
    let lost = |form: Vec<(&'static str, String)>, edge: &'static str| {
        c.post(format!("{}/v25.0/{id}/{edge}", sb.url()))
            .bearer_auth("tok")
            .form(&form)
            .send()
    };
    let r = lost(
        vec![
            ("code_method", "VOICE".into()),
            ("language", "pt_BR".into()),
        ],
        "request_code",
    )
    .await;
    assert!(r.is_err());
    let code = sb.code_for(&id).expect("the code was made");
    assert!(
        lost(vec![("code", code.clone())], "verify_code")
            .await
            .is_err()
    );
    let r = lost(
        vec![
            ("messaging_product", "whatsapp".into()),
            ("pin", PIN.into()),
        ],
        "register",
    )
    .await;
    let err = r.expect_err("no HTTP answer");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    let n = sb.number(&id).unwrap();
    assert!(n.verified() && n.connected() && n.has_pin);
    assert_eq!(n.register_calls, 1);
    // Reading settles it (GETs are not faulted by default).
    assert_eq!(read(&c, &sb, &id, "status").await["status"], "CONNECTED");
    let log = sb.requests();
    assert!(
        log[..3]
            .iter()
            .all(|e| e.http_status == 0 && e.fault.as_deref() == Some("drop_after_create"))
    );
    assert_no_secrets(&c, &sb, &[&code, PIN]).await;
    sb.shutdown().await;
}

/// The Graph client and the sandbox agree: the same calls the runner will
/// make, with an app secret, end in a CONNECTED number; refusals classify.
#[tokio::test]
async fn the_graph_client_onboards_a_number_against_the_sandbox() {
    let config = SandboxConfig {
        app_secret: Some(SandboxSecret("sandbox-secret".into())),
        existing_numbers: vec![ExistingNumber {
            waba_id: "123".into(),
            cc: "1".into(),
            phone_number: "5550100001".into(),
        }],
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(config).await.unwrap();
    let graph = GraphClient::new(ClientConfig {
        graph_url: sb.url(),
        api_version: ApiVersion::parse("v25.0").unwrap(),
        timeout: Duration::from_secs(10),
        max_connections: 2,
    })
    .unwrap();
    let creds = Credentials::new(
        Token::new("EAAsandboxTOKEN42"),
        Some(&AppSecret::new("sandbox-secret")),
    );
    let id = sb.ledger()[0].id.clone();
    let refused = graph.register(&creds, &id, PIN, Some("DE")).await;
    let failure = refused.result.unwrap_err();
    assert_eq!(
        (failure.code(), failure.class()),
        (Some(133006), ErrorClass::Permanent)
    );
    assert_eq!(
        graph.request_code(&creds, &id, "SMS", "en_US").await.result,
        Ok(())
    );
    let code = sb.code_for(&id).unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let rejected = graph.verify_code(&creds, &id, wrong).await;
    assert_eq!(rejected.result.unwrap_err().code(), Some(136025));
    assert_eq!(graph.verify_code(&creds, &id, &code).await.result, Ok(()));
    let reply = graph.register(&creds, &id, PIN, Some("DE")).await;
    assert_eq!(reply.result, Ok(()));
    let ex = reply.exchange.unwrap();
    assert_eq!((ex.method, ex.http_status), ("POST", Some(200)));
    assert_eq!(ex.path, format!("/v25.0/{id}/register"));
    assert!(ex.request_id.is_some() && ex.fbtrace_id.is_some());
    let state = graph.read_number(&creds, &id).await.result.unwrap();
    assert_eq!(state.status.as_deref(), Some("CONNECTED"));
    assert_eq!(state.code_verification_status.as_deref(), Some("VERIFIED"));
    assert_eq!(state.platform_type.as_deref(), Some("CLOUD_API"));
    assert_eq!(state.throughput_level.as_deref(), Some("STANDARD"));
    assert_eq!(state.name_status.as_deref(), Some("NONE"));
    let again = graph.request_code(&creds, &id, "SMS", "en_US").await;
    assert_eq!(again.result.unwrap_err().code(), Some(136024));
    let log = sb.requests();
    assert!(
        log.iter()
            .all(|e| e.appsecret_proof_valid == Some(true) && e.had_bearer && !e.token_in_url)
    );
    sb.shutdown().await;
}
