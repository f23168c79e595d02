//! The YAML reader (SPEC section 1): `version: 1`, optional `defaults`, and
//! `wabas`, each with `waba_id`, optional `token_env` and its `numbers`. Numbers
//! flatten into rows in file order; a row's `source` is the line of that number's
//! entry. Unknown keys are errors at their own line.
//!
//! Precedence of a field: the number's entry, then its WABA (`waba_id`,
//! `token_env` and the onboarding fields `code_method`, `language`, `pin_env`,
//! `data_localization_region`), then `defaults`. `defaults` may set the fields
//! that make sense for many numbers at once: `migrate_phone_number`,
//! `verified_name`, `token_env`, `preverified_id` and the onboarding fields;
//! never `cc`/`phone_number` (a number's own identity) nor `waba_id` (that is
//! what the `wabas` list is for).

mod tree;

use super::fields::{Field, did_you_mean, suggest_field};
use super::{Manifest, ManifestError, RawFields, RawRow, RawValue, ReadOptions, RowSink, Source};
use crate::diagnostic::{Diagnostic, Severity};
use crate::text::clip;
use std::collections::HashMap;
use std::sync::Arc;
use tree::{Lined, Node};

const TOP_KEYS: [&str; 3] = ["version", "defaults", "wabas"];
/// The fields a WABA entry may give for all its numbers (besides `numbers`):
/// what belongs to the account, or to how its numbers are onboarded.
const WABA_FIELDS: [Field; 6] = [
    Field::WabaId,
    Field::TokenEnv,
    Field::CodeMethod,
    Field::Language,
    Field::PinEnv,
    Field::DataLocalizationRegion,
];
const DEFAULT_FIELDS: [Field; 8] = [
    Field::MigratePhoneNumber,
    Field::VerifiedName,
    Field::TokenEnv,
    Field::PreverifiedId,
    Field::CodeMethod,
    Field::Language,
    Field::PinEnv,
    Field::DataLocalizationRegion,
];

/// A number's entry may give every field but `waba_id` (that is its WABA's).
fn is_number_field(f: Field) -> bool {
    f != Field::WabaId
}

/// The fields a number's entry may use, in [`Field::ALL`]'s order.
fn number_fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|&f| is_number_field(f))
        .collect()
}

pub(super) fn read(
    file: Arc<str>,
    text: &str,
    options: &ReadOptions,
    sink: &mut dyn RowSink,
) -> Result<Manifest, ManifestError> {
    let root = tree::parse(&file, text)?.ok_or_else(|| ManifestError::Empty {
        file: file.to_string(),
    })?;
    let Node::Map(entries) = root.value else {
        return Err(ManifestError::NotAManifest {
            file: file.to_string(),
            line: line_of(&root),
            message: format!(
                "the top level is {}; expected a mapping with `version: 1` and `wabas:`",
                root.value.kind()
            ),
        });
    };
    let mut reader = Reader {
        file,
        options,
        sink,
        rows: 0,
        manifest: Manifest {
            extra_columns: options
                .ignore_columns
                .iter()
                .map(|c| c.trim().to_string())
                .collect(),
            ..Manifest::default()
        },
    };
    reader.top(entries);
    let mut manifest = reader.manifest;
    manifest
        .diagnostics
        .sort_by_key(|d| (d.source.line, d.severity == Severity::Warning));
    Ok(manifest)
}

/// A problem found inside one WABA or number entry: (line, field, message).
type Problem = (u32, String, String);

/// What a level (`defaults`, a WABA) gives the numbers below it.
#[derive(Clone, Default)]
struct Inherited {
    fields: RawFields,
    /// The carried keys' values, by position in `--ignore-column`.
    extra: Vec<Box<str>>,
}

struct Reader<'a> {
    file: Arc<str>,
    options: &'a ReadOptions,
    sink: &'a mut dyn RowSink,
    rows: usize,
    manifest: Manifest,
}

impl Reader<'_> {
    fn source(&self, line: u32) -> Source {
        Source {
            file: self.file.clone(),
            line,
        }
    }

    fn diag(&self, severity: Severity, (line, field, message): Problem) -> Diagnostic {
        Diagnostic {
            source: self.source(line),
            severity,
            // The field of an unknown key is the key as written: bounded too.
            field: clip(&field).into_owned(),
            message,
        }
    }

    fn file_problem(&mut self, severity: Severity, p: Problem) {
        let d = self.diag(severity, p);
        self.manifest.diagnostics.push(d);
    }

    /// A problem of one or more rows, printed once: the reason each row
    /// keeps (`FIELD: message`).
    fn row_problem(&mut self, p: Problem) -> String {
        let d = self.diag(Severity::Error, p);
        let reason = format!("{}: {}", d.field, d.message);
        self.manifest.row_diagnostics.push(d);
        reason
    }

    /// A key `--ignore-column` names: its value is carried, not read.
    /// `true` when the key was one (a problem with its value is reported).
    fn carried(
        &self,
        name: &str,
        value: &Lined<Node>,
        into: &mut Inherited,
        problems: &mut Vec<Problem>,
    ) -> bool {
        let Some(i) = self.options.ignored(name) else {
            return false;
        };
        match scalar(value) {
            Ok(v) => {
                if let Some(slot) = into.extra.get_mut(i) {
                    *slot = v.map(|v| v.text.into()).unwrap_or_default();
                }
            }
            Err(message) => problems.push((line_of(value), name.to_string(), message)),
        }
        true
    }

    fn top(&mut self, entries: Vec<(Lined<Node>, Lined<Node>)>) {
        let mut seen = HashMap::new();
        let mut version_seen = false;
        let mut defaults = Inherited {
            fields: RawFields::default(),
            extra: vec![Box::default(); self.options.ignore_columns.len()],
        };
        let mut wabas = None;
        for (key, value) in entries {
            let Some(name) =
                checked_key(&key, &mut seen, |p| self.file_problem(Severity::Error, p))
            else {
                continue;
            };
            match name.as_str() {
                "version" => {
                    version_seen = true;
                    let ok = matches!(&value.value, Node::Int(v) | Node::Str(v) if v.trim() == "1");
                    if !ok {
                        self.file_problem(
                            Severity::Error,
                            (
                                line_of(&value),
                                "version".into(),
                                format!(
                                    "{} is not a version this tool reads: write `version: 1`",
                                    describe(&value.value)
                                ),
                            ),
                        );
                    }
                }
                "defaults" => self.defaults(&value, &mut defaults),
                "wabas" => wabas = Some(value),
                other => self.file_problem(
                    Severity::Error,
                    (
                        line_of(&key),
                        other.to_string(),
                        format!("unknown key{}", did_you_mean(other, &TOP_KEYS)),
                    ),
                ),
            }
        }
        if !version_seen {
            self.file_problem(
                Severity::Error,
                (
                    1,
                    "version".into(),
                    "required: start the manifest with `version: 1`".into(),
                ),
            );
        }
        match wabas {
            None => self.file_problem(
                Severity::Error,
                (
                    1,
                    "wabas".into(),
                    "required: the list of WABAs and their numbers".into(),
                ),
            ),
            Some(Lined {
                value: Node::Seq(items),
                ..
            }) => {
                self.sink.expect(items.iter().map(numbers_in).sum());
                for item in items {
                    self.waba(item, &defaults);
                }
            }
            Some(other) => self.file_problem(
                Severity::Error,
                (
                    line_of(&other),
                    "wabas".into(),
                    format!("expected a list of WABAs, found {}", other.value.kind()),
                ),
            ),
        }
    }

    fn defaults(&mut self, value: &Lined<Node>, into: &mut Inherited) {
        let Node::Map(entries) = &value.value else {
            if value.value != Node::Null {
                self.file_problem(
                    Severity::Error,
                    (
                        line_of(value),
                        "defaults".into(),
                        format!("expected a mapping, found {}", value.value.kind()),
                    ),
                );
            }
            return;
        };
        let mut seen = HashMap::new();
        let mut problems = Vec::new();
        for (key, v) in entries {
            let Some(name) = checked_key(key, &mut seen, |p| problems.push(p)) else {
                continue;
            };
            let problem = match Field::from_name(&name) {
                Some(f) if DEFAULT_FIELDS.contains(&f) => match scalar(v) {
                    Ok(raw) => {
                        f.set_at(&mut into.fields, raw, line_of(key));
                        continue;
                    }
                    Err(message) => message,
                },
                Some(Field::WabaId) => "cannot have a default: give it on each WABA entry".into(),
                Some(f) => format!("cannot have a default: give `{f}` on each number"),
                None if self.carried(&name, v, into, &mut problems) => continue,
                None => format!("unknown key{}", field_hint(&name, &DEFAULT_FIELDS)),
            };
            problems.push((line_of(key), name, problem));
        }
        for p in problems {
            self.file_problem(Severity::Error, p);
        }
    }

    fn waba(&mut self, item: Lined<Node>, defaults: &Inherited) {
        let waba_line = line_of(&item);
        let Node::Map(entries) = item.value else {
            self.file_problem(
                Severity::Error,
                (
                    waba_line,
                    "wabas".into(),
                    format!(
                        "each WABA entry must be a mapping with `waba_id` and `numbers`, found {}",
                        item.value.kind()
                    ),
                ),
            );
            return;
        };
        let mut base = defaults.clone();
        let mut problems: Vec<Problem> = Vec::new();
        let mut seen = HashMap::new();
        let mut numbers = None;
        for (key, value) in entries {
            let Some(name) = checked_key(&key, &mut seen, |p| problems.push(p)) else {
                continue;
            };
            let line = line_of(&key);
            let field = Field::from_name(&name);
            match field {
                Some(f) if WABA_FIELDS.contains(&f) => match scalar(&value) {
                    // Empty keeps the default.
                    Ok(None) => {}
                    Ok(Some(v)) if v.text.is_empty() => {}
                    Ok(raw) => f.set_at(&mut base.fields, raw, line),
                    Err(message) => problems.push((line, name, message)),
                },
                None if name == "numbers" => numbers = Some(value),
                None if self.carried(&name, &value, &mut base, &mut problems) => {}
                _ => {
                    let message = match field {
                        Some(f) if DEFAULT_FIELDS.contains(&f) => {
                            "goes on each number (or under `defaults`), not on the WABA".to_string()
                        }
                        Some(_) => "goes on each number, under `numbers`".to_string(),
                        None => {
                            let mut keys: Vec<&str> =
                                WABA_FIELDS.iter().map(|f| f.name()).collect();
                            keys.push("numbers");
                            let hint = match suggest_field(&name, &WABA_FIELDS) {
                                Some(f) => format!(" (did you mean `{f}`?)"),
                                None => did_you_mean(&name, &keys),
                            };
                            format!("unknown key{hint}")
                        }
                    };
                    problems.push((line, name, message));
                }
            }
        }
        let items = match numbers {
            None => {
                problems.push((
                    waba_line,
                    "numbers".into(),
                    "required: the list of this WABA's numbers".into(),
                ));
                Vec::new()
            }
            Some(Lined {
                value: Node::Seq(items),
                line,
            }) => {
                if items.is_empty() {
                    self.file_problem(
                        Severity::Warning,
                        (line, "numbers".into(), "this WABA lists no numbers".into()),
                    );
                }
                items
            }
            Some(other) => {
                problems.push((
                    line_of(&other),
                    "numbers".into(),
                    format!("expected a list of numbers, found {}", other.value.kind()),
                ));
                Vec::new()
            }
        };
        if items.is_empty() {
            for p in problems {
                self.file_problem(Severity::Error, p);
            }
            return;
        }
        // The WABA entry is wrong, so none of its numbers can be trusted: each
        // is invalid for these reasons, printed once here.
        let reasons: Vec<String> = problems.into_iter().map(|p| self.row_problem(p)).collect();
        for n in items {
            self.number(n, &base, &reasons);
        }
    }

    fn number(&mut self, item: Lined<Node>, base: &Inherited, waba_reasons: &[String]) {
        let line = line_of(&item);
        let mut own = base.clone();
        let mut problems: Vec<Problem> = Vec::new();
        match item.value {
            Node::Map(entries) => {
                // The hot path of a large manifest: known keys are matched on
                // their borrowed text and repeats tracked per field, with no
                // allocation; anything else takes the general path.
                let mut first_line: [Option<u32>; Field::ALL.len()] = [None; Field::ALL.len()];
                let mut others = HashMap::new();
                for (key, value) in entries {
                    let key_line = line_of(&key);
                    let known = match &key.value {
                        Node::Str(s) => Field::from_name(s).filter(|&f| is_number_field(f)),
                        _ => None,
                    };
                    if let Some(f) = known {
                        let slot = &mut first_line[f as usize];
                        if let Some(first) = *slot {
                            let message = format!("given twice (first at line {first})");
                            problems.push((key_line, f.name().into(), message));
                            continue;
                        }
                        *slot = Some(key_line);
                        match scalar(&value) {
                            Ok(raw) => f.set(&mut own.fields, raw),
                            Err(message) => problems.push((key_line, f.name().into(), message)),
                        }
                        continue;
                    }
                    let Some(name) = checked_key(&key, &mut others, |p| problems.push(p)) else {
                        continue;
                    };
                    if Field::from_name(&name).is_none()
                        && self.carried(&name, &value, &mut own, &mut problems)
                    {
                        continue;
                    }
                    let message = if Field::from_name(&name).is_some() {
                        "goes on the WABA entry, not on a number".to_string()
                    } else {
                        format!("unknown key{}", field_hint(&name, &number_fields()))
                    };
                    problems.push((key_line, name, message));
                }
            }
            other => problems.push((
                line,
                "numbers".into(),
                format!(
                    "each number must be a mapping like `{{ cc: \"44\", phone_number: \"7700900123\" }}`, found {}",
                    other.kind()
                ),
            )),
        }
        self.rows += 1;
        let mut reasons = waba_reasons.to_vec();
        reasons.extend(problems.into_iter().map(|p| self.row_problem(p)));
        let row = RawRow {
            row: u32::try_from(self.rows).unwrap_or(u32::MAX),
            source: self.source(line),
            fields: own.fields,
            extra: own.extra.into(),
            prior: None,
            problems: reasons,
        };
        self.sink.row(row);
    }
}

/// How many numbers a WABA entry lists (as far as it is well formed).
fn numbers_in(waba: &Lined<Node>) -> usize {
    let Node::Map(entries) = &waba.value else {
        return 0;
    };
    entries
        .iter()
        .filter(|(k, _)| k.value == Node::Str("numbers".into()))
        .map(|(_, v)| match &v.value {
            Node::Seq(items) => items.len(),
            _ => 0,
        })
        .sum()
}

/// " (did you mean `x`?)" among `fields`, or the advice for a key of one's own.
fn field_hint(name: &str, fields: &[Field]) -> String {
    match suggest_field(name, fields) {
        Some(f) => format!(" (did you mean `{f}`?)"),
        None => String::new(),
    }
}

/// The key's name as written (YAML keys are case-sensitive). `None`, after
/// reporting, when the key is not a plain name or repeats an earlier one.
fn checked_key(
    key: &Lined<Node>,
    seen: &mut HashMap<String, u32>,
    mut report: impl FnMut(Problem),
) -> Option<String> {
    let line = line_of(key);
    let Some(name) = key.value.key_text() else {
        report((
            line,
            "key".into(),
            format!("a key must be a name, not {}", key.value.kind()),
        ));
        return None;
    };
    // A map, not a list: a hostile entry with many keys must not cost n².
    if let Some(first) = seen.get(&name) {
        report((line, name, format!("given twice (first at line {first})")));
        return None;
    }
    seen.insert(name.clone(), line);
    Some(name)
}

/// A field's value: a scalar (trimmed), or nothing. A plain scalar YAML would
/// read as a number keeps its text as written and is marked `from_integer`;
/// booleans become `true`/`false`.
fn scalar(v: &Lined<Node>) -> Result<Option<RawValue>, String> {
    // A blank string (`""`, `"  "`) is kept: it was given, and `verified_name`
    // refuses it rather than dropping it; `~` or nothing at all is absent.
    let raw = |text: &str, from_integer| {
        Some(RawValue {
            text: text.trim().to_string(),
            from_integer,
        })
    };
    match &v.value {
        Node::Null => Ok(None),
        Node::Str(s) => Ok(raw(s, false)),
        Node::Int(s) | Node::Float(s) => Ok(raw(s, true)),
        Node::Bool(b) => Ok(raw(if *b { "true" } else { "false" }, false)),
        other @ (Node::Seq(_) | Node::Map(_)) => {
            Err(format!("expected a single value, found {}", other.kind()))
        }
    }
}

fn describe(n: &Node) -> String {
    match n.key_text() {
        Some(t) => format!("`{}`", clip(&t)),
        None => n.kind().to_string(),
    }
}

fn line_of<T>(s: &Lined<T>) -> u32 {
    s.line
}

#[cfg(test)]
mod tests;
