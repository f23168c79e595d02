//! Client overhead: `GraphClient::create_phone_number` against an in-process
//! loopback server that answers at once, next to bare reqwest posting the same
//! form to the same server (the floor for any HTTP/1.1 client here). Prints
//! requests per second; run with `cargo bench --bench graph_client`.

use axum::{Router, routing::post};
use futures::StreamExt;
use std::time::{Duration, Instant};
use waba_provision::graph::{ApiVersion, ClientConfig, CreateRequest, Credentials, GraphClient};
use waba_provision::secret::{AppSecret, Token};

const REQUESTS: usize = 20_000;
const CONCURRENCY: usize = 64;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let base = serve().await;
        // Warm up both paths (connections, allocator).
        graph_client(&base, 2_000).await;
        bare_reqwest(&base, 2_000, false).await;
        // Alternate, best of three: the machine is shared, so noise is large.
        let (mut bare, mut timed, mut ours) = (0f64, 0f64, 0f64);
        for _ in 0..3 {
            bare = bare.max(bare_reqwest(&base, REQUESTS, false).await);
            timed = timed.max(bare_reqwest(&base, REQUESTS, true).await);
            ours = ours.max(graph_client(&base, REQUESTS).await);
        }
        println!("bare reqwest          : {bare:>8.0} req/s");
        println!("bare reqwest + timeout: {timed:>8.0} req/s");
        println!(
            "GraphClient           : {ours:>8.0} req/s ({:.0} % of bare)",
            100.0 * ours / bare
        );
    });
}

async fn serve() -> String {
    let app = Router::new().route(
        "/{version}/{waba}/phone_numbers",
        post(|| async {
            (
                [
                    ("content-type", "application/json"),
                    (
                        "x-business-use-case-usage",
                        r#"{"102290129340398":[{"type":"whatsapp_business_management","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#,
                    ),
                    ("x-app-usage", r#"{"call_count":1,"total_time":1,"total_cputime":1}"#),
                    ("facebook-api-version", "v25.0"),
                ],
                r#"{"id":"1906385232743451"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn graph_client(base: &str, n: usize) -> f64 {
    let client = GraphClient::new(ClientConfig {
        graph_url: base.to_owned(),
        api_version: ApiVersion::parse("v25.0").expect("version"),
        timeout: Duration::from_secs(10),
        max_connections: CONCURRENCY,
    })
    .expect("client");
    let creds = Credentials::new(Token::new("EAAbench"), Some(&AppSecret::new("secret")));
    let req = CreateRequest {
        waba_id: "102290129340398",
        cc: "1",
        phone_number: "5550100001",
        migrate_phone_number: false,
        preverified_id: None,
        verified_name: Some("Acme"),
    };
    requests_per_second(n, |_| {
        let (client, creds) = (client.clone(), creds.clone());
        async move {
            client
                .create_phone_number(&creds, &req)
                .await
                .result
                .is_ok()
        }
    })
    .await
}

async fn bare_reqwest(base: &str, n: usize, timeout: bool) -> f64 {
    let mut builder = reqwest::Client::builder().pool_max_idle_per_host(CONCURRENCY);
    if timeout {
        builder = builder
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5));
    }
    let client = builder.build().expect("client");
    let url = format!("{base}/v25.0/102290129340398/phone_numbers");
    let form = [
        ("cc", "1"),
        ("phone_number", "5550100001"),
        ("migrate_phone_number", "false"),
        ("verified_name", "Acme"),
    ];
    requests_per_second(n, |_| {
        let request = client.post(&url).bearer_auth("EAAbench").form(&form);
        async move {
            match request.send().await {
                Ok(r) => r.bytes().await.is_ok(),
                Err(_) => false,
            }
        }
    })
    .await
}

/// Run `n` calls, `CONCURRENCY` at a time; each must succeed. Requests per second.
async fn requests_per_second<F, Fut>(n: usize, call: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    let ok = futures::stream::iter(0..n)
        .map(call)
        .buffer_unordered(CONCURRENCY)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    assert_eq!(ok, n, "every call must succeed");
    n as f64 / start.elapsed().as_secs_f64()
}
