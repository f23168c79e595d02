//! One file per command: each turns its parsed arguments into a pipeline run and
//! an [`Exit`](crate::exit::Exit). User-facing rendering lives here, at the edge.

pub mod plan;
pub mod run;
pub mod sandbox;
pub mod validate;
