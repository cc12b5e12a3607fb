//! The service's episode history as the core reads it: stored episodes
//! (`store::HistoryRow`) turned into `model::Episode`s for the estimates of the catalogue, of
//! batch runs and of `matcher export-state`, and the evidence counts those episodes already
//! stand for taken out, so that no outcome counts twice.
//!
//! Owns that translation only: no SQL (the store's), no HTTP (the handlers'), no estimating
//! (the core's `effect`).

use crate::server::store::HistoryRow;
use matcher_core::model::{
    AgeBand, Episode, EpisodeId, Evidence, GroupSet, MunicipalityCode, Offer, OfferId, ReferenceData,
};
use std::collections::HashMap;

/// The rows as episodes of the core. A row the reference data can no longer read (a target
/// group or benefit kind since removed) or whose offer is not among `offers` is left out, as
/// the core would refuse it; the number left out is returned.
pub fn episodes(rows: &[HistoryRow], reference: &ReferenceData, offers: &[Offer]) -> (Vec<Episode>, usize) {
    let known: std::collections::HashSet<&str> = offers.iter().map(|o| o.id.as_str()).collect();
    let mut out = Vec::with_capacity(rows.len());
    let mut skipped = 0;
    for row in rows {
        match episode(row, reference, &known) {
            Some(e) => out.push(e),
            None => skipped += 1,
        }
    }
    (out, skipped)
}

fn episode(
    row: &HistoryRow,
    reference: &ReferenceData,
    offers: &std::collections::HashSet<&str>,
) -> Option<Episode> {
    let mut target_groups = GroupSet::EMPTY;
    for code in &row.target_groups {
        target_groups.insert(reference.group(code)?);
    }
    if target_groups.is_empty() {
        return None;
    }
    let offer = match &row.offer_id {
        Some(id) if offers.contains(id.as_str()) => Some(OfferId::new(id).ok()?),
        Some(_) => return None,
        None => None,
    };
    Some(Episode {
        id: EpisodeId::new(&row.episode_id()).ok()?,
        municipality: MunicipalityCode(row.municipality),
        target_groups,
        age_band: AgeBand::parse(&row.age_band)?,
        benefit_kind: reference.benefit_kind(&row.benefit_kind)?,
        weeks_on_benefit: row.weeks_on_benefit as f32,
        offer,
        started: matcher_core::model::Date::parse(&row.started)?,
        success: row.success,
        weeks_to_exit: row.weeks_to_exit.map(|w| w as f32),
    })
}

/// Takes out of the offers' evidence the counts that `rows` stand for: every outcome recorded
/// by the service was added to its offer's evidence (one trial per target group, a success
/// as the caseworker recorded it), and the episode of the same outcome now carries it with its
/// case mix. Counts never go below 0 (evidence imported with `--offers-from` stays).
pub fn without_counted(offers: &mut [Offer], rows: &[HistoryRow], reference: &ReferenceData) {
    let counted: HashMap<(&str, u8), (u32, u32)> =
        counts(rows, reference).into_iter().map(|(o, g, n, s)| ((o, g), (n, s))).collect();
    if counted.is_empty() {
        return;
    }
    for o in offers.iter_mut() {
        for Evidence { group, trials, successes } in &mut o.evidence {
            if let Some((n, s)) = counted.get(&(o.id.as_str(), group.0)) {
                *trials = trials.saturating_sub(*n);
                *successes = successes.saturating_sub(*s).min(*trials);
            }
        }
        o.evidence.retain(|e| e.trials > 0);
    }
}

/// Puts the counts of `rows` back into the offers' evidence: the inverse of
/// [`without_counted`], for an export that leaves those episodes out (another tenant's).
pub fn with_counted(offers: &mut [Offer], rows: &[HistoryRow], reference: &ReferenceData) {
    for (offer, group, n, s) in counts(rows, reference) {
        let Some(o) = offers.iter_mut().find(|o| o.id.as_str() == offer) else { continue };
        match o.evidence.iter_mut().find(|e| e.group.0 == group) {
            Some(e) => {
                e.trials = e.trials.saturating_add(n);
                e.successes = e.successes.saturating_add(s).min(e.trials);
            }
            None => o.evidence.push(Evidence {
                group: matcher_core::model::GroupId(group),
                trials: n,
                successes: s,
            }),
        }
    }
}

/// Trials and successes per offer and group that the outcomes of `rows` added to the evidence.
fn counts<'a>(rows: &'a [HistoryRow], reference: &ReferenceData) -> Vec<(&'a str, u8, u32, u32)> {
    let mut counted: HashMap<(&str, u8), (u32, u32)> = HashMap::new();
    for row in rows {
        let (Some(offer), Some(success)) = (row.offer_id.as_deref(), row.evidence_success) else {
            continue;
        };
        for code in &row.target_groups {
            if let Some(g) = reference.group(code) {
                let c = counted.entry((offer, g.0)).or_default();
                c.0 += 1;
                c.1 += u32::from(success);
            }
        }
    }
    let mut out: Vec<_> = counted.into_iter().map(|((o, g), (n, s))| (o, g, n, s)).collect();
    out.sort_unstable();
    out
}

/// The rows as the `outcomes` table's CSV (header included, columns in
/// `dataset::outcomes::OUTCOME_COLUMNS` order, `,`-separated, UTF-8): what `matcher batch`
/// reads as `outcomes.csv`.
pub fn csv(rows: &[HistoryRow]) -> Vec<u8> {
    let mut out = matcher_core::dataset::outcomes::OUTCOME_COLUMNS.join(",");
    out.push('\n');
    for r in rows {
        let fields = [
            r.episode_id(),
            format!("{:04}", r.municipality),
            r.target_groups.join(";"),
            r.age_band.clone(),
            r.benefit_kind.clone(),
            r.weeks_on_benefit.to_string(),
            r.offer_id.clone().unwrap_or_default(),
            r.started.clone(),
            if r.success { "yes" } else { "no" }.to_string(),
            r.weeks_to_exit.map_or(String::new(), |w| w.to_string()),
        ];
        let quoted: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        out.push_str(&quoted.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

/// A CSV field, quoted when it holds a separator, a quote or a line break.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(offer: Option<&str>, success: bool, evidence_success: Option<bool>) -> HistoryRow {
        HistoryRow {
            number: 1,
            municipality: 851,
            target_groups: vec!["youth_psychosocial".into()],
            age_band: "18-24".into(),
            benefit_kind: "education_benefit".into(),
            weeks_on_benefit: 12.0,
            offer_id: offer.map(str::to_string),
            started: "2026-03-02".into(),
            success,
            weeks_to_exit: success.then_some(10.0),
            result: "in_work".into(),
            evidence_success,
        }
    }

    #[test]
    fn an_outcome_counts_once_as_an_episode_not_again_as_evidence() {
        let reference = ReferenceData::embedded().unwrap();
        let Some(group) = reference.group("youth_psychosocial") else {
            panic!("the embedded reference has the young people's group");
        };
        let data = matcher_core::generate(matcher_core::Scale::Demo, 1, &reference);
        let mut offers = vec![data.offers[0].clone()];
        let id = offers[0].id.to_string();
        offers[0].evidence = vec![Evidence { group, trials: 5, successes: 3 }];
        let rows =
            vec![row(Some(&id), true, Some(true)), row(Some(&id), false, Some(false)), row(None, true, None)];
        without_counted(&mut offers, &rows, &reference);
        assert_eq!(offers[0].evidence, vec![Evidence { group, trials: 3, successes: 2 }]);
        with_counted(&mut offers, &rows, &reference);
        assert_eq!(offers[0].evidence, vec![Evidence { group, trials: 5, successes: 3 }], "the inverse");
        let (read, skipped) = episodes(&rows, &reference, &offers);
        assert_eq!((read.len(), skipped), (3, 0));
        assert_eq!(read[2].offer, None, "a no-offer record is the comparison group");
        // An offer the catalogue does not hold is left out (the core would refuse the row).
        let (_, skipped) = episodes(&[row(Some("gone-offer"), true, Some(true))], &reference, &offers);
        assert_eq!(skipped, 1);
    }
}
