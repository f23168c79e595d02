//! request_code, verify_code, register and read_number against the scripted
//! server: the form or query sent, the token only in the header, success and
//! failure parsing, lost answers in doubt, secrets (token, code, PIN) out of
//! every failure and exchange, and the exchange of each call.

use super::*;

const ID: &str = "1906385232743451";
const CODE: &str = "493817";
const PIN: &str = "246802";

fn ok_with_ids() -> Act {
    response(
        200,
        &[
            ("content-type", "application/json"),
            ("x-fb-request-id", "AbCdReq123"),
            ("x-fb-trace-id", "TraceHdr9"),
        ],
        r#"{"success":true}"#,
    )
}

/// Nothing secret anywhere in what the caller gets back.
fn assert_clean<T: std::fmt::Debug>(reply: &Reply<T>, secrets: &[&str]) {
    let mut shown = format!("{reply:?}");
    if let Err(f) = &reply.result {
        shown.push_str(&f.summary());
    }
    for s in secrets {
        assert!(!shown.contains(s), "{s} leaked: {shown}");
    }
    let proof = appsecret_proof(SECRET, TOKEN);
    assert!(!shown.contains(&proof), "proof leaked: {shown}");
}

#[tokio::test]
async fn request_code_sends_method_and_language_in_the_form() {
    let (base, mut seen) = serve(vec![ok_with_ids()]).await;
    let reply = client(&base, Duration::from_secs(10))
        .request_code(&creds(true), ID, "SMS", "en_US")
        .await;
    assert_eq!(reply.result, Ok(()));
    let req = seen.recv().await.unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, format!("/v25.0/{ID}/request_code"));
    req.assert_token_only_in_header();
    let proof = appsecret_proof(SECRET, TOKEN);
    assert_eq!(
        req.form(),
        pairs(&[
            ("code_method", "SMS"),
            ("language", "en_US"),
            ("appsecret_proof", &proof)
        ])
    );
    let ex = reply.exchange.expect("every call has an exchange");
    assert_eq!(ex.method, "POST");
    assert_eq!(ex.path, format!("/v25.0/{ID}/request_code"));
    assert_eq!(ex.http_status, Some(200));
    assert_eq!(ex.request_id.as_deref(), Some("AbCdReq123"));
    assert_eq!(ex.fbtrace_id.as_deref(), Some("TraceHdr9"));
    assert!(ex.sent_at <= SystemTime::now());
    assert!(ex.sent_at_rfc3339().ends_with('Z'));
}

#[tokio::test]
async fn verify_code_sends_the_code_and_accepts_extra_fields() {
    let (base, mut seen) = serve(vec![json(
        200,
        r#"{"success":true,"id":"1906385232743451"}"#,
    )])
    .await;
    let reply = client(&base, Duration::from_secs(10))
        .verify_code(&creds(false), ID, CODE)
        .await;
    assert_eq!(reply.result, Ok(()));
    let req = seen.recv().await.unwrap();
    assert_eq!(req.target, format!("/v25.0/{ID}/verify_code"));
    req.assert_token_only_in_header();
    assert_eq!(req.form(), pairs(&[("code", CODE)]));
    assert!(!req.target.contains(CODE), "never in the URL");
    assert_clean(&reply, &[TOKEN, CODE]);
}

#[tokio::test]
async fn a_rejected_code_echoed_back_is_scrubbed() {
    let body = format!(
        r#"{{"error":{{"message":"(#136025) Verify code error: code {CODE} (also 493-817) is wrong","type":"OAuthException","code":136025,"error_data":{{"messaging_product":"whatsapp","details":"code={CODE} expired"}},"error_user_msg":"You sent {CODE}","fbtrace_id":"BodyTrace7"}}}}"#
    );
    let (base, _seen) = serve(vec![json(400, &body)]).await;
    let reply = client(&base, Duration::from_secs(10))
        .verify_code(&creds(true), ID, CODE)
        .await;
    let failure = reply.result.clone().unwrap_err();
    assert_eq!(
        (failure.code(), failure.class()),
        (Some(136025), ErrorClass::Permanent)
    );
    assert!(!failure.in_doubt());
    assert!(
        failure
            .summary()
            .contains("code [redacted] (also [redacted]) is wrong"),
        "{}",
        failure.summary()
    );
    assert_clean(&reply, &[TOKEN, CODE, "493-817"]);
    // The body's fbtrace_id wins over the header's.
    let ex = reply.exchange.unwrap();
    assert_eq!(
        (ex.http_status, ex.fbtrace_id.as_deref()),
        (Some(400), Some("BodyTrace7"))
    );
}

#[tokio::test]
async fn register_sends_pin_and_region_only_when_given() {
    let (base, mut seen) = serve(vec![
        json(200, r#"{"success":true}"#),
        json(200, r#"{"success":true}"#),
    ])
    .await;
    let client = client(&base, Duration::from_secs(10));
    let creds = creds(true);
    assert_eq!(
        client.register(&creds, ID, PIN, Some("DE")).await.result,
        Ok(())
    );
    assert_eq!(client.register(&creds, ID, PIN, None).await.result, Ok(()));
    let proof = appsecret_proof(SECRET, TOKEN);
    let first = seen.recv().await.unwrap();
    assert_eq!(first.target, format!("/v25.0/{ID}/register"));
    first.assert_token_only_in_header();
    assert_eq!(
        first.form(),
        pairs(&[
            ("messaging_product", "whatsapp"),
            ("pin", PIN),
            ("data_localization_region", "DE"),
            ("appsecret_proof", &proof),
        ])
    );
    let second = seen.recv().await.unwrap();
    assert_eq!(
        second.form(),
        pairs(&[
            ("messaging_product", "whatsapp"),
            ("pin", PIN),
            ("appsecret_proof", &proof)
        ])
    );
}

#[tokio::test]
async fn register_refusals_keep_their_code_and_lose_the_pin() {
    let mismatch = format!(
        r#"{{"error":{{"message":"(#133005) Two step verification PIN Mismatch","code":133005,"error_data":{{"details":"pin {PIN} does not match"}}}}}}"#
    );
    let buc = r#"{"7":[{"type":"whatsapp_business_management","call_count":64,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#;
    let (base, _seen) = serve(vec![
        response(400, &[("x-business-use-case-usage", buc)], &mismatch),
        json(400, r#"{"error":{"message":"(#133016) Registration or Deregistration failed because there were too many attempts","code":133016}}"#),
    ])
    .await;
    let client = client(&base, Duration::from_secs(10));
    let reply = client.register(&creds(false), ID, PIN, None).await;
    let failure = reply.result.clone().unwrap_err();
    assert_eq!(failure.code(), Some(133005));
    assert!(
        failure.summary().contains("pin [redacted] does not match"),
        "{}",
        failure.summary()
    );
    assert_clean(&reply, &[TOKEN, PIN]);
    // The usage header is keyed by the WABA, which a call on a number does not name.
    assert_eq!(reply.hints.waba_usage_pct, Some(64));
    let reply = client.register(&creds(false), ID, PIN, None).await;
    assert_eq!(reply.result.unwrap_err().class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn a_step_without_success_true_is_in_doubt() {
    let (base, _seen) = serve(vec![json(200, r#"{"success":false}"#), json(200, "{}")]).await;
    let client = client(&base, Duration::from_secs(10));
    for _ in 0..2 {
        let reply = client.register(&creds(false), ID, PIN, None).await;
        let failure = reply.result.clone().unwrap_err();
        assert!(failure.in_doubt(), "{failure:?}");
        assert_eq!(failure.class(), ErrorClass::Transient);
        assert_clean(&reply, &[TOKEN, PIN]);
    }
}

#[tokio::test]
async fn a_register_whose_answer_is_lost_is_in_doubt() {
    let (base, mut seen) = serve(vec![Act::Close]).await;
    let reply = client(&base, Duration::from_secs(10))
        .register(&creds(true), ID, PIN, None)
        .await;
    assert_eq!(seen.recv().await.unwrap().form()[1].1, PIN, "it was sent");
    let Err(Failure::Network { message, in_doubt }) = &reply.result else {
        panic!("expected a network failure: {:?}", reply.result);
    };
    assert!(*in_doubt, "{message}");
    assert_clean(&reply, &[TOKEN, PIN]);
    let ex = reply.exchange.unwrap();
    assert_eq!((ex.http_status, ex.method), (None, "POST"));
    assert_eq!(ex.path, format!("/v25.0/{ID}/register"));
}

#[tokio::test]
async fn verify_code_timing_out_is_in_doubt() {
    let (base, _seen) = serve(vec![Act::Hang]).await;
    let reply = client(&base, Duration::from_millis(300))
        .verify_code(&creds(false), ID, CODE)
        .await;
    assert!(reply.result.as_ref().unwrap_err().in_doubt());
    assert_clean(&reply, &[TOKEN, CODE]);
    assert!(reply.exchange.unwrap().duration >= Duration::from_millis(300));
}

#[tokio::test]
async fn read_number_asks_for_the_status_fields() {
    let body = r#"{"id":"1906385232743451","display_phone_number":"+1 555-010-0001","verified_name":"Acme","status":"CONNECTED","code_verification_status":"VERIFIED","name_status":"PENDING_REVIEW","new_name_status":"NONE","quality_rating":"GREEN","platform_type":"CLOUD_API","throughput":{"level":"STANDARD"},"unknown":{"x":1}}"#;
    let (base, mut seen) = serve(vec![json(200, body)]).await;
    let reply = client(&base, Duration::from_secs(10))
        .read_number(&creds(true), ID)
        .await;
    let n = reply.result.clone().unwrap();
    assert_eq!(n.status.as_deref(), Some("CONNECTED"));
    assert_eq!(n.code_verification_status.as_deref(), Some("VERIFIED"));
    assert_eq!(n.name_status.as_deref(), Some("PENDING_REVIEW"));
    assert_eq!(n.throughput_level.as_deref(), Some("STANDARD"));
    let req = seen.recv().await.unwrap();
    assert_eq!(req.method, "GET");
    assert_eq!(req.path(), format!("/v25.0/{ID}"));
    req.assert_token_only_in_header();
    let proof = appsecret_proof(SECRET, TOKEN);
    assert_eq!(
        req.query(),
        pairs(&[
            (
                "fields",
                "id,display_phone_number,verified_name,status,code_verification_status,name_status,new_name_status,quality_rating,platform_type,throughput"
            ),
            ("appsecret_proof", &proof),
        ])
    );
    let ex = reply.exchange.unwrap();
    assert_eq!(
        (ex.method, ex.path.as_str()),
        ("GET", format!("/v25.0/{ID}").as_str())
    );
    assert!(
        !format!("{ex:?}").contains(&proof),
        "no query string in the exchange"
    );
}

#[tokio::test]
async fn an_unknown_number_is_a_permanent_100() {
    let (base, _seen) = serve(vec![json(
        400,
        r#"{"error":{"message":"Unsupported get request. Object with ID '1906385232743451' does not exist","type":"GraphMethodException","code":100,"error_subcode":33}}"#,
    )])
    .await;
    let reply = client(&base, Duration::from_secs(10))
        .read_number(&creds(false), ID)
        .await;
    assert_eq!(reply.result.unwrap_err().class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn create_and_listing_carry_an_exchange_too() {
    let (base, _seen) = serve(vec![
        json(200, r#"{"id":"5"}"#),
        json(200, r#"{"data":[]}"#),
    ])
    .await;
    let client = client(&base, Duration::from_secs(10));
    let created = client.create_phone_number(&creds(true), &request()).await;
    let ex = created.exchange.unwrap();
    assert_eq!(
        (ex.method, ex.path.as_str(), ex.http_status),
        ("POST", "/v25.0/102290129340398/phone_numbers", Some(200))
    );
    let listed = client
        .list_phone_numbers_page(&creds(true), "9", Some("c1"))
        .await;
    let ex = listed.exchange.unwrap();
    assert_eq!(
        (ex.method, ex.path.as_str()),
        ("GET", "/v25.0/9/phone_numbers")
    );
}

#[tokio::test]
async fn a_one_character_token_does_not_mangle_messages() {
    let (base, mut seen) = serve(vec![json(
        400,
        r#"{"error":{"message":"Unknown path components: /v25.0/1/request_code_t","type":"OAuthException","code":2500,"error_user_msg":"Bearer t is not accepted here"}}"#,
    )])
    .await;
    let creds = Credentials::new(Token::new("t"), None);
    let reply = client(&base, Duration::from_secs(10))
        .request_code(&creds, "1", "SMS", "en_US")
        .await;
    assert_eq!(
        seen.recv().await.unwrap().header("authorization"),
        Some("Bearer t")
    );
    let Err(Failure::Graph(e)) = reply.result else {
        panic!("expected a Graph failure");
    };
    assert_eq!(
        e.message,
        "Unknown path components: /v25.0/1/request_code_t"
    );
    // Where a token is written by convention, it goes whatever its length.
    assert_eq!(
        e.user_msg.as_deref(),
        Some("Bearer [redacted] is not accepted here")
    );
}
