//! The service's episode history as the core reads it: stored episodes
//! (`store::HistoryRow`) turned into `model::Episode`s for the estimates of the catalogue, of
//! batch runs and of `matcher export-state`. The evidence counts an outcome added stay in the
//! offers' evidence, as a data set's `evidence` counts the courses of its `outcomes`: the core
//! takes the history's episodes out of it once (`effect::beyond_history`), so no outcome
//! counts twice, and none takes a trial of an offer's own record with it.
//!
//! Owns that translation only: no SQL (the store's), no HTTP (the handlers'), no estimating
//! (the core's `effect`).

use crate::server::store::HistoryRow;
use matcher_core::model::{
    AgeBand, Episode, EpisodeId, GroupSet, MunicipalityCode, Offer, OfferId, ReferenceData,
};

/// The rows as episodes of the core. A row the reference data can no longer read (a target
/// group or benefit kind since removed) or whose offer is not among `offers` is left out, as
/// the core would refuse it; the number left out is returned.
pub fn episodes(
    rows: &[HistoryRow],
    reference: &ReferenceData,
    offers: &[std::sync::Arc<Offer>],
) -> (Vec<Episode>, usize) {
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

    fn row(offer: Option<&str>, success: bool) -> HistoryRow {
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
        }
    }

    #[test]
    fn stored_episodes_become_the_cores_history() {
        let reference = ReferenceData::embedded().unwrap();
        let data = matcher_core::generate(matcher_core::Scale::Demo, 1, &reference);
        let offers = vec![data.offers[0].clone()];
        let id = offers[0].id.to_string();
        let rows = vec![row(Some(&id), true), row(Some(&id), false), row(None, true)];
        let (read, skipped) = episodes(&rows, &reference, &offers);
        assert_eq!((read.len(), skipped), (3, 0));
        assert_eq!(read[2].offer, None, "a no-offer record is the comparison group");
        // An offer the catalogue does not hold is left out (the core would refuse the row).
        let (_, skipped) = episodes(&[row(Some("gone-offer"), true)], &reference, &offers);
        assert_eq!(skipped, 1);
    }
}
