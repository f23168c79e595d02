//! Checking one row: every field, then the number as a whole (E.164 length,
//! numbering plan, duplicates). Every problem is reported, not only the first.

use super::duplicates::Duplicates;
use super::findings::{Findings, Reported};
use super::intern::Interner;
use super::telephony::{NumberCheck, NumberKind, Telephony};
use super::values::E164_MAX_DIGITS;
use super::{
    CheckedRow, Diagnostic, EnvVarName, InvalidRow, PhoneNumber, RowId, ValidRow, ValidateOptions,
    WabaId, env_name, fields, name, onboarding, prior,
};
use crate::manifest::{Field, RawRow};
use crate::text::clip;

/// Past this many different display names, a name is no longer shared (each
/// row then has all its own, and a table of them would save nothing).
const SHARED_NAMES: usize = 100_000;
/// The same for WABA ids, variable names and file names.
const SHARED_STRINGS: usize = 1_000_000;

/// The state shared by all rows of one validation run.
pub(super) struct RowChecker {
    pub(super) opts: ValidateOptions,
    pub(super) telephony: Telephony,
    pub(super) duplicates: Duplicates,
    /// A results file's row numbers, each once.
    pub(super) rows: prior::RowNumbers,
    /// WABA ids, variable names, file names: few, on many rows.
    strings: Interner,
    /// Display names: often one per client.
    names: Interner,
}

impl RowChecker {
    pub(super) fn new(opts: ValidateOptions) -> Self {
        RowChecker {
            opts,
            telephony: Telephony::default(),
            duplicates: Duplicates::default(),
            rows: prior::RowNumbers::default(),
            strings: Interner::with_limit(SHARED_STRINGS),
            names: Interner::with_limit(SHARED_NAMES),
        }
    }

    /// Check one row; its [`RawRow::problems`] are the reader's (already
    /// reported) errors. `reported`: the problems of inherited values so far.
    pub(super) fn check(
        &mut self,
        raw: RawRow,
        diagnostics: &mut Vec<Diagnostic>,
        reported: &mut Reported,
    ) -> CheckedRow {
        let inherited_at = raw.fields.inherited_at;
        let mut f = Findings::new(&raw.source, diagnostics).with_inherited(&inherited_at, reported);
        let r = &raw.fields;
        let waba_id = fields::waba_id(r.waba_id.as_ref(), &mut f);
        let cc = fields::cc(r.cc.as_ref(), &mut f);
        let national = fields::phone_number(r.phone_number.as_ref(), &mut f);
        let number = match (cc, national) {
            (Some(cc), Some(national)) => self.number(cc, &national, &raw, &mut f),
            _ => None,
        };
        let migrate = fields::boolean(
            r.migrate_phone_number.as_ref(),
            Field::MigratePhoneNumber,
            &mut f,
        );
        let preverified_id = fields::preverified_id(r.preverified_id.as_ref(), &mut f);
        let verified_name = name::verified_name(r.verified_name.as_ref(), &mut f);
        let token_env = fields::token_env(r.token_env.as_ref(), &mut f);
        let code_method = onboarding::code_method(r.code_method.as_ref(), &mut f);
        if let (Some((method, explicit)), Some((phone, Some(kind)))) = (code_method, &number) {
            onboarding::sms_reachable(method, explicit, *kind, phone, &mut f);
        }
        let language = onboarding::language(r.language.as_ref(), &mut f);
        let pin_env = fields::env_name(r.pin_env.as_ref(), Field::PinEnv, &mut f);
        let region = onboarding::region(r.data_localization_region.as_ref(), &mut f);
        for reason in &raw.problems {
            f.reader_error(reason.clone());
        }

        // A results file re-run keeps the identity the row had there.
        let (id, prior) = match raw.prior.as_deref() {
            None => (
                RowId {
                    row: raw.row,
                    source: raw.source.clone(),
                },
                Some(None),
            ),
            Some(p) => {
                let checked = prior::check(p, raw.source.line, &mut self.rows, &mut f);
                let source = prior::source(p, &raw.source, &mut self.strings, &mut f);
                let row = if p.row > 0 { p.row } else { raw.row };
                (RowId { row, source }, checked.map(Some))
            }
        };
        let errors = std::mem::take(&mut f.errors);
        let checked = errors.is_empty().then(|| {
            Some((
                waba_id?,
                number?.0,
                migrate?,
                preverified_id?,
                verified_name?,
                token_env?,
                code_method?.0,
                language?,
                pin_env?,
                region?,
                prior?,
            ))
        });
        match checked.flatten() {
            Some((
                waba,
                phone,
                migrate,
                pre,
                name,
                token,
                method,
                language,
                pin,
                region,
                prior,
            )) => {
                let strings = &mut self.strings;
                let mut env =
                    |n: Option<&str>| n.map(|n| EnvVarName::new_unchecked(strings.get(n)));
                let token_env = env(token);
                let pin_env = env(pin);
                CheckedRow::Valid(ValidRow {
                    id,
                    waba_id: WabaId::new_unchecked(self.strings.get(waba)),
                    phone,
                    migrate_phone_number: migrate,
                    preverified_id: pre.map(Box::from),
                    verified_name: name.map(|n| self.names.get(n)),
                    token_env,
                    code_method: method,
                    language,
                    pin_env,
                    data_localization_region: region,
                    extra: raw.extra,
                    prior: prior.map(Box::new),
                })
            }
            None => {
                let mut fields = raw.fields;
                // The results file shows invalid rows as written: never a
                // token or a PIN pasted where a variable's name belongs.
                for v in [&mut fields.token_env, &mut fields.pin_env]
                    .into_iter()
                    .flatten()
                {
                    if env_name::is_pasted_secret(&v.text) {
                        v.text = "[redacted]".into();
                    }
                }
                CheckedRow::Invalid(Box::new(InvalidRow {
                    id,
                    fields,
                    reasons: errors,
                    extra: raw.extra,
                    prior: raw.prior,
                }))
            }
        }
    }

    /// The whole number: length bound, numbering plan, duplicates.
    fn number(
        &mut self,
        cc: &str,
        national: &str,
        raw: &RawRow,
        f: &mut Findings,
    ) -> Option<(PhoneNumber, Option<NumberKind>)> {
        let total = cc.len() + national.len();
        if total > E164_MAX_DIGITS {
            f.error(
                Field::PhoneNumber,
                format!(
                    "+{cc} {} has {total} digits with the country code; E.164 allows at most {E164_MAX_DIGITS}",
                    clip(national)
                ),
            );
            // Its duplicates would be of a number that cannot exist.
            return None;
        }
        let plan = self.numbering_plan(cc, national, f);
        let phone = PhoneNumber::new_unchecked(cc, national);
        if let Some(first) = self.duplicates.see(phone.e164_value(), raw.source.line) {
            f.error(
                Field::PhoneNumber,
                format!(
                    "+{cc} {national} is already at {}:{first}: a number belongs to one account",
                    raw.source.file
                ),
            );
            return None;
        }
        Some((phone, plan?))
    }

    /// The numbering-plan verdict, reported: `None` when it is an error, else
    /// the number's type when the plan knows it.
    fn numbering_plan(
        &mut self,
        cc: &str,
        national: &str,
        f: &mut Findings,
    ) -> Option<Option<NumberKind>> {
        let shown = format_args!("+{cc} {national}");
        match self.telephony.check(cc, national) {
            NumberCheck::Valid(kind) => Some(Some(kind)),
            NumberCheck::UnknownCode => {
                f.error(
                    Field::Cc,
                    format!("`{cc}` is not a country calling code in use"),
                );
                None
            }
            NumberCheck::LocalOnly { region } => {
                f.error(
                    Field::PhoneNumber,
                    format!("{shown} is only a local number in {region}: the area code is missing"),
                );
                None
            }
            NumberCheck::Impossible {
                region,
                lengths,
                extra_prefix,
            } => {
                let hint = match extra_prefix {
                    Some(p) if p == cc => {
                        format!(" (it seems to start with the country code: drop the leading {p})")
                    }
                    Some(p) => format!(" (drop the leading trunk prefix {p})"),
                    None => String::new(),
                };
                f.error(
                    Field::PhoneNumber,
                    format!(
                        "{shown} is not a possible number for +{cc} ({region}): it has {} digits after the country code, numbers there have {}{hint}",
                        national.len(),
                        list_lengths(&lengths)
                    ),
                );
                None
            }
            NumberCheck::NotValid { region } => {
                let message = format!(
                    "{shown} has a possible length but is not a valid number in +{cc} ({region}) (an unassigned range, or one reserved for fiction and tests?)"
                );
                if self.opts.strict_numbers {
                    f.error(Field::PhoneNumber, format!("{message}; --strict-numbers"));
                    None
                } else {
                    f.warning(Field::PhoneNumber, message);
                    Some(None)
                }
            }
        }
    }
}

/// `[9, 10]` → "9 or 10".
fn list_lengths(lengths: &[u16]) -> String {
    match lengths {
        [] => "no known length".into(),
        [one] => one.to_string(),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(u16::to_string).collect();
            format!("{} or {last}", init.join(", "))
        }
    }
}
