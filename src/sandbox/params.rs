//! The parameters of the two calls, checked as Meta checks them (code 100 on
//! the first problem): the create's `cc`, `phone_number`, `verified_name`,
//! `migrate_phone_number`, `preverified_id`, and the listing's `fields`,
//! `limit` and `after`. Parameters come from the body (form or JSON) or the
//! query string; the body wins, as in a merged Graph request.

use super::meta::GraphErr;

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

/// Fields a listing can return; `id` always comes.
pub(crate) const KNOWN_FIELDS: [&str; 5] = [
    "id",
    "display_phone_number",
    "verified_name",
    "code_verification_status",
    "status",
];

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

pub(crate) fn list(p: Params<'_>) -> Result<List, GraphErr> {
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
}
