//! What the sandbox remembers: the ledger of created numbers (what Meta would
//! now hold, indexed by number and by WABA for duplicates and listing) and the
//! request log that tests read back (did a token ever travel in a URL? was the
//! proof sent?). Neither ever holds a token.

use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// One number the sandbox created.
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
}

/// One request the sandbox answered (or dropped). Test-only paths are not logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestLogEntry {
    pub method: String,
    /// The path only: the query string may hold a token, so it is never kept.
    pub path: String,
    pub waba_id: Option<String>,
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
    /// `transient`, `html_503`, `slow`, `drop_after_create` or `throttled`.
    pub fault: Option<String>,
    /// The id created by this request, if any (also for `drop_after_create`).
    pub created_id: Option<String>,
    /// Milliseconds since the sandbox started.
    pub at_ms: u64,
}

/// Created numbers with the indexes the decisions need.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    entries: Vec<LedgerEntry>,
    /// `cc + phone_number` digits → index in `entries`.
    by_number: HashMap<String, usize>,
    /// WABA → indexes in creation order (the listing order).
    by_waba: HashMap<String, Vec<usize>>,
    /// id → position in its WABA's list, to resume a listing after a cursor.
    position: HashMap<String, usize>,
}

impl Ledger {
    /// The entry holding this full number, on any WABA.
    pub(crate) fn find_number(&self, full: &str) -> Option<&LedgerEntry> {
        self.by_number.get(full).map(|&i| &self.entries[i])
    }

    pub(crate) fn insert(&mut self, entry: LedgerEntry) {
        let i = self.entries.len();
        let full = format!("{}{}", entry.cc, entry.phone_number);
        let list = self.by_waba.entry(entry.waba_id.clone()).or_default();
        self.position.insert(entry.id.clone(), list.len());
        list.push(i);
        self.by_number.insert(full, i);
        self.entries.push(entry);
    }

    /// Up to `limit` numbers of `waba` after the one with id `after`
    /// (`None` = from the start); `None` when `after` is not an id of that WABA.
    pub(crate) fn page(
        &self,
        waba: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Option<(Vec<&LedgerEntry>, bool)> {
        let empty = Vec::new();
        let list = self.by_waba.get(waba).unwrap_or(&empty);
        let start = match after {
            None => 0,
            Some(id) => {
                let pos = *self.position.get(id)?;
                let entry = list.get(pos).map(|&i| &self.entries[i])?;
                if entry.id != id {
                    return None;
                }
                pos + 1
            }
        };
        let end = (start + limit).min(list.len());
        let items = list
            .get(start..end)
            .unwrap_or(&[])
            .iter()
            .map(|&i| &self.entries[i])
            .collect();
        Some((items, end < list.len()))
    }

    pub(crate) fn entries(&self) -> &[LedgerEntry] {
        &self.entries
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

    fn entry(waba: &str, n: u32) -> LedgerEntry {
        LedgerEntry {
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
        let (p2, more) = l.page("A", Some(&p1[1].id), 2).unwrap();
        assert_eq!(p2.len(), 1);
        assert!(!more);
        assert_eq!(p2[0].phone_number, "5550100004");
        // A cursor from another WABA is refused; an unknown WABA is empty.
        assert!(l.page("B", Some(&p1[1].id), 2).is_none());
        assert_eq!(l.page("Z", None, 2).unwrap().0.len(), 0);
        assert!(l.find_number("15550100003").is_some());
    }

    #[test]
    fn log_keeps_the_newest() {
        let mut log = RequestLog::new(2);
        for s in [200, 400, 500] {
            log.push(RequestLogEntry {
                method: "POST".into(),
                path: "/".into(),
                waba_id: None,
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
