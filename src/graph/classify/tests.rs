//! The classification table of SPEC section 4, both sides of every line.

use super::*;

fn coded(code: i64) -> GraphError {
    GraphError {
        http_status: Some(400),
        code: Some(code),
        message: "some error".into(),
        ..GraphError::default()
    }
}

fn with_sub(code: i64, subcode: i64, message: &str) -> GraphError {
    GraphError {
        http_status: Some(400),
        code: Some(code),
        subcode: Some(subcode),
        message: message.into(),
        ..GraphError::default()
    }
}

fn status_only(status: u16) -> GraphError {
    GraphError {
        http_status: Some(status),
        message: format!("HTTP {status}"),
        ..GraphError::default()
    }
}

#[test]
fn transient_codes() {
    for code in [
        1, 2, 4, 17, 32, 341, 613, 131000, 131016, 131057, 133004, 2494100,
    ] {
        assert_eq!(coded(code).class(), ErrorClass::Transient, "code {code}");
    }
}

#[test]
fn transient_codes_stay_transient_whatever_the_status() {
    let mut e = coded(2);
    e.http_status = Some(400);
    assert_eq!(e.class(), ErrorClass::Transient);
    let mut e = coded(4);
    e.subcode = Some(2446080);
    e.http_status = Some(429);
    assert_eq!(e.class(), ErrorClass::Transient);
}

#[test]
fn buc_codes_pause_the_waba() {
    for code in [80007, 80008, 80000, 80004, 80009, 80014] {
        assert_eq!(
            coded(code).class(),
            ErrorClass::ThrottledWaba,
            "code {code}"
        );
    }
    // Not BUC just because it starts with 8.
    assert_eq!(coded(8000).class(), ErrorClass::Permanent);
    assert_eq!(coded(80015).class(), ErrorClass::Permanent);
}

#[test]
fn recently_deleted_waits_five_minutes() {
    assert_eq!(
        coded(133015).class(),
        ErrorClass::WaitAtLeast(Duration::from_secs(300))
    );
}

#[test]
fn token_codes() {
    assert_eq!(coded(190).class(), ErrorClass::Token);
    for sub in [460, 463, 467] {
        assert_eq!(with_sub(190, sub, "x").class(), ErrorClass::Token);
    }
    assert_eq!(coded(102).class(), ErrorClass::Token);
    // Even if Meta flagged it transient.
    let mut e = coded(190);
    e.is_transient = true;
    assert_eq!(e.class(), ErrorClass::Token);
}

#[test]
fn permanent_codes() {
    for code in [
        3, 10, 33, 100, 104, 200, 250, 299, 300, 368, 803, 2500, 200000, 2388001, 2388103, 136024,
        136025, 131031, 133016,
    ] {
        assert_eq!(coded(code).class(), ErrorClass::Permanent, "code {code}");
    }
}

#[test]
fn onboarding_codes_are_known_permanent() {
    for code in [
        136024, 136025, 133005, 133006, 133008, 133009, 133010, 133016,
    ] {
        let mut e = coded(code);
        e.is_transient = true;
        assert_eq!(e.class(), ErrorClass::Permanent, "code {code}");
    }
    // The portfolio cap: 403, 200 / 1349175, even marked transient, even
    // under a code this table does not know.
    let mut cap = with_sub(200, 1349175, "Phone number limit exceeded");
    cap.http_status = Some(403);
    cap.is_transient = true;
    assert_eq!(cap.class(), ErrorClass::Permanent);
    let mut odd = with_sub(999_999, 1349175, "Phone number limit exceeded");
    odd.is_transient = true;
    assert_eq!(odd.class(), ErrorClass::Permanent);
    // 133015 still waits.
    assert_eq!(
        coded(133015).class(),
        ErrorClass::WaitAtLeast(RECENTLY_DELETED_WAIT)
    );
}

#[test]
fn is_transient_does_not_override_known_permanent_codes() {
    for code in [3, 10, 100, 104, 200, 368, 803, 2500, 200000, 136024] {
        let mut e = coded(code);
        e.is_transient = true;
        assert_eq!(e.class(), ErrorClass::Permanent, "code {code}");
    }
    // Nor a known permanent subcode under an unknown code.
    let mut e = with_sub(999_999, 2388103, "migration");
    e.is_transient = true;
    assert_eq!(e.class(), ErrorClass::Permanent);
}

#[test]
fn unknown_codes_follow_is_transient() {
    assert_eq!(coded(987_654).class(), ErrorClass::Permanent);
    let mut e = coded(987_654);
    e.is_transient = true;
    assert_eq!(e.class(), ErrorClass::Transient);
}

#[test]
fn already_exists_by_subcode() {
    assert_eq!(
        with_sub(
            100,
            2388012,
            "This phone number already exists in your list"
        )
        .class(),
        ErrorClass::AlreadyExists
    );
    // The subcode decides even with an unhelpful message.
    assert!(with_sub(100, 2388012, "Invalid parameter").is_already_exists());
    // Other 2388xxx are permanent.
    assert_eq!(
        with_sub(100, 2388091, "not eligible").class(),
        ErrorClass::Permanent
    );
}

#[test]
fn already_exists_by_message() {
    let e = coded(100);
    assert!(!e.is_already_exists());
    let mut e = coded(100);
    e.message = "Phone number is already registered with WhatsApp Business".into();
    assert!(e.is_already_exists());
    let mut e = coded(200000);
    e.message = "Cannot add phone number: it ALREADY EXISTS on this account".into();
    assert!(e.is_already_exists());
    // "already" alone is not enough.
    let mut e = coded(100);
    e.message = "Parameter already set twice".into();
    assert!(!e.is_already_exists());
    // Another code with that message is not reconciled.
    let mut e = coded(368);
    e.message = "Number already registered, account restricted".into();
    assert_eq!(e.class(), ErrorClass::Permanent);
}

#[test]
fn partner_permission_refusal_is_not_already_exists() {
    let e = with_sub(
        200000,
        3095008,
        "Cannot add phone number: number already registered (not a partner)",
    );
    assert_eq!(e.class(), ErrorClass::Permanent);
    assert_eq!(
        with_sub(
            200000,
            3095008,
            "Cannot add phone number to WhatsApp Business Account"
        )
        .class(),
        ErrorClass::Permanent
    );
}

#[test]
fn status_is_the_fallback_without_a_code() {
    for s in [429, 500, 502, 503, 504] {
        assert_eq!(status_only(s).class(), ErrorClass::Transient, "status {s}");
    }
    assert_eq!(status_only(409).class(), ErrorClass::AlreadyExists);
    for s in [400, 401, 403, 404, 200, 302] {
        assert_eq!(status_only(s).class(), ErrorClass::Permanent, "status {s}");
    }
    // With a code, the status says nothing: code 100 as a 500 is still permanent.
    let mut e = coded(100);
    e.http_status = Some(500);
    assert_eq!(e.class(), ErrorClass::Permanent);
}

#[test]
fn in_doubt_only_for_gateway_failures_and_lost_answers() {
    assert!(status_only(502).in_doubt());
    assert!(status_only(504).in_doubt());
    assert!(status_only(500).in_doubt());
    assert!(!status_only(503).in_doubt());
    assert!(!status_only(429).in_doubt());
    assert!(!coded(2).in_doubt());
    let lost = Failure::Network {
        message: "timed out".into(),
        in_doubt: true,
    };
    assert!(lost.in_doubt());
    assert_eq!(lost.class(), ErrorClass::Transient);
    let refused = Failure::Network {
        message: "connection refused".into(),
        in_doubt: false,
    };
    assert!(!refused.in_doubt());
    assert_eq!(refused.class(), ErrorClass::Transient);
}

#[test]
fn headers_turn_app_throttling_into_an_app_pause() {
    let throttled = Failure::Graph(coded(4));
    assert_eq!(
        classify(&throttled, &Hints::default()),
        ErrorClass::Transient
    );
    let full = Hints {
        app_usage_pct: Some(100),
        ..Hints::default()
    };
    assert_eq!(classify(&throttled, &full), ErrorClass::ThrottledApp);
    let nearly = Hints {
        app_usage_pct: Some(99),
        ..Hints::default()
    };
    assert_eq!(classify(&throttled, &nearly), ErrorClass::Transient);
    let regain = Hints {
        waba_regain: Some(Duration::from_secs(60)),
        ..Hints::default()
    };
    for code in [4, 17, 32, 341, 613] {
        assert_eq!(
            classify(&Failure::Graph(coded(code)), &regain),
            ErrorClass::ThrottledApp,
            "code {code}"
        );
    }
    let retry_after = Hints {
        retry_after: Some(Duration::from_secs(30)),
        ..Hints::default()
    };
    assert_eq!(classify(&throttled, &retry_after), ErrorClass::ThrottledApp);
}

#[test]
fn headers_do_not_change_other_classes() {
    let full = Hints {
        app_usage_pct: Some(100),
        waba_regain: Some(Duration::from_secs(600)),
        ..Hints::default()
    };
    assert_eq!(
        classify(&Failure::Graph(coded(2)), &full),
        ErrorClass::Transient
    );
    assert_eq!(
        classify(&Failure::Graph(coded(80008)), &full),
        ErrorClass::ThrottledWaba
    );
    assert_eq!(
        classify(&Failure::Graph(coded(100)), &full),
        ErrorClass::Permanent
    );
    let net = Failure::Network {
        message: "reset".into(),
        in_doubt: true,
    };
    assert_eq!(classify(&net, &full), ErrorClass::Transient);
}

#[test]
fn failure_code_and_summary() {
    let f = Failure::Graph(with_sub(100, 33, "Unsupported post request"));
    assert_eq!(f.code(), Some(100));
    assert_eq!(f.summary(), "(#100/33) Unsupported post request");
    let f = Failure::Network {
        message: "could not connect: refused".into(),
        in_doubt: false,
    };
    assert_eq!(f.code(), None);
    assert_eq!(f.summary(), "could not connect: refused");
}

#[test]
fn every_shape_of_already_exists() {
    let e = |code, subcode, message: &str| GraphError {
        code: Some(code),
        subcode,
        message: message.into(),
        ..GraphError::default()
    };
    let shapes = [
        e(
            100,
            Some(2388012),
            "This phone number already exists in your list",
        ),
        e(
            100,
            Some(2388093),
            "not eligible since it is not being migrated",
        ),
        e(
            100,
            None,
            "Phone number is already registered with WhatsApp Business",
        ),
        e(
            200000,
            None,
            "The phone number is already registered to a WhatsApp account",
        ),
        GraphError {
            user_msg: Some("This number is already in use on another account.".into()),
            ..e(
                200000,
                None,
                "Cannot add phone number to WhatsApp Business Account",
            )
        },
        GraphError {
            http_status: Some(409),
            ..e(100, None, "Conflict")
        },
    ];
    for shape in shapes {
        assert_eq!(shape.class(), ErrorClass::AlreadyExists, "{shape:?}");
    }
    // Not a duplicate: a partner-permission refusal, a plain 200000.
    assert_eq!(
        e(200000, Some(3095008), "already registered business? no").class(),
        ErrorClass::Permanent
    );
    assert_eq!(
        e(
            200000,
            None,
            "Cannot add phone number to WhatsApp Business Account"
        )
        .class(),
        ErrorClass::Permanent
    );
}
