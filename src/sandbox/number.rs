//! One number as the sandbox holds it through onboarding (SPEC 7): its
//! public state (what `GET /{id}` and the ledger show) and its secrets (the
//! pending code, the two-step PIN), the register-call window and lock, and
//! the fields of `GET /{id}`. The secrets never print in `Debug` and never
//! reach the ledger view or the request log.

use crate::limits::Rate;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// `code_verification_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CodeVerification {
    NotVerified,
    Verified,
    /// A pre-verified id whose verification expired (configured).
    Expired,
}

impl CodeVerification {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeVerification::NotVerified => "NOT_VERIFIED",
            CodeVerification::Verified => "VERIFIED",
            CodeVerification::Expired => "EXPIRED",
        }
    }
}

/// `status`: PENDING until registered, then CONNECTED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NumberStatus {
    Pending,
    Connected,
}

impl NumberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NumberStatus::Pending => "PENDING",
            NumberStatus::Connected => "CONNECTED",
        }
    }
}

/// A number's current code as the test-only path and [`Sandbox::codes`]
/// show it.
///
/// [`Sandbox::codes`]: super::Sandbox::codes
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedCode {
    pub code: String,
    /// Time left; 0 once expired (verify_code then refuses it).
    pub expires_in_ms: u64,
    pub expired: bool,
}

/// A code from request_code; it is replaced by the next request.
#[derive(Clone)]
pub(crate) struct PendingCode {
    pub digits: String,
    pub expires: Instant,
}

/// What only the sandbox knows about a number. `Debug` hides the secrets.
#[derive(Clone)]
pub(crate) struct Private {
    /// When it was created (or migrated here): the name review starts then.
    pub created: Instant,
    pub code: Option<PendingCode>,
    pub pin: Option<String>,
    /// The counted register calls still inside the window (at most the limit).
    register_window: VecDeque<Instant>,
    /// Set once the window overflowed: every register call is refused until then.
    locked_until: Option<Instant>,
}

impl fmt::Debug for Private {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Private")
            .field("code", &self.code.as_ref().map(|_| "[redacted]"))
            .field("pin", &self.pin.as_ref().map(|_| "[redacted]"))
            .field("register_window", &self.register_window.len())
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

impl Private {
    pub(crate) fn new(created: Instant, pin: Option<String>) -> Self {
        Private {
            created,
            code: None,
            pin,
            register_window: VecDeque::new(),
            locked_until: None,
        }
    }

    /// A migrated number is a fresh number, but Meta counts register calls
    /// per phone number, so the window and lock travel with it.
    pub(crate) fn fresh_keeping_register_window(
        &self,
        created: Instant,
        pin: Option<String>,
    ) -> Self {
        Private {
            register_window: self.register_window.clone(),
            locked_until: self.locked_until,
            ..Private::new(created, pin)
        }
    }

    /// Count one register call at `now` under `limit`. `Err(remaining)` when
    /// the number is locked: already, or now because the window is full (Meta:
    /// beyond 10 calls in 72 h the number is locked for 72 h). Calls refused
    /// by the lock do not extend it.
    pub(crate) fn admit_register(&mut self, now: Instant, limit: Rate) -> Result<(), Duration> {
        if let Some(until) = self.locked_until {
            if now < until {
                return Err(until - now);
            }
            self.locked_until = None;
        }
        while let Some(&oldest) = self.register_window.front() {
            if oldest + limit.per <= now {
                self.register_window.pop_front();
            } else {
                break;
            }
        }
        if self.register_window.len() >= limit.count as usize {
            self.locked_until = Some(now + limit.per);
            return Err(limit.per);
        }
        self.register_window.push_back(now);
        Ok(())
    }

    /// When the lock ends, if the number is locked at `now`.
    pub(crate) fn locked_until(&self, now: Instant) -> Option<Instant> {
        self.locked_until.filter(|&until| now < until)
    }
}

/// The public state of a number, as `GET /{id}` reads it.
pub(crate) struct View<'a> {
    pub id: &'a str,
    pub display_phone_number: &'a str,
    pub verified_name: Option<&'a str>,
    pub status: NumberStatus,
    pub code_verification_status: CodeVerification,
    pub created: Instant,
}

/// Fields a number read (or a listing) can return; `id` always comes.
pub(crate) const KNOWN_FIELDS: [&str; 10] = [
    "id",
    "display_phone_number",
    "verified_name",
    "status",
    "code_verification_status",
    "name_status",
    "new_name_status",
    "quality_rating",
    "platform_type",
    "throughput",
];

impl View<'_> {
    /// PENDING_REVIEW until the review delay has passed, then APPROVED; NONE
    /// when there is no name to review.
    pub(crate) fn name_status(&self, now: Instant, review: Duration) -> &'static str {
        match self.verified_name {
            None => "NONE",
            Some(_) if now >= self.created + review => "APPROVED",
            Some(_) => "PENDING_REVIEW",
        }
    }

    /// The requested fields (already checked against [`KNOWN_FIELDS`]), `id` first.
    pub(crate) fn fields(&self, fields: &[String], now: Instant, review: Duration) -> Value {
        let connected = self.status == NumberStatus::Connected;
        let mut o = Map::new();
        o.insert("id".into(), json!(self.id));
        for f in fields {
            let v = match f.as_str() {
                "display_phone_number" => json!(self.display_phone_number),
                "verified_name" => json!(self.verified_name.unwrap_or_default()),
                "status" => json!(self.status.as_str()),
                "code_verification_status" => json!(self.code_verification_status.as_str()),
                "name_status" => json!(self.name_status(now, review)),
                // No display-name change is ever pending here.
                "new_name_status" => json!("NONE"),
                "quality_rating" => json!(if connected { "GREEN" } else { "UNKNOWN" }),
                "platform_type" => json!(if connected {
                    "CLOUD_API"
                } else {
                    "NOT_APPLICABLE"
                }),
                "throughput" => json!({ "level": "STANDARD" }),
                _ => continue,
            };
            o.insert(f.clone(), v);
        }
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn limit(count: u32, ms: u64) -> Rate {
        Rate {
            count,
            per: Duration::from_millis(ms),
        }
    }

    #[test]
    fn register_window_locks_for_one_window_beyond_the_limit() {
        let t0 = Instant::now();
        let mut p = Private::new(t0, None);
        let l = limit(3, 1000);
        for i in 0..3 {
            assert_eq!(p.admit_register(t0 + i * 10 * MS, l), Ok(()));
        }
        // The fourth call within the window locks the number for a whole window.
        assert_eq!(p.admit_register(t0 + 100 * MS, l), Err(1000 * MS));
        assert_eq!(p.locked_until(t0 + 100 * MS), Some(t0 + 1100 * MS));
        // Calls while locked are refused and do not extend the lock.
        assert_eq!(p.admit_register(t0 + 600 * MS, l), Err(500 * MS));
        assert_eq!(p.admit_register(t0 + 1099 * MS, l), Err(MS));
        // Once it ends, the old calls have left the window too.
        assert_eq!(p.admit_register(t0 + 1100 * MS, l), Ok(()));
        assert_eq!(p.locked_until(t0 + 1100 * MS), None);
    }

    #[test]
    fn a_moving_window_lets_calls_in_as_old_ones_leave() {
        let t0 = Instant::now();
        let mut p = Private::new(t0, None);
        let l = limit(2, 1000);
        assert!(p.admit_register(t0, l).is_ok());
        assert!(p.admit_register(t0 + 500 * MS, l).is_ok());
        // At 1000 ms the first call has left: room for one.
        assert!(p.admit_register(t0 + 1000 * MS, l).is_ok());
        assert!(p.admit_register(t0 + 1001 * MS, l).is_err());
    }

    #[test]
    fn debug_hides_code_and_pin() {
        let t0 = Instant::now();
        let mut p = Private::new(t0, Some("246810".into()));
        p.code = Some(PendingCode {
            digits: "135790".into(),
            expires: t0,
        });
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("246810") && !shown.contains("135790"),
            "{shown}"
        );
    }

    #[test]
    fn fields_follow_the_state() {
        let t0 = Instant::now();
        let mut v = View {
            id: "1",
            display_phone_number: "+1 555-010-0001",
            verified_name: Some("Acme"),
            status: NumberStatus::Pending,
            code_verification_status: CodeVerification::NotVerified,
            created: t0,
        };
        let all: Vec<String> = KNOWN_FIELDS.iter().map(|s| s.to_string()).collect();
        let review = Duration::from_secs(30);
        let before = v.fields(&all, t0, review);
        assert_eq!(before["status"], "PENDING");
        assert_eq!(before["name_status"], "PENDING_REVIEW");
        assert_eq!(before["platform_type"], "NOT_APPLICABLE");
        assert_eq!(before["quality_rating"], "UNKNOWN");
        assert_eq!(before["throughput"]["level"], "STANDARD");
        v.status = NumberStatus::Connected;
        v.code_verification_status = CodeVerification::Verified;
        let after = v.fields(&all, t0 + review, review);
        assert_eq!(after["status"], "CONNECTED");
        assert_eq!(after["code_verification_status"], "VERIFIED");
        assert_eq!(after["name_status"], "APPROVED");
        assert_eq!(after["platform_type"], "CLOUD_API");
        v.verified_name = None;
        assert_eq!(v.name_status(t0, review), "NONE");
        // Only what was asked (and the id).
        let some = v.fields(&["status".to_string()], t0, review);
        assert_eq!(some.as_object().unwrap().len(), 2);
    }
}
