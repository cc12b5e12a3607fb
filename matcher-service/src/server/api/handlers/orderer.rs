//! The orderer's routes (issue 16): the provider registry, the municipality's contracts, the
//! overview of providers × target groups and of spend (JSON or CSV), and the provider's view:
//! decisions about its offers and comments on them.
//!
//! Who sees what: the registry is shared to read (like offers) and written by a provider's
//! home municipality; contracts, decisions and spend are the tenant's. A `provider` caller is
//! bound to one provider and reads only its own: another provider's id answers like an
//! unknown one (404). The national overview sums every municipality and is for `admin` only:
//! it shows no municipality's own figures, only totals per provider and group.

use super::*;
use crate::server::auth::{Principal, Role};
use crate::server::store::{AcceptCount, CommentRow, ContractFilter, ContractRow, NewComment, ProviderRow};
use matcher_core::model::contract::check_overlaps;
use matcher_core::model::{
    Contract as CoreContract, ContractId, ContractKind, ContractProblem, ContractWorld, Date, GroupSet,
    MunicipalityCode, Offer, OfferId, OfferKind, ProviderId, limits,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

// ----- shared helpers -----

/// The provider a `provider` caller is bound to; other roles get `None`.
///
/// # Errors
/// [`ApiError::Forbidden`] for a provider token bound to no provider (made before tokens
/// were bound): it may read nothing of a provider's own.
fn bound_provider(p: &Principal) -> Result<Option<String>, ApiError> {
    if p.role != Role::Provider {
        return Ok(None);
    }
    match &p.provider {
        Some(id) => Ok(Some(id.clone())),
        None => Err(ApiError::Forbidden {
            role: "provider",
            action: "read a provider's data with a token bound to no provider (make one with --provider)",
        }),
    }
}

/// A municipality code as text (`0851`, `851`), one of the reference data's.
fn municipality_code(state: &AppState, text: &str, path: &str) -> Result<u16, FieldError> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|_| text.trim().len() <= 4)
        .filter(|m| state.catalogues.reference().municipality(MunicipalityCode(*m)).is_some())
        .ok_or_else(|| {
            FieldError::new(path, truncate(text), "expected one of the 98 kommunekoder, e.g. 0851")
        })
}

fn offer_serves(offer: &Offer, municipality: u16) -> bool {
    offer.municipality.0 == municipality || offer.serves_municipalities.iter().any(|m| m.0 == municipality)
}

fn group_codes(state: &AppState, offer: &Offer) -> Vec<String> {
    let reference = state.catalogues.reference();
    offer
        .target_groups
        .iter()
        .filter_map(|g| reference.target_groups.get(usize::from(g.0)).map(|t| t.code.clone()))
        .collect()
}

// ----- the registry -----

pub(super) async fn providers_upsert(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let records: Vec<ProviderRecord> = typed_body(&req)?;
    if records.is_empty() || records.len() > MAX_RECORDS {
        return Err(ApiError::field("", "", format!("expected 1 to {MAX_RECORDS} providers")));
    }
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        if let Err(reason) = check_id(&r.id) {
            errors.push(FieldError::new(format!("/{i}/id"), truncate(&r.id), reason));
        }
        let name = r.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new(
                format!("/{i}/name"),
                truncate(name),
                "a name of 1 to 200 characters",
            ));
        }
        let contact = r.contact.as_deref().map(str::trim).map(str::to_string);
        if let Some(c) = &contact
            && (c.is_empty() || c.chars().count() > 200 || matcher_core::model::looks_like_cpr(c))
        {
            errors.push(FieldError::new(
                format!("/{i}/contact"),
                "",
                "a contact of 1 to 200 characters (a role, phone or shared mailbox), never a CPR number",
            ));
        }
        match municipality_code(&state, &r.municipality, &format!("/{i}/municipality")) {
            Err(e) => errors.push(e),
            Ok(home) if home != m => errors.push(FieldError::new(
                format!("/{i}/municipality"),
                format!("{home:04}"),
                format!("a provider's entry is written by its home municipality; yours is {m:04}"),
            )),
            Ok(home) => rows.push(ProviderRow {
                id: r.id.clone(),
                name: name.to_string(),
                municipality: home,
                contact,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let s = state.clone();
    let n = blocking(move || {
        s.store.upsert_providers(Some(m), &rows)?;
        // The quality routes and suggestions name providers from the catalogue.
        s.catalogues.rebuild(&s.store).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(rows.len())
    })
    .await?;
    answers::json(200, &UpsertResult { upserted: n, offers_version: None })
}

/// Each provider's offer kinds and offer ids, from the current catalogue.
fn offers_by_provider(state: &AppState) -> HashMap<String, (BTreeSet<OfferKind>, Vec<String>)> {
    let cat = state.catalogues.current();
    let mut by: HashMap<String, (BTreeSet<OfferKind>, Vec<String>)> = HashMap::new();
    for o in cat.offers() {
        let e = by.entry(o.provider.to_string()).or_default();
        e.0.insert(o.kind);
        e.1.push(o.id.to_string());
    }
    for e in by.values_mut() {
        e.1.sort();
    }
    by
}

fn provider_view(row: ProviderRow, offers: Option<&(BTreeSet<OfferKind>, Vec<String>)>) -> ProviderView {
    ProviderView {
        id: row.id,
        name: row.name,
        municipality: format!("{:04}", row.municipality),
        contact: row.contact,
        kinds: offers.map(|o| o.0.iter().copied().collect()).unwrap_or_default(),
        offer_ids: offers.map(|o| o.1.clone()).unwrap_or_default(),
    }
}

pub(super) async fn providers_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let (limit, offset) = paging(&req)?;
    let mut home = None;
    let mut kind = None;
    for (k, v) in query_params(&req) {
        match k.as_str() {
            "municipality" => home = Some(municipality_code(&state, &v, "/query/municipality").map_err(one)?),
            "kind" => {
                kind = Some(OfferKind::parse(&v).ok_or_else(|| {
                    ApiError::field(
                        "/query/kind",
                        truncate(&v),
                        "expected provider, job, work_trial or reciprocal_help",
                    )
                })?)
            }
            _ => {}
        }
    }
    let s = state.clone();
    let rows = blocking(move || Ok(s.store.all_providers()?)).await?;
    let offers = offers_by_provider(&state);
    let matching: Vec<ProviderRow> = rows
        .into_iter()
        .filter(|r| home.is_none_or(|m| r.municipality == m))
        .filter(|r| kind.is_none_or(|k| offers.get(&r.id).is_some_and(|o| o.0.contains(&k))))
        .collect();
    let total = matching.len();
    let providers = matching
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|r| {
            let o = offers.get(&r.id);
            provider_view(r, o)
        })
        .collect();
    answers::json(200, &ProviderList { providers, total, limit, offset })
}

fn one(e: FieldError) -> ApiError {
    ApiError::Validation(vec![e])
}

pub(super) async fn provider_get(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let id = path_id(&req, 0)?;
    let s = state.clone();
    let row = blocking(move || Ok(s.store.provider(&id)?)).await?;
    let offers = offers_by_provider(&state);
    let o = offers.get(&row.id);
    answers::json(200, &provider_view(row, o))
}

// ----- contracts -----

fn contract_answer(row: ContractRow, today: &str) -> Contract {
    let status = if row.starts_on.as_str() > today {
        ContractStatus::Future
    } else if row.ends_on.as_str() < today {
        ContractStatus::Ended
    } else {
        ContractStatus::InForce
    };
    Contract {
        kind: ContractKind::parse(&row.kind).unwrap_or(ContractKind::Specialist),
        id: row.id,
        municipality: format!("{:04}", row.municipality),
        provider_id: row.provider_id,
        price_dkk: row.price_dkk,
        places: row.places,
        guaranteed_volume: row.guaranteed_volume,
        start: row.starts_on,
        end: row.ends_on,
        target_groups: row.target_groups,
        offers: row.offer_ids,
        status,
        written_by: row.written_by,
        updated_at: row.updated_at,
    }
}

/// The service's providers and offers, as the core checks a contract against them: the
/// reference data's municipalities, the registry (whether the contract's provider is in it,
/// read before) and the current catalogue's offers.
struct ServiceWorld<'a> {
    reference: &'a matcher_core::model::ReferenceData,
    provider: Option<&'a str>,
    catalogue: &'a crate::server::catalogue::Catalogue,
}

impl ContractWorld for ServiceWorld<'_> {
    fn municipality_exists(&self, code: MunicipalityCode) -> bool {
        self.reference.municipality(code).is_some()
    }
    fn provider_exists(&self, id: &ProviderId) -> bool {
        self.provider == Some(id.as_str())
    }
    fn offer(&self, id: &OfferId) -> Option<&Offer> {
        self.catalogue
            .scorer
            .offer_index(id.as_str())
            .and_then(|i| self.catalogue.offers().get(i as usize))
            .map(|o| &**o)
    }
}

/// The body as the core's contract of municipality `m`: each field that cannot be read is an
/// error naming it (the rules a contract must meet are the core's, [`CoreContract::validate`]).
fn read_contract(
    reference: &matcher_core::model::ReferenceData,
    body: &ContractRequest,
    m: u16,
) -> Result<CoreContract, Vec<FieldError>> {
    let mut errors = Vec::new();
    let id = ContractId::new(&body.id)
        .map_err(|reason| errors.push(FieldError::new("/id", truncate(&body.id), reason)))
        .ok();
    let provider = ProviderId::new(&body.provider_id)
        .map_err(|reason| errors.push(FieldError::new("/provider_id", truncate(&body.provider_id), reason)))
        .ok();
    if body.offers.len() > limits::MAX_LIST_ITEMS {
        errors.push(FieldError::new(
            "/offers",
            body.offers.len().to_string(),
            format!("at most {} offers", limits::MAX_LIST_ITEMS),
        ));
    }
    let mut offers = Vec::with_capacity(body.offers.len());
    for (i, o) in body.offers.iter().enumerate() {
        match OfferId::new(o) {
            Ok(id) => offers.push(id),
            Err(reason) => errors.push(FieldError::new(format!("/offers/{i}"), truncate(o), reason)),
        }
    }
    let mut groups = GroupSet::EMPTY;
    for (i, code) in body.target_groups.iter().enumerate() {
        match reference.group(code) {
            Some(g) => groups.insert(g),
            None => errors.push(FieldError::new(
                format!("/target_groups/{i}"),
                truncate(code),
                "not a target-group code",
            )),
        }
    }
    if body.price_dkk > limits::MAX_PRICE_DKK {
        errors.push(FieldError::new(
            "/price_dkk",
            body.price_dkk.to_string(),
            format!("at most {} DKK per course", limits::MAX_PRICE_DKK),
        ));
    }
    for (path, value) in [("/places", body.places), ("/guaranteed_volume", body.guaranteed_volume)] {
        if value > limits::MAX_CONTRACT_PLACES {
            errors.push(FieldError::new(
                path,
                value.to_string(),
                format!("at most {} places", limits::MAX_CONTRACT_PLACES),
            ));
        }
    }
    let mut date = |path: &str, text: &str| {
        Date::parse(text)
            .ok_or_else(|| errors.push(FieldError::new(path, truncate(text), "expected a date YYYY-MM-DD")))
            .ok()
    };
    let start = date("/start", &body.start);
    let end = date("/end", &body.end);
    match (id, provider, start, end) {
        (Some(id), Some(provider), Some(start), Some(end)) if errors.is_empty() => Ok(CoreContract {
            id,
            municipality: MunicipalityCode(m),
            provider,
            kind: body.kind,
            price_dkk: body.price_dkk,
            places: body.places,
            guaranteed_volume: body.guaranteed_volume,
            start,
            end,
            target_groups: groups,
            offers,
        }),
        _ => Err(errors),
    }
}

/// A contract problem as the field error of the body's field it names.
fn problem_field(problem: &ContractProblem, body: &ContractRequest) -> FieldError {
    // The core's column names are the body's keys.
    let field = problem.field();
    // Every variant named, so that a new problem must choose the value it shows.
    use ContractProblem as P;
    let value = match problem {
        P::OfferListedTwice(o)
        | P::UnknownOffer(o)
        | P::OfferNotACourse(o)
        | P::GroupsDisjoint(o)
        | P::OfferOfAnotherProvider { offer: o, .. }
        | P::OfferNotServing { offer: o, .. }
        | P::Overlaps { offer: o, .. }
        | P::OfferSaysOtherKind { offer: o, .. }
        | P::OfferSaysOtherGuarantee { offer: o, .. } => o.to_string(),
        P::GuaranteeAbovePlaces { guaranteed, .. } | P::GuaranteeAboveOfferPlaces { guaranteed, .. } => {
            guaranteed.to_string()
        }
        P::GuaranteeWithoutPartner => body.guaranteed_volume.to_string(),
        P::EndsBeforeStart { end, .. } => end.to_string(),
        P::UnknownProvider(p) => p.to_string(),
        P::UnknownMunicipality(m) => format!("{:04}", m.0),
        P::SpecialistWithoutGroups | P::GroupsWithoutSpecialist => body.target_groups.join(";"),
        P::NoOffers => String::new(),
    };
    // An offer's problem points at the offer in the list when it is there (an offer listed
    // twice points at the list: its first place is not the wrong one).
    let offer = problem.offer().filter(|_| !matches!(problem, ContractProblem::OfferListedTwice(_)));
    let path = match offer.and_then(|o| body.offers.iter().position(|x| x == o.as_str())) {
        Some(i) => format!("/{field}/{i}"),
        None => format!("/{field}"),
    };
    FieldError::new(path, truncate(&value), problem.to_string())
}

pub(super) async fn contract_put(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let m = p.municipality;
    let body: ContractRequest = typed_body(&req)?;
    let mut errors = Vec::new();
    // Who may write: the municipality that holds the contract, and no other.
    if let Some(text) = &body.municipality {
        match municipality_code(&state, text, "/municipality") {
            Err(e) => errors.push(e),
            Ok(code) if code != m => errors.push(FieldError::new(
                "/municipality",
                format!("{code:04}"),
                format!("a contract is written by the municipality that holds it; yours is {m:04}"),
            )),
            Ok(_) => {}
        }
    }
    let reference = state.catalogues.reference().clone();
    let contract = match read_contract(&reference, &body, m) {
        Ok(c) if errors.is_empty() => c,
        Ok(_) => return Err(ApiError::Validation(errors)),
        Err(more) => {
            errors.extend(more);
            return Err(ApiError::Validation(errors));
        }
    };
    let s = state.clone();
    let provider = body.provider_id.clone();
    let (known, others) = blocking(move || {
        let known = s.store.provider(&provider).is_ok();
        Ok((known, s.store.contracts(m, &ContractFilter::default(), u32::MAX, 0)?))
    })
    .await?;
    // The core's rules: terms, provider, offers, guarantee; then overlaps with the
    // municipality's other contracts (this one replaces its own id).
    let cat = state.catalogues.current();
    let world = ServiceWorld {
        reference: &reference,
        provider: known.then_some(body.provider_id.as_str()),
        catalogue: &cat,
    };
    if let Err(problem) = contract.validate(&world) {
        return Err(ApiError::Validation(vec![problem_field(&problem, &body)]));
    }
    let mut all: Vec<CoreContract> =
        others.iter().filter(|r| r.id != body.id).filter_map(|r| r.to_core(&reference)).collect();
    all.push(contract.clone());
    let last = all.len() - 1;
    if let Some((_, problem)) = check_overlaps(&all).into_iter().find(|(i, _)| *i == last) {
        return Err(ApiError::Validation(vec![problem_field(&problem, &body)]));
    }
    let row = ContractRow {
        municipality: m,
        id: contract.id.to_string(),
        provider_id: contract.provider.to_string(),
        kind: contract.kind.label().to_string(),
        offer_ids: body.offers,
        target_groups: body.target_groups,
        price_dkk: contract.price_dkk,
        places: contract.places,
        guaranteed_volume: contract.guaranteed_volume,
        starts_on: contract.start.to_string(),
        ends_on: contract.end.to_string(),
        written_by: p.user.clone(),
        updated_at: crate::server::store::now_rfc3339(),
    };
    let s = state.clone();
    let stored = row.clone();
    let created = blocking(move || Ok(s.store.put_contract(&stored)?)).await?;
    let today = state.catalogues.today().to_string();
    answers::json(if created { 201 } else { 200 }, &contract_answer(row, &today))
}

pub(super) async fn contracts_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let own = bound_provider(&p)?;
    let (limit, offset) = paging(&req)?;
    let mut filter = ContractFilter::default();
    for (k, v) in query_params(&req) {
        match k.as_str() {
            "provider_id" => {
                check_id(&v).map_err(|reason| ApiError::field("/query/provider_id", truncate(&v), reason))?;
                filter.provider_id = Some(v);
            }
            "kind" => {
                let kind = ContractKind::parse(&v).ok_or_else(|| {
                    ApiError::field(
                        "/query/kind",
                        truncate(&v),
                        "expected buffer, specialist or strategic_partner",
                    )
                })?;
                filter.kind = Some(kind.label().to_string());
            }
            _ => {}
        }
    }
    if let Some(own) = own {
        // A provider reads the municipality's contracts with itself, and no other's: asking
        // for another provider's gives the empty list an unknown provider gives.
        if filter.provider_id.as_deref().is_some_and(|asked| asked != own) {
            return answers::json(200, &ContractList { contracts: vec![], limit, offset });
        }
        filter.provider_id = Some(own);
    }
    let s = state.clone();
    let rows = blocking(move || Ok(s.store.contracts(p.municipality, &filter, limit, offset)?)).await?;
    let today = state.catalogues.today().to_string();
    let contracts = rows.into_iter().map(|r| contract_answer(r, &today)).collect();
    answers::json(200, &ContractList { contracts, limit, offset })
}

// ----- the overview -----

/// The scope asked for; `national` only for an admin.
fn scope(req: &Request, p: &Principal) -> Result<OverviewScope, ApiError> {
    let mut scope = OverviewScope::Municipality;
    for (k, v) in query_params(req) {
        if k == "scope" {
            scope = match v.as_str() {
                "municipality" => OverviewScope::Municipality,
                "national" => OverviewScope::National,
                _ => {
                    return Err(ApiError::field(
                        "/query/scope",
                        truncate(&v),
                        "expected municipality or national",
                    ));
                }
            };
        }
    }
    if scope == OverviewScope::National && p.role != Role::Admin {
        return Err(ApiError::Forbidden {
            role: p.role.name(),
            action: "see the national overview (every municipality's decisions summed; admin only)",
        });
    }
    Ok(scope)
}

/// The first of the candidate's groups (as the decision recorded them) the offer serves; an
/// offer open to all is `all`, and an accept of none of its groups goes to its first group.
fn accept_group<'a>(groups: &str, offer_groups: &'a [String]) -> &'a str {
    let Some(first) = offer_groups.first() else { return "all" };
    groups.split(';').find_map(|g| offer_groups.iter().find(|o| *o == g)).unwrap_or(first).as_str()
}

#[derive(Default)]
struct RowSum {
    offers: u32,
    places: u32,
    list_prices: u64,
    accepted: u32,
    held: u32,
    spend: u64,
    contract: Option<ContractKind>,
}

struct OverviewFilter {
    provider: Option<String>,
    group: Option<String>,
    contract: Option<Option<ContractKind>>,
    kind: Option<OfferKind>,
    limit: Option<u32>,
    offset: u32,
}

fn overview_filter(req: &Request) -> Result<OverviewFilter, ApiError> {
    let mut f = OverviewFilter {
        provider: None,
        group: None,
        contract: None,
        kind: Some(OfferKind::Provider),
        limit: None,
        offset: 0,
    };
    for (k, v) in query_params(req) {
        match k.as_str() {
            "provider_id" => {
                check_id(&v).map_err(|reason| ApiError::field("/query/provider_id", truncate(&v), reason))?;
                f.provider = Some(v);
            }
            "target_group" => f.group = Some(v),
            "contract" => {
                f.contract = Some(match v.as_str() {
                    "none" => None,
                    other => Some(ContractKind::parse(other).ok_or_else(|| {
                        ApiError::field(
                            "/query/contract",
                            truncate(&v),
                            "expected buffer, specialist, strategic_partner or none",
                        )
                    })?),
                })
            }
            "kind" => {
                f.kind = match v.as_str() {
                    "any" => None,
                    other => Some(OfferKind::parse(other).ok_or_else(|| {
                        ApiError::field(
                            "/query/kind",
                            truncate(&v),
                            "expected provider, job, work_trial, reciprocal_help or any",
                        )
                    })?),
                }
            }
            "limit" => {
                f.limit = Some(v.parse().ok().filter(|n| (1..=10_000).contains(n)).ok_or_else(|| {
                    ApiError::field("/query/limit", truncate(&v), "expected a whole number from 1 to 10000")
                })?)
            }
            "offset" => {
                f.offset = v.parse().map_err(|_| {
                    ApiError::field("/query/offset", truncate(&v), "expected a whole number ≥ 0")
                })?
            }
            _ => {}
        }
    }
    Ok(f)
}

/// The contract kind in force today of each offer the tenant contracts.
fn contracts_today(
    terms: &[crate::server::store::ContractTerms],
    today: &str,
) -> HashMap<String, ContractKind> {
    terms
        .iter()
        .filter(|t| t.starts_on.as_str() <= today && t.ends_on.as_str() >= today)
        .filter_map(|t| ContractKind::parse(&t.kind).map(|k| (t.offer_id.clone(), k)))
        .collect()
}

pub(super) async fn overview_providers(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let own = bound_provider(&p)?;
    let scope = scope(&req, &p)?;
    let mut f = overview_filter(&req)?;
    if let Some(own) = own {
        // A provider sees its own rows only; another provider's id finds nothing.
        if f.provider.as_deref().is_some_and(|asked| asked != own) {
            f.provider = Some(String::new());
        } else {
            f.provider = Some(own);
        }
    }
    let csv = req.accepts_csv;
    let m = p.municipality;
    let s = state.clone();
    let (all_counts, terms, names) = blocking(move || {
        let tenant = (scope == OverviewScope::Municipality).then_some(m);
        let counts = s.store.accept_counts(tenant)?;
        let terms = if tenant.is_some() { s.store.contract_terms(tenant)? } else { Vec::new() };
        let names: HashMap<String, String> =
            s.store.all_providers()?.into_iter().map(|r| (r.id, r.name)).collect();
        Ok((counts, terms, names))
    })
    .await?;
    let counts: Vec<&AcceptCount> =
        all_counts.iter().filter(|c| scope == OverviewScope::National || c.municipality == m).collect();
    let today = state.catalogues.today().to_string();
    let tenant_contracts = contracts_today(&terms, &today);
    let cat = state.catalogues.current();
    let offers = cat.offers();
    let accepted_offers: BTreeSet<&str> = counts.iter().map(|c| c.offer_id.as_str()).collect();
    let contracted: BTreeSet<&str> = terms.iter().map(|t| t.offer_id.as_str()).collect();
    let in_scope = |o: &Offer| {
        f.kind.is_none_or(|k| o.kind == k)
            && f.provider.as_deref().is_none_or(|pid| o.provider.as_str() == pid)
            && (scope == OverviewScope::National
                || offer_serves(o, m)
                || accepted_offers.contains(o.id.as_str())
                || contracted.contains(o.id.as_str()))
    };
    let mut rows: BTreeMap<(String, String), RowSum> = BTreeMap::new();
    let mut evidence: HashMap<(String, String), (u32, u32)> = HashMap::new();
    let mut offer_groups: HashMap<&str, (&Offer, Vec<String>)> = HashMap::new();
    let reference = state.catalogues.reference().clone();
    for o in offers.iter().filter(|o| in_scope(o)) {
        let groups = group_codes(&state, o);
        let contract = if scope == OverviewScope::Municipality {
            tenant_contracts.get(o.id.as_str()).copied()
        } else {
            o.contract
        };
        let keys: Vec<String> = if groups.is_empty() { vec!["all".into()] } else { groups.clone() };
        for g in &keys {
            let row = rows.entry((o.provider.to_string(), g.clone())).or_default();
            row.offers += 1;
            row.places = row.places.saturating_add(o.capacity);
            row.list_prices += u64::from(o.price_dkk);
            if row.contract.is_none() {
                row.contract = contract;
            }
        }
        for e in &o.evidence {
            if let Some(t) = reference.target_groups.get(usize::from(e.group.0)) {
                for key in [t.code.clone(), "all".to_string()] {
                    let q = evidence.entry((o.provider.to_string(), key)).or_default();
                    q.0 = q.0.saturating_add(e.trials);
                    q.1 = q.1.saturating_add(e.successes);
                }
            }
        }
        offer_groups.insert(o.id.as_str(), (o, groups));
    }
    let mut accepts: HashMap<(&str, &str), (u32, u32, u64)> = HashMap::new();
    for AcceptCount { offer_id, target_groups, contract_price, accepted, held, .. } in counts.iter().copied()
    {
        // Borrowed keys: a national year is ~150,000 counts, and an allocation per count
        // was most of the answer's time.
        let Some((o, groups)) = offer_groups.get(offer_id.as_str()) else { continue };
        let g = accept_group(target_groups, groups);
        let sum = accepts.entry((o.provider.as_str(), g)).or_insert((0, 0, 0));
        sum.0 += accepted;
        sum.1 += held;
        sum.2 += u64::from(*accepted) * u64::from(contract_price.unwrap_or(o.price_dkk));
    }
    for ((provider, group), (accepted, held, spend)) in accepts {
        let row = rows.entry((provider.to_string(), group.to_string())).or_default();
        row.accepted += accepted;
        row.held += held;
        row.spend += spend;
    }
    let mut out: Vec<OverviewRow> = rows
        .into_iter()
        .filter(|((_, g), _)| f.group.as_deref().is_none_or(|want| want == g))
        .filter(|(_, r)| f.contract.is_none_or(|want| want == r.contract))
        .map(|((provider, group), r)| {
            let (trials, successes) =
                evidence.get(&(provider.clone(), group.clone())).copied().unwrap_or((0, 0));
            let (prior, strength) = reference
                .group(&group)
                .and_then(|g| reference.target_groups.get(usize::from(g.0)))
                .map_or((0.5, 2.0), |t| (t.prior_success_rate, t.prior_strength));
            let q = posterior(successes, trials, prior, strength);
            let price = if r.accepted > 0 {
                r.spend / u64::from(r.accepted)
            } else if r.offers > 0 {
                r.list_prices / u64::from(r.offers)
            } else {
                0
            };
            OverviewRow {
                provider_name: names.get(&provider).cloned(),
                provider_id: provider,
                target_group: group,
                offers: r.offers,
                places: r.places,
                accepted: r.accepted,
                held: r.held,
                price_dkk: u32::try_from(price).unwrap_or(u32::MAX),
                spend_dkk: r.spend,
                contract: r.contract,
                quality: OverviewQuality {
                    trials,
                    successes,
                    posterior_mean: q.mean,
                    interval_90: [q.low, q.high],
                    // Filled in for the page only (below): it neither filters nor sorts.
                    effect: GroupEffect::default(),
                },
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.spend_dkk
            .cmp(&a.spend_dkk)
            .then_with(|| a.provider_id.cmp(&b.provider_id))
            .then_with(|| a.target_group.cmp(&b.target_group))
    });
    let total = out.len();
    let spend_dkk = out.iter().map(|r| r.spend_dkk).sum();
    // CSV without `limit` is the whole table (a spreadsheet wants every row); JSON pages by 100.
    let limit = f.limit.unwrap_or(if csv { u32::MAX } else { 100 });
    let mut page: Vec<OverviewRow> = out.into_iter().skip(f.offset as usize).take(limit as usize).collect();
    if !page.is_empty() {
        let effects = super::offers::ProviderEffects::new(&cat);
        for r in &mut page {
            r.quality.effect = effects.get(&r.provider_id, &r.target_group, &reference);
        }
    }
    if csv {
        return Ok(Reply::Csv(overview_csv(&page).into_bytes(), None));
    }
    answers::json(
        200,
        &ProviderOverview {
            scope,
            municipality: (scope == OverviewScope::Municipality).then(|| format!("{m:04}")),
            quality_basis: QUALITY_BASIS.into(),
            rows: page,
            total,
            spend_dkk,
            limit: limit.min(10_000),
            offset: f.offset,
        },
    )
}

/// What the overview's quality is, said in every answer.
const QUALITY_BASIS: &str = "quality.effect: uplift over no offer per target group (the extra chance of leaving benefit because of the provider's offers), adjusted for the case mix of the episode history and shrunk offer -> provider -> group, with its 90 % interval; it assumes comparable candidates are recorded alike. quality.posterior_mean is the success rate shrunk toward the group average: not an effect";

/// The overview as CSV (comma, UTF-8, header row; text quoted where needed).
fn overview_csv(rows: &[OverviewRow]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "provider_id",
        "provider_name",
        "target_group",
        "offers",
        "places",
        "accepted",
        "held",
        "price_dkk",
        "spend_dkk",
        "contract",
        "quality_trials",
        "quality_successes",
        "quality_posterior_mean",
        "quality_low_90",
        "quality_high_90",
        "uplift",
        "uplift_low_90",
        "uplift_high_90",
        "uplift_episodes",
    ]);
    for r in rows {
        let _ = w.write_record([
            r.provider_id.clone(),
            r.provider_name.clone().unwrap_or_default(),
            r.target_group.clone(),
            r.offers.to_string(),
            r.places.to_string(),
            r.accepted.to_string(),
            r.held.to_string(),
            r.price_dkk.to_string(),
            r.spend_dkk.to_string(),
            r.contract.map_or("", |c| c.label()).to_string(),
            r.quality.trials.to_string(),
            r.quality.successes.to_string(),
            format!("{:.4}", r.quality.posterior_mean),
            format!("{:.4}", r.quality.interval_90[0]),
            format!("{:.4}", r.quality.interval_90[1]),
            format!("{:.4}", r.quality.effect.uplift),
            format!("{:.4}", r.quality.effect.uplift_interval_90[0]),
            format!("{:.4}", r.quality.effect.uplift_interval_90[1]),
            r.quality.effect.episodes.to_string(),
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `2026-09` as the period of `kind`.
fn period_of(month: &str, kind: SpendPeriodKind) -> String {
    match kind {
        SpendPeriodKind::Month => month.to_string(),
        SpendPeriodKind::Year => month.get(..4).unwrap_or(month).to_string(),
        SpendPeriodKind::Quarter => {
            let m: u32 = month.get(5..7).and_then(|t| t.parse().ok()).unwrap_or(1);
            format!("{}-Q{}", month.get(..4).unwrap_or(month), (m.clamp(1, 12) - 1) / 3 + 1)
        }
    }
}

/// The fewest providers whose spend reaches 80 % of the total (0 when nothing was spent).
fn tail_80(spend_by_provider: impl Iterator<Item = u64>) -> u32 {
    let mut spends: Vec<u64> = spend_by_provider.filter(|s| *s > 0).collect();
    let total: u64 = spends.iter().sum();
    if total == 0 {
        return 0;
    }
    spends.sort_unstable_by(|a, b| b.cmp(a));
    let mut sum = 0u64;
    for (i, s) in spends.iter().enumerate() {
        sum += s;
        // sum / total ≥ 0.8, in integers.
        if sum * 5 >= total * 4 {
            return u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
    }
    u32::try_from(spends.len()).unwrap_or(u32::MAX)
}

pub(super) async fn overview_spend(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let scope = scope(&req, &p)?;
    let mut kind = SpendPeriodKind::Month;
    for (k, v) in query_params(&req) {
        if k == "period" {
            kind = match v.as_str() {
                "month" => SpendPeriodKind::Month,
                "quarter" => SpendPeriodKind::Quarter,
                "year" => SpendPeriodKind::Year,
                _ => {
                    return Err(ApiError::field(
                        "/query/period",
                        truncate(&v),
                        "expected month, quarter or year",
                    ));
                }
            };
        }
    }
    let m = p.municipality;
    let s = state.clone();
    let tenant = (scope == OverviewScope::Municipality).then_some(m);
    let counts = blocking(move || Ok(s.store.accept_counts(tenant)?)).await?;
    let cat = state.catalogues.current();
    #[derive(Default)]
    struct Sum<'a> {
        accepted: u32,
        spend: u64,
        contracted: u64,
        by_provider: HashMap<&'a str, u64>,
    }
    let mut periods: BTreeMap<String, Sum> = BTreeMap::new();
    for c in counts.iter().filter(|c| scope == OverviewScope::National || c.municipality == m) {
        let Some(o) = cat.scorer.offer_index(&c.offer_id).and_then(|i| cat.offers().get(i as usize)) else {
            continue;
        };
        let price = u64::from(c.contract_price.unwrap_or(o.price_dkk));
        let spend = u64::from(c.accepted) * price;
        let sum = periods.entry(period_of(&c.month, kind)).or_default();
        sum.accepted += c.accepted;
        sum.spend += spend;
        if c.contract_price.is_some() {
            sum.contracted += spend;
        }
        *sum.by_provider.entry(o.provider.as_str()).or_default() += spend;
    }
    let periods = periods
        .into_iter()
        .map(|(period, s)| SpendPeriod {
            period,
            accepted: s.accepted,
            spend_dkk: s.spend,
            providers: u32::try_from(s.by_provider.values().filter(|v| **v > 0).count()).unwrap_or(u32::MAX),
            providers_for_80_percent: tail_80(s.by_provider.values().copied()),
            contracted_spend_dkk: s.contracted,
        })
        .collect();
    answers::json(
        200,
        &SpendOverview {
            scope,
            municipality: (scope == OverviewScope::Municipality).then(|| format!("{m:04}")),
            period: kind,
            periods,
        },
    )
}

// ----- the provider's view -----

pub(super) async fn provider_decisions(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let own = bound_provider(&p)?;
    let id = path_id(&req, 0)?;
    if own.as_deref().is_some_and(|own| own != id) {
        // Another provider's decisions answer exactly as an unknown provider's.
        return Err(ApiError::NotFound("provider"));
    }
    let PageQuery { after, limit, .. } =
        page_query(&req, 100, 1000, "a decision id (a positive whole number)", false)?;
    let today = state.catalogues.today().to_string();
    let s = state.clone();
    let (page, counts) = blocking(move || {
        if !s.store.provider_known(&id)? {
            return Err(ApiError::NotFound("provider"));
        }
        Ok(s.store.provider_decisions(p.municipality, &id, own.as_deref(), after, limit, &today)?)
    })
    .await?;
    let decisions = page
        .decisions
        .into_iter()
        .zip(counts)
        .map(|(row, comments)| {
            let d = Decision::new(row);
            ProviderDecision {
                id: d.id,
                municipality: d.municipality,
                candidate_id: d.candidate_id,
                offer_id: d.offer_id,
                action: d.action,
                status: d.status,
                decided_at: d.decided_at,
                starts_on: d.starts_on,
                ends_on: d.ends_on,
                comments,
            }
        })
        .collect();
    answers::json(200, &ProviderDecisionList { decisions, next: page.next, limit })
}

fn comment_answer(row: CommentRow) -> Comment {
    Comment {
        id: row.id,
        decision_id: row.decision_id,
        provider_id: row.provider_id,
        author: row.author,
        role: Role::parse(&row.role).unwrap_or(Role::Provider),
        employer: row.employer,
        text: row.text,
        written_at: row.written_at,
    }
}

pub(super) async fn comments_list(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let own = bound_provider(&p)?;
    let id = path_number(&req, 0)?;
    let s = state.clone();
    let rows = blocking(move || Ok(s.store.comments(p.municipality, id, own.as_deref())?)).await?;
    answers::json(
        200,
        &CommentList { decision_id: id, comments: rows.into_iter().map(comment_answer).collect() },
    )
}

pub(super) async fn comment_create(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let p = req.principal()?.clone();
    let own = bound_provider(&p)?;
    let id = path_number(&req, 0)?;
    let body: CommentRequest = typed_body(&req)?;
    let text = body.text.trim().to_string();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(ApiError::field("/text", truncate(&text), "a comment of 1 to 2000 characters"));
    }
    if matcher_core::model::looks_like_cpr(&text) {
        return Err(ApiError::field(
            "/text",
            "",
            "looks like it holds a CPR number; refer to the candidate by its pseudonymous id",
        ));
    }
    let new = NewComment {
        municipality: p.municipality,
        decision: id,
        provider: own,
        author: p.user.clone(),
        role: p.role.name().to_string(),
        employer: p.employer.clone(),
        text,
    };
    let s = state.clone();
    let row = blocking(move || Ok(s.store.add_comment(&new)?)).await?;
    state.metrics.event("decision_comments");
    answers::json(201, &comment_answer(row))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_the_fewest_providers_carrying_80_percent() {
        let tail = |v: &[u64]| tail_80(v.iter().copied());
        assert_eq!(tail(&[]), 0);
        assert_eq!(tail(&[0, 0]), 0);
        assert_eq!(tail(&[100]), 1);
        assert_eq!(tail(&[10, 80, 10]), 1);
        assert_eq!(tail(&[79, 11, 10]), 2);
        assert_eq!(tail(&[10; 10]), 8);
    }

    #[test]
    fn periods_and_groups() {
        assert_eq!(period_of("2026-09", SpendPeriodKind::Quarter), "2026-Q3");
        assert_eq!(period_of("2026-01", SpendPeriodKind::Quarter), "2026-Q1");
        assert_eq!(period_of("2026-12", SpendPeriodKind::Year), "2026");
        let offer = vec!["cash_longterm".to_string(), "sickness".to_string()];
        assert_eq!(accept_group("youth_psych;sickness", &offer), "sickness");
        assert_eq!(accept_group("youth_psych", &offer), "cash_longterm");
        assert_eq!(accept_group("sickness", &[]), "all");
    }
}
