//! Evidence of effect: success rates shrunk toward the target group's average with a Beta
//! prior, so that 1 success in 1 trial never outranks 80 in 100.

use serde::{Deserialize, Serialize};

/// The posterior of an offer's success rate for one target group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Posterior {
    /// Trials observed.
    pub trials: u32,
    /// Successes observed.
    pub successes: u32,
    /// Posterior mean success rate.
    pub mean: f64,
    /// Lower end of the central 90% credible interval.
    pub low: f64,
    /// Upper end of the central 90% credible interval.
    pub high: f64,
}

/// Posterior mean of a Beta(`prior_mean`·`strength`, (1−`prior_mean`)·`strength`) prior
/// updated with the observed counts.
pub fn posterior_mean(successes: u32, trials: u32, prior_mean: f64, strength: f64) -> f64 {
    (f64::from(successes) + prior_mean * strength) / (f64::from(trials) + strength)
}

/// The full posterior with its 90% interval. Parameters as for [`posterior_mean`]; a prior
/// strength of 0 with no trials gives the uninformative Beta(1, 1) instead of an undefined one.
pub fn posterior(successes: u32, trials: u32, prior_mean: f64, strength: f64) -> Posterior {
    let successes = successes.min(trials);
    let mut a = f64::from(successes) + prior_mean * strength;
    let mut b = f64::from(trials - successes) + (1.0 - prior_mean) * strength;
    if a <= 0.0 || b <= 0.0 {
        a += 1.0;
        b += 1.0;
    }
    Posterior {
        trials,
        successes,
        mean: a / (a + b),
        low: beta_quantile(0.05, a, b),
        high: beta_quantile(0.95, a, b),
    }
}

/// Posteriors already computed, by the four numbers they are computed from, so a hit is the
/// same bits as [`posterior`]. A Beta quantile costs a few microseconds of bisection, and a
/// service explaining suggestions asks for the same few hundred intervals again and again;
/// keyed by its inputs (not by offer), one cache serves every scorer derived from another,
/// across evidence refreshes (keyed by offer, each refresh's new scorer started empty, and
/// the bisection held ~4 % of the service's CPU at 100 outcomes a second). Shared by `Arc`.
#[derive(Debug, Default)]
pub struct PosteriorCache {
    map: std::sync::RwLock<std::collections::HashMap<PosteriorKey, Posterior>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct PosteriorKey {
    successes: u32,
    trials: u32,
    prior_mean: u64,
    strength: u64,
}

impl PosteriorCache {
    /// Entries kept at most; past it the cache starts again (counts that outcomes have moved
    /// on from would otherwise stay for the life of the service).
    const LIMIT: usize = 1 << 16;

    /// [`posterior`] of these numbers, computed once.
    pub fn posterior(&self, successes: u32, trials: u32, prior_mean: f64, strength: f64) -> Posterior {
        let key = PosteriorKey {
            successes,
            trials,
            prior_mean: prior_mean.to_bits(),
            strength: strength.to_bits(),
        };
        if let Some(p) = self.map.read().ok().and_then(|m| m.get(&key).copied()) {
            return p;
        }
        let p = posterior(successes, trials, prior_mean, strength);
        if let Ok(mut m) = self.map.write() {
            if m.len() >= Self::LIMIT {
                m.clear();
            }
            m.insert(key, p);
        }
        p
    }
}

/// Quantile of the Beta(a, b) distribution by bisection on the regularised incomplete beta.
fn beta_quantile(p: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if regularized_incomplete_beta(mid, a, b) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9), accurate to about 1e-15 for x > 0.
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let series = C[1..].iter().enumerate().fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

/// I_x(a, b), by the continued fraction of Numerical Recipes (modified Lentz).
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * continued_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * continued_fraction(1.0 - x, b, a) / b
    }
}

fn continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        for aa in
            [m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))]
        {
            d = 1.0 + aa * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + aa / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cached posterior is the computed one, bit for bit, for counts and priors that differ
    /// only a little (a prior differing in its last bit is its own entry), and the cache
    /// starts again past its limit instead of growing.
    #[test]
    fn the_posterior_cache_gives_what_is_computed() {
        let cache = PosteriorCache::default();
        let near = f64::from_bits(0.3f64.to_bits() + 1);
        for round in 0..2 {
            for (s, n, m, k) in [
                (3, 7, 0.3, 20.0),
                (3, 7, near, 20.0),
                (7, 3, 0.3, 20.0),
                (0, 0, 0.5, 0.0),
                (80, 100, 0.3, 2.0),
            ] {
                let cached = cache.posterior(s, n, m, k);
                let computed = posterior(s, n, m, k);
                assert_eq!(cached, computed, "round {round}: {s} of {n}, prior {m} x {k}");
                assert_eq!(cached.low.to_bits(), computed.low.to_bits());
                assert_eq!(cached.high.to_bits(), computed.high.to_bits());
            }
        }
        assert_eq!(cache.map.read().map(|m| m.len()).unwrap_or(0), 5);
        for n in 0..PosteriorCache::LIMIT as u32 {
            let _ = cache.posterior(0, n, 0.5, 2.0);
        }
        let len = cache.map.read().map(|m| m.len()).unwrap_or(0);
        assert!(len < 10, "{len} entries after the limit: the cache did not start again");
    }

    #[test]
    fn small_samples_do_not_beat_large_ones() {
        // Prior: the group averages 30% with the weight of 20 trials.
        let one_of_one = posterior_mean(1, 1, 0.3, 20.0);
        let eighty_of_hundred = posterior_mean(80, 100, 0.3, 20.0);
        assert!(eighty_of_hundred > one_of_one, "{eighty_of_hundred} vs {one_of_one}");
        assert!((posterior_mean(0, 0, 0.3, 20.0) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn interval_matches_known_beta_quantiles() {
        // Beta(2, 2): the 5% quantile is 0.135350, the 95% quantile 0.864650.
        let p = posterior(1, 2, 0.5, 2.0);
        assert!((p.low - 0.135_350).abs() < 1e-5, "{}", p.low);
        assert!((p.high - 0.864_650).abs() < 1e-5, "{}", p.high);
        // Beta(81, 21) from 80 of 100 with a flat prior; quantiles from scipy.stats.beta.ppf.
        let q = posterior(80, 100, 0.5, 2.0);
        assert!((q.mean - 81.0 / 102.0).abs() < 1e-12);
        assert!((q.low - 0.725_410).abs() < 1e-5 && (q.high - 0.856_241).abs() < 1e-5, "{q:?}");
        assert!(q.low < q.mean && q.mean < q.high);
        // More trials, narrower interval.
        let wide = posterior(1, 1, 0.3, 20.0);
        let narrow = posterior(800, 1000, 0.3, 20.0);
        assert!(narrow.high - narrow.low < wide.high - wide.low);
    }
}
