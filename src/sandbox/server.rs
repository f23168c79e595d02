//! HTTP glue: accept loopback connections, serve each with hyper's HTTP/1
//! connection (not `axum::serve`, because a `drop_after_create` fault must be
//! able to close the TCP connection without answering), turn each request into
//! a [`Call`], ask [`behaviour::handle`] under the lock, wait the decided delay
//! outside it, and write the answer. Also the test-only `/__sandbox/` paths
//! (not logged; `codes` shows what the numbers' holders would receive).

use super::behaviour::{self, Answer, Call};
use super::{Shared, lock, meta};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// Bodies larger than this are not Graph calls.
const MAX_BODY: usize = 1 << 20;

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped on purpose (drop_after_create fault, any POST)")]
pub(crate) struct Dropped;

type HttpAnswer = Response<Full<Bytes>>;

/// Serve until `stop` fires (or its sender is dropped).
pub(crate) async fn serve(
    listener: TcpListener,
    state: Shared,
    base_url: String,
    mut stop: oneshot::Receiver<()>,
) {
    // Cloned into every request's `Call`: a shared string, not a copy each time.
    let base_url: Arc<str> = base_url.into();
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(_) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let base_url = base_url.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(state.clone(), base_url.clone(), req));
                    // Errors here are client hang-ups or our own drops.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
        }
    }
    conns.shutdown().await;
}

async fn handle(
    state: Shared,
    base_url: Arc<str>,
    req: Request<Incoming>,
) -> Result<HttpAnswer, Dropped> {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    if let Some(rest) = path.strip_prefix("/__sandbox/") {
        return Ok(test_path(&state, &parts.method, rest));
    }
    let bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(plain(StatusCode::PAYLOAD_TOO_LARGE, "body too large")),
    };
    let is_json = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let call = Call {
        method: parts.method.as_str().to_string(),
        path,
        bearer: parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer),
        query: parts.uri.query().map(form_pairs).unwrap_or_default(),
        body: body_pairs(&bytes, is_json),
        base_url,
    };
    let handled = behaviour::handle(&mut lock(&state), &call, Instant::now());
    if !handled.delay.is_zero() {
        tokio::time::sleep(handled.delay).await;
    }
    let mut answer = match handled.reply {
        Answer::Drop => return Err(Dropped),
        Answer::Html503 => {
            let mut a = Response::new(Full::new(Bytes::from_static(meta::HTML_503.as_bytes())));
            *a.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            a.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            a
        }
        Answer::Json { status, body } => {
            let mut a = Response::new(Full::new(Bytes::from(body.to_string())));
            *a.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
            a.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=UTF-8"),
            );
            a
        }
    };
    for (name, value) in handled.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            answer.headers_mut().insert(name, v);
        }
    }
    Ok(answer)
}

/// `Authorization: Bearer TOKEN` (Meta also takes `OAuth TOKEN`).
fn bearer(value: &str) -> Option<String> {
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim().to_string())
}

fn form_pairs(s: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(s).unwrap_or_default()
}

/// Form-encoded or JSON object body; scalars become their text.
fn body_pairs(bytes: &[u8], is_json: bool) -> Vec<(String, String)> {
    if bytes.is_empty() {
        return Vec::new();
    }
    if is_json || bytes.first() == Some(&b'{') {
        let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(bytes) else {
            return Vec::new();
        };
        return map
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect();
    }
    serde_urlencoded::from_bytes(bytes).unwrap_or_default()
}

fn plain(status: StatusCode, text: &'static str) -> HttpAnswer {
    let mut a = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *a.status_mut() = status;
    a
}

fn json_answer(value: &impl serde::Serialize) -> HttpAnswer {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut a = Response::new(Full::new(Bytes::from(body)));
            a.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            a
        }
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot serialise"),
    }
}

/// `GET /__sandbox/ledger`, `GET /__sandbox/requests`, `GET /__sandbox/codes`,
/// `POST /__sandbox/reset`.
fn test_path(state: &Shared, method: &Method, rest: &str) -> HttpAnswer {
    match (method, rest) {
        (&Method::GET, "ledger") => json_answer(&lock(state).ledger(Instant::now())),
        // What the holders of the numbers would receive by SMS or voice.
        (&Method::GET, "codes") => json_answer(&lock(state).codes(Instant::now())),
        (&Method::GET, "requests") => json_answer(&lock(state).requests()),
        (&Method::POST, "reset") => {
            lock(state).reset();
            json_answer(&serde_json::json!({ "reset": true }))
        }
        _ => plain(
            StatusCode::NOT_FOUND,
            "test-only paths: GET /__sandbox/ledger, GET /__sandbox/requests, GET /__sandbox/codes, POST /__sandbox/reset",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_schemes() {
        assert_eq!(bearer("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(bearer("OAuth abc").as_deref(), Some("abc"));
        assert_eq!(bearer("Bearer ").as_deref(), Some(""));
        assert_eq!(bearer("Basic abc"), None);
    }

    #[test]
    fn bodies_form_and_json() {
        let f = body_pairs(b"cc=1&phone_number=5550100001", false);
        assert_eq!(f[1], ("phone_number".into(), "5550100001".into()));
        let j = body_pairs(br#"{"cc":"1","migrate_phone_number":true}"#, true);
        assert!(j.contains(&("migrate_phone_number".into(), "true".into())));
        assert!(body_pairs(b"{not json", true).is_empty());
    }
}
