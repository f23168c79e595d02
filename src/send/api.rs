//! The calls a job makes, behind a trait so the rules can be tested against a
//! scripted fake on paused time; the real one is the Graph client.

use std::future::Future;

use super::{Call, Job};
use crate::graph::{CreateRequest, Failure, ListPage, NumberState, Reply};
use crate::secret::Pin;
use crate::validate::{ValidRow, WabaId};

pub trait Api: Send + Sync + 'static {
    /// What a call needs to authenticate (token + appsecret_proof).
    type Creds: Send + Sync + 'static;

    fn create(
        &self,
        creds: &Self::Creds,
        row: &ValidRow,
    ) -> impl Future<Output = Reply<String>> + Send;

    fn list_page(
        &self,
        creds: &Self::Creds,
        waba: &WabaId,
        after: Option<&str>,
    ) -> impl Future<Output = Reply<ListPage>> + Send;

    /// `POST /{id}/request_code` with the row's `code_method` and `language`.
    fn request_code(
        &self,
        creds: &Self::Creds,
        id: &str,
        row: &ValidRow,
    ) -> impl Future<Output = Reply<()>> + Send;

    /// `POST /{id}/verify_code`.
    fn verify_code(
        &self,
        creds: &Self::Creds,
        id: &str,
        code: &str,
    ) -> impl Future<Output = Reply<()>> + Send;

    /// `POST /{id}/register` with the PIN and the row's localization region.
    fn register(
        &self,
        creds: &Self::Creds,
        id: &str,
        pin: &Pin,
        row: &ValidRow,
    ) -> impl Future<Output = Reply<()>> + Send;

    /// `GET /{id}?fields=…`.
    fn read_number(
        &self,
        creds: &Self::Creds,
        id: &str,
    ) -> impl Future<Output = Reply<NumberState>> + Send;
}

/// What a call returned when it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOk {
    Created(String),
    Page(ListPage),
    /// A step's `{"success": true}`.
    Done,
    Number(NumberState),
}

/// A call the job cannot make (no id yet, no code, no PIN): a bug of ours,
/// answered as a failure rather than a panic.
fn cannot(what: &str) -> Reply<CallOk> {
    Reply {
        result: Err(Failure::Network {
            message: format!("not sent: {what}"),
            in_doubt: false,
        }),
        hints: Default::default(),
        exchange: None,
    }
}

/// Make the job's call.
pub async fn perform<A: Api>(
    api: &A,
    creds: &A::Creds,
    pin: Option<&Pin>,
    job: &Job,
) -> Reply<CallOk> {
    let row = &job.row;
    let id = job.progress.phone_number_id.as_deref();
    match (&job.call, id) {
        (Call::Create, _) => api.create(creds, row).await.map(CallOk::Created),
        (Call::ListNumbers { after, .. }, _) => api
            .list_page(creds, &row.waba_id, after.as_deref())
            .await
            .map(CallOk::Page),
        (Call::RequestCode, Some(id)) => api
            .request_code(creds, id, row)
            .await
            .map(|()| CallOk::Done),
        (Call::VerifyCode, Some(id)) => match &job.code {
            Some(code) => api
                .verify_code(creds, id, code.expose())
                .await
                .map(|()| CallOk::Done),
            None => cannot("no verification code"),
        },
        (Call::Register, Some(id)) => match pin {
            Some(pin) => api
                .register(creds, id, pin, row)
                .await
                .map(|()| CallOk::Done),
            None => cannot("no two-step PIN"),
        },
        (Call::ReadNumber(_), Some(id)) => api.read_number(creds, id).await.map(CallOk::Number),
        (_, None) => cannot("the number has no id yet"),
    }
}

/// The create call's parameters, from a validated row.
pub fn create_request(row: &ValidRow) -> CreateRequest<'_> {
    CreateRequest {
        waba_id: row.waba_id.as_str(),
        cc: row.phone.cc(),
        phone_number: row.phone.national(),
        migrate_phone_number: row.migrate_phone_number,
        preverified_id: row.preverified_id.as_deref(),
        verified_name: row.verified_name.as_deref(),
    }
}

impl Api for crate::graph::GraphClient {
    type Creds = crate::graph::Credentials;

    async fn create(&self, creds: &Self::Creds, row: &ValidRow) -> Reply<String> {
        self.create_phone_number(creds, &create_request(row)).await
    }

    async fn list_page(
        &self,
        creds: &Self::Creds,
        waba: &WabaId,
        after: Option<&str>,
    ) -> Reply<ListPage> {
        self.list_phone_numbers_page(creds, waba.as_str(), after)
            .await
    }

    async fn request_code(&self, creds: &Self::Creds, id: &str, row: &ValidRow) -> Reply<()> {
        let (method, language) = (row.code_method.as_str(), row.language.as_str());
        crate::graph::GraphClient::request_code(self, creds, id, method, language).await
    }

    async fn verify_code(&self, creds: &Self::Creds, id: &str, code: &str) -> Reply<()> {
        crate::graph::GraphClient::verify_code(self, creds, id, code).await
    }

    async fn register(
        &self,
        creds: &Self::Creds,
        id: &str,
        pin: &Pin,
        _row: &ValidRow,
    ) -> Reply<()> {
        crate::graph::GraphClient::register(self, creds, id, pin.expose(), None).await
    }

    async fn read_number(&self, creds: &Self::Creds, id: &str) -> Reply<NumberState> {
        crate::graph::GraphClient::read_number(self, creds, id).await
    }
}
