//! Building results lines: how a row ended ([`RowResult`]) becomes its line
//! through one constructor per status, so nothing fills the columns by hand
//! and each status always fills the same columns.

use crate::graph::{Failure, NumberState};
use crate::manifest::RawValue;
use crate::schema::{ResultRecord, Status, Step};
use crate::text::clip_message;
use crate::validate::{InvalidRow, RowId, ValidRow};
use chrono::{DateTime, SecondsFormat, Utc};

/// How a row ends up in a run, beyond its manifest fields: what its results
/// line says. Built by `send` (the rules), written here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowResult {
    pub status: Status,
    /// The step the status and the error are about.
    pub step: Step,
    pub phone_number_id: Option<String>,
    /// The last error: why a row `failed`, or what a `skipped` row last met.
    pub failure: Option<Failure>,
    /// More words for `error_message` (why reconciled, gave up, not sent...).
    pub note: Option<String>,
    /// Found on the WABA's phone number list (after a lost answer or an
    /// "already exists"), or found done by reading the number, rather than
    /// done by an answer we saw.
    pub reconciled: bool,
    /// Meta said the number already existed and the lookup found it: it was
    /// there before this run, not created by it.
    pub existed: bool,
    /// Every register call this tool sent on the number (the
    /// `register_calls` column).
    pub register_calls: Vec<DateTime<Utc>>,
    /// What Meta reported of the number, when it was read for `status`.
    pub number: Option<Box<NumberState>>,
    /// The row was never sent in this run (its token was refused or its WABA
    /// stopped before its turn): the error is another row's, so its HTTP
    /// status and trace id are not copied.
    pub sent: bool,
}

impl RowResult {
    /// The number exists with this id.
    pub fn created(phone_number_id: String) -> Self {
        RowResult {
            status: Status::Created,
            step: Step::Create,
            phone_number_id: Some(phone_number_id),
            failure: None,
            note: None,
            reconciled: false,
            existed: false,
            register_calls: Vec::new(),
            number: None,
            sent: true,
        }
    }

    /// The number has reached `status` (`created` .. `registered`) at `step`.
    pub fn progress(status: Status, step: Step, phone_number_id: Option<String>) -> Self {
        RowResult {
            status,
            step,
            phone_number_id,
            ..RowResult::created(String::new())
        }
    }

    /// Refused for good, or out of attempts.
    pub fn failed(step: Step, failure: Failure, note: Option<String>) -> Self {
        RowResult {
            status: Status::Failed,
            step,
            phone_number_id: None,
            failure: Some(failure),
            note,
            reconciled: false,
            existed: false,
            register_calls: Vec::new(),
            number: None,
            sent: true,
        }
    }

    /// Failed without an error from Meta: the tool itself would not send the
    /// call (e.g. the register guard); `reason` says why and what to do.
    pub fn refused(step: Step, reason: String) -> Self {
        RowResult {
            status: Status::Failed,
            step,
            phone_number_id: None,
            failure: None,
            note: Some(reason),
            reconciled: false,
            existed: false,
            register_calls: Vec::new(),
            number: None,
            sent: true,
        }
    }

    /// Failed without being sent, because of `failure` met by another row.
    pub fn not_sent(step: Step, failure: Failure, reason: String) -> Self {
        RowResult {
            sent: false,
            ..RowResult::failed(step, failure, Some(reason))
        }
    }

    /// Not attempted (any more): interrupted or aborted.
    pub fn skipped(step: Step, reason: String, last: Option<Failure>) -> Self {
        RowResult {
            status: Status::Skipped,
            step,
            phone_number_id: None,
            failure: last,
            note: Some(reason),
            reconciled: false,
            existed: false,
            register_calls: Vec::new(),
            number: None,
            sent: true,
        }
    }
}

/// Now, as `finished_at` wants it: RFC 3339, UTC, whole seconds.
fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `base; note`, leaving out whichever part is empty.
fn join_note(base: String, note: Option<&str>) -> String {
    match note.filter(|n| !n.is_empty()) {
        None => base,
        Some(n) if base.is_empty() => n.to_string(),
        Some(n) => format!("{base}; {n}"),
    }
}

impl ResultRecord {
    /// A line with the row's number and origin, `status`, `attempts` and
    /// `finished_at`; every other column empty.
    fn bare(id: &RowId, status: Status, attempts: u32) -> Self {
        ResultRecord {
            row: id.row,
            source: id.source.to_string(),
            waba_id: String::new(),
            cc: String::new(),
            phone_number: String::new(),
            migrate_phone_number: String::new(),
            preverified_id: String::new(),
            verified_name: String::new(),
            token_env: String::new(),
            status,
            phone_number_id: String::new(),
            error_code: String::new(),
            error_subcode: String::new(),
            error_type: String::new(),
            error_message: String::new(),
            fbtrace_id: String::new(),
            http_status: String::new(),
            attempts,
            finished_at: now(),
            step: None,
            register_calls: String::new(),
            code_method: String::new(),
            language: String::new(),
            pin_env: String::new(),
            data_localization_region: String::new(),
            extra: Vec::new(),
        }
    }

    /// The columns every status shares, from a validated row: `phone_number` is the
    /// normalised national digits, `migrate_phone_number` `true`/`false`.
    fn from_valid(row: &ValidRow, status: Status, attempts: u32) -> Self {
        ResultRecord {
            waba_id: row.waba_id.as_str().to_string(),
            cc: row.phone.cc().to_string(),
            phone_number: row.phone.national().to_string(),
            migrate_phone_number: row.migrate_phone_number.to_string(),
            preverified_id: row.preverified_id.as_deref().unwrap_or_default().into(),
            verified_name: row.verified_name.as_deref().unwrap_or_default().into(),
            token_env: row
                .token_env
                .as_ref()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            step: Some(Step::Create),
            extra: row.extra.iter().map(|v| v.to_string()).collect(),
            code_method: row.code_method.as_str().to_string(),
            language: row.language.as_str().to_string(),
            pin_env: row
                .pin_env
                .as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            data_localization_region: row
                .data_localization_region
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            ..Self::bare(&row.id, status, attempts)
        }
    }

    /// The line of `row` after `attempts` calls that ended in `result`.
    pub fn of(row: &ValidRow, attempts: u32, result: &RowResult) -> Self {
        let note = result.note.as_deref();
        let mut rec = match (result.status, &result.failure) {
            (Status::Skipped, last) => {
                let mut rec = Self::skipped_after(row, note.unwrap_or(""), attempts);
                if let Some(f) = last {
                    rec.error_message = join_note(
                        rec.error_message,
                        Some(&format!("last error: {}", f.summary())),
                    );
                }
                rec
            }
            (Status::Failed, Some(failure)) => {
                let mut rec = Self::failed(row, failure, attempts, note);
                if !result.sent {
                    rec.http_status.clear();
                    rec.fbtrace_id.clear();
                    rec.error_message = format!("not sent: {}", note.unwrap_or(""));
                }
                rec
            }
            (Status::Failed, None) => ResultRecord {
                error_message: note.unwrap_or("").to_string(),
                ..Self::from_valid(row, Status::Failed, attempts)
            },
            (status, _) => {
                let id = result.phone_number_id.as_deref().unwrap_or("");
                ResultRecord {
                    status,
                    ..Self::created(row, id, attempts, note)
                }
            }
        };
        rec.register_calls = result
            .register_calls
            .iter()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .collect::<Vec<_>>()
            .join(" ");
        if rec.phone_number_id.is_empty()
            && let Some(id) = &result.phone_number_id
        {
            rec.phone_number_id = id.clone();
        }
        rec.step = Some(result.step);
        rec
    }

    /// The API returned (or the listing found) `phone_number_id`. `note` goes to
    /// `error_message`, e.g. "reconciled: found by listing after an in-doubt attempt".
    pub fn created(
        row: &ValidRow,
        phone_number_id: &str,
        attempts: u32,
        note: Option<&str>,
    ) -> Self {
        ResultRecord {
            phone_number_id: phone_number_id.to_string(),
            error_message: join_note(String::new(), note),
            ..Self::from_valid(row, Status::Created, attempts)
        }
    }

    /// Refused for good, or out of attempts: the last Graph error in its columns, or
    /// the network error (saying so when the request may have reached Meta). `note`
    /// is appended to `error_message`.
    pub fn failed(row: &ValidRow, failure: &Failure, attempts: u32, note: Option<&str>) -> Self {
        let base = Self::from_valid(row, Status::Failed, attempts);
        match failure {
            Failure::Graph(e) => {
                // Meta's `message` is often generic ("(#100) Invalid parameter");
                // `error_user_msg` says what is actually wrong.
                let mut message = clip_message(&e.message).into_owned();
                if let Some(user) = e.user_msg.as_deref().map(clip_message).filter(|u| {
                    let u = u.trim();
                    !u.is_empty() && u != e.message.trim()
                }) {
                    message = if message.is_empty() {
                        user.to_string()
                    } else {
                        format!("{message} ({user})")
                    };
                }
                ResultRecord {
                    error_code: opt(e.code),
                    error_subcode: opt(e.subcode),
                    error_type: e.error_type.clone().unwrap_or_default(),
                    error_message: join_note(message, note),
                    fbtrace_id: e.fbtrace_id.clone().unwrap_or_default(),
                    http_status: opt(e.http_status),
                    ..base
                }
            }
            Failure::Network { message, in_doubt } => {
                let mut text = message.clone();
                if *in_doubt {
                    text = join_note(
                        text,
                        Some("in doubt: the request may have reached Meta and created the number"),
                    );
                }
                ResultRecord {
                    error_message: join_note(text, note),
                    ..base
                }
            }
            Failure::Unreachable { message } => ResultRecord {
                error_message: join_note(format!("not sent: {message}"), note),
                ..base
            },
        }
    }

    /// Failed validation and not sent: the fields as the manifest wrote them, the
    /// reasons joined with "; ".
    pub fn invalid(row: &InvalidRow) -> Self {
        let f = &row.fields;
        let text = |v: &Option<RawValue>| v.as_ref().map(|v| v.text.clone()).unwrap_or_default();
        ResultRecord {
            waba_id: text(&f.waba_id),
            cc: text(&f.cc),
            phone_number: text(&f.phone_number),
            migrate_phone_number: text(&f.migrate_phone_number),
            preverified_id: text(&f.preverified_id),
            verified_name: text(&f.verified_name),
            token_env: text(&f.token_env),
            code_method: text(&f.code_method),
            language: text(&f.language),
            pin_env: text(&f.pin_env),
            data_localization_region: text(&f.data_localization_region),
            extra: row.extra.iter().map(|v| v.to_string()).collect(),
            error_message: row.reasons.join("; "),
            ..Self::bare(&row.id, Status::Invalid, 0)
        }
    }

    /// Not attempted (interrupted or aborted run); `reason` goes to `error_message`.
    pub fn skipped(row: &ValidRow, reason: &str) -> Self {
        Self::skipped_after(row, reason, 0)
    }

    /// Like [`ResultRecord::skipped`], for a row that had already been tried
    /// `attempts` times (e.g. interrupted while waiting to retry).
    pub fn skipped_after(row: &ValidRow, reason: &str, attempts: u32) -> Self {
        ResultRecord {
            error_message: reason.to_string(),
            ..Self::from_valid(row, Status::Skipped, attempts)
        }
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphError;
    use crate::manifest::RawFields;
    use crate::validate::RowId;

    fn valid() -> ValidRow {
        ValidRow {
            id: RowId {
                row: 7,
                source: "clients.yaml:12".into(),
            },
            migrate_phone_number: true,
            verified_name: Some("Acme, \"Support\"".into()),
            ..ValidRow::fixture(7, "7700900123")
                .waba("102290129340398")
                .token_env(Some("CLIENT_A_TOKEN"))
        }
    }

    fn assert_rfc3339_utc(s: &str) {
        let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
        assert_eq!(t.offset().local_minus_utc(), 0, "{s}");
        assert!(s.ends_with('Z'), "{s}");
    }

    #[test]
    fn created_fills_identity_id_and_note() {
        let r = ResultRecord::created(
            &valid(),
            "1234567890",
            2,
            Some("reconciled: found by listing"),
        );
        assert_eq!(r.row, 7);
        assert_eq!(r.source, "clients.yaml:12");
        assert_eq!(r.waba_id, "102290129340398");
        assert_eq!(
            (r.cc.as_str(), r.phone_number.as_str()),
            ("44", "7700900123")
        );
        assert_eq!(r.migrate_phone_number, "true");
        assert_eq!(r.preverified_id, "");
        assert_eq!(r.verified_name, "Acme, \"Support\"");
        assert_eq!(r.token_env, "CLIENT_A_TOKEN");
        assert_eq!(r.status, Status::Created);
        assert_eq!(r.phone_number_id, "1234567890");
        assert_eq!(r.error_message, "reconciled: found by listing");
        assert_eq!(r.error_code, "");
        assert_eq!(r.attempts, 2);
        assert_rfc3339_utc(&r.finished_at);

        let plain = ResultRecord::created(&valid(), "1", 1, None);
        assert_eq!(plain.error_message, "");
    }

    #[test]
    fn failed_with_graph_error_fills_every_error_column() {
        let e = GraphError {
            http_status: Some(400),
            code: Some(100),
            subcode: Some(2388012),
            error_type: Some("OAuthException".into()),
            message: "(#100) Invalid parameter".into(),
            user_title: Some("Number exists".into()),
            user_msg: Some("This number is already registered.".into()),
            fbtrace_id: Some("AbC123".into()),
            is_transient: false,
        };
        let r = ResultRecord::failed(&valid(), &Failure::Graph(e), 1, None);
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.error_code, "100");
        assert_eq!(r.error_subcode, "2388012");
        assert_eq!(r.error_type, "OAuthException");
        assert_eq!(
            r.error_message,
            "(#100) Invalid parameter (This number is already registered.)"
        );
        assert_eq!(r.fbtrace_id, "AbC123");
        assert_eq!(r.http_status, "400");
        assert_eq!(r.phone_number_id, "");
        assert_eq!(r.attempts, 1);
        assert_rfc3339_utc(&r.finished_at);
    }

    #[test]
    fn failed_with_proxy_page_has_only_status_and_message() {
        let e = GraphError {
            http_status: Some(503),
            message: "Service Unavailable".into(),
            ..GraphError::default()
        };
        let r = ResultRecord::failed(&valid(), &Failure::Graph(e), 5, Some("attempts ran out"));
        assert_eq!(r.error_code, "");
        assert_eq!(r.error_subcode, "");
        assert_eq!(r.error_type, "");
        assert_eq!(r.http_status, "503");
        assert_eq!(r.error_message, "Service Unavailable; attempts ran out");
    }

    #[test]
    fn failed_network_says_when_in_doubt() {
        let sure = Failure::Network {
            message: "connection refused".into(),
            in_doubt: false,
        };
        let r = ResultRecord::failed(&valid(), &sure, 5, None);
        assert_eq!(r.error_message, "connection refused");
        assert_eq!((r.error_code.as_str(), r.http_status.as_str()), ("", ""));

        let doubt = Failure::Network {
            message: "timed out after 30s".into(),
            in_doubt: true,
        };
        let r = ResultRecord::failed(&valid(), &doubt, 3, Some("listing refused (code 200)"));
        assert!(
            r.error_message
                .starts_with("timed out after 30s; in doubt:"),
            "{}",
            r.error_message
        );
        assert!(
            r.error_message.ends_with("; listing refused (code 200)"),
            "{}",
            r.error_message
        );
        assert_eq!(r.attempts, 3);
    }

    #[test]
    fn invalid_keeps_fields_as_written_and_joins_reasons() {
        let raw = |s: &str| {
            Some(RawValue {
                text: s.into(),
                from_integer: false,
            })
        };
        let row = InvalidRow {
            id: RowId {
                row: 3,
                source: "m.csv:4".into(),
            },
            fields: RawFields {
                waba_id: raw("12a"),
                cc: raw("+1"),
                phone_number: raw("555-01x"),
                migrate_phone_number: raw("maybe"),
                ..RawFields::default()
            },
            reasons: vec!["waba_id: digits only".into(), "cc: no `+`".into()],
            extra: Default::default(),
            prior: None,
        };
        let r = ResultRecord::invalid(&row);
        assert_eq!(r.status, Status::Invalid);
        assert_eq!((r.row, r.source.as_str()), (3, "m.csv:4"));
        assert_eq!(r.waba_id, "12a");
        assert_eq!(r.cc, "+1");
        assert_eq!(r.phone_number, "555-01x");
        assert_eq!(r.migrate_phone_number, "maybe");
        assert_eq!(r.verified_name, "");
        assert_eq!(r.error_message, "waba_id: digits only; cc: no `+`");
        assert_eq!(r.attempts, 0);
        assert_rfc3339_utc(&r.finished_at);
    }

    #[test]
    fn skipped_records_reason_and_attempts() {
        let r = ResultRecord::skipped(&valid(), "interrupted (Ctrl-C)");
        assert_eq!(r.status, Status::Skipped);
        assert_eq!(r.error_message, "interrupted (Ctrl-C)");
        assert_eq!(r.attempts, 0);
        assert_eq!(r.migrate_phone_number, "true");
        let r = ResultRecord::skipped_after(&valid(), "aborted", 2);
        assert_eq!(r.attempts, 2);
        assert_rfc3339_utc(&r.finished_at);
    }
}
