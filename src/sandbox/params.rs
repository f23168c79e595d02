//! The parameters of each call, checked as Meta checks them (code 100 on the
//! first problem): the create's `cc`, `phone_number`, `verified_name`,
//! `migrate_phone_number`, `preverified_id`; the listing's `fields`, `limit`
//! and `after`; request_code's `code_method` and `language`; verify_code's
//! `code`; register's `messaging_product`, `pin` and
//! `data_localization_region`; a number read's `fields`. Parameters come from
//! the body (form or JSON) or the query string; the body wins, as in a merged
//! Graph request. Error messages never echo a code or a PIN.

use super::meta::GraphErr;
use super::number::KNOWN_FIELDS;

/// Parameters of one request: body pairs first, then query pairs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params<'a> {
    pub body: &'a [(String, String)],
    pub query: &'a [(String, String)],
}

impl<'a> Params<'a> {
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        self.body
            .iter()
            .chain(self.query.iter())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A create request that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Create {
    pub cc: String,
    pub phone_number: String,
    pub migrate_phone_number: bool,
    pub verified_name: Option<String>,
    pub preverified_id: Option<String>,
}

/// Non-empty and ASCII digits only (also the WABA id and version checks).
pub(crate) fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub(crate) fn create(p: Params<'_>) -> Result<Create, GraphErr> {
    let cc = p
        .get("cc")
        .ok_or_else(|| GraphErr::param("The parameter cc is required"))?;
    if !digits(cc) || cc.len() > 3 {
        return Err(GraphErr::param(
            "Param cc must be a country calling code of 1 to 3 digits, without +",
        ));
    }
    let phone_number = p
        .get("phone_number")
        .ok_or_else(|| GraphErr::param("The parameter phone_number is required"))?;
    if !digits(phone_number) {
        return Err(GraphErr::param(
            "Param phone_number must be the number without the country code, digits only",
        ));
    }
    if cc.len() + phone_number.len() > 15 {
        return Err(GraphErr::param("phone_number must be in E.164 format"));
    }
    let migrate_phone_number = match p.get("migrate_phone_number") {
        None => false,
        Some("true" | "1") => true,
        Some("false" | "0") => false,
        Some(_) => {
            return Err(GraphErr::param(
                "Param migrate_phone_number must be a boolean",
            ));
        }
    };
    let verified_name = match p.get("verified_name") {
        None => None,
        Some(name) => {
            let n = name.trim().chars().count();
            if !(2..=75).contains(&n) {
                return Err(GraphErr::param(
                    "Param verified_name must be between 2 and 75 characters",
                ));
            }
            Some(name.trim().to_string())
        }
    };
    Ok(Create {
        cc: cc.to_string(),
        phone_number: phone_number.to_string(),
        migrate_phone_number,
        verified_name,
        preverified_id: p.get("preverified_id").map(str::to_string),
    })
}

/// A listing request that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct List {
    pub fields: Vec<String>,
    pub limit: usize,
    /// The id the `after` cursor points at.
    pub after: Option<String>,
}

pub(crate) const DEFAULT_LIMIT: usize = 25;
pub(crate) const MAX_LIMIT: usize = 100;

/// `fields` of a listing or a number read: Meta's default set when absent.
pub(crate) fn fields(p: Params<'_>) -> Result<Vec<String>, GraphErr> {
    let fields: Vec<String> = match p.get("fields") {
        None | Some("") => vec![
            "id".into(),
            "display_phone_number".into(),
            "verified_name".into(),
        ],
        Some(f) => f.split(',').map(|s| s.trim().to_string()).collect(),
    };
    if let Some(bad) = fields.iter().find(|f| !KNOWN_FIELDS.contains(&f.as_str())) {
        return Err(GraphErr::param(format!(
            "Tried accessing nonexisting field ({bad}) on node type (WhatsAppBusinessPhoneNumber)"
        )));
    }
    Ok(fields)
}

pub(crate) fn list(p: Params<'_>) -> Result<List, GraphErr> {
    let fields = fields(p)?;
    let limit = match p.get("limit") {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if n > 0 => n.min(MAX_LIMIT),
            _ => return Err(GraphErr::param("Param limit must be a positive integer")),
        },
    };
    let after = match p.get("after") {
        None => None,
        Some(c) => Some(
            decode_cursor(c).ok_or_else(|| GraphErr::param("Param after is not a valid cursor"))?,
        ),
    };
    Ok(List {
        fields,
        limit,
        after,
    })
}

/// request_code's parameters: `code_method` SMS or VOICE, `language` a
/// locale like `en_US` (both required, as in Meta's OpenAPI schema).
pub(crate) fn request_code(p: Params<'_>) -> Result<(), GraphErr> {
    match p.get("code_method") {
        None => return Err(GraphErr::param("The parameter code_method is required")),
        Some("SMS" | "VOICE") => {}
        Some(_) => return Err(GraphErr::param("code_method must be SMS or VOICE")),
    }
    let language = p
        .get("language")
        .ok_or_else(|| GraphErr::param("The parameter language is required"))?;
    let b = language.as_bytes();
    let locale = b.len() == 5
        && b[..2].iter().all(u8::is_ascii_lowercase)
        && b[2] == b'_'
        && b[3..].iter().all(u8::is_ascii_uppercase);
    if !locale {
        return Err(GraphErr::param(
            "Param language must be a locale like en_US",
        ));
    }
    Ok(())
}

fn six_digits(s: &str) -> bool {
    s.len() == 6 && digits(s)
}

/// verify_code's `code`: exactly 6 digits (clients strip the `-` of `123-456`).
pub(crate) fn verify_code<'a>(p: Params<'a>) -> Result<&'a str, GraphErr> {
    match p.get("code") {
        None => Err(GraphErr::param("The parameter code is required")),
        Some(code) if six_digits(code) => Ok(code),
        Some(_) => Err(GraphErr::code_format()),
    }
}

/// Meta's list of `data_localization_region` values.
pub(crate) const LOCALIZATION_REGIONS: [&str; 14] = [
    "AU", "ID", "IN", "JP", "SG", "KR", "DE", "CH", "GB", "BR", "BH", "ZA", "AE", "CA",
];

/// register's parameters; the PIN (6 digits) is returned.
pub(crate) fn register<'a>(p: Params<'a>) -> Result<&'a str, GraphErr> {
    match p.get("messaging_product") {
        Some("whatsapp") => {}
        None => {
            return Err(GraphErr::param(
                "The parameter messaging_product is required",
            ));
        }
        Some(_) => return Err(GraphErr::param("Param messaging_product must be whatsapp")),
    }
    let pin = match p.get("pin") {
        None => return Err(GraphErr::param("The parameter pin is required")),
        Some(pin) if six_digits(pin) => pin,
        Some(_) => return Err(GraphErr::pin_format()),
    };
    if let Some(region) = p.get("data_localization_region")
        && !LOCALIZATION_REGIONS.contains(&region)
    {
        return Err(GraphErr::param(format!(
            "Param data_localization_region must be one of {}",
            LOCALIZATION_REGIONS.join(", ")
        )));
    }
    Ok(pin)
}

/// Cursors are opaque to clients; here they wrap the id of a listed number.
pub(crate) fn encode_cursor(id: &str) -> String {
    hex::encode(format!("cursor:{id}"))
}

fn decode_cursor(c: &str) -> Option<String> {
    let raw = String::from_utf8(hex::decode(c).ok()?).ok()?;
    raw.strip_prefix("cursor:").map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn try_create(kv: &[(&str, &str)]) -> Result<Create, GraphErr> {
        let body = pairs(kv);
        create(Params {
            body: &body,
            query: &[],
        })
    }

    #[test]
    fn create_accepts_meta_shapes() {
        let c = try_create(&[
            ("cc", "44"),
            ("phone_number", "7700900123"),
            ("migrate_phone_number", "1"),
            ("verified_name", "  Acme  "),
        ])
        .unwrap();
        assert!(c.migrate_phone_number);
        assert_eq!(c.verified_name.as_deref(), Some("Acme"));
    }

    #[test]
    fn create_rejects_each_bad_field_with_100() {
        let long = "x".repeat(76);
        for kv in [
            vec![("phone_number", "5550100001")],
            vec![("cc", "1")],
            vec![("cc", "+1"), ("phone_number", "5550100001")],
            vec![("cc", "1234"), ("phone_number", "5550100001")],
            vec![("cc", "1"), ("phone_number", "555-0100")],
            vec![("cc", "1"), ("phone_number", "5550100001234567")],
            vec![
                ("cc", "1"),
                ("phone_number", "5550100001"),
                ("migrate_phone_number", "yes"),
            ],
            vec![
                ("cc", "1"),
                ("phone_number", "5550100001"),
                ("verified_name", "A"),
            ],
            vec![
                ("cc", "1"),
                ("phone_number", "5550100001"),
                ("verified_name", &long),
            ],
        ] {
            let e = try_create(&kv).unwrap_err();
            assert_eq!((e.code, e.status), (100, 400), "{kv:?}");
        }
    }

    #[test]
    fn query_params_count_and_body_wins() {
        let body = pairs(&[("cc", "1")]);
        let query = pairs(&[("cc", "99"), ("phone_number", "5550100001")]);
        let c = create(Params {
            body: &body,
            query: &query,
        })
        .unwrap();
        assert_eq!(
            (c.cc.as_str(), c.phone_number.as_str()),
            ("1", "5550100001")
        );
    }

    #[test]
    fn list_limits_fields_and_cursors() {
        let q = pairs(&[("limit", "500"), ("fields", "id,display_phone_number")]);
        let l = list(Params {
            body: &[],
            query: &q,
        })
        .unwrap();
        assert_eq!(l.limit, MAX_LIMIT);
        let cursor = encode_cursor("123");
        let q = pairs(&[("after", cursor.as_str())]);
        let l = list(Params {
            body: &[],
            query: &q,
        })
        .unwrap();
        assert_eq!((l.limit, l.after.as_deref()), (DEFAULT_LIMIT, Some("123")));
        for bad in [("limit", "0"), ("after", "zz"), ("fields", "id,secret")] {
            let q = pairs(&[bad]);
            assert!(
                list(Params {
                    body: &[],
                    query: &q
                })
                .is_err(),
                "{bad:?}"
            );
        }
    }

    fn with(kv: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs(kv)
    }

    fn p(body: &[(String, String)]) -> Params<'_> {
        Params { body, query: &[] }
    }

    #[test]
    fn request_code_needs_a_method_and_a_locale() {
        assert!(request_code(p(&with(&[("code_method", "SMS"), ("language", "en_US")]))).is_ok());
        assert!(request_code(p(&with(&[("code_method", "VOICE"), ("language", "pt_BR")]))).is_ok());
        for kv in [
            vec![("language", "en_US")],
            vec![("code_method", "SMS")],
            vec![("code_method", "sms"), ("language", "en_US")],
            vec![("code_method", "EMAIL"), ("language", "en_US")],
            vec![("code_method", "SMS"), ("language", "en")],
            vec![("code_method", "SMS"), ("language", "EN_us")],
            vec![("code_method", "SMS"), ("language", "en-US")],
        ] {
            assert_eq!(request_code(p(&with(&kv))).unwrap_err().code, 100, "{kv:?}");
        }
    }

    #[test]
    fn codes_and_pins_are_six_digits_and_never_echoed() {
        assert_eq!(
            verify_code(p(&with(&[("code", "012345")]))).unwrap(),
            "012345"
        );
        for bad in ["12345", "1234567", "123-456", "12345a", ""] {
            let e = verify_code(p(&with(&[("code", bad)]))).unwrap_err();
            assert_eq!(
                e.message, "(#100) Invalid verification code format",
                "{bad}"
            );
        }
        let reg = |kv: &[(&str, &str)]| register(p(&with(kv))).map(str::to_string);
        assert_eq!(
            reg(&[("messaging_product", "whatsapp"), ("pin", "000111")]).unwrap(),
            "000111"
        );
        assert!(
            reg(&[
                ("messaging_product", "whatsapp"),
                ("pin", "000111"),
                ("data_localization_region", "DE")
            ])
            .is_ok()
        );
        for kv in [
            vec![("pin", "000111")],
            vec![("messaging_product", "sms"), ("pin", "000111")],
            vec![("messaging_product", "whatsapp")],
            vec![("messaging_product", "whatsapp"), ("pin", "98765")],
            vec![("messaging_product", "whatsapp"), ("pin", "9876543")],
            vec![
                ("messaging_product", "whatsapp"),
                ("pin", "000111"),
                ("data_localization_region", "FR"),
            ],
        ] {
            let e = reg(&kv).unwrap_err();
            assert_eq!(e.code, 100, "{kv:?}");
            assert!(!e.message.contains("98765") && !e.message.contains("000111"));
        }
        assert_eq!(
            reg(&[("messaging_product", "whatsapp"), ("pin", "12")])
                .unwrap_err()
                .message,
            "(#100) PIN must be exactly 6 digits"
        );
    }

    #[test]
    fn read_fields_are_checked() {
        let f = fields(p(&with(&[("fields", "status,name_status,throughput")]))).unwrap();
        assert_eq!(f, vec!["status", "name_status", "throughput"]);
        assert_eq!(fields(p(&[])).unwrap().len(), 3);
        assert!(fields(p(&with(&[("fields", "status,pin")]))).is_err());
    }
}
