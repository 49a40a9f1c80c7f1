//! Server settings, from flags or the environment.

use crate::store::db::Database;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub port: u16,
    pub database: Database,
    /// The path under which the FHIR API is served.
    pub base_path: String,
    /// Overrides the base URL derived from the request (behind a proxy).
    pub base_url: Option<String>,
    pub max_body_bytes: usize,
    /// Most entries a transaction or batch Bundle may hold.
    pub max_bundle_entries: usize,
    pub pool_size: u32,
    pub workers: usize,
    pub default_count: i64,
    /// Canonical base of the VN Core profiles and terminology.
    pub canonical_base: String,
    /// Hold every write to the VN Core profile of its type, not only to the profiles it
    /// claims in `meta.profile`.
    pub require_vn_profiles: bool,
    pub max_count: i64,
}
