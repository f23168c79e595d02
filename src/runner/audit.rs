//! One audit line per HTTP exchange (`--audit-log`): what went out and came
//! back, from the reply's exchange record and error body, and what the policy
//! made of it.

use crate::audit::{Entry, Outcome, timestamp};
use crate::graph::{Failure, Reply};
use crate::schema::Status;
use crate::send::{Call, CallOk, Effects, Fate, Job};

/// The line for this answer, but for its outcome; `None` when the call left
/// no exchange record (test fakes).
pub(super) fn entry(job: &Job, reply: &mut Reply<CallOk>) -> Option<Entry> {
    let x = reply.exchange.take()?;
    let graph = match &reply.result {
        Err(Failure::Graph(g)) => Some(g),
        _ => None,
    };
    let h = &reply.hints;
    Some(Entry {
        sent_at: timestamp(x.sent_at),
        duration_ms: u64::try_from(x.duration.as_millis()).unwrap_or(u64::MAX),
        row: job.row.id.row,
        step: call_name(&job.call).into(),
        attempt: job.attempts.max(1),
        method: x.method.into(),
        path: x.path,
        http_status: x.http_status,
        graph_code: graph.and_then(|g| g.code),
        graph_subcode: graph.and_then(|g| g.subcode),
        graph_type: graph.and_then(|g| g.error_type.clone()),
        fbtrace_id: graph.and_then(|g| g.fbtrace_id.clone()).or(x.fbtrace_id),
        x_fb_request_id: x.request_id,
        api_version: h.api_version.clone(),
        waba_usage_pct: h.waba_usage_pct,
        app_usage_pct: h.app_usage_pct,
        regain_secs: h.waba_regain.map(|d| d.as_secs()),
        retry_after_secs: h.retry_after.map(|d| d.as_secs()),
        outcome: Outcome::Retry,
    })
}

fn call_name(call: &Call) -> &'static str {
    match call {
        Call::ListNumbers { .. } => "list_numbers",
        Call::ReadNumber(_) => "read_number",
        other => other.step().as_str(),
    }
}

/// The entry with what the policy decided.
pub(super) fn finish(mut e: Entry, before: &Call, fate: &Fate, effects: &Effects) -> Entry {
    let settled_create = matches!(before, Call::Create | Call::ListNumbers { .. });
    e.outcome = match fate {
        Fate::Done { result, .. } if result.status == Status::Failed => {
            if e.graph_code == Some(190) || e.graph_code == Some(102) {
                Outcome::TokenRefused
            } else {
                Outcome::Failed
            }
        }
        Fate::Done { .. } | Fate::Progress { .. } | Fate::NeedCode { .. } if settled_create => {
            Outcome::Created
        }
        Fate::Done { .. } | Fate::Progress { .. } | Fate::NeedCode { .. } => Outcome::Done,
        Fate::Again { .. } if effects.pause_app.is_some() => Outcome::PauseApp,
        Fate::Again { .. } if effects.pause_waba.is_some() && !effects.success => {
            Outcome::PauseWaba
        }
        Fate::Again { job, .. }
            if matches!(job.call, Call::ListNumbers { .. } | Call::ReadNumber(_)) =>
        {
            Outcome::Reconcile
        }
        Fate::Again { .. } => Outcome::Retry,
    };
    e
}
