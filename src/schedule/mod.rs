//! schedule (to be built).
