//! The calls a job makes, behind a trait so the rules can be tested against a
//! scripted fake on paused time; the real one is the Graph client.

use std::future::Future;

use super::{Call, Job};
use crate::graph::{CreateRequest, ListPage, Reply};
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
}

/// What a call returned when it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOk {
    Created(String),
    Page(ListPage),
}

/// Make the job's call.
pub async fn perform<A: Api>(api: &A, creds: &A::Creds, job: &Job) -> Reply<CallOk> {
    match &job.call {
        Call::Create => api.create(creds, &job.row).await.map(CallOk::Created),
        Call::ListNumbers { after, .. } => api
            .list_page(creds, &job.row.waba_id, after.as_deref())
            .await
            .map(CallOk::Page),
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
}
