//! `matcher serve`: starts the HTTP service of [`crate::server`] with its flags.

use super::flags::{load, parse_date, read_policies_for};
use crate::server;
use anyhow::Context;
use matcher_core::model::Date;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MATCHER_BIND", default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// SQLite database file (WAL), created on first start.
    #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
    db: PathBuf,
    /// Load the demo data set (invented; the same as `data/demo`) and print demo tokens.
    #[arg(long, env = "MATCHER_DEMO")]
    demo: bool,
    /// Load the offers (with their evidence) of a data set directory or snapshot at start,
    /// without its candidates; e.g. `matcher gen --scale national` output for load tests.
    #[arg(long, env = "MATCHER_OFFERS_FROM")]
    offers_from: Option<PathBuf>,
    /// Origin allowed by CORS; repeat for several (comma-separated in the variable).
    #[arg(long = "cors-origin", env = "MATCHER_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Largest request body in bytes.
    #[arg(long, env = "MATCHER_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Request timeout in seconds.
    #[arg(long, env = "MATCHER_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    request_timeout_secs: u64,
    /// Requests handled at once; more are answered 503 with Retry-After immediately.
    #[arg(long, env = "MATCHER_MAX_IN_FLIGHT", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    max_in_flight: u64,
    /// Day the benefit clocks are read against (YYYY-MM-DD); default: today (UTC).
    #[arg(long, env = "MATCHER_TODAY", value_parser = parse_date)]
    today: Option<Date>,
    /// Policy file (TOML) for suggestions and batch runs. Repeat for several; a file with
    /// `municipality = CODE` applies there, one without replaces the national default.
    #[arg(long = "policy", env = "MATCHER_POLICIES", value_delimiter = ',')]
    policies: Vec<PathBuf>,
    /// Async worker threads (0 = one per core).
    #[arg(long, env = "MATCHER_WORKERS", default_value_t = 0)]
    workers: usize,
    /// Threads that answer suggestions (default one per core; 0 = Tokio's blocking pool, a
    /// thread per request in flight).
    #[arg(long, env = "MATCHER_ANSWER_THREADS")]
    answer_threads: Option<usize>,
    /// Public keys of the municipality's identity provider (PEM file of RSA/P-256 public keys,
    /// or a JWKS file): accept its JWTs (RS256, ES256) beside local tokens.
    #[arg(long, env = "MATCHER_JWT_KEYS", requires_all = ["jwt_issuer", "jwt_audience"])]
    jwt_keys: Option<PathBuf>,
    /// The `iss` every JWT must carry.
    #[arg(long, env = "MATCHER_JWT_ISSUER", requires = "jwt_keys")]
    jwt_issuer: Option<String>,
    /// The `aud` every JWT must include (this service's client id).
    #[arg(long, env = "MATCHER_JWT_AUDIENCE", requires = "jwt_keys")]
    jwt_audience: Option<String>,
    /// JWT claim naming the person (a stable pseudonymous id), recorded as `decided_by`.
    #[arg(long, env = "MATCHER_JWT_USER_CLAIM", default_value = "sub")]
    jwt_user_claim: String,
    /// JWT claim with the role (system, caseworker, provider, admin; string or array).
    #[arg(long, env = "MATCHER_JWT_ROLE_CLAIM", default_value = "roles")]
    jwt_role_claim: String,
    /// JWT claim with the municipality code.
    #[arg(long, env = "MATCHER_JWT_MUNICIPALITY_CLAIM", default_value = "municipality")]
    jwt_municipality_claim: String,
    /// JWT claim with the person's employer, recorded on decisions.
    #[arg(long, env = "MATCHER_JWT_EMPLOYER_CLAIM", default_value = "employer")]
    jwt_employer_claim: String,
    /// JWT claim naming the provider a `provider` user works for (required in such tokens).
    #[arg(long, env = "MATCHER_JWT_PROVIDER_CLAIM", default_value = "provider")]
    jwt_provider_claim: String,
    /// Seconds a client may take to send a request's headers, and again its body.
    #[arg(long, env = "MATCHER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    read_timeout_secs: u64,
    /// Bearer token of the metrics scraper; without it `/metrics` shows only `brobygger_up`.
    /// Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "MATCHER_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Another name clients reach this server by (Host header), e.g. behind a proxy; repeat
    /// for several. The bound address and, on loopback, localhost are always accepted.
    #[arg(long = "allowed-host", env = "MATCHER_ALLOWED_HOSTS", value_delimiter = ',')]
    allowed_hosts: Vec<String>,
    #[command(flatten)]
    input: super::validate_explain::DataFlags,
}

pub(super) fn run(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if args.workers > 0 {
        runtime.worker_threads(args.workers);
    }
    let runtime = runtime.build().context("starting the async runtime")?;
    // Read once: the policies' municipalities are checked against it, and a `--reference`
    // directory is what the service scores with.
    let reference = args.input.reference()?;
    let config = server::Config {
        db: args.db.clone(),
        max_body_bytes: args.max_body_bytes,
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs.max(1)),
        max_in_flight: usize::try_from(args.max_in_flight).unwrap_or(usize::MAX),
        cors_origins: args.cors_origins.clone(),
        today: args.today,
        policies: read_policies_for(&args.policies, &reference)?,
        oidc: args.jwt_keys.clone().map(|keys_file| server::oidc::OidcConfig {
            keys_file,
            issuer: args.jwt_issuer.clone().unwrap_or_default(),
            audience: args.jwt_audience.clone().unwrap_or_default(),
            user_claim: args.jwt_user_claim.clone(),
            role_claim: args.jwt_role_claim.clone(),
            municipality_claim: args.jwt_municipality_claim.clone(),
            employer_claim: args.jwt_employer_claim.clone(),
            provider_claim: args.jwt_provider_claim.clone(),
        }),
        reference: args.input.reference.is_some().then(|| std::sync::Arc::new(reference)),
        read_timeout: std::time::Duration::from_secs(args.read_timeout_secs),
        metrics_token: args.metrics_token.clone(),
        allowed_hosts: args.allowed_hosts.clone(),
        answer_threads: args.answer_threads,
    };
    let state = server::AppState::open(config).with_context(|| format!("opening {}", args.db.display()))?;
    if args.demo {
        let started = Instant::now();
        let tokens = server::load_demo(&state).context("loading the demo data set")?;
        eprintln!(
            "demo data set loaded in {} ms (everything in it is invented)",
            started.elapsed().as_millis()
        );
        for (m, role, user, token) in tokens {
            println!("demo token  municipality={m:04} role={} user={user}  {token}", role.name());
        }
    }
    if let Some(path) = &args.offers_from {
        let started = Instant::now();
        let mut data = load(path, state.catalogues.reference(), &args.input)?;
        data.candidates.clear();
        server::load_dataset(&state, &data).context("storing the offers")?;
        eprintln!("{} offers loaded in {} ms", data.offers.len(), started.elapsed().as_millis());
    }
    runtime.block_on(async move {
        let (listener, addr) =
            server::bind(args.bind).await.with_context(|| format!("binding {}", args.bind))?;
        // Scripts and tests read this line to learn the port (with --bind 127.0.0.1:0).
        println!("listening on http://{addr}");
        if args.demo {
            // Whoever read the line above may have closed stdout since: that must not stop us.
            let _ =
                writeln!(std::io::stdout(), "demo case screen with the caseworker widget: http://{addr}/");
        }
        let _ = std::io::stdout().flush();
        tracing::info!(%addr, db = %args.db.display(), "matcher serve started");
        server::serve(state, listener, server::shutdown_signal()).await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
}
