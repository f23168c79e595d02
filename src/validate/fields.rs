//! Structural checks of single fields (SPEC section 1): presence, digits, the
//! country code, the national number's allowed punctuation, booleans, variable
//! names. Each returns the clean value, or `None` after reporting why not.

use super::env_name;
use super::findings::Findings;
use crate::manifest::{Field, RawValue};
use crate::text::clip;

/// What YAML did to a value written without quotes, when that explains the error.
fn yaml_hint(v: &RawValue) -> &'static str {
    if v.from_integer {
        " (YAML read it as a number: put the value in quotes)"
    } else {
        ""
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// What a spreadsheet does to a long number in a column it was not told is
/// text: `4.47700900123E+11` (scientific) or `7700900125.0` (decimal).
/// `min_int`: digits the decimal form needs before its point (a phone number
/// may be written with dots, `7946.0000`, so only a long run counts there).
fn spreadsheet_notation(t: &str, min_int: usize) -> Option<&'static str> {
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa, None),
    };
    match exponent {
        Some(e) => {
            let e = e.strip_prefix('+').unwrap_or(e);
            (is_digits(int) && frac.is_none_or(is_digits) && is_digits(e)).then_some("scientific")
        }
        None => {
            let zeros =
                frac.is_some_and(|f| (1..=2).contains(&f.len()) && f.bytes().all(|b| b == b'0'));
            (is_digits(int) && int.len() >= min_int && zeros).then_some("decimal")
        }
    }
}

/// The error for a spreadsheet's notation in a field of digits, if it is one.
/// YAML's own numbers get YAML's advice instead.
fn spreadsheet_error(v: &RawValue, min_int: usize) -> Option<String> {
    if v.from_integer {
        return None;
    }
    let kind = spreadsheet_notation(&v.text, min_int)?;
    Some(format!(
        "`{}` is a number turned into {kind} notation by a spreadsheet: format the column as Text and export again",
        clip(&v.text)
    ))
}

/// The value, unless it is absent or blank. The readers keep a blank value
/// (a cell of spaces, a YAML `""`) so that `verified_name` can refuse it; for
/// every other optional field blank means absent.
pub(super) fn given(v: Option<&RawValue>) -> Option<&RawValue> {
    v.filter(|v| !v.text.is_empty())
}

fn required<'v>(v: Option<&'v RawValue>, field: Field, f: &mut Findings) -> Option<&'v RawValue> {
    let v = given(v);
    if v.is_none() {
        f.error(field, "required".into());
    }
    v
}

/// A Meta id (`waba_id`, `preverified_id`): digits only, and never a leading 0.
fn id<'v>(v: &'v RawValue, field: Field, f: &mut Findings) -> Option<&'v str> {
    let t = v.text.as_str();
    let problem = if let Some(e) = spreadsheet_error(v, 1) {
        e
    } else if !is_digits(t) {
        format!("`{}` is not an id: digits only{}", clip(t), yaml_hint(v))
    } else if t.starts_with('0') {
        format!(
            "`{}` is not an id: Meta ids never start with 0 (a typo, or a spreadsheet that padded it)",
            clip(t)
        )
    } else {
        return Some(t);
    };
    f.error(field, problem);
    None
}

pub(super) fn waba_id<'v>(v: Option<&'v RawValue>, f: &mut Findings) -> Option<&'v str> {
    let v = required(v, Field::WabaId, f)?;
    id(v, Field::WabaId, f)
}

pub(super) fn preverified_id<'v>(
    v: Option<&'v RawValue>,
    f: &mut Findings,
) -> Option<Option<&'v str>> {
    match given(v) {
        None => Some(None),
        Some(v) => id(v, Field::PreverifiedId, f).map(Some),
    }
}

/// `cc`: 1–3 digits, no `+`, no leading zero (no calling code starts with 0).
pub(super) fn cc<'v>(v: Option<&'v RawValue>, f: &mut Findings) -> Option<&'v str> {
    let v = required(v, Field::Cc, f)?;
    let t = v.text.as_str();
    let shown = || clip(t);
    let problem = if let Some(e) = spreadsheet_error(v, 1) {
        e
    } else if let Some(rest) = t.strip_prefix('+') {
        let (t, rest) = (shown(), clip(rest));
        format!("`{t}`: write the country code without `+` (`{rest}`)")
    } else if !is_digits(t) {
        format!(
            "`{}` is not a country code: 1 to 3 digits{}",
            shown(),
            yaml_hint(v)
        )
    } else if t.len() > 3 {
        format!(
            "`{}` is not a country code: 1 to 3 digits, got {}",
            shown(),
            t.len()
        )
    } else if t.starts_with('0') {
        format!("`{t}` is not a country code: none starts with 0")
    } else {
        return Some(t);
    };
    f.error(Field::Cc, problem);
    None
}

/// At most this many distinct wrong characters are named in one message.
const MAX_LISTED: usize = 8;

/// `phone_number`: the national number; spaces, `-`, `.`, `(`, `)` are
/// stripped, anything else is an error.
pub(super) fn phone_number(v: Option<&RawValue>, f: &mut Findings) -> Option<String> {
    let v = required(v, Field::PhoneNumber, f)?;
    // A YAML float or negative number (`1.5e3`, `-5`): stripping `.` or `-`
    // would invent digits the user never meant.
    if v.from_integer && !is_digits(&v.text) {
        f.error(
            Field::PhoneNumber,
            format!(
                "YAML reads `{}` as a number, not as digits: put the value in quotes",
                clip(&v.text)
            ),
        );
        return None;
    }
    // Stripping the `.` of `7700900125.0` would add a digit.
    if let Some(e) = spreadsheet_error(v, 5) {
        f.error(Field::PhoneNumber, e);
        return None;
    }
    let mut national = String::with_capacity(v.text.len());
    let mut bad: Vec<char> = Vec::new();
    for c in v.text.chars() {
        match c {
            '0'..='9' => national.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ if !bad.contains(&c) => bad.push(c),
            _ => {}
        }
    }
    if !bad.is_empty() {
        // A pasted paragraph has many odd characters: name the first few.
        let mut list: Vec<String> = bad
            .iter()
            .take(MAX_LISTED)
            .map(|c| format!("`{}`", clip(c.encode_utf8(&mut [0; 4]))))
            .collect();
        if bad.len() > MAX_LISTED {
            list.push("…".into());
        }
        let hint = if bad.contains(&'+') {
            ": give the national number here and the country code in `cc`"
        } else {
            " (only digits, spaces, - . ( ) are allowed)"
        };
        f.error(
            Field::PhoneNumber,
            format!(
                "`{}` contains {}{hint}{}",
                clip(&v.text),
                list.join(", "),
                yaml_hint(v)
            ),
        );
        return None;
    }
    if national.is_empty() {
        f.error(
            Field::PhoneNumber,
            format!("`{}` has no digits", clip(&v.text)),
        );
        return None;
    }
    Some(national)
}

/// `migrate_phone_number`: true/false, 1/0, yes/no (any case); absent = false.
pub(super) fn boolean(v: Option<&RawValue>, field: Field, f: &mut Findings) -> Option<bool> {
    let Some(v) = given(v) else {
        return Some(false);
    };
    let is = |word: &str| v.text.eq_ignore_ascii_case(word);
    match () {
        _ if is("true") || is("1") || is("yes") => Some(true),
        _ if is("false") || is("0") || is("no") => Some(false),
        _ => {
            f.error(
                field,
                format!(
                    "`{}` is not a boolean: true/false, 1/0 or yes/no",
                    clip(&v.text)
                ),
            );
            None
        }
    }
}

/// `token_env`, `pin_env`: the *name* of a variable. A value that looks like
/// the secret itself (a token, a PIN) is refused and never echoed back.
pub(super) fn env_name<'v>(
    v: Option<&'v RawValue>,
    field: Field,
    f: &mut Findings,
) -> Option<Option<&'v str>> {
    let Some(v) = given(v) else {
        return Some(None);
    };
    match env_name::check_text(&v.text) {
        Ok(()) => Some(Some(&v.text)),
        Err(problem) => {
            f.error(field, problem.message());
            None
        }
    }
}

pub(super) fn token_env<'v>(v: Option<&'v RawValue>, f: &mut Findings) -> Option<Option<&'v str>> {
    env_name(v, Field::TokenEnv, f)
}

#[cfg(test)]
mod tests;
