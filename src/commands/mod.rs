//! One file per command: each takes its checked `Config` and returns an
//! [`Outcome`](crate::exit::Outcome). User-facing rendering lives here, at the edge.

pub mod completions;
pub mod man;
pub mod plan;
pub mod run;
pub mod sandbox;
pub mod status;
pub mod validate;
