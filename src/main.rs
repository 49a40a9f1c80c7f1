//! The `vnfhir` command line: `serve`, `migrate`, `bench`, `bhyt`, `validate`, `conformance`.

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use vnfhir::config::Config;
use vnfhir::store::db::Database;
use vnfhir::store::Store;

/// glibc's allocator spent about a third of the server's ingest CPU consolidating free
/// lists under many threads; mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "vnfhir",
    version,
    about = "FHIR R4 server for Vietnamese health data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the FHIR server (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        database: DatabaseArg,
    },
    /// Load tools: HTTP CRUD load, population loader, search load.
    #[command(subcommand)]
    Bench(vnfhir::bench::BenchCommand),
    /// BHYT claim XML: check and show GIAMDINHHS, check-in and table 12 files.
    #[command(subcommand)]
    Bhyt(vnfhir::bhyt::cli::BhytCommand),
    /// Validate resources (files, folders, Bundles) against R4 and the VN Core profiles.
    Validate(vnfhir::validation::cli::ValidateArgs),
    /// The conformance kit: build the VN profiles, run the test cases against a server.
    #[command(subcommand)]
    Conformance(vnfhir::validation::conformance::ConformanceCommand),
}

#[derive(Args)]
struct DatabaseArg {
    /// sqlite://PATH or postgres://USER@HOST:PORT/DB
    #[arg(
        long = "database",
        env = "DATABASE_URL",
        default_value = "sqlite://vnfhir.db"
    )]
    url: String,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "VNFHIR_BIND", default_value = "127.0.0.1")]
    bind: String,
    /// 0 picks a free port (printed on start-up).
    #[arg(long, env = "VNFHIR_PORT", default_value_t = 8080)]
    port: u16,
    #[command(flatten)]
    database: DatabaseArg,
    /// Public base URL when behind a proxy (default: derived from each request).
    #[arg(long, env = "VNFHIR_BASE_URL")]
    base_url: Option<String>,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "VNFHIR_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Most entries accepted in a transaction or batch Bundle.
    #[arg(long, env = "VNFHIR_MAX_BUNDLE_ENTRIES", default_value_t = 1000)]
    max_bundle_entries: usize,
    /// Database connections in the pool (default: four per core).
    #[arg(long, env = "VNFHIR_POOL_SIZE")]
    pool_size: Option<u32>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "VNFHIR_WORKERS")]
    workers: Option<usize>,
    /// Page size when a client gives no `_count`.
    #[arg(long, env = "VNFHIR_DEFAULT_COUNT", default_value_t = 20)]
    default_count: i64,
    /// Canonical base URL of the VN Core profiles, code systems and naming systems.
    #[arg(
        long,
        env = "VNFHIR_CANONICAL_BASE",
        default_value = "https://fhir.vnfhir.org"
    )]
    canonical_base: String,
    /// Validate every write against the VN Core profile of its type (422 when it fails).
    #[arg(long, env = "VNFHIR_REQUIRE_VN_PROFILES")]
    require_vn_profiles: bool,
    /// Largest `_count` honoured; larger requests are cut to it.
    #[arg(long, env = "VNFHIR_MAX_COUNT", default_value_t = 1000)]
    max_count: i64,
}

fn serve(args: ServeArgs) -> Result<(), String> {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let config = Config {
        bind: args.bind,
        port: args.port,
        database: Database::parse(&args.database.url)?,
        base_path: "/fhir".into(),
        base_url: args.base_url,
        max_body_bytes: args.max_body_bytes,
        max_bundle_entries: args.max_bundle_entries,
        // More connections than the cores can run only queue inside the database, where
        // a search's tail grows (16 clients on 2 cores: pool 8 cut the p99 by 40–60% against
        // 16); fewer slow writes, which wait on commits (pool 4: 20% fewer creates).
        pool_size: args.pool_size.unwrap_or(4 * cores as u32),
        workers: args.workers.unwrap_or(cores),
        default_count: args.default_count,
        canonical_base: args.canonical_base,
        require_vn_profiles: args.require_vn_profiles,
        max_count: args.max_count,
    };
    actix_web::rt::System::new().block_on(vnfhir::rest::serve(config))
}

fn migrate(url: &str) -> Result<(), String> {
    let store = Store::open(&Database::parse(url)?, 1)?;
    let applied = store.migrate()?;
    println!("applied {applied} migration(s)");
    Ok(())
}

/// A command that reports its findings itself: `Ok(false)` (findings) exits non-zero quietly.
fn checked(result: Result<bool, String>) -> Result<(), String> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err(String::new()),
        Err(message) => Err(message),
    }
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let result = match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Migrate { database } => migrate(&database.url),
        Command::Bench(command) => vnfhir::bench::run(&command),
        Command::Bhyt(command) => checked(vnfhir::bhyt::cli::run(&command)),
        Command::Validate(args) => checked(vnfhir::validation::cli::run(&args)),
        Command::Conformance(command) => checked(vnfhir::validation::conformance::run(&command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The command has printed its own report.
        Err(message) if message.is_empty() => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("vnfhir: {message}");
            ExitCode::FAILURE
        }
    }
}
