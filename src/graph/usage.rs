//! Throttling hints read from response headers: `Retry-After`,
//! `X-Business-Use-Case-Usage`, `X-App-Usage`, `facebook-api-version`
//! (graph-api.md §3.2).
//!
//! A malformed header is ignored: a call never fails because of a header.
//! A missing header is not 0 % usage (Meta sends them only once enough calls
//! were made), so absent values stay `None`.

use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// What one response's headers said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    pub retry_after: Option<Duration>,
    /// Highest percentage in `X-Business-Use-Case-Usage` for the WABA called.
    pub waba_usage_pct: Option<u32>,
    /// `estimated_time_to_regain_access` (minutes in the header) for the WABA.
    pub waba_regain: Option<Duration>,
    /// Highest percentage in `X-App-Usage`.
    pub app_usage_pct: Option<u32>,
    /// `facebook-api-version`: the version that served the call.
    pub api_version: Option<String>,
}

/// Read the hints of one response to a call about `waba_id`.
pub fn parse_hints(headers: &HeaderMap, waba_id: &str) -> Hints {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let buc = text("x-business-use-case-usage").and_then(|h| parse_buc(h, waba_id));
    Hints {
        retry_after: text("retry-after").and_then(|h| parse_retry_after(h, SystemTime::now())),
        waba_usage_pct: buc.and_then(|b| b.usage_pct),
        waba_regain: buc.and_then(|b| b.regain),
        app_usage_pct: text("x-app-usage").and_then(parse_app_usage),
        api_version: text("facebook-api-version")
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
    }
}

/// `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in
/// the past means "now" (zero).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `{"call_count":28,"total_time":25,"total_cputime":25}` → 28.
fn parse_app_usage(value: &str) -> Option<u32> {
    let v: Value = serde_json::from_str(value).ok()?;
    usage_pct(&v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BucUsage {
    usage_pct: Option<u32>,
    regain: Option<Duration>,
}

/// `{"<id>":[{"type":..,"call_count":..,"total_cputime":..,"total_time":..,
/// "estimated_time_to_regain_access":<minutes>}, ...], ...}`: the entries of
/// the WABA called, or of every id when the WABA is not among the keys (the
/// key is probably the WABA id, but Meta does not say so; the maximum is the
/// cautious reading).
fn parse_buc(value: &str, waba_id: &str) -> Option<BucUsage> {
    let Value::Object(by_id) = serde_json::from_str::<Value>(value).ok()? else {
        return None;
    };
    let entries: Vec<&Value> = match by_id.get(waba_id) {
        Some(own) => entries_of(own).collect(),
        None => by_id.values().flat_map(entries_of).collect(),
    };
    if entries.is_empty() {
        return None;
    }
    let usage_pct = entries.iter().filter_map(|e| usage_pct(e)).max();
    let regain_minutes = entries
        .iter()
        .filter_map(|e| e.get("estimated_time_to_regain_access").and_then(as_count))
        .max();
    Some(BucUsage {
        usage_pct,
        regain: regain_minutes
            .filter(|m| *m > 0)
            .map(|m| Duration::from_secs(u64::from(m) * 60)),
    })
}

/// The value of one id: an array of entries (a lone object is accepted too).
fn entries_of(v: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Value::Array(items) => Box::new(items.iter().filter(|i| i.is_object())),
        Value::Object(_) => Box::new(std::iter::once(v)),
        _ => Box::new(std::iter::empty()),
    }
}

/// The highest of `call_count`, `total_cputime`, `total_time`.
fn usage_pct(entry: &Value) -> Option<u32> {
    ["call_count", "total_cputime", "total_time"]
        .iter()
        .filter_map(|k| entry.get(*k).and_then(as_count))
        .max()
}

/// A non-negative whole number, given as a number (rounded up) or a string.
fn as_count(v: &Value) -> Option<u32> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !f.is_finite() || f < 0.0 {
        return None;
    }
    // Saturating cast: absurd values still mean "over the limit".
    Some(f.ceil().min(f64::from(u32::MAX)) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// Meta's samples, verbatim from graph-api.md §3.2.
    const BUC_WHATSAPP: &str = r#"{"102290129340398":[{"type":"whatsapp_business_management","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0},{"type":"whatsapp","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#;
    const BUC_GENERIC: &str = r#"{"<id>":[{"type":"<type>","call_count":100,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":19}]}"#;
    const APP_USAGE: &str = r#"{"call_count":28,"total_time":25,"total_cputime":25}"#;

    #[test]
    fn metas_whatsapp_sample() {
        let h = headers(&[
            ("x-business-use-case-usage", BUC_WHATSAPP),
            (
                "x-app-usage",
                r#"{"call_count":0,"total_cputime":0,"total_time":0}"#,
            ),
            ("facebook-api-version", "v25.0"),
        ]);
        let hints = parse_hints(&h, "102290129340398");
        assert_eq!(
            hints,
            Hints {
                retry_after: None,
                waba_usage_pct: Some(1),
                waba_regain: None,
                app_usage_pct: Some(0),
                api_version: Some("v25.0".into()),
            }
        );
    }

    #[test]
    fn metas_generic_sample_falls_back_to_all_ids() {
        let h = headers(&[
            ("x-business-use-case-usage", BUC_GENERIC),
            ("x-app-usage", APP_USAGE),
        ]);
        let hints = parse_hints(&h, "102290129340398");
        assert_eq!(hints.waba_usage_pct, Some(100));
        assert_eq!(hints.waba_regain, Some(Duration::from_secs(19 * 60)));
        assert_eq!(hints.app_usage_pct, Some(28));
    }

    #[test]
    fn the_wabas_own_entry_wins_over_others() {
        let buc = r#"{"111":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":5,"total_time":5,"estimated_time_to_regain_access":30}],
                      "222":[{"type":"whatsapp_business_management","call_count":40,"total_cputime":70,"total_time":2,"estimated_time_to_regain_access":0}]}"#
            .replace('\n', " ");
        let h = headers(&[("x-business-use-case-usage", &buc)]);
        let own = parse_hints(&h, "222");
        assert_eq!(own.waba_usage_pct, Some(70));
        assert_eq!(own.waba_regain, None);
        let other = parse_hints(&h, "111");
        assert_eq!(other.waba_usage_pct, Some(100));
        assert_eq!(other.waba_regain, Some(Duration::from_secs(1800)));
    }

    #[test]
    fn missing_headers_are_not_zero() {
        assert_eq!(parse_hints(&HeaderMap::new(), "1"), Hints::default());
    }

    #[test]
    fn malformed_headers_are_ignored() {
        for bad in [
            "",
            "not json",
            "[]",
            "{\"1\":\"x\"}",
            "{\"1\":[]}",
            "{\"1\":[{\"call_count\":-5}]}",
        ] {
            let h = headers(&[
                ("x-business-use-case-usage", bad),
                ("x-app-usage", bad),
                ("retry-after", bad),
            ]);
            let hints = parse_hints(&h, "1");
            assert_eq!(hints.waba_usage_pct, None, "{bad}");
            assert_eq!(hints.waba_regain, None, "{bad}");
            assert_eq!(hints.app_usage_pct, None, "{bad}");
            assert_eq!(hints.retry_after, None, "{bad}");
        }
        // Not valid UTF-8 / visible ASCII.
        let mut h = HeaderMap::new();
        h.insert("x-app-usage", HeaderValue::from_bytes(b"\xff{}").unwrap());
        assert_eq!(parse_hints(&h, "1").app_usage_pct, None);
    }

    #[test]
    fn tolerant_numbers() {
        let h = headers(&[
            (
                "x-app-usage",
                r#"{"call_count":"97","total_time":12.2,"total_cputime":null}"#,
            ),
            (
                "x-business-use-case-usage",
                r#"{"5":{"call_count":3,"estimated_time_to_regain_access":"2"}}"#,
            ),
        ]);
        let hints = parse_hints(&h, "5");
        assert_eq!(hints.app_usage_pct, Some(97));
        assert_eq!(hints.waba_usage_pct, Some(3));
        assert_eq!(hints.waba_regain, Some(Duration::from_secs(120)));
    }

    #[test]
    fn retry_after_seconds() {
        let h = headers(&[("retry-after", " 120 ")]);
        assert_eq!(
            parse_hints(&h, "1").retry_after,
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn retry_after_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("tomorrow", now), None);
        // Through the header map (date far in the future → positive).
        let h = headers(&[("retry-after", "Fri, 01 Jan 2100 00:00:00 GMT")]);
        assert!(parse_hints(&h, "1").retry_after.unwrap() > Duration::from_secs(3600));
    }
}
