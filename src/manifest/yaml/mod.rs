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

use super::fields::{Field, did_you_mean};
use super::{Manifest, ManifestError, RawFields, RawRow, RawValue, RowProblem, Source};
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

/// The keys a WABA entry may have, for "did you mean".
fn waba_keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = WABA_FIELDS.iter().map(|f| f.name()).collect();
    keys.push("numbers");
    keys
}

/// A number's entry may give every field but `waba_id` (that is its WABA's).
fn is_number_field(f: Field) -> bool {
    f != Field::WabaId
}

/// The names a number's entry may use, in [`Field::ALL`]'s order.
fn number_field_names() -> Vec<&'static str> {
    Field::ALL
        .into_iter()
        .filter(|&f| is_number_field(f))
        .map(Field::name)
        .collect()
}

pub(super) fn read(file: Arc<str>, text: &str) -> Result<Manifest, ManifestError> {
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
        manifest: Manifest::default(),
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

struct Reader {
    file: Arc<str>,
    manifest: Manifest,
}

impl Reader {
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

    fn row_problem(&mut self, rows: std::ops::Range<usize>, p: Problem) {
        let diagnostic = self.diag(Severity::Error, p);
        self.manifest
            .row_problems
            .push(RowProblem { rows, diagnostic });
    }

    fn top(&mut self, entries: Vec<(Lined<Node>, Lined<Node>)>) {
        let mut seen = HashMap::new();
        let mut version_seen = false;
        let mut defaults = RawFields::default();
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
                "defaults" => defaults = self.defaults(&value),
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

    fn defaults(&mut self, value: &Lined<Node>) -> RawFields {
        let mut fields = RawFields::default();
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
            return fields;
        };
        let mut seen = HashMap::new();
        for (key, v) in entries {
            let Some(name) = checked_key(key, &mut seen, |p| self.file_problem(Severity::Error, p))
            else {
                continue;
            };
            let problem = match Field::from_name(&name) {
                Some(f) if DEFAULT_FIELDS.contains(&f) => match scalar(v) {
                    Ok(raw) => {
                        f.set(&mut fields, raw);
                        continue;
                    }
                    Err(message) => message,
                },
                Some(Field::WabaId) => "cannot have a default: give it on each WABA entry".into(),
                Some(f) => format!("cannot have a default: give `{f}` on each number"),
                None => {
                    let names: Vec<&str> = DEFAULT_FIELDS.iter().map(|f| f.name()).collect();
                    format!("unknown key{}", did_you_mean(&name, &names))
                }
            };
            self.file_problem(Severity::Error, (line_of(key), name, problem));
        }
        fields
    }

    fn waba(&mut self, item: Lined<Node>, defaults: &RawFields) {
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
                    Ok(raw) => f.set(&mut base, raw),
                    Err(message) => problems.push((line, name, message)),
                },
                None if name == "numbers" => numbers = Some(value),
                _ => {
                    let message = match field {
                        Some(f) if DEFAULT_FIELDS.contains(&f) => {
                            "goes on each number (or under `defaults`), not on the WABA".to_string()
                        }
                        Some(_) => "goes on each number, under `numbers`".to_string(),
                        None => format!("unknown key{}", did_you_mean(&name, &waba_keys())),
                    };
                    problems.push((line, name, message));
                }
            }
        }
        let start = self.manifest.rows.len();
        match numbers {
            None => problems.push((
                waba_line,
                "numbers".into(),
                "required: the list of this WABA's numbers".into(),
            )),
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
                for n in items {
                    self.number(n, &base);
                }
            }
            Some(other) => problems.push((
                line_of(&other),
                "numbers".into(),
                format!("expected a list of numbers, found {}", other.value.kind()),
            )),
        }
        let rows = start..self.manifest.rows.len();
        for p in problems {
            if rows.is_empty() {
                self.file_problem(Severity::Error, p);
            } else {
                // The WABA entry is wrong, so none of its numbers can be trusted.
                self.row_problem(rows.clone(), p);
            }
        }
    }

    fn number(&mut self, item: Lined<Node>, base: &RawFields) {
        let index = self.manifest.rows.len();
        let line = line_of(&item);
        let mut fields = base.clone();
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
                            Ok(raw) => f.set(&mut fields, raw),
                            Err(message) => problems.push((key_line, f.name().into(), message)),
                        }
                        continue;
                    }
                    let Some(name) = checked_key(&key, &mut others, |p| problems.push(p)) else {
                        continue;
                    };
                    let message = if Field::from_name(&name).is_some() {
                        "goes on the WABA entry, not on a number".to_string()
                    } else {
                        format!("unknown key{}", did_you_mean(&name, &number_field_names()))
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
        self.manifest.rows.push(RawRow {
            row: u32::try_from(index + 1).unwrap_or(u32::MAX),
            source: self.source(line),
            fields,
            origin: None,
        });
        for p in problems {
            self.row_problem(index..index + 1, p);
        }
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
