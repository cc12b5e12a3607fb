use super::world::{Variant, evaluate, generate};
use crate::model::ReferenceData;
use std::sync::Arc;

#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn measure_worlds() {
    let r = Arc::new(ReferenceData::embedded().unwrap());
    let seeds: Vec<u64> = std::env::var("SEEDS")
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|_| vec![1, 2, 3]);
    let variants: Vec<Variant> = std::env::var("VARIANTS")
        .map(|s| s.split(',').filter_map(Variant::parse).collect())
        .unwrap_or_else(|_| vec![Variant::Base]);
    for v in variants {
        for &seed in &seeds {
            let w = generate(v, seed, &r).unwrap();
            let mut policy = crate::policy::Policy::national_default();
            if let Ok(text) = std::env::var("WEIGHTS") {
                let w: Vec<f64> = text.split(',').filter_map(|x| x.parse().ok()).collect();
                let p = &mut policy.weights;
                [p.group_fit, p.evidence, p.distance, p.occupation, p.urgency, p.effect, p.continuity, p.preference] =
                    [w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]];
            }
            if let Ok(text) = std::env::var("SCALE") {
                policy.effect.scale_dkk = text.parse().unwrap();
            }
            let policies = Arc::new(crate::policy::PolicySet { national: policy, municipal: Vec::new() });
            let e = evaluate(&w, r.clone(), policies, seed).unwrap();
            let s = e.shares();
            println!(
                "{:7} seed {seed:3}: oracle {:8.1}  with {:5.1}%  without {:5.1}%  estimated {:5.1}%  random {:5.1}%  nearest {:5.1}%",
                v.label(),
                e.oracle,
                100.0 * s[0],
                100.0 * s[1],
                100.0 * s[2],
                100.0 * s[3],
                100.0 * s[4]
            );
        }
    }
}
