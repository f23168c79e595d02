//! A YAML document as a tree of nodes with their lines, built straight from the
//! event stream of granit-parser (serde-saphyr's own YAML parser, re-exported by
//! it). The manifest schema is checked afterwards by hand (see `mod.rs`) so
//! that every problem gets its own line instead of the first one aborting.
//!
//! Why events rather than serde: a 100,000-number manifest deserialized through
//! serde-saphyr's `Spanned` wrappers took three times as long as parsing, and
//! plain scalars keep their exact text here (`0770…` keeps its zero, `1.5e3`
//! stays `1.5e3`, so validation can say what YAML would have done with it).
//!
//! Against hostile input: nesting is capped (parser limits and our own), a
//! single document only, and aliases are expanded against a node budget
//! proportional to the input, so an alias bomb is refused before it allocates.

use super::super::ManifestError;
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError};
use std::collections::HashMap;

/// One YAML node. Scalars keep their text as written.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Null,
    Bool(bool),
    /// A plain scalar YAML would read as an integer (`123`, `-5`, `0x1F`), as written.
    Int(String),
    /// A plain scalar YAML would read as a float (`1.5e3`, `.inf`), as written.
    Float(String),
    Str(String),
    Seq(Vec<Lined<Node>>),
    /// Entries in file order; duplicate keys are kept so the schema can report
    /// them. A value carries its key's line.
    Map(Vec<(Lined<Node>, Lined<Node>)>),
}

/// A value and the line (1-based) it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Lined<T> {
    pub(super) value: T,
    pub(super) line: u32,
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

    /// Nodes in this tree, itself included.
    fn size(&self) -> usize {
        match self {
            Node::Seq(items) => 1 + items.iter().map(|i| i.value.size()).sum::<usize>(),
            Node::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.value.size() + v.value.size())
                    .sum::<usize>()
            }
            _ => 1,
        }
    }
}

/// YAML 1.2 core-schema typing of a scalar: only plain scalars are typed.
fn scalar(text: &str, style: ScalarStyle) -> Node {
    if style != ScalarStyle::Plain {
        return Node::Str(text.to_string());
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Node::Null,
        "true" | "True" | "TRUE" => return Node::Bool(true),
        "false" | "False" | "FALSE" => return Node::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "-.inf" | ".nan" | ".NaN" | ".NAN" => {
            return Node::Float(text.to_string());
        }
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let all = |s: &str, f: fn(&u8) -> bool| !s.is_empty() && s.as_bytes().iter().all(f);
    let is_int = all(unsigned, u8::is_ascii_digit)
        || text
            .strip_prefix("0x")
            .is_some_and(|h| all(h, u8::is_ascii_hexdigit))
        || text
            .strip_prefix("0o")
            .is_some_and(|o| all(o, |b| (b'0'..=b'7').contains(b)));
    if is_int {
        return Node::Int(text.to_string());
    }
    // [0-9]*(\.[0-9]*)?([eE][-+]?[0-9]+)? with at least one digit before the exponent.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int_part, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let is_float = digits(int_part)
        && digits(frac)
        && (!int_part.is_empty() || !frac.is_empty())
        && (mantissa.contains('.') || exponent.is_some())
        && exponent
            .is_none_or(|e| all(e.strip_prefix(['-', '+']).unwrap_or(e), u8::is_ascii_digit));
    if is_float {
        Node::Float(text.to_string())
    } else {
        Node::Str(text.to_string())
    }
}

/// Nesting allowed: a manifest needs 5 levels (root, wabas, WABA, numbers,
/// number); anything far deeper is not a manifest and may be an attack.
const MAX_DEPTH: usize = 24;

/// An open collection while its events arrive.
enum Frame {
    Seq {
        line: u32,
        anchor: usize,
        items: Vec<Lined<Node>>,
    },
    Map {
        line: u32,
        anchor: usize,
        entries: Vec<(Lined<Node>, Lined<Node>)>,
        key: Option<Lined<Node>>,
    },
}

struct Builder<'a> {
    file: &'a str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Lined<Node>>,
    root: Option<Lined<Node>>,
    /// Nodes made so far, alias copies included, and the most allowed.
    nodes: usize,
    max_nodes: usize,
}

impl Builder<'_> {
    fn too_complex(&self, line: u32, message: String) -> ManifestError {
        ManifestError::TooComplex {
            file: self.file.to_string(),
            line,
            message,
        }
    }

    fn count(&mut self, n: usize, line: u32) -> Result<(), ManifestError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.max_nodes {
            return Err(self.too_complex(
                line,
                "aliases (`*name`) expand to far more data than the file holds: this looks like an alias bomb"
                    .into(),
            ));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, line: u32) -> Result<(), ManifestError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.too_complex(line, nesting_message()));
        }
        self.count(1, line)?;
        self.stack.push(frame);
        Ok(())
    }

    /// A finished node goes into its parent (or becomes the root).
    fn complete(&mut self, node: Lined<Node>, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    let line = k.line;
                    entries.push((
                        k,
                        Lined {
                            value: node.value,
                            line,
                        },
                    ));
                }
            },
        }
    }

    fn event(&mut self, ev: Event<'_>, line: u32) -> Result<(), ManifestError> {
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                self.count(1, line)?;
                let value = scalar(&text, style);
                self.complete(Lined { value, line }, anchor);
            }
            Event::SequenceStart(_, anchor, _) => {
                let frame = Frame::Seq {
                    line,
                    anchor,
                    items: Vec::new(),
                };
                self.open(frame, line)?;
            }
            Event::MappingStart(_, anchor, _) => {
                let frame = Frame::Map {
                    line,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                };
                self.open(frame, line)?;
            }
            Event::SequenceEnd | Event::MappingEnd => match self.stack.pop() {
                Some(Frame::Seq {
                    line,
                    anchor,
                    items,
                }) => self.complete(
                    Lined {
                        value: Node::Seq(items),
                        line,
                    },
                    anchor,
                ),
                Some(Frame::Map {
                    line,
                    anchor,
                    entries,
                    ..
                }) => self.complete(
                    Lined {
                        value: Node::Map(entries),
                        line,
                    },
                    anchor,
                ),
                None => {}
            },
            Event::Alias(id) => {
                let no_anchor = || ManifestError::Yaml {
                    file: self.file.to_string(),
                    line,
                    message: "an alias (`*name`) refers to no anchor".into(),
                };
                let size = self.anchors.get(&id).ok_or_else(no_anchor)?.value.size();
                // Counted before copying: a bomb stops here, not after allocating.
                self.count(size, line)?;
                let value = match self.anchors.get(&id) {
                    Some(target) => target.value.clone(),
                    None => Node::Null,
                };
                // A copy is located where it is used.
                self.complete(Lined { value, line }, 0);
            }
            _ => {}
        }
        Ok(())
    }
}

fn nesting_message() -> String {
    format!("nested more than {MAX_DEPTH} levels deep; a manifest needs 5")
}

/// Parse the document. `Ok(None)` when it holds no value at all (only comments).
pub(super) fn parse(file: &str, text: &str) -> Result<Option<Lined<Node>>, ManifestError> {
    let mut options = serde_saphyr::granit_parser::Options::default();
    // One more than ours, so our own check (with its clear message) fires first.
    options.flow_nesting_limit = MAX_DEPTH + 1;
    options.block_nesting_limit = MAX_DEPTH + 1;
    options.emit_comments = false;
    let mut b = Builder {
        file,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        nodes: 0,
        max_nodes: text.len().saturating_add(10_000),
    };
    let mut documents = 0;
    for item in Parser::new_from_str_with_options(text, options) {
        let (ev, span) = item.map_err(|e| scan_error(file, &e))?;
        let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX).max(1);
        if let Event::DocumentStart(..) = ev {
            documents += 1;
            if documents > 1 {
                return Err(ManifestError::Yaml {
                    file: file.to_string(),
                    line,
                    message: "more than one YAML document (`---`): a manifest is one document"
                        .into(),
                });
            }
        }
        b.event(ev, line)?;
    }
    Ok(b.root.filter(|n| n.value != Node::Null))
}

fn scan_error(file: &str, e: &ScanError) -> ManifestError {
    let line = u32::try_from(e.marker().line()).unwrap_or(u32::MAX).max(1);
    let info = e.info();
    let message = info.lines().next().unwrap_or("").trim();
    // The parser's own nesting guard speaks of recursion or nesting.
    if message.contains("recursion") || message.contains("nesting") {
        return ManifestError::TooComplex {
            file: file.to_string(),
            line,
            message: nesting_message(),
        };
    }
    ManifestError::Yaml {
        file: file.to_string(),
        line,
        message: if message.is_empty() {
            "syntax error".into()
        } else {
            // The parser may quote the offending text.
            crate::text::clip(message).into_owned()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_are_typed_quoted_ones_are_text() {
        let p = |s| scalar(s, ScalarStyle::Plain);
        assert_eq!(p("5550100001"), Node::Int("5550100001".into()));
        assert_eq!(
            p("07700900123"),
            Node::Int("07700900123".into()),
            "text as written"
        );
        assert_eq!(p("-5"), Node::Int("-5".into()));
        assert_eq!(p("0x1F"), Node::Int("0x1F".into()));
        assert_eq!(p("1.5e3"), Node::Float("1.5e3".into()));
        assert_eq!(p("1e10"), Node::Float("1e10".into()));
        assert_eq!(p(".5"), Node::Float(".5".into()));
        assert_eq!(p("1."), Node::Float("1.".into()));
        assert_eq!(p(".inf"), Node::Float(".inf".into()));
        assert_eq!(p("~"), Node::Null);
        assert_eq!(p(""), Node::Null);
        assert_eq!(p("True"), Node::Bool(true));
        assert_eq!(p("yes"), Node::Str("yes".into()), "YAML 1.2: yes is text");
        assert_eq!(p("7700 900123"), Node::Str("7700 900123".into()));
        assert_eq!(p("1e"), Node::Str("1e".into()));
        assert_eq!(p("."), Node::Str(".".into()));
        assert_eq!(p("e5"), Node::Str("e5".into()));
        assert_eq!(p("+"), Node::Str("+".into()));
        assert_eq!(
            scalar("123", ScalarStyle::DoubleQuoted),
            Node::Str("123".into())
        );
        assert_eq!(
            scalar("~", ScalarStyle::SingleQuoted),
            Node::Str("~".into())
        );
    }
}
