//! End-to-end tests: the sandbox served on loopback (in-process with
//! `Sandbox::start`, and as the real `waba-provision sandbox` binary), driven
//! by a real HTTP client: shapes, headers, auth, budgets, paging, fault rates,
//! the dropped connection, the test-only paths. The onboarding steps of
//! SPEC 7 are in `sandbox/onboarding.rs`.

use crate::support::{bin, fixture};
use futures::StreamExt;
use reqwest::{Client, Response};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::time::Duration;
use waba_provision::limits::Rate;
use waba_provision::sandbox::{Sandbox, SandboxConfig};

mod onboarding;

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Start a sandbox on a free port, with a client for it.
async fn serve(config: SandboxConfig) -> (Sandbox, Client) {
    (Sandbox::start(config).await.unwrap(), client())
}

async fn create(c: &Client, sb: &Sandbox, waba: &str, number: &str) -> Response {
    c.post(format!("{}/v25.0/{waba}/phone_numbers", sb.url()))
        .bearer_auth("tok")
        .form(&[("cc", "1"), ("phone_number", number)])
        .send()
        .await
        .unwrap()
}

fn number(n: usize) -> String {
    format!("55501{n:05}")
}

async fn json(r: Response) -> Value {
    r.json().await.unwrap()
}

#[tokio::test]
async fn create_accepts_form_json_and_query_with_meta_headers() {
    let (sb, c) = serve(SandboxConfig::default()).await;
    let url = format!("{}/v25.0/123/phone_numbers", sb.url());

    let r = create(&c, &sb, "123", "5550100001").await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["facebook-api-version"], "v25.0");
    assert!(h.contains_key("x-fb-trace-id") && h.contains_key("x-fb-request-id"));
    let buc: Value =
        serde_json::from_str(h["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc["123"][0]["type"], "whatsapp_business_management");
    let app: Value = serde_json::from_str(h["x-app-usage"].to_str().unwrap()).unwrap();
    assert!(app["call_count"].is_u64());
    let id = json(r).await["id"].as_str().unwrap().to_string();
    assert!(id.len() >= 15 && id.bytes().all(|b| b.is_ascii_digit()));

    let r = c
        .post(&url)
        .bearer_auth("tok")
        .json(&serde_json::json!({"cc": "44", "phone_number": "7700900123", "migrate_phone_number": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .post(format!("{url}?cc=1&phone_number=5550100003"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let ledger = sb.ledger();
    assert_eq!(ledger.len(), 3);
    assert_eq!(ledger[0].id, id);
    assert_eq!(ledger[1].display_phone_number, "+44 7700 900123");
    assert!(ledger.iter().all(|e| e.waba_id == "123"));
    sb.shutdown().await;
}

#[tokio::test]
async fn errors_have_meta_shape_and_are_mostly_400() {
    let (sb, c) = serve(SandboxConfig::default()).await;
    let r = c
        .post(format!("{}/v99/123/phone_numbers", sb.url()))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"]["code"], 2500);

    let r = c
        .post(format!("{}/v25.0/123/phone_numbers", sb.url()))
        .form(&[("cc", "1"), ("phone_number", "5550100001")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().contains_key("www-authenticate"));
    let e = json(r).await;
    assert_eq!(e["error"]["code"], 104);
    assert_eq!(e["error"]["type"], "OAuthException");
    assert!(e["error"]["fbtrace_id"].is_string());

    create(&c, &sb, "123", "5550100001").await;
    let dup = json(create(&c, &sb, "123", "5550100001").await).await;
    assert_eq!(
        (
            dup["error"]["code"].as_i64(),
            dup["error"]["error_subcode"].as_i64()
        ),
        (Some(100), Some(2388012))
    );
    let other = create(&c, &sb, "456", "5550100001").await;
    assert_eq!(other.status(), 400);
    assert_eq!(json(other).await["error"]["code"], 100);

    let bad = c
        .post(format!("{}/v25.0/123/phone_numbers", sb.url()))
        .bearer_auth("tok")
        .form(&[("cc", "1"), ("phone_number", "555-0100")])
        .send()
        .await
        .unwrap();
    assert_eq!(json(bad).await["error"]["code"], 100);
    assert_eq!(sb.ledger().len(), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn token_map_proof_and_forbidden_wabas_from_a_config_file() {
    let config = SandboxConfig::from_file(&fixture("sandbox/strict.yaml")).unwrap();
    let (sb, c) = serve(config).await;
    let post = |waba: &str, token: &str, proof: Option<&str>| {
        let mut form = vec![
            ("cc", "1".to_string()),
            ("phone_number", "5550100001".to_string()),
        ];
        if let Some(p) = proof {
            form.push(("appsecret_proof", p.to_string()));
        }
        c.post(format!("{}/v25.0/{waba}/phone_numbers", sb.url()))
            .bearer_auth(token)
            .form(&form)
            .send()
    };
    let proof_a = waba_provision::secret::appsecret_proof("sandbox-secret", "tok-a");
    let code = |v: Value| v["error"]["code"].as_i64();

    let r = post("1001", "tok-x", Some(&proof_a)).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(code(json(r).await), Some(190));
    assert_eq!(
        code(json(post("1001", "tok-a", None).await.unwrap()).await),
        Some(100)
    );
    let wrong = json(post("1001", "tok-a", Some("abc")).await.unwrap()).await;
    assert_eq!(
        wrong["error"]["message"],
        "Invalid appsecret_proof provided in the API argument"
    );
    assert_eq!(
        code(json(post("1003", "tok-a", Some(&proof_a)).await.unwrap()).await),
        Some(200)
    );
    let proof_admin = waba_provision::secret::appsecret_proof("sandbox-secret", "tok-admin");
    assert_eq!(
        code(json(post("9999", "tok-admin", Some(&proof_admin)).await.unwrap()).await),
        Some(200)
    );
    assert_eq!(
        post("1001", "tok-a", Some(&proof_a))
            .await
            .unwrap()
            .status(),
        200
    );

    let log = sb.requests();
    assert_eq!(log.len(), 6);
    assert!(
        log.iter()
            .all(|e| e.had_bearer && !e.token_in_url && !e.token_in_body)
    );
    assert_eq!(log[2].appsecret_proof_valid, Some(false));
    assert_eq!(log[5].appsecret_proof_valid, Some(true));
    assert!(
        !format!("{log:?}").contains("tok-a"),
        "the log never holds a token"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn waba_budget_throttles_then_reopens_after_retry_after() {
    let config = SandboxConfig {
        waba_budget: Some(Rate {
            count: 3,
            // Long enough that four calls fit in it even on a loaded machine.
            per: Duration::from_secs(2),
        }),
        retry_after: true,
        throttle_extension: false,
        ..SandboxConfig::default()
    };
    let (sb, c) = serve(config).await;
    for n in 0..3 {
        assert_eq!(create(&c, &sb, "7", &number(n)).await.status(), 200);
    }
    // A listing counts against the same budget.
    let r = c
        .get(format!(
            "{}/v25.0/7/phone_numbers?fields=id,display_phone_number",
            sb.url()
        ))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    let buc: Value =
        serde_json::from_str(r.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(buc["7"][0]["call_count"], 100);
    assert_eq!(buc["7"][0]["estimated_time_to_regain_access"], 0);
    assert_eq!(json(r).await["error"]["code"], 80008);
    // Another WABA is not affected.
    assert_eq!(create(&c, &sb, "8", &number(9)).await.status(), 200);
    // Obeying Retry-After is what a runner does: the window has then passed.
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(create(&c, &sb, "7", &number(3)).await.status(), 200);
    sb.shutdown().await;
}

#[tokio::test]
async fn app_budget_answers_code_4() {
    let config = SandboxConfig {
        app_budget: Some(Rate {
            count: 2,
            per: Duration::from_secs(3600),
        }),
        ..SandboxConfig::default()
    };
    let (sb, c) = serve(config).await;
    create(&c, &sb, "1", &number(0)).await;
    create(&c, &sb, "2", &number(1)).await;
    let r = create(&c, &sb, "3", &number(2)).await;
    let app: Value = serde_json::from_str(r.headers()["x-app-usage"].to_str().unwrap()).unwrap();
    assert_eq!(app["call_count"], 100);
    let e = json(r).await;
    assert_eq!(e["error"]["code"], 4);
    assert_eq!(
        e["error"]["message"],
        "(#4) Application request limit reached"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn listing_pages_130_numbers_by_50() {
    let (sb, c) = serve(SandboxConfig::default()).await;
    for n in 0..130 {
        assert_eq!(create(&c, &sb, "55", &number(n)).await.status(), 200);
    }
    create(&c, &sb, "66", &number(999)).await;
    let mut next = Some(format!(
        "{}/v25.0/55/phone_numbers?fields=id,display_phone_number&limit=50",
        sb.url()
    ));
    let (mut pages, mut ids) = (0, Vec::new());
    while let Some(url) = next {
        let page = json(c.get(&url).bearer_auth("tok").send().await.unwrap()).await;
        pages += 1;
        for item in page["data"].as_array().unwrap() {
            ids.push(item["id"].as_str().unwrap().to_string());
            let digits: String = item["display_phone_number"]
                .as_str()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            assert!(digits.starts_with("155501"));
        }
        next = page["paging"]["next"].as_str().map(str::to_string);
    }
    assert_eq!(pages, 3);
    let want: Vec<String> = sb
        .ledger()
        .into_iter()
        .filter(|e| e.waba_id == "55")
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, want, "every number exactly once, in order");
    sb.shutdown().await;
}

#[tokio::test]
async fn drop_after_create_creates_and_closes_without_answer() {
    let mut config = SandboxConfig::default();
    config.faults.drop_after_create = 1.0;
    let (sb, c) = serve(config).await;
    let result = c
        .post(format!("{}/v25.0/1/phone_numbers", sb.url()))
        .bearer_auth("tok")
        .form(&[("cc", "1"), ("phone_number", "5550100001")])
        .send()
        .await;
    let err = result.expect_err("no HTTP answer");
    assert!(!err.is_timeout() && err.status().is_none(), "{err:?}");
    let ledger = sb.ledger();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].phone_number, "5550100001");
    let log = sb.requests();
    assert_eq!(log[0].http_status, 0);
    assert_eq!(log[0].created_id.as_deref(), Some(ledger[0].id.as_str()));
    sb.shutdown().await;
}

#[tokio::test]
async fn fault_rates_match_the_config_over_2000_requests() {
    let config = SandboxConfig::from_file(&fixture("sandbox/faults.json")).unwrap();
    let (sb, c) = serve(config).await;
    let url = format!("{}/v25.0/1/phone_numbers", sb.url());
    let n = 2000;
    let outcomes: Vec<&str> = futures::stream::iter(0..n)
        .map(|i| {
            let req = c
                .post(&url)
                .bearer_auth("tok")
                .form(&[("cc", "1".to_string()), ("phone_number", number(i))]);
            async move {
                match req.send().await {
                    Err(_) => "dropped",
                    Ok(r) if r.status() == 503 => {
                        let html = r.text().await.unwrap();
                        assert!(html.contains("<html>"));
                        "html_503"
                    }
                    Ok(r) if r.status() == 500 => {
                        let e: Value = r.json().await.unwrap();
                        assert_eq!(e["error"]["is_transient"], true);
                        "transient"
                    }
                    Ok(r) => {
                        assert_eq!(r.status(), 200);
                        "created"
                    }
                }
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let share = |what: &str| outcomes.iter().filter(|o| **o == what).count() as f64 / n as f64;
    // Slow answers (1 ms here) come back as transient errors.
    let within = |got: f64, want: f64| (got - want).abs() < 0.02;
    assert!(within(share("transient"), 0.15), "{}", share("transient"));
    assert!(within(share("html_503"), 0.05), "{}", share("html_503"));
    assert!(within(share("dropped"), 0.05), "{}", share("dropped"));
    let log = sb.requests();
    let faulted =
        |f: &str| log.iter().filter(|e| e.fault.as_deref() == Some(f)).count() as f64 / n as f64;
    assert!(within(faulted("slow"), 0.05) && within(faulted("transient"), 0.10));
    // Created = answered 200 + dropped after create.
    let created = outcomes
        .iter()
        .filter(|o| **o == "created" || **o == "dropped")
        .count();
    assert_eq!(sb.ledger().len(), created);
    sb.shutdown().await;
}

#[tokio::test]
async fn test_only_paths_serve_ledger_requests_and_reset() {
    let (sb, c) = serve(SandboxConfig::default()).await;
    create(&c, &sb, "1", &number(1)).await;
    let ledger = json(
        c.get(format!("{}/__sandbox/ledger", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ledger[0]["phone_number"], number(1));
    let requests = json(
        c.get(format!("{}/__sandbox/requests", sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        requests.as_array().unwrap().len(),
        1,
        "test paths are not logged"
    );
    assert_eq!(requests[0]["token_in_url"], false);
    let r = c
        .post(format!("{}/__sandbox/reset", sb.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(sb.ledger().is_empty() && sb.requests().is_empty());
    // After a reset the number can be created again.
    assert_eq!(create(&c, &sb, "1", &number(1)).await.status(), 200);
    sb.shutdown().await;
}

#[test]
fn sandbox_command_prints_its_url_and_answers() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("waba-provision"))
        .args(["sandbox", "--port", "0", "--config"])
        .arg(fixture("sandbox/strict.yaml"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let answer = rt.block_on(async {
        let r = client()
            .post(format!("{url}/v25.0/1001/phone_numbers"))
            .bearer_auth("unknown-token")
            .form(&[("cc", "1"), ("phone_number", "5550100001")])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    // Ctrl-C (SIGINT) stops it with exit 0.
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(answer.0, 401);
    assert_eq!(answer.1["error"]["code"], 190);
}

#[test]
fn sandbox_help_documents_behaviours_with_examples() {
    let out = bin().args(["sandbox", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "80008",
        "--drop-after-create-rate",
        "appsecret_proof",
        "2388012",
        "Examples:",
        "waba-provision sandbox --waba-budget 5/2s --retry-after",
        "/request_code",
        "/verify_code",
        "/register",
        "136024",
        "133016",
        "1349175",
        "GET /__sandbox/codes",
        "--register-limit",
        "--number-pin",
        "--portfolio-cap",
        "--rejected-code-answer",
        "--connected-register-answer",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
    for bad in [
        &["sandbox", "--transient-rate", "2"][..],
        &["sandbox", "--register-limit", "10"],
        &["sandbox", "--number-pin", "15550100001=12"],
    ] {
        let out = bin().args(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}
