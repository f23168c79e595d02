//! The client against a tiny loopback HTTP server (port 0) that records each
//! request and answers from a script, including the ways an answer gets lost.

use super::*;
use crate::graph::ErrorClass;
use crate::secret::{AppSecret, Token, appsecret_proof};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

const TOKEN: &str = "EAAtestTOKENvalue123";
const SECRET: &str = "app-secret-456";

/// What the server does with the next request.
enum Act {
    /// Write these bytes (a whole HTTP response) and keep the connection.
    Send(String),
    /// Write these bytes, then close the connection.
    SendAndClose(String),
    /// Read the request, then close without a word.
    Close,
    /// Read the request, then never answer.
    Hang,
}

#[derive(Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn form(&self) -> Vec<(String, String)> {
        serde_urlencoded::from_str(&self.body).unwrap()
    }
    fn query(&self) -> Vec<(String, String)> {
        let q = self.target.split_once('?').map_or("", |(_, q)| q);
        serde_urlencoded::from_str(q).unwrap()
    }
    fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }
    /// The token must appear in the Authorization header and nowhere else.
    fn assert_token_only_in_header(&self) {
        assert_eq!(
            self.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert!(
            !self.target.contains(TOKEN),
            "token in URL: {}",
            self.target
        );
        assert!(!self.body.contains(TOKEN), "token in body: {}", self.body);
        for (k, v) in &self.headers {
            if k != "authorization" {
                assert!(!v.contains(TOKEN), "token in header {k}");
            }
        }
    }
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Act {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\n",
        if status < 300 { "OK" } else { "Error" },
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    Act::Send(out)
}

fn json(status: u16, body: &str) -> Act {
    response(status, &[("content-type", "application/json")], body)
}

/// Start a server playing `script` in order; returns its base URL and the
/// requests it saw.
async fn serve(script: Vec<Act>) -> (String, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let script = std::sync::Arc::new(Mutex::new(VecDeque::from(script)));
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(connection(stream, script.clone(), tx.clone()));
        }
    });
    (format!("http://{addr}"), rx)
}

async fn connection(
    mut stream: TcpStream,
    script: std::sync::Arc<Mutex<VecDeque<Act>>>,
    tx: mpsc::UnboundedSender<Seen>,
) {
    let mut buf = Vec::new();
    loop {
        let Some(seen) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        let _ = tx.send(seen);
        let act = script.lock().unwrap().pop_front();
        match act {
            Some(Act::Send(bytes)) => {
                if stream.write_all(bytes.as_bytes()).await.is_err() {
                    return;
                }
            }
            Some(Act::SendAndClose(bytes)) => {
                let _ = stream.write_all(bytes.as_bytes()).await;
                return;
            }
            Some(Act::Close) | None => return,
            Some(Act::Hang) => {
                std::future::pending::<()>().await;
            }
        }
    }
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Seen> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let method = first.next().unwrap().to_owned();
    let target = first.next().unwrap().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(buf[head_end..head_end + len].to_vec()).unwrap();
    buf.drain(..head_end + len);
    Some(Seen {
        method,
        target,
        headers,
        body,
    })
}

fn config(base: &str, timeout: Duration) -> ClientConfig {
    ClientConfig {
        graph_url: base.to_owned(),
        api_version: ApiVersion::parse("v25.0").unwrap(),
        timeout,
        max_connections: 4,
    }
}

fn client(base: &str, timeout: Duration) -> GraphClient {
    GraphClient::new(config(base, timeout)).unwrap()
}

fn creds(with_secret: bool) -> Credentials {
    let secret = AppSecret::new(SECRET);
    Credentials::new(Token::new(TOKEN), with_secret.then_some(&secret))
}

fn request<'a>() -> CreateRequest<'a> {
    CreateRequest {
        waba_id: "102290129340398",
        cc: "1",
        phone_number: "5550100001",
        migrate_phone_number: false,
        preverified_id: Some("777"),
        verified_name: Some("Acme & Co"),
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn create_sends_form_bearer_and_proof() {
    let buc = r#"{"102290129340398":[{"type":"whatsapp_business_management","call_count":42,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#;
    let (base, mut seen) = serve(vec![response(
        200,
        &[
            ("x-business-use-case-usage", buc),
            (
                "x-app-usage",
                r#"{"call_count":7,"total_time":1,"total_cputime":1}"#,
            ),
            ("facebook-api-version", "v25.0"),
        ],
        r#"{"id":"1906385232743451"}"#,
    )])
    .await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(true), &request())
        .await;
    assert_eq!(reply.result, Ok("1906385232743451".to_owned()));
    assert_eq!(reply.hints.waba_usage_pct, Some(42));
    assert_eq!(reply.hints.app_usage_pct, Some(7));
    assert_eq!(reply.hints.api_version.as_deref(), Some("v25.0"));

    let req = seen.recv().await.unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/v25.0/102290129340398/phone_numbers");
    req.assert_token_only_in_header();
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        req.header("user-agent"),
        Some(concat!("waba-provision/", env!("CARGO_PKG_VERSION")))
    );
    let proof = appsecret_proof(SECRET, TOKEN);
    assert_eq!(
        req.form(),
        pairs(&[
            ("cc", "1"),
            ("phone_number", "5550100001"),
            ("migrate_phone_number", "false"),
            ("preverified_id", "777"),
            ("verified_name", "Acme & Co"),
            ("appsecret_proof", &proof),
        ])
    );
}

#[tokio::test]
async fn create_sends_only_present_fields() {
    let (base, mut seen) = serve(vec![json(200, r#"{"id":"5"}"#)]).await;
    let req = CreateRequest {
        migrate_phone_number: true,
        preverified_id: None,
        verified_name: None,
        ..request()
    };
    let reply = client(&format!("{base}/"), Duration::from_secs(10))
        .create_phone_number(&creds(false), &req)
        .await;
    assert_eq!(reply.result, Ok("5".to_owned()));
    assert_eq!(reply.hints, Hints::default());
    let req = seen.recv().await.unwrap();
    // Trailing slash on graph_url tolerated.
    assert_eq!(req.target, "/v25.0/102290129340398/phone_numbers");
    req.assert_token_only_in_header();
    assert_eq!(
        req.form(),
        pairs(&[
            ("cc", "1"),
            ("phone_number", "5550100001"),
            ("migrate_phone_number", "true"),
        ])
    );
}

#[tokio::test]
async fn graph_url_path_prefix_is_kept_and_ids_stay_one_segment() {
    let (base, mut seen) = serve(vec![json(200, r#"{"id":"5"}"#)]).await;
    let req = CreateRequest {
        waba_id: "12/../x?y",
        ..request()
    };
    client(&format!("{base}/graph/"), Duration::from_secs(10))
        .create_phone_number(&creds(false), &req)
        .await;
    let seen = seen.recv().await.unwrap();
    assert_eq!(seen.target, "/graph/v25.0/12%2F..%2Fx%3Fy/phone_numbers");
}

#[tokio::test]
async fn throttling_error_with_headers() {
    let buc = r#"{"102290129340398":[{"type":"whatsapp_business_management","call_count":100,"total_cputime":3,"total_time":3,"estimated_time_to_regain_access":19}]}"#;
    let body = r#"{"error":{"message":"(#80008) There have been too many calls to this WhatsApp Business account. Wait a bit and try again.","type":"OAuthException","code":80008,"error_subcode":2446079,"fbtrace_id":"Az"}}"#;
    let (base, _seen) = serve(vec![response(
        400,
        &[("x-business-use-case-usage", buc), ("retry-after", "60")],
        body,
    )])
    .await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(true), &request())
        .await;
    let failure = reply.result.unwrap_err();
    assert_eq!(failure.class(), ErrorClass::ThrottledWaba);
    assert!(!failure.in_doubt());
    assert_eq!(reply.hints.waba_regain, Some(Duration::from_secs(19 * 60)));
    assert_eq!(reply.hints.retry_after, Some(Duration::from_secs(60)));
    assert!(
        failure
            .summary()
            .starts_with("(#80008/2446079) There have been too many calls")
    );
}

#[tokio::test]
async fn non_json_gateway_page() {
    let (base, _seen) = serve(vec![response(
        503,
        &[("content-type", "text/html")],
        "<html><body><h1>503 Service Unavailable</h1></body></html>",
    )])
    .await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(false), &request())
        .await;
    let Err(Failure::Graph(e)) = reply.result else {
        panic!("expected a Graph failure");
    };
    assert_eq!(e.code, None);
    assert_eq!(e.http_status, Some(503));
    assert_eq!(e.class(), ErrorClass::Transient);
    assert!(
        e.message
            .starts_with("HTTP 503 Service Unavailable (non-JSON body:")
    );
}

#[tokio::test]
async fn success_without_id_is_in_doubt() {
    let (base, _seen) = serve(vec![json(200, r#"{"success":true}"#)]).await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(false), &request())
        .await;
    let failure = reply.result.unwrap_err();
    assert!(failure.in_doubt());
    assert_eq!(failure.class(), ErrorClass::Transient);
}

#[tokio::test]
async fn token_echoed_by_the_server_is_scrubbed() {
    let body = format!(
        r#"{{"error":{{"message":"Invalid OAuth access token {TOKEN}","code":190,"error_user_msg":"token {TOKEN} expired"}}}}"#
    );
    let (base, _seen) = serve(vec![json(401, &body)]).await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(false), &request())
        .await;
    let failure = reply.result.unwrap_err();
    assert_eq!(failure.class(), ErrorClass::Token);
    let shown = format!("{failure:?} {}", failure.summary());
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("[redacted]"));
}

#[tokio::test]
async fn listing_pages_with_after_cursor() {
    let page1 = r#"{"data":[{"id":"11","display_phone_number":"+1 555-010-0001"}],"paging":{"cursors":{"before":"b0","after":"c1=="},"next":"http://x/v25.0/9/phone_numbers?after=c1%3D%3D"}}"#;
    let page2 = r#"{"data":[{"id":"22","display_phone_number":"+1 555-010-0002"}],"paging":{"cursors":{"before":"c1==","after":"c2"}}}"#;
    let (base, mut seen) = serve(vec![json(200, page1), json(200, page2)]).await;
    let client = client(&base, Duration::from_secs(10));
    let creds = creds(true);
    let first = client.list_phone_numbers_page(&creds, "9", None).await;
    let first = first.result.unwrap();
    assert_eq!(first.numbers[0].id, "11");
    assert_eq!(first.after.as_deref(), Some("c1=="));
    let second = client
        .list_phone_numbers_page(&creds, "9", first.after.as_deref())
        .await;
    let second = second.result.unwrap();
    assert_eq!(second.numbers[0].display_phone_number, "+1 555-010-0002");
    assert_eq!(second.after, None);

    let proof = appsecret_proof(SECRET, TOKEN);
    let r1 = seen.recv().await.unwrap();
    assert_eq!(r1.method, "GET");
    assert_eq!(r1.path(), "/v25.0/9/phone_numbers");
    r1.assert_token_only_in_header();
    assert_eq!(
        r1.query(),
        pairs(&[
            ("fields", "id,display_phone_number"),
            ("limit", "100"),
            ("appsecret_proof", &proof),
        ])
    );
    let r2 = seen.recv().await.unwrap();
    r2.assert_token_only_in_header();
    assert_eq!(
        r2.query(),
        pairs(&[
            ("fields", "id,display_phone_number"),
            ("limit", "100"),
            ("after", "c1=="),
            ("appsecret_proof", &proof),
        ])
    );
}

#[tokio::test]
async fn listing_refused() {
    let (base, _seen) = serve(vec![json(
        403,
        r#"{"error":{"message":"(#200) Permissions error","type":"OAuthException","code":200}}"#,
    )])
    .await;
    let reply = client(&base, Duration::from_secs(10))
        .list_phone_numbers_page(&creds(false), "9", None)
        .await;
    assert_eq!(reply.result.unwrap_err().class(), ErrorClass::Permanent);
}

#[tokio::test]
async fn connection_closed_after_the_request_is_in_doubt() {
    let (base, mut seen) = serve(vec![Act::Close]).await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(true), &request())
        .await;
    // The server did read the whole request before hanging up.
    assert_eq!(seen.recv().await.unwrap().form()[0].1, "1");
    let Err(Failure::Network { message, in_doubt }) = reply.result else {
        panic!("expected a network failure");
    };
    assert!(in_doubt, "{message}");
    assert!(!message.contains(TOKEN));
    assert!(!message.contains("127.0.0.1"), "{message}");
}

#[tokio::test]
async fn answer_cut_off_mid_body_is_in_doubt() {
    let cut = "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"id\":\"12".to_owned();
    let (base, _seen) = serve(vec![Act::SendAndClose(cut)]).await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(false), &request())
        .await;
    let Err(Failure::Network { message, in_doubt }) = reply.result else {
        panic!("expected a network failure");
    };
    assert!(in_doubt, "{message}");
    assert!(message.starts_with("answer cut off"), "{message}");
}

#[tokio::test]
async fn timeout_after_sending_is_in_doubt() {
    let (base, mut seen) = serve(vec![Act::Hang]).await;
    let reply = client(&base, Duration::from_millis(300))
        .create_phone_number(&creds(false), &request())
        .await;
    assert!(seen.recv().await.is_some());
    let Err(Failure::Network { message, in_doubt }) = reply.result else {
        panic!("expected a network failure");
    };
    assert!(in_doubt, "{message}");
    assert!(message.starts_with("no answer within"), "{message}");
}

#[tokio::test]
async fn nothing_listening_is_unreachable_not_in_doubt() {
    // Bind then drop: the port is (almost certainly) free and refuses.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().port()
    };
    let reply = client(&format!("http://127.0.0.1:{port}"), Duration::from_secs(5))
        .create_phone_number(&creds(false), &request())
        .await;
    let Err(failure @ Failure::Unreachable { .. }) = reply.result else {
        panic!("expected an unreachable failure");
    };
    assert!(!failure.in_doubt());
    let message = failure.summary();
    assert!(
        message.starts_with(&format!("cannot connect to http://127.0.0.1:{port}: ")),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert_eq!(reply.hints, Hints::default());
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_refused_before_sending() {
    let (base, mut seen) = serve(vec![json(200, r#"{"id":"5"}"#)]).await;
    let creds = Credentials::new(Token::new("EAA\nbroken"), None);
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds, &request())
        .await;
    let Err(Failure::Network { message, in_doubt }) = reply.result else {
        panic!("expected a network failure");
    };
    assert!(!in_doubt, "{message}");
    assert!(
        message.starts_with("could not build the request"),
        "{message}"
    );
    assert!(!message.contains("broken"), "{message}");
    assert!(seen.try_recv().is_err());
}

#[tokio::test]
async fn a_header_never_fails_a_call() {
    let (base, _seen) = serve(vec![response(
        200,
        &[
            ("x-business-use-case-usage", "{not json"),
            ("x-app-usage", "[]"),
            ("retry-after", "soon"),
        ],
        r#"{"id":"77"}"#,
    )])
    .await;
    let reply = client(&base, Duration::from_secs(10))
        .create_phone_number(&creds(false), &request())
        .await;
    assert_eq!(reply.result, Ok("77".to_owned()));
    assert_eq!(reply.hints, Hints::default());
}

#[test]
fn graph_url_checks() {
    let cfg = |url: &str| config(url, Duration::from_secs(1));
    for ok in [
        "https://graph.facebook.com",
        "https://graph.facebook.com/",
        "http://127.0.0.1:8080",
        "http://localhost:1/prefix",
    ] {
        assert!(GraphClient::new(cfg(ok)).is_ok(), "{ok}");
    }
    for bad in [
        "graph.facebook.com",
        "ftp://graph.facebook.com",
        "https://graph.facebook.com/?access_token=x",
        "https://graph.facebook.com/#frag",
        "https://user:pw@graph.facebook.com",
        "mailto:a@b",
        "",
    ] {
        assert!(
            matches!(
                GraphClient::new(cfg(bad)),
                Err(GraphSetupError::GraphUrl { .. })
            ),
            "{bad}"
        );
    }
}

/// The onboarding steps, the number read and the exchange metadata.
mod steps;
