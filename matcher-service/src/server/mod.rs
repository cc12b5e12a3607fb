//! Brobygger's HTTP service (`matcher serve`): a warp server around `matcher-core`, with
//! SQLite storage, bearer tokens scoped to a municipality and a role, and RFC 9457 errors.
//!
//! Map: [`api`] (routes, dispatch, OpenAPI), [`store`] (SQLite), [`auth`] (tokens, roles),
//! [`catalogue`] (the scorer and spatial index per version of the offers), [`batch`] (re-matching
//! runs), [`error`] (the one error type and its HTTP shape), [`metrics`] (Prometheus text),
//! [`widget`] (the caseworker widget script and the demo case screen).
//! `docs/service.md` documents running, configuring and measuring it.
//!
//! Architecture invariant: the core does the matching; this tree only stores, authorises,
//! moves work off the async workers, and shapes answers. It does not use `anyhow` (typed
//! errors only) and knows nothing of the command line in [`crate::cli`].

pub mod answer_pool;
pub mod api;
pub mod audit_log;
pub mod auth;
pub mod batch;
pub mod catalogue;
pub mod error;
pub mod history;
pub mod host;
pub mod ledger;
pub mod listen;
pub mod metrics;
pub mod oidc;
pub mod oversight;
pub mod pages;
pub mod retention;
pub mod store;
pub mod team;
pub mod widget;

use crate::server::auth::{Role, TokenCache};
use crate::server::batch::Prices;
use crate::server::catalogue::{Catalogues, StoredCandidate};
use crate::server::store::{CandidateRow, EvidenceRow, NewOffer, Store};
use matcher_core::model::{Dataset, Date, ReferenceData};
use matcher_core::policy::PolicySet;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use warp::Filter;

/// Service settings (flags and environment variables of `matcher serve`).
#[derive(Debug, Clone)]
pub struct Config {
    /// SQLite file, created on first start.
    pub db: PathBuf,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Requests handled at once; one more is answered 503 with `Retry-After` at once, so an
    /// overload gives fast refusals instead of a queue that times everyone out.
    pub max_in_flight: usize,
    /// Origins allowed by CORS (none: no CORS headers).
    pub cors_origins: Vec<String>,
    /// The day benefit clocks are read against; default today (UTC) at start.
    pub today: Option<Date>,
    /// Reference data to use instead of the embedded tables (`matcher serve --reference`).
    pub reference: Option<Arc<ReferenceData>>,
    /// Scoring policies of suggestions and batch runs (national default plus municipalities').
    pub policies: PolicySet,
    /// Identity-provider tokens (JWT) accepted beside local tokens (`--jwt-keys`); none by
    /// default.
    pub oidc: Option<oidc::OidcConfig>,
    /// Longest a client may take to send a request's headers, and again its body; then the
    /// connection is closed (headers) or answered 408 (body). Reading holds no in-flight slot.
    pub read_timeout: Duration,
    /// Bearer secret of the metrics scraper: with it `/metrics` shows per-route traffic and
    /// domain events; without it only what tells nothing of any tenant (see `metrics`).
    pub metrics_token: Option<String>,
    /// More `Host` names this server answers to as itself (e.g. its public name behind a
    /// proxy), besides its bound address and loopback names (see `host`).
    pub allowed_hosts: Vec<String>,
    /// Threads that answer `POST /v1/suggestions` (the answer pool): `None` one per core,
    /// `Some(0)` none (Tokio's blocking pool answers, a thread per request in flight).
    pub answer_threads: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: PathBuf::from("matcher.db"),
            max_body_bytes: 8 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            max_in_flight: 256,
            cors_origins: Vec::new(),
            today: None,
            reference: None,
            policies: PolicySet::default(),
            oidc: None,
            read_timeout: Duration::from_secs(10),
            metrics_token: None,
            allowed_hosts: Vec::new(),
            answer_threads: None,
        }
    }
}

/// Failures starting the service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Storage.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Building the catalogue.
    #[error(transparent)]
    Catalogue(#[from] catalogue::CatalogueError),
    /// The core.
    #[error(transparent)]
    Core(#[from] matcher_core::Error),
    /// Serialising demo data.
    #[error("demo data: {0}")]
    Demo(String),
    /// The identity provider's key file.
    #[error(transparent)]
    Keys(#[from] oidc::KeyFileError),
    /// The suggestion log's writer thread could not start.
    #[error("starting the suggestion log writer: {0}")]
    LogWriter(std::io::Error),
    /// The answer pool's threads could not start.
    #[error("starting the {threads} threads that answer suggestions: {source}")]
    AnswerPool {
        /// Threads asked for.
        threads: usize,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
}

/// Everything a request needs, shared by all of them.
pub struct AppState {
    /// The database.
    pub store: Arc<Store>,
    /// The offers, ready to score.
    pub catalogues: Arc<Catalogues>,
    /// Known tokens.
    pub tokens: TokenCache,
    /// Counters.
    pub metrics: metrics::Metrics,
    /// Settings.
    pub config: Config,
    /// Set when shutdown starts (readyz answers 503).
    pub shutting_down: AtomicBool,
    /// Request counter, for request ids.
    pub request_seq: AtomicU64,
    /// Secret mixed into request ids, so that they are unique but not a count of everyone's
    /// requests (another tenant's traffic must not show through the ids a caller sees).
    request_key: u64,
    /// Requests being handled now (probes excluded), bounded by `Config::max_in_flight`.
    pub in_flight: AtomicUsize,
    /// Random prefix of this process's request ids.
    pub instance: String,
    /// The demo case screen at `/`, set only by `matcher serve --demo`.
    pub demo: OnceLock<widget::DemoPage>,
    /// The `Host` names of this server, set by [`serve`] from the bound address.
    pub hosts: OnceLock<host::AllowedHosts>,
    /// Batch runs compute one at a time (each uses every core); the others wait their turn.
    pub batch_slot: tokio::sync::Semaphore,
    prices: RwLock<HashMap<u16, Arc<Prices>>>,
    /// The suggestion log's background writer and the versions it records.
    pub audit_log: audit_log::AuditLog,
    /// Verifier of identity-provider tokens, when configured.
    pub oidc: Option<oidc::Verifier>,
    /// The threads that answer suggestions (`Config::answer_threads`); `None`: Tokio's
    /// blocking pool answers.
    pub answer_pool: Option<answer_pool::AnswerPool>,
}

impl AppState {
    /// Opens the store and builds the catalogue. Blocking.
    ///
    /// # Errors
    /// When the database cannot be opened or its offers cannot be scored.
    pub fn open(config: Config) -> Result<Arc<AppState>, ServiceError> {
        let oidc = config.oidc.clone().map(oidc::Verifier::load).transpose()?;
        let store = Arc::new(Store::open(&config.db)?);
        store.fail_interrupted_batches()?;
        let reference = match &config.reference {
            Some(reference) => reference.clone(),
            None => Arc::new(ReferenceData::embedded()?),
        };
        let today = config.today.unwrap_or_else(today_utc);
        // Courses that ended while the service was down give their places back first.
        store.sweep_ended(&today.to_string())?;
        let versions = audit_log::LogVersions::new(&reference, &config.policies);
        let audit_log =
            audit_log::AuditLog::start(store.clone(), versions).map_err(ServiceError::LogWriter)?;
        let catalogues =
            Arc::new(Catalogues::load(&store, reference, Arc::new(config.policies.clone()), today)?);
        let mut prices = HashMap::new();
        for row in store.latest_prices()? {
            let by_offer: HashMap<String, i64> = serde_json::from_str(&row.prices).unwrap_or_default();
            prices.insert(row.municipality, Arc::new(Prices::new(row.number, by_offer)));
        }
        let mut nonce = [0u8; 11];
        let (instance, request_key) = match getrandom::fill(&mut nonce) {
            Ok(()) => {
                let mut key = [0u8; 8];
                key.copy_from_slice(&nonce[3..]);
                (nonce[..3].iter().map(|b| format!("{b:02x}")).collect(), u64::from_le_bytes(key))
            }
            Err(_) => ("000000".into(), 0x9e37_79b9_7f4a_7c15),
        };
        let answer_threads = config
            .answer_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get));
        let answer_pool = match answer_threads {
            0 => None,
            n => Some(
                answer_pool::AnswerPool::start(n)
                    .map_err(|source| ServiceError::AnswerPool { threads: n, source })?,
            ),
        };
        Ok(Arc::new(AppState {
            store,
            catalogues,
            tokens: TokenCache::default(),
            metrics: metrics::Metrics::default(),
            config,
            shutting_down: AtomicBool::new(false),
            request_seq: AtomicU64::new(1),
            request_key,
            in_flight: AtomicUsize::new(0),
            instance,
            demo: OnceLock::new(),
            hosts: OnceLock::new(),
            batch_slot: tokio::sync::Semaphore::new(1),
            prices: RwLock::new(prices),
            audit_log,
            oidc,
            answer_pool,
        }))
    }

    /// The id of the next request: unique in this process (a bijection of a counter), but
    /// unordered, so consecutive ids tell nothing of the requests between them.
    pub fn next_request_id(&self) -> String {
        let seq = self.request_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // splitmix64's finaliser is a bijection on u64; the key makes the order unguessable.
        let mut z = seq ^ self.request_key;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        format!("{}-{z:016x}", self.instance)
    }

    /// A tenant's prices from its last finished batch run.
    pub fn prices_for(&self, municipality: u16) -> Option<Arc<Prices>> {
        self.prices.read().ok()?.get(&municipality).cloned()
    }

    /// Replaces a tenant's prices.
    pub fn set_prices(&self, municipality: u16, prices: Prices) {
        if let Ok(mut p) = self.prices.write() {
            p.insert(municipality, Arc::new(prices));
        }
    }
}

pub use crate::clock::today_utc;

/// Serves on `listener` until `shutdown` completes, then stops accepting, lets in-flight
/// requests finish and returns.
pub async fn serve(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    // Static assets first: whatever they do not serve falls through to the API (and its 404).
    if let Ok(bound) = listener.local_addr() {
        let _ = state.hosts.set(host::AllowedHosts::new(bound, &state.config.allowed_hosts));
    }
    let app = widget::filter(state.clone()).or(api::filter(state.clone())).unify().boxed();
    let app = api::with_cors(app, state.clone());
    // The widget script is public and carries no data: served to any origin, outside CORS, as
    // `docs/service.md` promises (subresource integrity needs `crossorigin`).
    let app = widget::script().or(app).unify().boxed();
    if state.config.today.is_none() {
        // Benefit clocks are read against the scorer's day: move it on at midnight (UTC).
        let s = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let s = s.clone();
                let moved =
                    tokio::task::spawn_blocking(move || s.catalogues.set_today(&s.store, today_utc())).await;
                match moved {
                    Ok(Ok(true)) => tracing::info!(today = %today_utc(), "new day: offers rebuilt"),
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "rebuilding for a new day failed"),
                    Err(e) => tracing::error!(error = %e, "rebuilding for a new day panicked"),
                }
            }
        });
    }
    {
        // Retention periods (`server::retention`): at start, then once per day (UTC). Records
        // are stamped by the wall clock, so the wall clock's day counts, not `--today`.
        let s = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            let mut last: Option<Date> = None;
            loop {
                tick.tick().await;
                let today = today_utc();
                if last == Some(today) {
                    continue;
                }
                let s = s.clone();
                let done = tokio::task::spawn_blocking(move || {
                    retention::enforce(&s.store, s.catalogues.policies(), today, false)
                })
                .await;
                match done {
                    Ok(Ok(deleted)) => {
                        last = Some(today);
                        for d in deleted.iter().filter(|d| {
                            *d != &store::RetentionDeleted {
                                municipality: d.municipality,
                                ..Default::default()
                            }
                        }) {
                            tracing::info!(
                                municipality = d.municipality,
                                suggestion_log = d.suggestion_log,
                                access_log = d.access_log,
                                decisions = d.decisions,
                                outcomes = d.outcomes,
                                batch_runs = d.batch_runs,
                                "retention: records past their period deleted"
                            );
                        }
                    }
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "retention sweep failed; retried within the hour")
                    }
                    Err(e) => tracing::error!(error = %e, "retention sweep panicked"),
                }
            }
        });
    }
    let flag = state.clone();
    let shutdown = async move {
        shutdown.await;
        flag.shutting_down.store(true, std::sync::atomic::Ordering::Relaxed);
        tracing::info!("shutting down: draining in-flight requests");
    };
    listen::run(app, listener, state.config.read_timeout, shutdown).await;
    // Every answer served is in the log before the process may end.
    let s = state.clone();
    let _ = tokio::task::spawn_blocking(move || s.audit_log.flush()).await;
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Binds `addr`; the bound address is returned (port 0 picks a free port).
///
/// # Errors
/// When the address cannot be bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

/// Demo tokens: (municipality, role, user, token).
pub type DemoTokens = Vec<(u16, Role, String, String)>;

/// Loads the demo data set — the very one in `data/demo` that the README's demo batch reads
/// (`generate(Scale::Demo, 1)`, an e2e test keeps them equal), so the morning report and the
/// widget show the same municipality and citizens — (offers shared, candidates under their
/// municipality) and creates one token per role for its main municipality, plus a caseworker
/// of another municipality to try tenant isolation with. Sets the demo case screen at `/`,
/// which hands the demo caseworker's token to the widget. Blocking.
///
/// # Errors
/// On storage failure.
pub fn load_demo(state: &AppState) -> Result<DemoTokens, ServiceError> {
    let reference = state.catalogues.reference().clone();
    let data = matcher_core::generate(matcher_core::Scale::Demo, 1, &reference);
    load_dataset(state, &data)?;
    let mut counts: HashMap<u16, usize> = HashMap::new();
    for c in &data.candidates {
        *counts.entry(c.municipality.0).or_default() += 1;
    }
    let main = counts.iter().max_by_key(|(m, n)| (**n, std::cmp::Reverse(**m))).map_or(101, |(m, _)| *m);
    let other = reference.municipalities.iter().map(|m| m.code.0).find(|&m| m != main).unwrap_or(101);
    let mut tokens = Vec::new();
    // The demo provider's token is bound to a provider of the main municipality's offers.
    let demo_provider = data
        .offers
        .iter()
        .filter(|o| o.kind == matcher_core::model::OfferKind::Provider && o.municipality.0 == main)
        .map(|o| o.provider.to_string())
        .next();
    for (m, role, user) in [
        (main, Role::Caseworker, "demo-caseworker"),
        (main, Role::Admin, "demo-admin"),
        (main, Role::System, "demo-system"),
        (main, Role::Provider, "demo-provider"),
        (other, Role::Caseworker, "demo-other-caseworker"),
    ] {
        let token = match (role, &demo_provider) {
            (Role::Provider, Some(provider)) => auth::create_provider_token(&state.store, m, provider, user)?,
            _ => auth::create_token(&state.store, m, role, user)?,
        };
        tokens.push((m, role, user.to_string(), token));
    }
    let caseworker = tokens.iter().find(|t| t.0 == main && t.1 == Role::Caseworker).map(|t| t.3.clone());
    let describe = |c: &matcher_core::model::Candidate| {
        let benefit =
            reference.benefit_kinds.get(usize::from(c.benefit.kind)).map_or("", |b| b.name_da.as_str());
        let groups: Vec<&str> = c
            .target_groups
            .iter()
            .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.name_da.as_str()))
            .collect();
        format!("{} år · {benefit} · {}", c.age_band.label(), groups.join(", "))
    };
    let candidates = data
        .candidates
        .iter()
        .filter(|c| c.municipality.0 == main)
        .take(8)
        .map(|c| (c.id.to_string(), describe(c)))
        .collect();
    let municipality_name = reference
        .municipality(matcher_core::model::MunicipalityCode(main))
        .map_or_else(String::new, |m| m.name.clone());
    let teams = demo_caseloads(state, &data, main)?;
    if let Some(token) = caseworker {
        let _ = state.demo.set(widget::DemoPage {
            token,
            municipality: main,
            municipality_name,
            candidates,
            teams,
        });
    }
    Ok(tokens)
}

/// The demo tenant's teams: the caseworkers of `data/demo/caseworkers.csv` (the generator's,
/// seed 1) in four teams of about six by id, their listed cases opened on the day the
/// citizen's benefit began, then the caseload plan applied for the citizens on no caseload,
/// opened today. Idempotent: a restart finds the cases open and opens nothing twice.
fn demo_caseloads(state: &AppState, data: &Dataset, main: u16) -> Result<Vec<String>, ServiceError> {
    const TEAMS: [&str; 4] = ["nord", "syd", "vest", "midt"];
    let workers: Vec<matcher_core::model::Caseworker> =
        matcher_core::r#gen::caseworkers(data, 1).into_iter().filter(|w| w.municipality.0 == main).collect();
    let reference = state.catalogues.reference();
    let per_team = workers.len().div_ceil(TEAMS.len()).max(1);
    let rows: Vec<store::CaseworkerRow> = workers
        .iter()
        .enumerate()
        .map(|(i, w)| store::CaseworkerRow {
            id: w.id.to_string(),
            team: TEAMS[(i / per_team).min(TEAMS.len() - 1)].to_string(),
            cap: w.cap,
            other_cases: w.caseload.saturating_sub(w.cases.len() as u32),
            specialities: w
                .specialities
                .iter()
                .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.clone()))
                .collect(),
        })
        .collect();
    let start: HashMap<&str, matcher_core::model::Date> =
        data.candidates.iter().map(|c| (c.id.as_str(), c.benefit.start)).collect();
    let listed: Vec<store::NewCase> = workers
        .iter()
        .flat_map(|w| {
            w.cases.iter().filter_map(|c| {
                Some(store::NewCase {
                    candidate_id: c.to_string(),
                    caseworker_id: w.id.to_string(),
                    opened_at: format!("{}T08:00:00Z", start.get(c.as_str())?),
                })
            })
        })
        .collect();
    state.store.apply_caseload_plan(main, &rows, &listed)?;
    let today = format!("{}T08:00:00Z", state.catalogues.today());
    api::run_caseload_plan(state, main, &rows, true, &|_| today.clone())
        .map_err(|e| ServiceError::Demo(format!("the demo's caseload plan: {e:?}")))?;
    let mut teams: Vec<String> = rows.iter().map(|r| r.team.clone()).collect();
    teams.dedup();
    Ok(teams)
}

/// Writes a whole data set into the store (offers with their evidence, candidates) and
/// rebuilds the catalogue. Blocking.
///
/// # Errors
/// On storage failure.
pub fn load_dataset(state: &AppState, data: &Dataset) -> Result<(), ServiceError> {
    let reference = state.catalogues.reference().clone();
    let tables = matcher_core::dataset::csv_tables(data, &reference)?;
    let records = |name: &str| -> Result<Vec<serde_json::Map<String, serde_json::Value>>, ServiceError> {
        let bytes = tables.iter().find(|(n, _)| *n == name).map(|(_, b)| b.as_slice()).unwrap_or(&[]);
        let mut reader = csv::Reader::from_reader(bytes);
        let header = reader.headers().map_err(|e| ServiceError::Demo(e.to_string()))?.clone();
        let mut out = Vec::new();
        for row in reader.records() {
            let row = row.map_err(|e| ServiceError::Demo(e.to_string()))?;
            let map = header
                .iter()
                .zip(row.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
                .collect();
            out.push(map);
        }
        Ok(out)
    };
    let json = |v: &dyn erased::Ser| v.to_json().map_err(|e| ServiceError::Demo(e.to_string()));
    let offer_records = records("offers.csv")?;
    let mut offers = Vec::with_capacity(data.offers.len());
    let mut evidence = Vec::new();
    for (o, r) in data.offers.iter().zip(&offer_records) {
        offers.push(NewOffer {
            id: o.id.to_string(),
            provider_id: o.provider.to_string(),
            record: json(r)?,
            model: json(o)?,
            capacity: o.capacity,
        });
        for e in &o.evidence {
            if let Some(g) = reference.target_groups.get(usize::from(e.group.0)) {
                evidence.push(EvidenceRow {
                    offer_id: o.id.to_string(),
                    target_group: g.code.clone(),
                    trials: e.trials,
                    successes: e.successes,
                });
            }
        }
    }
    state.store.upsert_offers(&offers)?;
    // The data set's providers fill the registry (their home municipality writes them later;
    // a contact already stored is kept when the data set has none), and its contracts are
    // stored as their municipalities' (the data set's reader checked them with the core's rules).
    let providers: Vec<store::ProviderRow> = data
        .providers
        .iter()
        .map(|p| store::ProviderRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            municipality: p.municipality.0,
            contact: p.contact.clone(),
        })
        .collect();
    state.store.upsert_providers(None, &providers)?;
    let now = store::now_rfc3339();
    for c in &data.contracts {
        state.store.put_contract(&store::ContractRow {
            municipality: c.municipality.0,
            id: c.id.to_string(),
            provider_id: c.provider.to_string(),
            kind: c.kind.label().to_string(),
            offer_ids: c.offers.iter().map(ToString::to_string).collect(),
            target_groups: c
                .target_groups
                .iter()
                .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.clone()))
                .collect(),
            price_dkk: c.price_dkk,
            places: c.places,
            guaranteed_volume: c.guaranteed_volume,
            starts_on: c.start.to_string(),
            ends_on: c.end.to_string(),
            written_by: "data set".into(),
            updated_at: now.clone(),
        })?;
    }
    // Evidence adds up, so load it only into an empty table (a restart with --demo again
    // must not double the counts).
    if state.store.all_evidence()?.is_empty() {
        state.store.add_evidence(&evidence)?;
    }
    let candidate_records = records("candidates.csv")?;
    let mut by_tenant: HashMap<u16, Vec<CandidateRow>> = HashMap::new();
    for (c, r) in data.candidates.iter().zip(&candidate_records) {
        let group_codes = c
            .target_groups
            .iter()
            .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.clone()))
            .collect();
        let stored = StoredCandidate { candidate: c.clone(), group_codes };
        by_tenant.entry(c.municipality.0).or_default().push(CandidateRow {
            id: c.id.to_string(),
            record: json(r)?,
            model: json(&stored)?,
        });
    }
    for (m, rows) in by_tenant {
        state.store.upsert_candidates(m, &rows)?;
    }
    state.catalogues.rebuild(&state.store)?;
    Ok(())
}

/// Serialising values of different types through one closure.
mod erased {
    /// Anything that serialises to JSON text.
    pub trait Ser {
        fn to_json(&self) -> serde_json::Result<String>;
    }
    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Result<String> {
            serde_json::to_string(self)
        }
    }
}
