//! The built-in fake Graph API (SPEC section 5).

/// Behaviour options of `waba-provision sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Port to listen on (loopback only); 0 picks a free one.
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub port: u16,
}
