//! Caseloads and the team overview: the caseload plan of `matcher batch --caseworkers` run
//! on the tenant's stored candidates (and, when asked, applied: caseworkers stored, cases
//! opened), and a team's workload as JSON or as the HTML page for the team meeting.

use super::*;
use crate::server::store::{CaseworkerRow, NewCase};
use crate::server::team::{self, CaseFacts, page};
use matcher_core::batch::caseload;
use matcher_core::model::{CandidateId, Caseworker, CaseworkerId, Dataset, Date, GroupSet, MunicipalityCode};
use std::collections::{HashMap, HashSet};

/// Most caseworkers in one plan.
const MAX_CASEWORKERS: usize = 2000;
/// Longest period of a team overview, in days.
const MAX_PERIOD_DAYS: i32 = 366;

/// The request's caseworkers checked: ids, teams, caps and speciality codes.
fn checked_caseworkers(body: &CaseloadPlanRequest, state: &AppState) -> Result<Vec<CaseworkerRow>, ApiError> {
    if body.caseworkers.is_empty() || body.caseworkers.len() > MAX_CASEWORKERS {
        return Err(ApiError::field(
            "/caseworkers",
            "",
            format!("expected 1 to {MAX_CASEWORKERS} caseworkers"),
        ));
    }
    let reference = state.catalogues.reference();
    let mut seen = HashSet::new();
    let mut errors = Vec::new();
    let mut rows = Vec::with_capacity(body.caseworkers.len());
    for (i, w) in body.caseworkers.iter().enumerate() {
        let at = |field: &str| format!("/caseworkers/{i}/{field}");
        if let Err(reason) = check_id(&w.id) {
            errors.push(FieldError::new(at("id"), truncate(&w.id), reason));
        } else if !seen.insert(w.id.as_str()) {
            errors.push(FieldError::new(at("id"), truncate(&w.id), "appears twice; each caseworker once"));
        }
        if let Err(reason) = check_id(&w.team) {
            errors.push(FieldError::new(at("team"), truncate(&w.team), reason));
        }
        if w.cap > dataset::MAX_CAP {
            errors.push(FieldError::new(
                at("cap"),
                w.cap.to_string(),
                format!("must be at most {}", dataset::MAX_CAP),
            ));
        }
        if w.other_cases > dataset::MAX_CAP {
            errors.push(FieldError::new(
                at("other_cases"),
                w.other_cases.to_string(),
                format!("must be at most {}", dataset::MAX_CAP),
            ));
        }
        for (j, code) in w.specialities.iter().enumerate() {
            if reference.group(code).is_none() {
                errors.push(FieldError::new(
                    format!("/caseworkers/{i}/specialities/{j}"),
                    truncate(code),
                    "not a target group code",
                ));
            }
        }
        rows.push(CaseworkerRow {
            id: w.id.clone(),
            team: w.team.clone(),
            cap: w.cap,
            other_cases: w.other_cases,
            specialities: w.specialities.clone(),
        });
    }
    if errors.is_empty() { Ok(rows) } else { Err(ApiError::Validation(errors)) }
}

/// Runs the caseload plan on the tenant's stored candidates and open cases, and applies it
/// when asked. Blocking. Also used by `matcher serve --demo` to give the demo its teams.
pub(crate) fn run_caseload_plan(
    state: &AppState,
    m: u16,
    rows: &[CaseworkerRow],
    apply: bool,
    opened_at: &dyn Fn(&matcher_core::model::Candidate) -> String,
) -> Result<CaseloadPlan, ApiError> {
    let reference = state.catalogues.reference();
    let open = state.store.open_cases(m)?;
    let in_plan: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut held: HashMap<&str, Vec<CandidateId>> = HashMap::new();
    // Candidates whose case is held by a caseworker outside this plan are nobody's to take.
    let mut elsewhere = HashSet::new();
    for c in &open {
        if in_plan.contains(c.caseworker_id.as_str()) {
            if let Ok(id) = CandidateId::new(&c.candidate_id) {
                held.entry(c.caseworker_id.as_str()).or_default().push(id);
            }
        } else {
            elsewhere.insert(c.candidate_id.as_str());
        }
    }
    let mut candidates = Vec::new();
    for model in state.store.candidate_models(m)? {
        let stored: StoredCandidate =
            serde_json::from_str(&model).map_err(|e| ApiError::Internal(format!("stored candidate: {e}")))?;
        if !elsewhere.contains(stored.candidate.id.as_str()) {
            candidates.push(stored.candidate);
        }
    }
    let data = Dataset { candidates, ..Dataset::default() };
    let known: HashSet<&str> = data.candidates.iter().map(|c| c.id.as_str()).collect();
    let mut caseworkers = Vec::with_capacity(rows.len());
    for r in rows {
        let mut specialities = GroupSet::EMPTY;
        for code in &r.specialities {
            if let Some(g) = reference.group(code) {
                specialities.insert(g);
            }
        }
        // An open case of an erased candidate is closed with the erasure; keep only known ones.
        let cases: Vec<CandidateId> = held
            .get(r.id.as_str())
            .map(|v| v.iter().filter(|c| known.contains(c.as_str())).cloned().collect())
            .unwrap_or_default();
        caseworkers.push(Caseworker {
            id: CaseworkerId::new(&r.id).map_err(|e| ApiError::field("/caseworkers", truncate(&r.id), e))?,
            municipality: MunicipalityCode(m),
            caseload: u32::try_from(cases.len()).unwrap_or(u32::MAX).saturating_add(r.other_cases),
            cap: r.cap,
            specialities,
            cases,
        });
    }
    let plan = caseload::plan(&data, &caseworkers, 1).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut proposals: Vec<CaseProposal> = plan
        .proposals
        .iter()
        .map(|p| {
            let worker = p.caseworker.and_then(|w| rows.get(w as usize));
            CaseProposal {
                candidate_id: data.candidates[p.candidate as usize].id.to_string(),
                caseworker_id: worker.map(|w| w.id.clone()),
                team: worker.map(|w| w.team.clone()),
                caseload_after: p.load_after,
                speciality: p.speciality,
                reason: p.reason.map(caseload::NoCaseworker::key),
            }
        })
        .collect();
    proposals.sort_by(|a, b| a.candidate_id.cmp(&b.candidate_id));
    let loads = rows
        .iter()
        .zip(&plan.loads)
        .map(|(r, l)| CaseworkerPlanLoad {
            caseworker_id: r.id.clone(),
            team: r.team.clone(),
            cap: r.cap,
            before: l.before,
            after: l.after,
        })
        .collect();
    let mut cases_opened = 0;
    if apply {
        let by_id: HashMap<&str, &matcher_core::model::Candidate> =
            data.candidates.iter().map(|c| (c.id.as_str(), c)).collect();
        let cases: Vec<NewCase> = proposals
            .iter()
            .filter_map(|p| {
                let worker = p.caseworker_id.clone()?;
                let candidate = by_id.get(p.candidate_id.as_str())?;
                Some(NewCase {
                    candidate_id: p.candidate_id.clone(),
                    caseworker_id: worker,
                    opened_at: opened_at(candidate),
                })
            })
            .collect();
        cases_opened = state.store.apply_caseload_plan(m, rows, &cases)?;
    }
    Ok(CaseloadPlan {
        applied: apply,
        cases_opened,
        proposals,
        caseworkers: loads,
        gap: plan.certificate.gap.map(|g| i64::try_from(g).unwrap_or(i64::MAX)),
    })
}

pub(super) async fn caseload_plan(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let body: CaseloadPlanRequest = typed_body(&req)?;
    let rows = checked_caseworkers(&body, &state)?;
    let apply = body.apply;
    let plan = blocking(move || {
        let now = crate::server::store::now_rfc3339();
        run_caseload_plan(&state, m, &rows, apply, &|_| now.clone())
    })
    .await?;
    answers::json(if plan.applied { 201 } else { 200 }, &plan)
}

/// The overview's query: the period from `from` and `to` (dates, both included; by default
/// the four weeks that end today), and `format=html` with `lang=da|en` for the page.
fn overview_query(req: &Request, today: Date) -> Result<(Date, Date, Option<crate::html::Lang>), ApiError> {
    let (mut from, mut to, mut lang, mut html) = (None, None, crate::html::Lang::Da, false);
    for (k, v) in query_params(req) {
        let date = |name: &str| {
            Date::parse(&v).ok_or_else(|| {
                ApiError::field(format!("/query/{name}"), truncate(&v), "expected a date YYYY-MM-DD")
            })
        };
        match k.as_str() {
            "from" => from = Some(date("from")?),
            "to" => to = Some(date("to")?),
            "lang" => {
                if v != "da" && v != "en" {
                    return Err(ApiError::field("/query/lang", truncate(&v), "expected da or en"));
                }
                lang = crate::html::Lang::from_code(Some(&v));
            }
            "format" => {
                html = match v.as_str() {
                    "json" => false,
                    "html" => true,
                    _ => return Err(ApiError::field("/query/format", truncate(&v), "expected json or html")),
                }
            }
            _ => {}
        }
    }
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to.plus_days(-27));
    if from > to {
        return Err(ApiError::field("/query/from", from.to_string(), "must not be after `to`"));
    }
    if from.days_until(to) >= MAX_PERIOD_DAYS {
        return Err(ApiError::field(
            "/query/from",
            from.to_string(),
            format!("the period is at most {MAX_PERIOD_DAYS} days"),
        ));
    }
    Ok((from, to, html.then_some(lang)))
}

/// A team's overview from the store. Blocking. `NotFound` when the tenant has no such team.
pub(crate) fn team_overview_of(
    state: &AppState,
    m: u16,
    team: &str,
    from: Date,
    to: Date,
) -> Result<TeamOverview, ApiError> {
    let today = state.catalogues.today();
    let caseworkers: Vec<CaseworkerRow> =
        state.store.caseworkers(m)?.into_iter().filter(|c| c.team == team).collect();
    if caseworkers.is_empty() {
        return Err(ApiError::NotFound("team"));
    }
    let reference = state.catalogues.reference();
    let sickness = reference.benefit_kind("sickness_benefit");
    let rows = state.store.team_cases(m, team, &from.to_string())?;
    let mut cases = Vec::with_capacity(rows.len());
    for r in rows {
        let (Some(opened), closed) =
            (team::day_of(&r.opened_at), r.closed_at.as_deref().and_then(team::day_of))
        else {
            continue;
        };
        let candidate = r.model.as_deref().and_then(|m| serde_json::from_str::<StoredCandidate>(m).ok());
        let sickness_start = candidate
            .filter(|c| Some(c.candidate.benefit.kind) == sickness)
            .map(|c| c.candidate.benefit.start);
        cases.push(CaseFacts {
            caseworker_id: r.caseworker_id,
            opened,
            closed,
            sickness_start,
            first_decision: r.first_decision_at.as_deref().and_then(team::day_of),
        });
    }
    Ok(team::overview(team, m, &caseworkers, &cases, today, (from, to)))
}

pub(super) async fn team_overview(state: Arc<AppState>, req: Request) -> Result<Reply, ApiError> {
    let m = req.principal()?.municipality;
    let team = path_id(&req, 0)?;
    let (from, to, html) = overview_query(&req, state.catalogues.today())?;
    let overview = blocking(move || team_overview_of(&state, m, &team, from, to)).await?;
    match html {
        Some(lang) => Ok(Reply::Html { page: page::render(&overview, lang, None), csp: page::csp() }),
        None => answers::json(200, &overview),
    }
}
