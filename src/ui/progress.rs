//! What the user sees while sending (SPEC section 6): one indicatif bar on a
//! terminal, plain periodic lines when stderr is not one (logs, CI, pipes),
//! nothing under `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::Output;
use crate::runner::{NoProgress, ProgressSink, Snapshot};
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

fn rate(s: &Snapshot) -> f64 {
    let secs = s.elapsed.as_secs_f64();
    if secs > 0.0 {
        s.requests as f64 / secs
    } else {
        0.0
    }
}

fn eta(s: &Snapshot) -> Option<Duration> {
    let done = s.done();
    if done == 0 || s.elapsed.is_zero() {
        return None;
    }
    let per_row = s.elapsed.as_secs_f64() / done as f64;
    Some(Duration::from_secs_f64(
        per_row * (s.total - done.min(s.total)) as f64,
    ))
}

fn paused(s: &Snapshot) -> String {
    if s.paused.is_empty() && s.app_paused.is_none() {
        return String::new();
    }
    let app = s.app_paused.map(|d| format!("the app for {}", duration(d)));
    let mut list: Vec<String> = app
        .into_iter()
        .chain(
            s.paused
                .iter()
                .take(3)
                .map(|(w, d)| format!("{w} for {}", duration(*d))),
        )
        .collect();
    if s.paused.len() > 3 {
        list.push(format!("+{} more", s.paused.len() - 3));
    }
    format!(", paused: {}", list.join(", "))
}

/// One line describing the snapshot.
pub fn line(s: &Snapshot) -> String {
    let eta = eta(s)
        .map(|d| format!(", ETA {}", duration(d)))
        .unwrap_or_default();
    format!(
        "{}/{} done: {} created, {} failed, {} skipped; {} in flight, {:.1} req/s{eta}{}",
        s.done(),
        s.total,
        s.created,
        s.failed,
        s.skipped,
        s.in_flight,
        rate(s),
        paused(s)
    )
}

struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(total: usize) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Bar { bar }
    }
}

impl ProgressSink for Bar {
    fn update(&mut self, s: &Snapshot) {
        self.bar.set_position(s.done() as u64);
        let eta = eta(s)
            .map(|d| format!(" ETA {}", duration(d)))
            .unwrap_or_default();
        self.bar.set_message(format!(
            "created {} failed {} in flight {} {:.1} req/s{eta}{}",
            s.created,
            s.failed,
            s.in_flight,
            rate(s),
            paused(s)
        ));
    }
    fn finish(&mut self, s: &Snapshot) {
        self.update(s);
        self.bar.finish_and_clear();
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
    use crate::validate::WabaId;

    #[test]
    fn line_shows_counts_rate_eta_and_pauses() {
        let s = Snapshot {
            total: 10,
            created: 4,
            failed: 1,
            skipped: 0,
            in_flight: 2,
            requests: 10,
            elapsed: Duration::from_secs(5),
            paused: vec![(WabaId::new_unchecked("123"), Duration::from_secs(90))],
            app_paused: None,
        };
        let l = line(&s);
        assert!(l.starts_with("5/10 done: 4 created, 1 failed"), "{l}");
        assert!(l.contains("2.0 req/s"), "{l}");
        assert!(l.contains("ETA 5s"), "{l}");
        assert!(l.contains("paused: 123 for 1m 30s"), "{l}");
    }
}
