//! End-to-end tests: the real binary, driven by assert_cmd, against fixtures and
//! the in-process sandbox. One test binary to save link time.

mod audit;
mod cli;
mod onboarding;
mod operator;
mod run;
mod sandbox;
mod status;
mod support;
mod validate;
