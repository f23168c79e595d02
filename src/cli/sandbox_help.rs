//! The long `--help` of `waba-provision sandbox`: every endpoint and
//! behaviour, the order of the checks, the onboarding steps (SPEC 7), the
//! faults, examples and a config file. Kept apart from the flags so both stay
//! readable.

pub(crate) const SANDBOX_HELP: &str = "\
Prints `listening on http://127.0.0.1:PORT` on stdout, then serves until Ctrl-C (exit 0).
Pass that URL to run/retry as --graph-url. Nothing here ever calls Meta.

Endpoints:
  POST /{version}/{waba_id}/phone_numbers   cc, phone_number, migrate_phone_number, preverified_id,
                                            verified_name as form body, JSON body or query string
                                            -> 200 {\"id\":\"<16 digits>\"}
  GET  /{version}/{waba_id}/phone_numbers   ?fields=id,display_phone_number&limit=N&after=CURSOR
                                            (limit <= 100, default 25) -> {\"data\":[...],
                                            \"paging\":{\"cursors\":{...},\"next\":URL}}
  POST /{version}/{id}/request_code         code_method=SMS|VOICE, language=en_US
  POST /{version}/{id}/verify_code          code=123456 (6 digits, no dash)
  POST /{version}/{id}/register             messaging_product=whatsapp, pin=NNNNNN
                                            [, data_localization_region=AU|ID|IN|JP|SG|KR|DE|CH|
                                            GB|BR|BH|ZA|AE|CA]
                                            each -> {\"success\":true}   ({id} = phone_number_id)
  GET  /{version}/{id}                      ?fields= any of id, display_phone_number, verified_name,
                                            status, code_verification_status, name_status,
                                            new_name_status, quality_rating, platform_type,
                                            throughput -> those fields (and id)
  GET /__sandbox/ledger, GET /__sandbox/requests, GET /__sandbox/codes, POST /__sandbox/reset
                                            (test-only, not logged)

Checks, in this order (errors are Meta's JSON, mostly HTTP 400, with fbtrace_id):
  version not vN.N or unknown path            2500 Unknown path components
  wrong method, or an id not all digits       100 subcode 33 (Unsupported ... request)
  no token                                    104  (Bearer header; access_token param also works
                                              but is logged)
  unknown token (with --token) / expired      190 subcode 467 (HTTP 401) / 463, WWW-Authenticate
  appsecret_proof missing / wrong             100  GraphMethodException (with --app-secret-env)
  app budget spent                            4    (#4) Application request limit reached,
                                              X-App-Usage 100
  unknown phone_number_id (steps, read)       100 subcode 33 GraphMethodException \"Unsupported
                                              post request. Object with ID '...' does not exist\"
  WABA budget spent                           80008, X-Business-Use-Case-Usage call_count 100 and
                                              estimated_time_to_regain_access (minutes, rounded
                                              up); a call on a number counts for its WABA
  --forbidden-waba / token not granted        200
Then, for a create:
  bad cc, phone_number, verified_name, ...    100
  fault (seeded)
  number already on this WABA                 100 subcode 2388012 (This phone number already...)
  number on another WABA, not migrating       100 subcode 2388001 (already registered with ...)
  migrating it, two-step on at the source     100 subcode 2388103 (--two-step-on-source); else
                                              the number MOVES here, fresh and unverified, new id
  --portfolio-cap reached                     HTTP 403, 200 subcode 1349175 Phone number limit
                                              exceeded...
  created                                     PENDING, NOT_VERIFIED; VERIFIED with a
                                              preverified_id (EXPIRED: --expired-preverified-id)
For a step (the fault is drawn first: a transient, 503 or slow step does nothing):
  request_code: bad code_method / language    100
                number already verified       136024
                else                          a seeded 6-digit code, valid --code-ttl-ms; a new
                                              request replaces the old code
  verify_code:  code not 6 digits             100 Invalid verification code format
                wrong or expired code         136025 (--rejected-code-answer 100: HTTP 422, 100
                                              \"The verification code is invalid or has expired\")
                else                          VERIFIED
  register:     over --register-limit         133016, locked for one window (details: how long).
                                              Every call on the number counts, refused ones too
                bad messaging_product, region 100
                PIN not 6 digits              100 PIN must be exactly 6 digits
                not verified                  133006
                PIN not the number's          133005 (--number-pin, or an earlier register's)
                already CONNECTED             {\"success\":true} (--connected-register-answer
                                              already-registered: HTTP 422, 100 \"already
                                              registered or in invalid state for registration\")
                else                          CONNECTED; the PIN becomes the number's PIN
A read shows status PENDING / CONNECTED; code_verification_status NOT_VERIFIED / VERIFIED /
EXPIRED; name_status PENDING_REVIEW, APPROVED from --name-review-delay-ms after creation (NONE
without verified_name); new_name_status NONE; quality_rating UNKNOWN / GREEN and platform_type
NOT_APPLICABLE / CLOUD_API (before / after register); throughput {level: STANDARD}.
Codes reach tests as the holder's phone would: GET /__sandbox/codes ->
{\"<phone_number_id>\": {\"code\", \"expires_in_ms\", \"expired\"}}. The request log records each
call's kind (create, list, request_code, verify_code, register, read) and phone_number_id, never
a token, a code or a PIN.
Every Graph answer carries facebook-api-version, x-fb-trace-id, x-fb-request-id, X-App-Usage and
X-Business-Use-Case-Usage. Refused calls made while throttled count and extend the block, unless
--no-throttle-extension. With --retry-after, throttled answers add Retry-After: SECS and the
minutes are rounded down, so a short test window (5/2s) is not announced as a one-minute wait.

Faults (one seeded draw per request; rates are exact and exclusive, sum <= 1):
  transient          HTTP 500, code 2 / 1 / 131000, is_transient true; nothing created
  html-503           HTTP 503 text/html page, as from a proxy; nothing created
  slow               answers after --slow-ms with a transient error; nothing created
  drop-after-create  the POST IS carried out (create, request_code, verify_code, register), then
                     the connection closes with no answer (a refused call is answered)

Examples:
  waba-provision sandbox --port 8080
  waba-provision sandbox --waba-budget 200/1h --app-budget 5000/1h
  waba-provision sandbox --waba-budget 5/2s --retry-after
  waba-provision sandbox --token tokA=102290129340398,102290129340399 --token admin=*
  SANDBOX_SECRET=shh waba-provision sandbox --app-secret-env SANDBOX_SECRET
  waba-provision sandbox --forbidden-waba 999 --expired-token old-token
  waba-provision sandbox --latency-ms 80 --jitter-ms 40 --seed 7
  waba-provision sandbox --seed 7 --transient-rate 0.05 --html-503-rate 0.01 --slow-rate 0.01 \\
       --slow-ms 40000 --drop-after-create-rate 0.01
  waba-provision sandbox --register-limit 3/10s --code-ttl-ms 2000 --name-review-delay-ms 500
  waba-provision sandbox --number-pin 15550100001=135790 --two-step-on-source 447700900123
  waba-provision sandbox --portfolio-cap 2 --portfolio-cap-scope token
  waba-provision sandbox --expired-preverified-id pv-old
  waba-provision sandbox --rejected-code-answer 100 --connected-register-answer already-registered
  waba-provision sandbox --config sandbox.yaml
  curl -X POST localhost:8080/v25.0/123/phone_numbers -H 'Authorization: Bearer t' \\
       -d cc=1 -d phone_number=5550100001
  curl -X POST localhost:8080/v25.0/ID/request_code -H 'Authorization: Bearer t' \\
       -d code_method=SMS -d language=en_US
  curl localhost:8080/__sandbox/codes
  curl -X POST localhost:8080/v25.0/ID/verify_code -H 'Authorization: Bearer t' -d code=CODE
  curl -X POST localhost:8080/v25.0/ID/register -H 'Authorization: Bearer t' \\
       -d messaging_product=whatsapp -d pin=135790
  curl 'localhost:8080/v25.0/ID?fields=status,name_status' -H 'Authorization: Bearer t'

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
    drop_after_create: 0.01        # any POST, despite the name
    on_get: false
  request_log_limit: 200000
  code_ttl_ms: 600000
  register_limit: 10/72h
  name_review_delay_ms: 30000
  numbers_with_pin: { \"15550100001\": \"135790\" }
  two_step_on_source: [\"447700900123\"]
  expired_preverified_ids: [pv-old]
  portfolio_cap: { numbers: 2, scope: waba }      # or token
  rejected_code_answer: \"136025\"                # or \"100\"
  connected_register_answer: success             # or already_registered";

#[cfg(test)]
mod tests {
    use super::SANDBOX_HELP;
    use crate::sandbox::SandboxConfig;

    #[test]
    fn the_config_file_example_is_a_valid_config() {
        let (_, example) = SANDBOX_HELP
            .split_once("flags override it):\n")
            .expect("a config example");
        let yaml: String = example
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.yaml");
        std::fs::write(&path, yaml).unwrap();
        let c = SandboxConfig::from_file(&path).unwrap();
        assert_eq!(c.register_limit.to_string(), "10/72h");
        assert_eq!(c.portfolio_cap.map(|p| p.numbers), Some(2));
    }

    #[test]
    fn lines_fit_in_100_columns() {
        for line in SANDBOX_HELP.lines() {
            assert!(line.chars().count() <= 100, "{line}");
        }
    }
}
