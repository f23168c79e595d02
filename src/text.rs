//! Small text helpers shared by every place that writes for people: the one
//! duration format, plurals, and [`clip`], which bounds every value quoted in a
//! message. A leaf: it knows nothing of the pipeline.

use std::borrow::Cow;
use std::time::Duration;

/// A quoted value longer than this (in characters) is clipped by [`clip`].
pub const CLIP_CHARS: usize = 80;
/// How many characters of a clipped value are kept before the ellipsis.
const CLIP_KEEP: usize = 48;

/// A value as it may appear inside a one-line message: at most about
/// [`CLIP_CHARS`] characters, on one line. A long value keeps its start, then an
/// ellipsis and its size (`Acme Acme Acme… (10.0 MB)`), so a 10 MB spreadsheet
/// cell never becomes a 10 MB diagnostic; control characters (a line break in
/// a quoted CSV cell) are shown escaped, so the message stays one line.
/// Borrowed, without copying, when the value is fine as it is.
pub fn clip(value: &str) -> Cow<'_, str> {
    clip_to(value, CLIP_CHARS, CLIP_KEEP)
}

/// A message from elsewhere (Meta's error text, a proxy's page) as it may
/// appear in a results line or a summary: Meta's own sentences are kept whole
/// (they run to about 200 characters), but a page of HTML is not.
pub fn clip_message(value: &str) -> Cow<'_, str> {
    clip_to(value, 400, 300)
}

/// [`clip`] with its bound and the characters kept before the ellipsis.
fn clip_to(value: &str, max: usize, keep: usize) -> Cow<'_, str> {
    let is_plain = |c: char| !c.is_control();
    // Counting stops early: a 10 MB value is not walked to its end.
    let long = value.chars().nth(max).is_some();
    if !long && value.chars().all(is_plain) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(CLIP_KEEP + 24);
    // Escapes count towards the bound: `\u{1b}` is six characters shown.
    let budget = if long { keep } else { max };
    let mut shown = 0;
    let mut cut = false;
    for c in value.chars() {
        let escaped = (!is_plain(c)).then(|| c.escape_default().to_string());
        let width = escaped.as_ref().map_or(1, |e| e.chars().count());
        if shown + width > budget {
            cut = true;
            break;
        }
        shown += width;
        match escaped {
            Some(e) => out.push_str(&e),
            None => out.push(c),
        }
    }
    if cut && !long {
        out.push('…');
    }
    if long {
        out.push_str("… (");
        out.push_str(&size(value.len()));
        out.push(')');
    }
    Cow::Owned(out)
}

/// `999 bytes`, `12.3 kB`, `10.0 MB`, `1.2 GB` (powers of 1000, as file
/// managers show sizes).
pub fn size(bytes: usize) -> String {
    const UNITS: [&str; 3] = ["kB", "MB", "GB"];
    if bytes < 1000 {
        return format!("{bytes} byte{}", plural(bytes));
    }
    // Precision is not the point of a size in a message.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `1,234,567`: counts in messages people read.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `under 1s`, `12s`, `4m 5s`, `1h 12m`, `2d 3h`: the one duration format of
/// plans, progress lines and summaries.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "under 1s".into(),
        1..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// `""` for one, `"s"` otherwise.
pub fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_meta_s_sentences_but_not_a_page() {
        let meta = "(#80008) There have been too many calls to this WhatsApp Business account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.";
        assert_eq!(clip_message(meta), meta);
        let page = "<html>".repeat(10_000);
        let clipped = clip_message(&page);
        assert!(clipped.chars().count() < 330, "{clipped}");
        assert!(clipped.ends_with("(60.0 kB)"), "{clipped}");
    }

    #[test]
    fn durations() {
        let secs = Duration::from_secs_f64;
        assert_eq!(duration(secs(0.3)), "under 1s");
        assert_eq!(duration(secs(12.0)), "12s");
        assert_eq!(duration(secs(245.0)), "4m 5s");
        assert_eq!(duration(secs(4320.0)), "1h 12m");
        assert_eq!(duration(secs(2.0 * 86400.0 + 3.0 * 3600.0)), "2d 3h");
    }

    #[test]
    fn short_values_are_borrowed_as_they_are() {
        for v in [
            "",
            "44",
            "Acme Support",
            "Café Zürich 🚀",
            &"x".repeat(CLIP_CHARS),
        ] {
            assert!(matches!(clip(v), Cow::Borrowed(b) if b == v), "{v:?}");
        }
    }

    #[test]
    fn a_ten_megabyte_value_is_clipped_with_its_size() {
        let cell = "Acme ".repeat(2_000_000);
        let c = clip(&cell).into_owned();
        assert!(c.starts_with("Acme Acme"), "{c}");
        assert!(c.ends_with("… (10.0 MB)"), "{c}");
        assert!(c.chars().count() <= CLIP_CHARS, "{c}");
        // Multi-byte characters are cut on a character boundary.
        let accents = "é".repeat(1000);
        assert_eq!(
            clip(&accents),
            format!("{}… (2.0 kB)", "é".repeat(CLIP_KEEP))
        );
    }

    #[test]
    fn line_breaks_are_escaped_so_a_message_stays_one_line() {
        assert_eq!(clip("Acme\r\nSupport"), "Acme\\r\\nSupport");
        assert_eq!(clip("two\nlines\t!"), "two\\nlines\\t!");
        assert!(!clip(&"a\n".repeat(100)).contains('\n'));
        let escapes = "\u{1b}".repeat(70);
        let shown = clip(&escapes);
        assert!(shown.chars().count() <= CLIP_CHARS + 1, "{shown}");
    }

    #[test]
    fn sizes_and_thousands() {
        assert_eq!(size(1), "1 byte");
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(1000), "1.0 kB");
        assert_eq!(size(12_345), "12.3 kB");
        assert_eq!(size(999_999), "1.0 MB");
        assert_eq!(size(10_000_000), "10.0 MB");
        assert_eq!(size(3_000_000_000), "3.0 GB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2980), "2,980");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1), "");
        assert_eq!(plural(0), "s");
        assert_eq!(plural(2), "s");
    }
}
