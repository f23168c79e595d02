//! Body shapes from graph-api.md §1 and what a proxy may send instead.

use super::*;
use crate::graph::ErrorClass;

#[test]
fn metas_documented_error_shape() {
    let body = br#"{"error": {
      "message": "Message describing the error",
      "type": "OAuthException",
      "code": 190,
      "error_subcode": 460,
      "error_user_title": "A title",
      "error_user_msg": "A message",
      "fbtrace_id": "EJplcsCHuLu"}}"#;
    let e = GraphError::from_body(400, body);
    assert_eq!(
        e,
        GraphError {
            http_status: Some(400),
            code: Some(190),
            subcode: Some(460),
            error_type: Some("OAuthException".into()),
            message: "Message describing the error".into(),
            user_title: Some("A title".into()),
            user_msg: Some("A message".into()),
            fbtrace_id: Some("EJplcsCHuLu".into()),
            is_transient: false,
        }
    );
}

#[test]
fn is_transient_and_required_fields_only() {
    let body = br#"{"error":{"message":"An unexpected error has occurred.","type":"OAuthException","code":2,"is_transient":true,"fbtrace_id":"AbC"}}"#;
    let e = GraphError::from_body(500, body);
    assert_eq!(e.code, Some(2));
    assert!(e.is_transient);
    assert_eq!(e.subcode, None);
    assert_eq!(e.user_msg, None);
    let minimal = GraphError::from_body(400, br#"{"error":{"code":100}}"#);
    assert_eq!(minimal.code, Some(100));
    assert!(!minimal.message.is_empty());
}

#[test]
fn code_as_string() {
    let e = GraphError::from_body(
        400,
        br#"{"error":{"message":"m","code":"80008","error_subcode":"2446079","is_transient":"true"}}"#,
    );
    assert_eq!(e.code, Some(80008));
    assert_eq!(e.subcode, Some(2446079));
    assert!(e.is_transient);
    assert_eq!(e.class(), ErrorClass::ThrottledWaba);
}

#[test]
fn error_data_as_object() {
    let body = br#"{"error":{"message":"(#131009) Parameter value is not valid","type":"OAuthException","code":131009,"error_data":{"messaging_product":"whatsapp","details":"cc must be 1-3 digits"},"fbtrace_id":"x"}}"#;
    let e = GraphError::from_body(400, body);
    assert_eq!(
        e.message,
        "(#131009) Parameter value is not valid (cc must be 1-3 digits)"
    );
    assert_eq!(
        e.summary(),
        "(#131009) Parameter value is not valid (cc must be 1-3 digits)"
    );
}

#[test]
fn error_data_as_json_string() {
    let body = br#"{"error":{"message":"Wait","code":133008,"error_data":"{\"messaging_product\":\"whatsapp\",\"details\":\"Try again in 10 minutes\"}"}}"#;
    let e = GraphError::from_body(400, body);
    assert_eq!(e.message, "Wait (Try again in 10 minutes)");
}

#[test]
fn error_data_as_plain_string_or_without_details() {
    let e = GraphError::from_body(
        400,
        br#"{"error":{"message":"M","code":1,"error_data":"plain words"}}"#,
    );
    assert_eq!(e.message, "M (plain words)");
    let e = GraphError::from_body(
        400,
        br#"{"error":{"message":"M","code":1,"error_data":{"messaging_product":"whatsapp"}}}"#,
    );
    assert_eq!(e.message, "M");
    let e = GraphError::from_body(
        400,
        br#"{"error":{"message":"M","code":1,"error_data":[1]}}"#,
    );
    assert_eq!(e.message, "M");
}

#[test]
fn non_json_proxy_page() {
    let body = b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>";
    let e = GraphError::from_body(503, body);
    assert_eq!(e.code, None);
    assert_eq!(e.http_status, Some(503));
    assert!(
        e.message
            .starts_with("HTTP 503 Service Unavailable (non-JSON body: 503 Service Temporarily"),
        "{}",
        e.message
    );
    assert!(!e.message.contains('<'));
    assert!(!e.message.contains('\n'));
    assert_eq!(e.class(), ErrorClass::Transient);
}

#[test]
fn long_non_json_body_is_cut() {
    let body = "x".repeat(5000);
    let e = GraphError::from_body(502, body.as_bytes());
    assert!(e.message.len() < 200, "{}", e.message);
    assert!(e.message.ends_with("…)"));
}

#[test]
fn empty_and_odd_bodies() {
    let e = GraphError::from_body(502, b"");
    assert_eq!(e.message, "HTTP 502 Bad Gateway (empty body)");
    assert_eq!(e.class(), ErrorClass::Transient);
    let e = GraphError::from_body(400, b"[1,2]");
    assert_eq!(e.code, None);
    assert_eq!(e.class(), ErrorClass::Permanent);
    let e = GraphError::from_body(401, br#"{"error":"invalid_token"}"#);
    assert_eq!(e.code, None);
    assert!(e.message.contains("invalid_token"));
    let e = GraphError::from_body(599, b"\xff\xfe");
    assert_eq!(e.http_status, Some(599));
    assert!(e.message.starts_with("HTTP 599"));
}

#[test]
fn created_id_accepts_numeric_ids_only() {
    assert_eq!(
        created_id(200, br#"{"id":"1906385232743451"}"#),
        Ok("1906385232743451".to_string())
    );
    assert_eq!(
        created_id(200, br#"{"id":1906385232743451}"#),
        Ok("1906385232743451".to_string())
    );
    for bad in [
        &br#"{"id":""}"#[..],
        br#"{"id":"abc"}"#,
        br#"{"success":true}"#,
        b"",
        b"<html>ok</html>",
        br#"{"id":null}"#,
    ] {
        let f = created_id(200, bad).unwrap_err();
        assert!(f.in_doubt(), "{bad:?} must be in doubt");
        assert!(f.summary().contains("without a usable phone number id"));
    }
}

#[test]
fn created_id_passes_errors_through() {
    let f = created_id(400, br#"{"error":{"message":"bad","code":100}}"#).unwrap_err();
    assert_eq!(f.class(), ErrorClass::Permanent);
    assert!(!f.in_doubt());
    // An error body even with a 200 status is an error.
    let f = created_id(200, br#"{"error":{"message":"x","code":190}}"#).unwrap_err();
    assert_eq!(f.class(), ErrorClass::Token);
}

#[test]
fn listing_pages() {
    let body = br#"{"data":[
        {"id":"111","display_phone_number":"+1 555-010-0001"},
        {"id":"222","display_phone_number":"+44 20 7946 0000"},
        {"display_phone_number":"+1 no id"}],
      "paging":{"cursors":{"before":"QVFI","after":"QVFIUk"},"next":"https://graph.facebook.com/v25.0/1/phone_numbers?after=QVFIUk"}}"#;
    let page = list_page(200, body).unwrap();
    assert_eq!(page.numbers.len(), 2);
    assert_eq!(page.numbers[1].id, "222");
    assert_eq!(page.numbers[0].display_phone_number, "+1 555-010-0001");
    assert_eq!(page.after.as_deref(), Some("QVFIUk"));
}

#[test]
fn last_page_has_no_next() {
    let body = br#"{"data":[{"id":"1","display_phone_number":"+1"}],"paging":{"cursors":{"before":"a","after":"b"}}}"#;
    assert_eq!(list_page(200, body).unwrap().after, None);
    assert_eq!(list_page(200, br#"{"data":[]}"#).unwrap().after, None);
}

#[test]
fn next_without_cursors_uses_the_url() {
    let body = br#"{"data":[],"paging":{"next":"https://graph.facebook.com/v25.0/1/phone_numbers?limit=100&after=Zm9v%3D"}}"#;
    assert_eq!(
        list_page(200, body).unwrap().after.as_deref(),
        Some("Zm9v=")
    );
}

#[test]
fn listing_errors() {
    let f = list_page(403, br#"{"error":{"message":"no access","code":200}}"#).unwrap_err();
    assert_eq!(f.class(), ErrorClass::Permanent);
    let f = list_page(200, b"not json").unwrap_err();
    assert!(f.summary().contains("unexpected listing answer"));
    let f = list_page(200, br#"{"items":[]}"#).unwrap_err();
    assert!(matches!(f, Failure::Graph(_)));
}

#[test]
fn step_success_needs_success_true() {
    assert_eq!(step_success(200, br#"{"success":true}"#), Ok(()));
    assert_eq!(step_success(200, br#"{"success":true,"id":"123"}"#), Ok(()));
    assert_eq!(step_success(200, br#"{"success":"true"}"#), Ok(()));
    for (body, says) in [
        (&br#"{"success":false}"#[..], "success false"),
        (br#"{"id":"123"}"#, "no success field"),
        (b"", "no success field"),
        (b"<html>ok</html>", "no success field"),
    ] {
        let f = step_success(200, body).unwrap_err();
        assert!(f.in_doubt(), "{body:?}");
        assert!(f.summary().contains(says), "{}", f.summary());
        assert!(f.summary().contains("may or may not"), "{}", f.summary());
    }
    // An error is the error, whatever the status.
    let f = step_success(400, br#"{"error":{"message":"(#133006) x","code":133006}}"#).unwrap_err();
    assert_eq!((f.code(), f.in_doubt()), (Some(133006), false));
    let f = step_success(200, br#"{"error":{"message":"m","code":136025}}"#).unwrap_err();
    assert_eq!(f.code(), Some(136025));
}

#[test]
fn number_state_is_read_leniently() {
    let body = br#"{"id":"1906385232743451","display_phone_number":"+1 555-010-0001","verified_name":"Acme","status":"CONNECTED","code_verification_status":"VERIFIED","name_status":"APPROVED","new_name_status":"NONE","quality_rating":"GREEN","platform_type":"CLOUD_API","throughput":{"level":"STANDARD"},"messaging_limit_tier":"TIER_1K","is_official_business_account":false}"#;
    let n = number_state(200, body).unwrap();
    assert_eq!(
        n,
        NumberState {
            id: Some("1906385232743451".into()),
            display_phone_number: Some("+1 555-010-0001".into()),
            verified_name: Some("Acme".into()),
            status: Some("CONNECTED".into()),
            code_verification_status: Some("VERIFIED".into()),
            name_status: Some("APPROVED".into()),
            new_name_status: Some("NONE".into()),
            quality_rating: Some("GREEN".into()),
            platform_type: Some("CLOUD_API".into()),
            throughput_level: Some("STANDARD".into()),
        }
    );
    // Missing, null, empty or oddly typed fields are just absent.
    let n = number_state(
        200,
        br#"{"id":12,"status":null,"name_status":"","throughput":[]}"#,
    )
    .unwrap();
    assert_eq!(n.id.as_deref(), Some("12"));
    assert_eq!(
        (n.status, n.name_status, n.throughput_level),
        (None, None, None)
    );
    let f = number_state(200, b"[]").unwrap_err();
    assert!(f.summary().contains("unexpected number answer"));
    let f = number_state(
        400,
        br#"{"error":{"message":"Unsupported get request.","code":100,"error_subcode":33}}"#,
    )
    .unwrap_err();
    assert_eq!(f.class(), ErrorClass::Permanent);
}
