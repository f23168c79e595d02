//! Small text helpers shared by every place that writes for people: the one
//! duration format and plurals. A leaf: it knows nothing of the pipeline.

use std::time::Duration;

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
    fn durations() {
        let secs = Duration::from_secs_f64;
        assert_eq!(duration(secs(0.3)), "under 1s");
        assert_eq!(duration(secs(12.0)), "12s");
        assert_eq!(duration(secs(245.0)), "4m 5s");
        assert_eq!(duration(secs(4320.0)), "1h 12m");
        assert_eq!(duration(secs(2.0 * 86400.0 + 3.0 * 3600.0)), "2d 3h");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1), "");
        assert_eq!(plural(0), "s");
        assert_eq!(plural(2), "s");
    }
}
