//! The built-in fake Graph API (SPEC sections 5 and 7): a loopback server
//! that answers `POST` and `GET /{version}/{waba_id}/phone_numbers`, the
//! onboarding steps `POST /{version}/{phone_number_id}/request_code`,
//! `/verify_code`, `/register` and the read `GET /{version}/{phone_number_id}`
//! the way Meta does, with its error shapes, usage headers, budgets and seeded
//! faults, and keeps a ledger and a request log that tests read back. Tests
//! and `run --sandbox` start it in-process with [`Sandbox::start`];
//! `waba-provision sandbox` serves it until Ctrl-C.
//!
//! Layout: `config` (what to do; the flags and long help are in `cli`),
//! `behaviour` (per-request decisions, no HTTP), `create` (a create's effect:
//! duplicates, migration, cap), `onboarding` (the steps), `number` (one
//! number's state and secrets), `params`, `budget`, `faults`, `meta` (Meta's
//! wording), `ledger` (memory), `server` (HTTP and connection control).

mod behaviour;
mod budget;
mod config;
mod create;
mod faults;
mod ledger;
mod meta;
mod number;
mod onboarding;
mod params;
mod server;

pub use config::{
    CapScope, ConnectedRegisterAnswer, ExistingNumber, FaultRates, NumberPins, PortfolioCap,
    RejectedCodeAnswer, SandboxConfig, SandboxError, SandboxSecret, TokenGrants, TokenList,
};
pub use ledger::{CallKind, LedgerEntry, RequestLogEntry};
pub use number::{CodeVerification, IssuedCode, NumberStatus};

use behaviour::State;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The sandbox state shared by the server and the handle.
type Shared = Arc<Mutex<State>>;

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    // A panic elsewhere cannot leave the state half-written in a way that
    // matters to a fake server; keep serving.
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running sandbox. Dropping it stops the server too.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Bind `127.0.0.1:{config.port}` (0 = a free port) and start serving.
    pub async fn start(config: SandboxConfig) -> std::io::Result<Sandbox> {
        config
            .check()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        // libphonenumber's metadata loads lazily and takes ~0.1 s: load it now,
        // not while the first request waits (it would bunch the first requests
        // of a paced run together, as the server sees them).
        let _ = tokio::task::spawn_blocking(|| ledger::display_number("44", "7400000000")).await;
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
                .await?;
        let addr = listener.local_addr()?;
        let state: Shared = Arc::new(Mutex::new(State::new(config, Instant::now())));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::serve(
            listener,
            state.clone(),
            format!("http://{addr}"),
            stopped,
        ));
        Ok(Sandbox {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, to pass as `--graph-url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every number held, in creation order (a number migrated to another
    /// WABA appears once, with its new id).
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        lock(&self.state).ledger(Instant::now())
    }

    /// The number with this phone-number id, if held.
    pub fn number(&self, phone_number_id: &str) -> Option<LedgerEntry> {
        lock(&self.state).number(phone_number_id, Instant::now())
    }

    /// The code request_code last made for this number, until verify_code
    /// uses it or a new request replaces it (also once expired, so tests can
    /// send an expired code). What the holder of the number would receive.
    pub fn code_for(&self, phone_number_id: &str) -> Option<String> {
        lock(&self.state).code_for(phone_number_id)
    }

    /// Every number's current code, by phone-number id.
    pub fn codes(&self) -> BTreeMap<String, IssuedCode> {
        lock(&self.state).codes(Instant::now())
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        lock(&self.state).requests()
    }

    /// Forget numbers, log and budget windows (ids are never reused).
    pub fn reset(&self) {
        lock(&self.state).reset();
    }

    /// Stop accepting, close open connections, wait for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod test_support;
