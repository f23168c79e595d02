//! A YAML document as a tree of nodes with their lines, parsed by serde-saphyr
//! under a budget sized to the input: the manifest schema is checked afterwards
//! by hand (see `schema.rs`) so that every problem gets its own line instead of
//! the first one aborting the read.

use super::super::ManifestError;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error as YamlError, Spanned};
use std::fmt;

/// One YAML node. Scalars keep what the manifest needs: a number's decimal text
/// (leading zeros are preserved by reading `0123` as a string, see [`options`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Null,
    Bool(bool),
    /// A YAML integer, as decimal digits (with `-` when negative).
    Int(String),
    /// A YAML float, in a form that always shows it is not an integer (`1e10` → `10000000000.0`).
    Float(String),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    /// Entries in file order; duplicate keys are kept so the schema can report them.
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl Node {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "nothing",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a mapping",
        }
    }

    /// The text of a scalar key (`None` for a list or mapping used as a key).
    pub(super) fn key_text(&self) -> Option<String> {
        match self {
            Node::Str(s) | Node::Int(s) | Node::Float(s) => Some(s.clone()),
            Node::Bool(b) => Some(b.to_string()),
            Node::Null => Some(String::new()),
            Node::Seq(_) | Node::Map(_) => None,
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Int(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Int(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Int(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        // Debug always shows a `.` or an exponent: the value can never pass as digits.
        Ok(Node::Float(format!("{v:?}")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Err(E::custom("binary values are not allowed in a manifest"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Spanned<Node>>()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(16));
        while let Some(key) = map.next_key::<Spanned<Node>>()? {
            let value = map.next_value::<Spanned<Node>>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// Nesting allowed: a manifest needs 5 levels (root, wabas, WABA, numbers,
/// number); anything far deeper is not a manifest and may be an attack.
const MAX_DEPTH: usize = 24;

/// Parser options: budgets scale with the input so memory stays proportional to
/// the file (an alias bomb cannot expand beyond a few events per input byte).
fn options(input_len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    budget.max_documents = 1;
    // Each node takes at least a couple of input bytes; leave room for small files.
    budget.max_nodes = input_len.saturating_add(10_000);
    budget.max_events = input_len.saturating_mul(2).saturating_add(10_000);
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = (input_len / 2).saturating_add(10_000);
    alias_limits.max_replay_stack_depth = MAX_DEPTH;

    let mut o = serde_saphyr::Options::default();
    o.budget = Some(budget);
    o.alias_limits = alias_limits;
    o.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    // `phone_number: 0770...` keeps its leading zero; `1_000` stays text.
    o.leading_zero_numbers_as_strings = true;
    o.underscored_numbers_as_strings = true;
    // Only true/false are YAML booleans; `yes`/`no` reach validation as text,
    // which accepts them where SPEC does (migrate_phone_number).
    o.strict_booleans = true;
    o.with_snippet = false;
    #[allow(clippy::needless_update)]
    {
        o.emit_comments = false;
    }
    o
}

/// Parse the document. `Ok(None)` when it holds no value at all (only comments).
pub(super) fn parse(file: &str, text: &str) -> Result<Option<Spanned<Node>>, ManifestError> {
    let root: Option<Spanned<Node>> =
        serde_saphyr::from_str_with_options(text, options(text.len()))
            .map_err(|e| to_manifest_error(file, &e))?;
    Ok(root.filter(|n| n.value != Node::Null))
}

fn to_manifest_error(file: &str, err: &YamlError) -> ManifestError {
    let mut inner = err;
    while let YamlError::AliasError { error, .. } | YamlError::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let line = err
        .location()
        .or_else(|| inner.location())
        .map_or(1, |l| u32::try_from(l.line()).unwrap_or(u32::MAX).max(1));
    let file = file.to_string();
    let too_complex = |message: String| ManifestError::TooComplex {
        file: file.clone(),
        line,
        message,
    };
    match inner {
        YamlError::Budget { breach, .. } => too_complex(match breach {
            BudgetBreach::Depth { .. } => {
                format!("nested more than {MAX_DEPTH} levels deep; a manifest needs 5")
            }
            BudgetBreach::Aliases { .. }
            | BudgetBreach::Anchors { .. }
            | BudgetBreach::AliasAnchorRatio { .. }
            | BudgetBreach::RecordedAnchorEvents { .. }
            | BudgetBreach::RecordedAnchorBytes { .. } => {
                "too many aliases (`*name`) or anchors (`&name`): this looks like an alias bomb"
                    .to_string()
            }
            BudgetBreach::Documents { .. } => {
                "more than one YAML document (`---`): a manifest is one document".to_string()
            }
            other => format!("too large or too complex ({other:?})"),
        }),
        YamlError::AliasReplayLimitExceeded { .. }
        | YamlError::AliasExpansionLimitExceeded { .. }
        | YamlError::AliasReplayCounterOverflow { .. }
        | YamlError::AliasReplayStackDepthExceeded { .. } => too_complex(
            "aliases (`*name`) expand to far more data than the file holds: this looks like an alias bomb"
                .to_string(),
        ),
        YamlError::MultipleDocuments { .. } => ManifestError::Yaml {
            file,
            line,
            message: "more than one YAML document (`---`): a manifest is one document".into(),
        },
        other => {
            let message = one_line(&other.to_string());
            // The parser's own nesting guard (flow `[[[[...`) speaks of recursion.
            if message.contains("recursion limit") || message.contains("nesting") {
                too_complex(format!(
                    "nested more than {MAX_DEPTH} levels deep; a manifest needs 5"
                ))
            } else {
                ManifestError::Yaml {
                    file,
                    line,
                    message,
                }
            }
        }
    }
}

/// serde-saphyr's messages may end with their own location or span lines; keep
/// the first line without the trailing " at line X column Y".
fn one_line(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or("").trim();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first.to_string(),
    }
}
