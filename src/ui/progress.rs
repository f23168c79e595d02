//! What the user sees while sending (SPEC section 6): one indicatif bar on a
//! terminal, plain periodic lines when stderr is not one (logs, CI, pipes),
//! nothing under `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::Output;
use crate::runner::{NoProgress, ProgressSink, Snapshot};
use crate::schedule::Wait;
use crate::text::duration;

/// The progress display for these output settings: none when quiet; a
/// bar on a terminal (unless a prompt shares it: `plain`), periodic lines
/// otherwise.
pub fn for_output(total: usize, output: &Output, plain: bool) -> Box<dyn ProgressSink + Send> {
    if output.quiet() {
        Box::new(NoProgress)
    } else if std::io::stderr().is_terminal() && !plain {
        Box::new(Bar::new(total))
    } else {
        Box::new(Lines::new(Duration::from_secs(10)))
    }
}

/// Requests per second, once a second has passed (before that the figure
/// means nothing and can be absurd).
fn rate(s: &Snapshot) -> Option<f64> {
    let secs = s.elapsed.as_secs_f64();
    (secs >= 1.0).then(|| s.requests as f64 / secs)
}

/// The time left: the pace so far, but never less than the per-WABA budgets
/// and pauses need for what is queued (a budget wait of an hour must not read
/// as "ETA 3s").
fn eta(s: &Snapshot) -> Option<Duration> {
    let done = s.done();
    let left = s.total - done.min(s.total);
    let pace = (done > 0 && s.elapsed >= Duration::from_secs(1)).then(|| {
        let per_row = s.elapsed.as_secs_f64() / done as f64;
        Duration::from_secs_f64(per_row * left as f64)
    });
    match (pace, s.budget_eta) {
        (_, b) if left == 0 => Some(b.min(Duration::ZERO)),
        (Some(p), b) => Some(p.max(b)),
        (None, b) if !b.is_zero() => Some(b),
        (None, _) => None,
    }
}

/// A WABA id short enough for the line: `1022901…0398`.
fn short(id: &str) -> String {
    if id.len() <= 12 {
        id.to_string()
    } else {
        format!("{}…{}", &id[..7], &id[id.len() - 4..])
    }
}

/// The wall-clock time `d` from now, `15:05`.
fn at(d: Duration) -> String {
    let when = chrono::Local::now() + chrono::Duration::from_std(d).unwrap_or_default();
    when.format("%H:%M").to_string()
}

/// What the queue waits for, when nothing is in flight and nothing may go.
fn waiting(s: &Snapshot) -> Option<String> {
    let (why, d) = s.waiting.as_ref()?;
    if *d < Duration::from_secs(2) {
        return None;
    }
    let budget = s.per_waba.map(|r| format!(" ({r})")).unwrap_or_default();
    let what = match why {
        Wait::Budget(w) => format!("WABA {} budget{budget}", short(w.as_str())),
        Wait::Paused(w) => format!("WABA {} paused by Meta", short(w.as_str())),
        Wait::Slowdown(w) => format!("WABA {} near its limit", short(w.as_str())),
        Wait::AppPaused => "the app paused by Meta".to_string(),
        Wait::Rate => "--rate".to_string(),
        Wait::Backoff => "retries after errors".to_string(),
    };
    Some(format!("waiting for {what} until {}", at(*d)))
}

/// Paused WABAs (other than the one waited for), and until when.
fn paused(s: &Snapshot) -> Option<String> {
    let shown = match &s.waiting {
        Some((Wait::Paused(w), _)) => Some(w),
        _ => None,
    };
    let others: Vec<_> = s.paused.iter().filter(|(w, _)| Some(w) != shown).collect();
    if others.is_empty() || s.app_paused.is_some() {
        return s.app_paused.map(|d| format!("app paused until {}", at(d)));
    }
    let (w, d) = others[0];
    let more = if others.len() > 1 {
        format!(" +{}", others.len() - 1)
    } else {
        String::new()
    };
    Some(format!(
        "paused {} until {}{more}",
        short(w.as_str()),
        at(*d)
    ))
}

/// `104/300 · created 104 · failed 0 · in flight 8 · 40.5 req/s · ETA 1m 2s`,
/// then what the run waits for, if anything; at most 80 columns for the
/// first part on its own.
pub fn line(s: &Snapshot) -> String {
    let mut parts = vec![
        format!("{}/{}", s.done(), s.total),
        format!("created {}", s.created),
        format!("failed {}", s.failed),
    ];
    if s.skipped > 0 {
        parts.push(format!("skipped {}", s.skipped));
    }
    parts.push(format!("in flight {}", s.in_flight));
    if let Some(r) = rate(s) {
        // Decimals only where they say something.
        parts.push(if r < 100.0 {
            format!("{r:.1} req/s")
        } else {
            format!("{r:.0} req/s")
        });
    }
    if let Some(e) = eta(s) {
        parts.push(format!("ETA {}", duration(e)));
    }
    let mut out = parts.join(" · ");
    for extra in [waiting(s), paused(s)].into_iter().flatten() {
        out.push_str(" · ");
        out.push_str(&extra);
    }
    out
}

struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(total: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Bar { bar }
    }
}

impl ProgressSink for Bar {
    fn update(&mut self, s: &Snapshot) {
        self.bar.set_position(s.done() as u64);
        self.bar.set_message(line(s));
    }
    fn finish(&mut self, s: &Snapshot) {
        self.update(s);
        self.bar.finish_and_clear();
    }
    fn notice(&mut self, text: &str) {
        self.bar.suspend(|| eprintln!("waba-provision: {text}"));
    }
}

struct Lines {
    every: Duration,
    last: Option<Instant>,
}

impl Lines {
    fn new(every: Duration) -> Self {
        Lines { every, last: None }
    }
}

impl ProgressSink for Lines {
    fn update(&mut self, s: &Snapshot) {
        let now = Instant::now();
        if self.last.is_none_or(|l| now - l >= self.every) {
            if self.last.is_some() {
                eprintln!("progress: {}", line(s));
            }
            self.last = Some(now);
        }
    }
    fn finish(&mut self, _: &Snapshot) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Rate;
    use crate::validate::WabaId;

    fn snap() -> Snapshot {
        Snapshot {
            total: 300,
            created: 104,
            failed: 0,
            skipped: 0,
            in_flight: 8,
            requests: 104,
            elapsed: Duration::from_millis(2570),
            paused: vec![],
            app_paused: None,
            waiting: None,
            budget_eta: Duration::ZERO,
            per_waba: Some(Rate {
                count: 200,
                per: Duration::from_secs(3600),
            }),
        }
    }

    #[test]
    fn the_line_reads_unambiguously_and_fits_80_columns() {
        let l = line(&snap());
        assert_eq!(
            l,
            "104/300 · created 104 · failed 0 · in flight 8 · 40.5 req/s · ETA 4s"
        );
        // A big run at full speed still fits.
        let mut s = snap();
        s.total = 20_000;
        s.created = 15_000;
        s.failed = 1_234;
        s.in_flight = 64;
        s.requests = 16_300;
        s.elapsed = Duration::from_secs(65);
        assert!(line(&s).chars().count() <= 80, "{}", line(&s));
    }

    #[test]
    fn the_first_frame_shows_no_rate() {
        let mut s = snap();
        s.elapsed = Duration::from_millis(3);
        s.requests = 8;
        s.created = 0;
        let l = line(&s);
        assert!(!l.contains("req/s"), "{l}");
    }

    #[test]
    fn a_budget_wait_says_so_and_counts_in_the_eta() {
        let mut s = snap();
        s.in_flight = 0;
        s.waiting = Some((
            Wait::Budget(WabaId::new_unchecked("30999123456789")),
            Duration::from_secs(3000),
        ));
        s.budget_eta = Duration::from_secs(3000);
        let l = line(&s);
        assert!(
            l.contains("waiting for WABA 3099912…6789 budget (200/h) until "),
            "{l}"
        );
        assert!(l.contains("ETA 50m 0s"), "{l}");
        s.waiting = Some((
            Wait::Paused(WabaId::new_unchecked("777")),
            Duration::from_secs(600),
        ));
        s.paused = vec![
            (WabaId::new_unchecked("777"), Duration::from_secs(600)),
            (WabaId::new_unchecked("888"), Duration::from_secs(60)),
        ];
        let l = line(&s);
        assert!(
            l.contains("waiting for WABA 777 paused by Meta until"),
            "{l}"
        );
        assert!(l.contains("paused 888 until"), "{l}");
    }
}
