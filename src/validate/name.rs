//! `verified_name` (SPEC section 1): trimmed, 2–75 characters (Meta's schema),
//! and warnings for what Meta's display-name guidelines forbid that a machine
//! can see: "WhatsApp" or "Facebook" in the name, all capitals, emoji.

use super::findings::Findings;
use crate::manifest::{Field, RawValue};
use crate::text::clip;

const MIN_CHARS: usize = 2;
const MAX_CHARS: usize = 75;
/// Fewer cased letters than this in capitals is an acronym, not shouting.
const MIN_LETTERS_FOR_CAPS: usize = 4;

/// `Some(None)` when absent, `Some(Some(trimmed))` when fine (warnings aside),
/// `None` after an error.
pub(super) fn verified_name<'v>(
    v: Option<&'v RawValue>,
    f: &mut Findings,
) -> Option<Option<&'v str>> {
    let Some(v) = v else {
        return Some(None);
    };
    let name = v.text.trim();
    if name.is_empty() {
        // Given but blank (a cell of spaces, `""`): not the same as leaving it out.
        f.error(
            Field::VerifiedName,
            format!(
                "is blank; Meta accepts {MIN_CHARS} to {MAX_CHARS} characters: give a display name or leave the field out"
            ),
        );
        return None;
    }
    let chars = name.chars().count();
    // Only a problem quotes the name: not worth clipping for every row.
    let shown = || clip(name);
    if !(MIN_CHARS..=MAX_CHARS).contains(&chars) {
        f.error(
            Field::VerifiedName,
            format!(
                "`{}` is {chars} character{} long; Meta accepts {MIN_CHARS} to {MAX_CHARS}",
                shown(),
                if chars == 1 { "" } else { "s" }
            ),
        );
        return None;
    }
    for brand in ["whatsapp", "facebook"] {
        if contains_ignore_ascii_case(name, brand) {
            f.warning(
                Field::VerifiedName,
                format!(
                    "`{}` contains \"{brand}\": Meta's display-name guidelines do not allow it",
                    shown()
                ),
            );
        }
    }
    let upper = name.chars().filter(|c| c.is_uppercase()).count();
    if upper >= MIN_LETTERS_FOR_CAPS && !name.chars().any(char::is_lowercase) {
        f.warning(
            Field::VerifiedName,
            format!(
                "`{}` is all capitals: Meta's guidelines allow that only for acronyms",
                shown()
            ),
        );
    }
    if name.chars().any(is_emoji) {
        f.warning(
            Field::VerifiedName,
            format!(
                "`{}` contains emoji: Meta's display-name guidelines do not allow them",
                shown()
            ),
        );
    }
    Some(Some(name))
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The blocks where emoji live (pictographs, emoticons, dingbats, flags, the
/// emoji variation selector). Good enough for a warning.
fn is_emoji(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B05..=0x2B55 | 0x231A..=0x23FF | 0xFE0F)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Source;
    use crate::validate::{Diagnostic, Severity};

    fn check(name: &str) -> (Option<Option<String>>, Vec<Diagnostic>) {
        let src = Source {
            file: "m".into(),
            line: 1,
        };
        let mut diags = Vec::new();
        let mut f = Findings::new(&src, &mut diags);
        let v = RawValue {
            text: name.into(),
            from_integer: false,
        };
        let out = verified_name(Some(&v), &mut f).map(|n| n.map(str::to_string));
        (out, diags)
    }

    fn warnings(name: &str) -> usize {
        let (out, d) = check(name);
        assert!(out.is_some(), "{name} should pass");
        assert!(d.iter().all(|d| d.severity == Severity::Warning));
        d.len()
    }

    #[test]
    fn absent_is_fine() {
        let src = Source {
            file: "m".into(),
            line: 1,
        };
        let mut diags = Vec::new();
        assert_eq!(
            verified_name(None, &mut Findings::new(&src, &mut diags)),
            Some(None)
        );
        assert!(diags.is_empty());
    }

    #[test]
    fn length_counts_characters_after_trimming() {
        assert_eq!(
            check("  Acme Support ").0,
            Some(Some("Acme Support".into()))
        );
        assert_eq!(check("Ab").0, Some(Some("Ab".into())));
        assert_eq!(
            check(&"é".repeat(75)).0.unwrap().unwrap().chars().count(),
            75
        );
        for bad in [" A ", "", "   ", &"x".repeat(76), &"é".repeat(76)] {
            let (out, d) = check(bad);
            assert_eq!(out, None, "{bad:?}");
            assert_eq!(d.len(), 1);
            assert_eq!(d[0].severity, Severity::Error);
        }
        assert!(
            check(&"x".repeat(76)).1[0]
                .message
                .contains("76 characters")
        );
        assert_eq!(
            check("  ").1[0].message,
            "is blank; Meta accepts 2 to 75 characters: give a display name or leave the field out"
        );
    }

    #[test]
    fn guideline_warnings() {
        assert_eq!(warnings("Acme Support"), 0);
        assert_eq!(warnings("IBM Cloud"), 0, "an acronym is not shouting");
        assert_eq!(warnings("Café Zürich"), 0);
        assert_eq!(warnings("Acme on WhatsApp"), 1);
        assert_eq!(warnings("acme FACEBOOK shop"), 1);
        assert_eq!(warnings("ACME SUPPORT"), 1);
        assert_eq!(warnings("NASA"), 1);
        assert_eq!(warnings("Acme 🚀"), 1);
        assert_eq!(warnings("Sunny ☀️ Shop"), 1);
        assert_eq!(warnings("WHATSAPP 🚀"), 3);
    }
}
