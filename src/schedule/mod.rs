//! Scheduling (SPEC section 4): one queue per WABA, round-robin dispatch over
//! the WABAs that have budget, under the global `--concurrency` and `--rate`.
//!
//! The scheduler is a plain state machine over tokio's clock: it never sleeps
//! and never does I/O. The runner asks it for the next job ([`Dispatch`]), tells
//! it when a request finishes, and tells it about throttling. That keeps the
//! rules (a throttled or huge WABA never holds back the others) testable with
//! paused time.

pub mod pacer;
pub mod window;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

use crate::limits::Limits;
use crate::validate::WabaId;
use pacer::Pacer;
use window::RollingWindow;

/// What the runner should do next.
#[derive(Debug)]
pub enum Dispatch<T> {
    /// Send this job now (a concurrency slot and budget are taken).
    Go(T),
    /// Nothing may go before this instant (or before a request finishes).
    WaitUntil(Instant),
    /// Jobs are queued but only a finishing request can unblock them.
    WaitForCompletion,
    /// No job queued and none waiting: the run is done once in-flight requests finish.
    Empty,
}

/// What queued calls are waiting for, when nothing may go now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// The WABA's `--rate-per-waba` budget is spent until then.
    Budget(WabaId),
    /// The WABA is paused (Meta throttled it).
    Paused(WabaId),
    /// The whole app is paused.
    AppPaused,
    /// `--rate`.
    Rate,
    /// Rows waiting to retry after an error (backoff).
    Backoff,
    /// Usage near the limit spreads the WABA's calls out.
    Slowdown(WabaId),
}

/// When the next queued call may go and why not before, and how long the
/// budgets need for everything queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outlook {
    pub next: Option<(Instant, Wait)>,
    /// The longest any WABA needs for its queued calls under its budget.
    pub drain: Duration,
}

/// Usage at or above this percentage slows sending before Meta throttles.
const SLOWDOWN_FROM_PCT: u32 = 80;

#[derive(Debug)]
struct Delayed<T> {
    at: Instant,
    seq: u64,
    job: T,
}
impl<T> PartialEq for Delayed<T> {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl<T> Eq for Delayed<T> {}
impl<T> PartialOrd for Delayed<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Delayed<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

#[derive(Debug)]
struct Lane<T> {
    waba: WabaId,
    ready: VecDeque<T>,
    delayed: BinaryHeap<Reverse<Delayed<T>>>,
    budget: RollingWindow,
    paused_until: Option<Instant>,
    /// Extra spacing between calls while usage headers say we are near the limit.
    spacing: Duration,
    last_dispatch: Option<Instant>,
    in_flight: usize,
    /// After a throttle (or usage at 100 %), one call at a time until one
    /// succeeds: a burst at a spent budget only earns more 80008s and, as Meta
    /// warns, calls made while throttled extend the block.
    probing: bool,
}

impl<T> Lane<T> {
    /// When this lane's next call may go and what holds it, if not now.
    fn wait(&mut self, now: Instant) -> Option<(Instant, Wait)> {
        self.promote(now);
        let waba = || self.waba.clone();
        if let Some(until) = self.paused_until.filter(|u| *u > now) {
            return Some((until, Wait::Paused(waba())));
        }
        if self.ready.is_empty() {
            return self.delayed.peek().map(|Reverse(d)| (d.at, Wait::Backoff));
        }
        let free = self.budget.next_free(now);
        if free > now {
            return Some((free, Wait::Budget(waba())));
        }
        match self.last_dispatch.map(|l| l + self.spacing) {
            Some(at) if at > now => Some((at, Wait::Slowdown(waba()))),
            _ => None,
        }
    }

    fn promote(&mut self, now: Instant) {
        while self.delayed.peek().is_some_and(|Reverse(d)| d.at <= now) {
            if let Some(Reverse(d)) = self.delayed.pop() {
                // Retries go first: they finish rows that are already under way.
                self.ready.push_front(d.job);
            }
        }
    }

    /// Ok if a job may go now, else the earliest instant it might.
    fn readiness(&mut self, now: Instant) -> Result<(), Option<Instant>> {
        self.promote(now);
        let mut wait = now;
        if let Some(until) = self.paused_until {
            if until > now {
                wait = wait.max(until);
            } else {
                self.paused_until = None;
            }
        }
        if let Some(last) = self.last_dispatch {
            wait = wait.max(last + self.spacing);
        }
        if self.ready.is_empty() {
            let next = self.delayed.peek().map(|Reverse(d)| d.at.max(wait));
            return Err(next);
        }
        wait = wait.max(self.budget.next_free(now));
        if wait > now {
            return Err(Some(wait));
        }
        if self.probing && self.in_flight > 0 {
            // Wait for the probe's answer.
            return Err(None);
        }
        Ok(())
    }
}

/// Round-robin over per-WABA lanes with global limits.
#[derive(Debug)]
pub struct Scheduler<T> {
    lanes: Vec<Lane<T>>,
    index: HashMap<WabaId, usize>,
    cursor: usize,
    concurrency: usize,
    in_flight: usize,
    pacer: Option<Pacer>,
    app_paused_until: Option<Instant>,
    app_spacing: Duration,
    last_dispatch: Option<Instant>,
    base_waba_spacing: Duration,
    budget: crate::limits::Rate,
    seq: u64,
    /// Jobs in the lanes (ready or delayed), kept so `next` need not count them.
    queued: usize,
}

impl<T> Scheduler<T> {
    pub fn new(limits: &Limits) -> Self {
        Scheduler {
            lanes: Vec::new(),
            index: HashMap::new(),
            cursor: 0,
            concurrency: limits.concurrency.max(1),
            in_flight: 0,
            pacer: limits.rate.map(Pacer::new),
            app_paused_until: None,
            app_spacing: Duration::ZERO,
            last_dispatch: None,
            base_waba_spacing: limits.rate_per_waba.interval(),
            budget: limits.rate_per_waba,
            seq: 0,
            queued: 0,
        }
    }

    fn lane(&mut self, waba: &WabaId) -> &mut Lane<T> {
        let i = match self.index.get(waba) {
            Some(&i) => i,
            None => {
                self.lanes.push(Lane {
                    waba: waba.clone(),
                    ready: VecDeque::new(),
                    delayed: BinaryHeap::new(),
                    budget: RollingWindow::new(self.budget.count, self.budget.per),
                    paused_until: None,
                    spacing: Duration::ZERO,
                    last_dispatch: None,
                    in_flight: 0,
                    probing: false,
                });
                self.index.insert(waba.clone(), self.lanes.len() - 1);
                self.lanes.len() - 1
            }
        };
        &mut self.lanes[i]
    }

    /// Queue a job for its WABA, to go no earlier than `not_before`.
    pub fn push(&mut self, waba: &WabaId, job: T, not_before: Option<Instant>) {
        self.seq += 1;
        self.queued += 1;
        let seq = self.seq;
        let lane = self.lane(waba);
        match not_before {
            Some(at) => lane.delayed.push(Reverse(Delayed { at, seq, job })),
            None => lane.ready.push_back(job),
        }
    }

    /// The next job to send, or how long to wait. Taking a job takes a
    /// concurrency slot (give it back with [`Scheduler::finished`]) and one unit
    /// of its WABA's budget.
    pub fn next(&mut self, now: Instant) -> Dispatch<T> {
        if self.queued == 0 {
            return Dispatch::Empty;
        }
        if self.in_flight >= self.concurrency {
            return Dispatch::WaitForCompletion;
        }
        let mut global_wait = now;
        if let Some(until) = self.app_paused_until {
            if until > now {
                global_wait = until;
            } else {
                self.app_paused_until = None;
            }
        }
        if let Some(last) = self.last_dispatch {
            global_wait = global_wait.max(last + self.app_spacing);
        }
        if global_wait > now {
            return Dispatch::WaitUntil(global_wait);
        }
        let n = self.lanes.len();
        let mut earliest: Option<Instant> = None;
        for k in 0..n {
            let i = (self.cursor + k) % n;
            match self.lanes[i].readiness(now) {
                Ok(()) => {
                    if let Some(p) = &mut self.pacer
                        && let Err(at) = p.try_take(now)
                    {
                        return Dispatch::WaitUntil(at);
                    }
                    let lane = &mut self.lanes[i];
                    let Some(job) = lane.ready.pop_front() else {
                        continue;
                    };
                    self.queued -= 1;
                    lane.budget.record(now);
                    lane.last_dispatch = Some(now);
                    lane.in_flight += 1;
                    self.last_dispatch = Some(now);
                    self.cursor = (i + 1) % n;
                    self.in_flight += 1;
                    return Dispatch::Go(job);
                }
                Err(Some(at)) => earliest = Some(earliest.map_or(at, |e| e.min(at))),
                Err(None) => {}
            }
        }
        match earliest {
            Some(at) => Dispatch::WaitUntil(at),
            None => Dispatch::WaitForCompletion,
        }
    }

    /// A dispatched request to `waba` finished: its concurrency slot is free
    /// again. `ok`: it succeeded, so a probing WABA opens up again.
    pub fn finished(&mut self, waba: &WabaId, ok: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let lane = self.lane(waba);
        lane.in_flight = lane.in_flight.saturating_sub(1);
        if ok {
            lane.probing = false;
        }
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Stop calling this WABA until `until` (80007/80008, its Retry-After).
    pub fn pause_waba(&mut self, waba: &WabaId, until: Instant) {
        let lane = self.lane(waba);
        lane.paused_until = Some(lane.paused_until.map_or(until, |u| u.max(until)));
        lane.probing = true;
    }

    /// Stop every call until `until` (app-level throttling: 4/17/613).
    pub fn pause_app(&mut self, until: Instant) {
        self.app_paused_until = Some(self.app_paused_until.map_or(until, |u| u.max(until)));
    }

    /// Usage of one WABA's budget as reported by Meta: near 100 % spreads its
    /// remaining calls out instead of bursting into an 80008.
    pub fn observe_waba_usage(&mut self, waba: &WabaId, pct: u32) {
        let base = self.base_waba_spacing;
        let lane = self.lane(waba);
        lane.spacing = slowdown(base, pct);
        if pct >= 100 {
            lane.probing = true;
        }
    }

    /// Usage of the app's budget (`X-App-Usage`), same idea across all WABAs.
    pub fn observe_app_usage(&mut self, pct: u32, hour: Duration) {
        // At 100 % of an hourly budget, one call per 1 % of the hour is the pace
        // that lets the usage fall; below 80 % no spacing at all.
        self.app_spacing = slowdown(hour / 100, pct);
    }

    /// WABAs paused now, with the instant they resume.
    pub fn paused(&self, now: Instant) -> Vec<(WabaId, Instant)> {
        self.lanes
            .iter()
            .filter_map(|l| {
                l.paused_until
                    .filter(|u| *u > now)
                    .map(|u| (l.waba.clone(), u))
            })
            .collect()
    }

    /// Until when the whole app is paused, if it is now.
    pub fn app_paused(&self, now: Instant) -> Option<Instant> {
        self.app_paused_until.filter(|u| *u > now)
    }

    /// Take every queued job (delayed or ready) that matches, e.g. every row of a
    /// dead token or of a stopped WABA, or everything on Ctrl-C.
    pub fn drain_where(&mut self, mut pred: impl FnMut(&WabaId, &T) -> bool) -> Vec<T> {
        let mut out = Vec::new();
        for lane in &mut self.lanes {
            let waba = lane.waba.clone();
            let (take, keep): (VecDeque<T>, VecDeque<T>) =
                lane.ready.drain(..).partition(|j| pred(&waba, j));
            lane.ready = keep;
            out.extend(take);
            let delayed = std::mem::take(&mut lane.delayed).into_vec();
            for Reverse(d) in delayed {
                if pred(&waba, &d.job) {
                    out.push(d.job);
                } else {
                    lane.delayed.push(Reverse(d));
                }
            }
        }
        self.queued -= out.len();
        out
    }

    /// Jobs still queued (ready or delayed).
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// A call to `waba` never reached anyone (it could not connect): its
    /// unit of the WABA's budget is given back.
    pub fn refund(&mut self, waba: &WabaId) {
        self.lane(waba).budget.refund();
    }

    /// What the queue is waiting for, for the progress display.
    pub fn outlook(&mut self, now: Instant) -> Outlook {
        let mut next: Option<(Instant, Wait)> = None;
        let mut drain = Duration::ZERO;
        let mut any_ready_now = false;
        for lane in &mut self.lanes {
            let queued = lane.ready.len() + lane.delayed.len();
            if queued == 0 {
                continue;
            }
            let paused = lane
                .paused_until
                .map_or(Duration::ZERO, |u| u.saturating_duration_since(now));
            drain = drain.max(lane.budget.time_for(queued, now).max(paused));
            match lane.wait(now) {
                None => any_ready_now = true,
                Some((at, why)) => {
                    if next.as_ref().is_none_or(|(n, _)| at < *n) {
                        next = Some((at, why));
                    }
                }
            }
        }
        if let Some(until) = self.app_paused_until.filter(|u| *u > now) {
            next = Some((until, Wait::AppPaused));
        } else if any_ready_now {
            next = match &mut self.pacer {
                Some(p) => p
                    .next_at(now)
                    .filter(|at| *at > now)
                    .map(|at| (at, Wait::Rate)),
                None => None,
            };
        }
        Outlook { next, drain }
    }
}

/// Spacing between calls for a usage percentage: none below 80 %, then growing
/// to 5× the even pace at 100 %.
fn slowdown(base: Duration, pct: u32) -> Duration {
    if pct < SLOWDOWN_FROM_PCT {
        Duration::ZERO
    } else {
        let steps = (pct.min(100) - SLOWDOWN_FROM_PCT) as f64 / 5.0;
        base.mul_f64(1.0 + steps)
    }
}

#[cfg(test)]
mod tests;
