//! The team overview (issue 20): a team's workload for the team meeting — caseload against
//! the cap, new and closed cases in a period, median case length, and how many sickness-benefit
//! cases were acted on before the 8-week assessment — per caseworker and for the whole team.
//!
//! The figures are computed here from plain rows ([`CaseFacts`]), so they can be tested
//! without a store; `page.rs` draws them as the HTML page. The figures are a picture of the
//! load to share out, not a ranking of people: caseworkers are always listed by id, never
//! sorted by a figure. Must not read the store or the clock: the handler passes rows and
//! today.

pub mod page;

use crate::server::api::answers::{CaseworkerWorkload, OverviewPeriod, TeamOverview, Workload};
use crate::server::store::CaseworkerRow;
use matcher_core::model::Date;

/// Weeks from the first day of sickness benefit to the municipality's assessment.
pub const ASSESSMENT_WEEKS: i32 = 8;
/// Days ahead in which an assessment not yet acted on is flagged as due.
pub const DUE_WITHIN_DAYS: i32 = 14;

/// What the overview needs to know about one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// The caseworker who holds (or held) it.
    pub caseworker_id: String,
    /// The day it was opened.
    pub opened: Date,
    /// The day it was closed, if it was.
    pub closed: Option<Date>,
    /// The first day of the candidate's sickness benefit; `None` for other benefits (or an
    /// erased candidate).
    pub sickness_start: Option<Date>,
    /// The day of the first decision recorded for the candidate.
    pub first_decision: Option<Date>,
}

/// The day of an RFC 3339 time or a date (`YYYY-MM-DD…`).
pub fn day_of(time: &str) -> Option<Date> {
    time.get(..10).and_then(Date::parse)
}

/// The median of `values`; the mean of the middle two for an even count.
fn median(values: &mut [i32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        f64::from(values[n / 2])
    } else {
        (f64::from(values[n / 2 - 1]) + f64::from(values[n / 2])) / 2.0
    })
}

fn workload<'a>(
    caseworkers: &[&CaseworkerRow],
    cases: impl Iterator<Item = &'a CaseFacts>,
    today: Date,
    period: (Date, Date),
) -> Workload {
    let in_period = |d: Date| period.0 <= d && d <= period.1;
    let mut w = Workload {
        cap: caseworkers.iter().map(|c| c.cap).sum(),
        other_cases: caseworkers.iter().map(|c| c.other_cases).sum(),
        ..Workload::default()
    };
    let (mut closed_days, mut open_days) = (Vec::new(), Vec::new());
    let mut open = 0;
    for case in cases {
        if in_period(case.opened) {
            w.new_cases += 1;
        }
        match case.closed {
            None => {
                open += 1;
                open_days.push(case.opened.days_until(today).max(0));
            }
            Some(closed) if in_period(closed) => {
                w.closed_cases += 1;
                closed_days.push(case.opened.days_until(closed).max(0));
            }
            Some(_) => {}
        }
        let Some(start) = case.sickness_start else { continue };
        // A case closed before the period is not in view (the store leaves those out too).
        if case.closed.is_some_and(|c| c < period.0) {
            continue;
        }
        let e = &mut w.early_action;
        e.cases += 1;
        let assessment = start.plus_days(7 * ASSESSMENT_WEEKS);
        let in_time = case.first_decision.is_some_and(|d| d <= assessment);
        if in_time {
            e.acted_before_assessment += 1;
        }
        if in_time || assessment < today {
            e.known += 1;
        } else if case.closed.is_none()
            && case.first_decision.is_none()
            && today.days_until(assessment) <= DUE_WITHIN_DAYS
        {
            e.due_within_14_days += 1;
        }
    }
    w.caseload = open + w.other_cases;
    w.median_days_closed_cases = median(&mut closed_days);
    w.median_days_open_cases = median(&mut open_days);
    let e = &mut w.early_action;
    e.share_acted_before_assessment =
        (e.known > 0).then(|| f64::from(e.acted_before_assessment) / f64::from(e.known));
    w
}

/// The overview of `team`: `caseworkers` are the team's, `cases` the cases they hold or
/// closed since the period began.
pub fn overview(
    team: &str,
    municipality: u16,
    caseworkers: &[CaseworkerRow],
    cases: &[CaseFacts],
    today: Date,
    period: (Date, Date),
) -> TeamOverview {
    let mut members: Vec<&CaseworkerRow> = caseworkers.iter().filter(|c| c.team == team).collect();
    members.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: std::collections::HashSet<&str> = members.iter().map(|c| c.id.as_str()).collect();
    let team_cases = || cases.iter().filter(|c| ids.contains(c.caseworker_id.as_str()));
    let per_caseworker = members
        .iter()
        .map(|&c| CaseworkerWorkload {
            caseworker_id: c.id.clone(),
            workload: workload(&[c], team_cases().filter(|k| k.caseworker_id == c.id), today, period),
        })
        .collect();
    TeamOverview {
        team: team.to_string(),
        municipality: format!("{municipality:04}"),
        today: today.to_string(),
        period: OverviewPeriod { from: period.0.to_string(), to: period.1.to_string() },
        team_workload: workload(&members, team_cases(), today, period),
        caseworkers: per_caseworker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    fn worker(id: &str, team: &str, cap: u32, other: u32) -> CaseworkerRow {
        CaseworkerRow { id: id.into(), team: team.into(), cap, other_cases: other, specialities: vec![] }
    }

    fn case(
        w: &str,
        opened: &str,
        closed: Option<&str>,
        sick: Option<&str>,
        decided: Option<&str>,
    ) -> CaseFacts {
        CaseFacts {
            caseworker_id: w.into(),
            opened: d(opened),
            closed: closed.map(d),
            sickness_start: sick.map(d),
            first_decision: decided.map(d),
        }
    }

    #[test]
    fn figures_follow_the_cases() {
        let today = d("2026-03-31");
        let period = (d("2026-03-04"), today);
        let workers = [worker("b", "t", 45, 10), worker("a", "t", 40, 0), worker("x", "other", 45, 0)];
        let cases = [
            // a: one open since before the period, one opened and closed in it (10 days),
            // one closed before the period (left out of everything).
            case("a", "2026-01-01", None, None, None),
            case("a", "2026-03-05", Some("2026-03-15"), None, None),
            case("a", "2026-01-01", Some("2026-02-01"), None, None),
            // b: sickness benefit: acted in time, acted late, not acted and overdue, not
            // acted and due in 10 days, not acted and due in 30 days.
            case("b", "2026-03-10", None, Some("2026-03-01"), Some("2026-03-20")),
            case("b", "2026-03-10", None, Some("2026-01-01"), Some("2026-03-20")),
            case("b", "2026-03-10", Some("2026-03-30"), Some("2026-01-20"), None),
            case("b", "2026-03-10", None, Some("2026-02-12"), None),
            case("b", "2026-03-10", None, Some("2026-03-05"), None),
            case("x", "2026-03-10", None, None, None),
        ];
        let o = overview("t", 851, &workers, &cases, today, period);
        assert_eq!(o.caseworkers.iter().map(|c| c.caseworker_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let a = &o.caseworkers[0].workload;
        assert_eq!((a.caseload, a.cap, a.new_cases, a.closed_cases), (1, 40, 1, 1));
        assert_eq!(a.median_days_closed_cases, Some(10.0));
        assert_eq!(a.median_days_open_cases, Some(89.0));
        let b = &o.caseworkers[1].workload;
        assert_eq!((b.caseload, b.other_cases, b.new_cases, b.closed_cases), (14, 10, 5, 1));
        assert_eq!(b.median_days_open_cases, Some(21.0));
        let e = &b.early_action;
        // Assessment dates: 04-26 (acted in time), 02-26 (acted late), 03-17 (passed, not
        // acted), 04-09 (due in 9 days), 04-30 (due in 30 days): three are known.
        assert_eq!((e.cases, e.acted_before_assessment, e.known, e.due_within_14_days), (5, 1, 3, 1));
        assert_eq!(e.share_acted_before_assessment, Some(1.0 / 3.0));
        let t = &o.team_workload;
        assert_eq!((t.caseload, t.cap, t.new_cases, t.closed_cases), (15, 85, 6, 2));
        assert_eq!(t.median_days_closed_cases, Some(15.0));
        assert_eq!(t.early_action, *e);
    }

    #[test]
    fn a_team_without_cases_has_no_medians() {
        let today = d("2026-03-31");
        let o = overview("t", 851, &[worker("a", "t", 45, 3)], &[], today, (today, today));
        assert_eq!(o.team_workload.caseload, 3);
        assert_eq!(o.team_workload.median_days_closed_cases, None);
        assert_eq!(o.team_workload.early_action.share_acted_before_assessment, None);
    }
}
