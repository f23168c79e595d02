//! What the sandbox remembers: the ledger of the numbers it holds (what Meta
//! would now hold, indexed by number, id and WABA for duplicates, the steps of
//! SPEC 7 and listing) and the request log that tests read back (did a token
//! ever travel in a URL? was the proof sent? which step was called?). Neither
//! the ledger view nor the log ever holds a token, a code or a PIN: those stay
//! in each number's `Private` part.

use super::number::{CodeVerification, NumberStatus, Private, View};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// One number the sandbox holds, as tests see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub waba_id: String,
    pub cc: String,
    pub phone_number: String,
    /// The phone-number id returned (15–16 digits).
    pub id: String,
    /// As Meta shows it, e.g. `+1 555-010-0001`.
    pub display_phone_number: String,
    pub verified_name: Option<String>,
    pub migrate_phone_number: bool,
    pub preverified_id: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// Milliseconds since the sandbox started.
    pub at_ms: u64,
    /// NOT_VERIFIED, then VERIFIED after verify_code (or a valid pre-verified
    /// id); EXPIRED for an expired pre-verified id.
    pub code_verification_status: CodeVerification,
    /// PENDING, then CONNECTED after register.
    pub status: NumberStatus,
    /// Register calls made on this number, refused ones included.
    pub register_calls: u32,
    /// Two-step verification is on: register must send this PIN.
    pub has_pin: bool,
    /// Milliseconds since the sandbox started until which register is
    /// refused with 133016, while the number is locked.
    pub register_locked_until_ms: Option<u64>,
}

impl LedgerEntry {
    pub fn verified(&self) -> bool {
        self.code_verification_status == CodeVerification::Verified
    }
    pub fn connected(&self) -> bool {
        self.status == NumberStatus::Connected
    }
}

/// What a request was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// `POST /{waba_id}/phone_numbers`
    Create,
    /// `GET /{waba_id}/phone_numbers`
    List,
    RequestCode,
    VerifyCode,
    Register,
    /// `GET /{phone_number_id}`
    Read,
}

/// One request the sandbox answered (or dropped). Test-only paths are not logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestLogEntry {
    pub method: String,
    /// The path only: the query string may hold a token, so it is never kept.
    pub path: String,
    /// `None` when the path is none of the Graph calls served (2500).
    pub kind: Option<CallKind>,
    pub waba_id: Option<String>,
    /// The number the call was about (the steps and reads), or the one a
    /// create made.
    pub phone_number_id: Option<String>,
    /// `access_token` appeared in the query string.
    pub token_in_url: bool,
    /// `access_token` appeared in the body.
    pub token_in_body: bool,
    pub had_bearer: bool,
    pub appsecret_proof_sent: bool,
    /// `Some` when a proof was sent and an app secret is configured to check it.
    pub appsecret_proof_valid: Option<bool>,
    /// The status answered; 0 when the connection was dropped without an answer.
    pub http_status: u16,
    pub error_code: Option<i64>,
    /// `transient`, `html_503`, `slow` or `drop_after_create` (any POST).
    pub fault: Option<String>,
    /// The id created by this request, if any (also for `drop_after_create`).
    pub created_id: Option<String>,
    /// Milliseconds since the sandbox started.
    pub at_ms: u64,
}

/// A number held: what tests see, and what only the sandbox knows.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    pub entry: LedgerEntry,
    pub private: Private,
}

impl Held {
    pub(crate) fn view(&self) -> View<'_> {
        View {
            id: &self.entry.id,
            display_phone_number: &self.entry.display_phone_number,
            verified_name: self.entry.verified_name.as_deref(),
            status: self.entry.status,
            code_verification_status: self.entry.code_verification_status,
            created: self.private.created,
        }
    }
}

/// Held numbers with the indexes the decisions need. A number migrated away
/// leaves an empty slot, so indexes never move.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    slots: Vec<Option<Held>>,
    /// `cc + phone_number` digits → slot.
    by_number: HashMap<String, usize>,
    /// Phone-number id → slot.
    by_id: HashMap<String, usize>,
    /// WABA → slots in creation order (the listing order; ascending).
    by_waba: HashMap<String, Vec<usize>>,
}

impl Ledger {
    /// The number held with these full digits, on any WABA.
    pub(crate) fn find_number(&self, full: &str) -> Option<&Held> {
        self.by_number
            .get(full)
            .and_then(|&i| self.slots[i].as_ref())
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Held> {
        self.by_id.get(id).and_then(|&i| self.slots[i].as_ref())
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Held> {
        let i = *self.by_id.get(id)?;
        self.slots[i].as_mut()
    }

    pub(crate) fn insert(&mut self, held: Held) {
        let i = self.slots.len();
        let e = &held.entry;
        self.by_waba.entry(e.waba_id.clone()).or_default().push(i);
        self.by_number
            .insert(format!("{}{}", e.cc, e.phone_number), i);
        self.by_id.insert(e.id.clone(), i);
        self.slots.push(Some(held));
    }

    /// Take a number out (it is migrating to another WABA).
    pub(crate) fn remove(&mut self, id: &str) -> Option<Held> {
        let i = self.by_id.remove(id)?;
        let held = self.slots[i].take()?;
        let e = &held.entry;
        self.by_number
            .remove(&format!("{}{}", e.cc, e.phone_number));
        if let Some(list) = self.by_waba.get_mut(&e.waba_id)
            && let Ok(pos) = list.binary_search(&i)
        {
            list.remove(pos);
        }
        Some(held)
    }

    /// Numbers held on `waba`.
    pub(crate) fn count_on(&self, waba: &str) -> usize {
        self.by_waba.get(waba).map_or(0, Vec::len)
    }

    /// Up to `limit` numbers of `waba` after the one with id `after`
    /// (`None` = from the start); `None` when `after` is not an id of that WABA.
    pub(crate) fn page(
        &self,
        waba: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Option<(Vec<&Held>, bool)> {
        let empty = Vec::new();
        let list = self.by_waba.get(waba).unwrap_or(&empty);
        let start = match after {
            None => 0,
            // Slots only grow, so a WABA's list is sorted: find the cursor's place.
            Some(id) => list.binary_search(self.by_id.get(id)?).ok()? + 1,
        };
        let end = (start + limit).min(list.len());
        let items = list
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| self.slots[i].as_ref())
            .collect();
        Some((items, end < list.len()))
    }

    /// Every number held, in creation order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Held> {
        self.slots.iter().flatten()
    }
}

/// The newest `limit` requests.
#[derive(Debug)]
pub(crate) struct RequestLog {
    entries: VecDeque<RequestLogEntry>,
    limit: usize,
}

impl RequestLog {
    pub(crate) fn new(limit: usize) -> Self {
        RequestLog {
            entries: VecDeque::new(),
            limit: limit.max(1),
        }
    }

    pub(crate) fn push(&mut self, entry: RequestLogEntry) {
        if self.entries.len() == self.limit {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(crate) fn to_vec(&self) -> Vec<RequestLogEntry> {
        self.entries.iter().cloned().collect()
    }
}

/// Meta's display form: `+1 555-010-0001` for NANP, the international format
/// of the numbering plan elsewhere, `+CC NUMBER` when the plan does not know it.
pub(crate) fn display_number(cc: &str, number: &str) -> String {
    if cc == "1" && number.len() == 10 {
        return format!("+1 {}-{}-{}", &number[..3], &number[3..6], &number[6..]);
    }
    match phonenumber::parse(None, format!("+{cc}{number}")) {
        Ok(n) => n
            .format()
            .mode(phonenumber::Mode::International)
            .to_string(),
        Err(_) => format!("+{cc} {number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(waba: &str, n: u32) -> Held {
        Held {
            entry: LedgerEntry {
                waba_id: waba.into(),
                cc: "1".into(),
                phone_number: format!("555010{n:04}"),
                id: format!("10000000000{n:04}"),
                display_phone_number: String::new(),
                verified_name: None,
                migrate_phone_number: false,
                preverified_id: None,
                created_at: String::new(),
                at_ms: 0,
                code_verification_status: CodeVerification::NotVerified,
                status: NumberStatus::Pending,
                register_calls: 0,
                has_pin: false,
                register_locked_until_ms: None,
            },
            private: Private::new(std::time::Instant::now(), None),
        }
    }

    #[test]
    fn pages_follow_creation_order_per_waba() {
        let mut l = Ledger::default();
        for n in 0..5 {
            l.insert(entry(if n % 2 == 0 { "A" } else { "B" }, n));
        }
        let (p1, more) = l.page("A", None, 2).unwrap();
        assert_eq!(p1.len(), 2);
        assert!(more);
        let (p2, more) = l.page("A", Some(&p1[1].entry.id), 2).unwrap();
        assert_eq!(p2.len(), 1);
        assert!(!more);
        assert_eq!(p2[0].entry.phone_number, "5550100004");
        // A cursor from another WABA is refused; an unknown WABA is empty.
        assert!(l.page("B", Some(&p1[1].entry.id), 2).is_none());
        assert_eq!(l.page("Z", None, 2).unwrap().0.len(), 0);
        assert!(l.find_number("15550100003").is_some());
    }

    #[test]
    fn a_removed_number_leaves_every_index_and_the_rest_still_pages() {
        let mut l = Ledger::default();
        for n in 0..4 {
            l.insert(entry("A", n));
        }
        let gone = l.remove("100000000000001").unwrap();
        assert_eq!(gone.entry.phone_number, "5550100001");
        assert!(l.get("100000000000001").is_none());
        assert!(l.find_number("15550100001").is_none());
        assert_eq!(l.count_on("A"), 3);
        let (p, more) = l.page("A", Some("100000000000000"), 1).unwrap();
        assert_eq!((p[0].entry.id.as_str(), more), ("100000000000002", true));
        // Its id is no cursor any more.
        assert!(l.page("A", Some("100000000000001"), 1).is_none());
        assert_eq!(l.iter().count(), 3);
    }

    #[test]
    fn log_keeps_the_newest() {
        let mut log = RequestLog::new(2);
        for s in [200, 400, 500] {
            log.push(RequestLogEntry {
                method: "POST".into(),
                path: "/".into(),
                kind: None,
                waba_id: None,
                phone_number_id: None,
                token_in_url: false,
                token_in_body: false,
                had_bearer: true,
                appsecret_proof_sent: false,
                appsecret_proof_valid: None,
                http_status: s,
                error_code: None,
                fault: None,
                created_id: None,
                at_ms: 0,
            });
        }
        let v: Vec<u16> = log.to_vec().iter().map(|e| e.http_status).collect();
        assert_eq!(v, vec![400, 500]);
    }

    #[test]
    fn display_like_meta() {
        assert_eq!(display_number("1", "5550100001"), "+1 555-010-0001");
        assert_eq!(display_number("44", "7700900123"), "+44 7700 900123");
    }
}
