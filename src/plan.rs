//! plan (to be built by the foundation work).
