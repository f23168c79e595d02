//! End-to-end tests: sandbox.
