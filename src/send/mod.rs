//! send (to be built).
