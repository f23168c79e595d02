//! What to do about an error, in one line, for the summary (issue "advice
//! with each error"): raw Meta errors leave people stuck. One table, each line
//! with the Meta source it rests on (abbreviations of
//! `shared/reference/graph-api.md` §10: ERRH error handling, TOK access tokens,
//! PHONES phone numbers, OAS Meta's OpenAPI spec, WAERR WhatsApp error codes,
//! RL rate limiting, GREF the phone_numbers reference, REG registration,
//! MIG migration, VCREF verify_code).

/// One line of advice and where Meta says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advice {
    pub text: &'static str,
    pub source: &'static str,
}

const fn a(text: &'static str, source: &'static str) -> Advice {
    Advice { text, source }
}

/// The advice for an error code (and subcode), if the table has one. A
/// subcode-specific line wins over the code's.
pub fn for_code(code: i64, subcode: Option<i64>) -> Option<Advice> {
    Some(match (code, subcode) {
        (190 | 102, _) => a(
            "the access token was refused: generate a new system-user token and set its variable again",
            "ERRH, TOK",
        ),
        (104, _) => a(
            "no access token reached Meta: check the token variable is set for these rows",
            "GREF",
        ),
        (200, Some(1349175)) => a(
            "the business portfolio's number cap is reached: business verification raises it from 2 to 20 numbers",
            "PHONES, OAS",
        ),
        (200000, Some(3095008)) => a(
            "Meta refuses to add numbers for this app: the endpoint is for Solution Partners / Tech Providers",
            "GREF (code); third-party observation (subcode)",
        ),
        (200000, _) => a(
            "Meta cannot add the number to this WABA: check the number is not on another account and the WABA is approved",
            "GREF",
        ),
        (10 | 200..=299, _) => a(
            "permission missing: grant whatsapp_business_management to the system user on that WABA",
            "ERRH, TOK",
        ),
        (803, _) | (100, Some(33)) => a(
            "wrong WABA id, or the token has no access to it: check waba_id and the system user's assets",
            "OAS, WAERR",
        ),
        (100, Some(2388012)) => a(
            "the number is already in this WABA's list but was not found when looked up: check it in WhatsApp Manager",
            "WAERR",
        ),
        (100, Some(2388001..=2388999)) | (2388000..=2388999, _) => a(
            "migration preconditions: two-step verification off on the source, an approved display name, a payment method on the destination",
            "WAERR, MIG",
        ),
        (368, _) => a(
            "the WABA is blocked for a policy violation: see Business Support Home; do not retry",
            "ERRH, WAERR",
        ),
        (80007 | 80008, _) => a(
            "the WABA's call budget was spent: wait, or lower --rate-per-waba (the run pauses by itself)",
            "RL, WAERR",
        ),
        (4 | 17 | 32 | 341 | 613, _) => a(
            "the app's rate limit was reached: spread the work (--rate) or wait an hour",
            "RL, ERRH",
        ),
        (133005, _) => a(
            "two-step PIN mismatch: use the number's current PIN, or turn two-step verification off in WhatsApp Manager",
            "WAERR, REG",
        ),
        (133006, _) => a(
            "the number is not verified: request a code (retry --through request-code), then verify",
            "WAERR",
        ),
        (133008 | 133009, _) => a(
            "too many or too fast PIN attempts: wait as Meta's message says before registering again",
            "WAERR",
        ),
        (133016, _) => a(
            "too many register calls in 72 hours: the number is locked for 72 hours",
            "WAERR, REG",
        ),
        (136024, _) => a(
            "the number is already verified: no code is needed, carry on with --through register",
            "PHONES",
        ),
        (136025, _) => a(
            "the code was wrong or expired: give the right code (--codes), or ask for a new one (retry --through request-code)",
            "VCREF",
        ),
        (100, _) => a(
            "a parameter was refused: the message names it; fix the manifest row",
            "ERRH, WAERR",
        ),
        _ => return None,
    })
}

/// For rows whose create got no answer and could not be looked up.
pub const IN_DOUBT: Advice = a(
    "\"may have succeeded\": the request reached Meta but no answer came back, and the WABA's list could not be read; check the number in WhatsApp Manager before sending it again",
    "SPEC 4 (our rule)",
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_codes_have_advice_and_subcodes_win() {
        for code in [190, 10, 200, 299, 803, 368, 80007, 80008, 2388103] {
            assert!(for_code(code, None).is_some(), "{code}");
        }
        assert!(
            for_code(200, Some(1349175))
                .unwrap()
                .text
                .contains("2 to 20")
        );
        assert!(
            for_code(200, None)
                .unwrap()
                .text
                .contains("whatsapp_business_management")
        );
        assert!(for_code(100, Some(33)).unwrap().text.contains("WABA id"));
        assert!(
            for_code(100, Some(2388103))
                .unwrap()
                .text
                .contains("two-step")
        );
        assert_eq!(for_code(999_999, None), None);
        for code in [190, 200, 803, 368, 80008] {
            assert!(!for_code(code, None).unwrap().source.is_empty());
        }
    }
}
