//! The long `--help` of `waba-provision sandbox`: every behaviour, the order
//! of the checks, the faults, examples and a config file. Kept apart from the
//! flags so both stay readable.

pub(crate) const SANDBOX_HELP: &str = "\
Prints `listening on http://127.0.0.1:PORT` on stdout, then serves until Ctrl-C (exit 0).
Pass that URL to run/retry as --graph-url. Nothing here ever calls Meta.

Endpoints:
  POST /{version}/{waba_id}/phone_numbers   cc, phone_number, migrate_phone_number, preverified_id,
                                            verified_name as form body, JSON body or query string
                                            -> 200 {\"id\":\"<16 digits>\"}
  GET  /{version}/{waba_id}/phone_numbers   ?fields=id,display_phone_number&limit=N(<=100, default 25)&after=CURSOR
                                            -> {\"data\":[...],\"paging\":{\"cursors\":{...},\"next\":URL}}
  GET /__sandbox/ledger, GET /__sandbox/requests, POST /__sandbox/reset   (test-only)

Checks, in this order (errors are Meta's JSON, mostly HTTP 400, with fbtrace_id):
  version not vN.N or unknown path            2500 Unknown path components
  no token                                    104  (Bearer header; access_token param also works but is logged)
  unknown token (with --token) / expired      190 subcode 467 (HTTP 401) / 463, WWW-Authenticate header
  appsecret_proof missing / wrong             100  GraphMethodException (with --app-secret-env)
  app budget spent                            4    (#4) Application request limit reached, X-App-Usage 100
  WABA budget spent                           80008, X-Business-Use-Case-Usage call_count 100 and
                                              estimated_time_to_regain_access (minutes, rounded up)
  --forbidden-waba / token not granted        200
  bad cc, phone_number, verified_name, ...    100
  fault (seeded, POST only unless --faults-on-get)
  number already on this WABA                 100 subcode 2388012 (This phone number already exists...)
  number already on another WABA              100 subcode 2388001 (already registered with WhatsApp Business)
Every Graph answer carries facebook-api-version, x-fb-trace-id, x-fb-request-id, X-App-Usage and
X-Business-Use-Case-Usage. Refused calls made while throttled count and extend the block, unless
--no-throttle-extension. With --retry-after, throttled answers add Retry-After: SECS and the minutes are
rounded down, so a short test window (5/2s) is not announced as a one-minute wait.

Faults (one seeded draw per request; rates are exact and exclusive, sum <= 1):
  transient          HTTP 500, code 2 / 1 / 131000, is_transient true; nothing created
  html-503           HTTP 503 text/html page, as from a proxy; nothing created
  slow               answers after --slow-ms with a transient error; nothing created
  drop-after-create  the number IS created, then the connection closes with no answer

Examples:
  waba-provision sandbox --port 8080
  waba-provision sandbox --waba-budget 200/1h --app-budget 5000/1h
  waba-provision sandbox --waba-budget 5/2s --retry-after
  waba-provision sandbox --token tokA=102290129340398,102290129340399 --token admin=*
  SANDBOX_SECRET=shh waba-provision sandbox --app-secret-env SANDBOX_SECRET
  waba-provision sandbox --forbidden-waba 999 --expired-token old-token
  waba-provision sandbox --latency-ms 80 --jitter-ms 40 --seed 7
  waba-provision sandbox --seed 7 --transient-rate 0.05 --html-503-rate 0.01 --slow-rate 0.01 --slow-ms 40000 --drop-after-create-rate 0.01
  waba-provision sandbox --config sandbox.yaml
  curl -X POST localhost:8080/v25.0/123/phone_numbers -H 'Authorization: Bearer t' -d cc=1 -d phone_number=5550100001

Config file (YAML, or JSON with a .json name; every field optional, flags override it):
  port: 0
  seed: 7
  tokens: { tokA: [\"102290129340398\"], admin: [\"*\"] }
  expired_tokens: [old-token]
  app_secret: shh
  forbidden_wabas: [\"999\"]
  existing_numbers: [{ waba_id: \"123\", cc: \"1\", phone_number: \"5550100001\" }]
  waba_budget: 5/2s
  app_budget: 100/1m
  throttle_extension: true
  retry_after: true
  latency_ms: 0
  jitter_ms: 0
  faults:
    transient: 0.05
    html_503: 0.01
    slow: 0.01
    slow_ms: 40000
    drop_after_create: 0.01
    on_get: false
  request_log_limit: 200000";
