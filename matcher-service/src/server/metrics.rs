//! A few counters and one latency histogram, written in the Prometheus text format by hand
//! (the exporter crates pull far more than these lines need). Labels are route patterns,
//! never ids.
//!
//! `/metrics` is public, but a count of `POST /v1/decisions` answers or of decision events,
//! read every second, follows a municipality's caseworkers as they work (issue 15, item 7).
//! So without the scraper's token ([`crate::Config::metrics_token`], `Authorization: Bearer …`)
//! it shows only that the process is up; the traffic and events need the token. The token is
//! the operator's, not a tenant's: the figures are over all municipalities.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The service's metrics.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    events: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Counts a finished request.
    pub fn observe(&self, route: &'static str, status: u16, seconds: f64) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route, status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route).or_default();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if seconds <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    /// Counts a domain event, e.g. `decisions_accepted`.
    pub fn event(&self, name: &'static str) {
        if let Ok(mut e) = self.events.lock() {
            *e.entry(name).or_default() += 1;
        }
    }

    /// The Prometheus text exposition: everything for the scraper (`full`), otherwise only
    /// what tells nothing of any tenant's activity. `refreshes` is the catalogue's count of
    /// evidence refreshes and their time in all (`Catalogues::refresh_totals`).
    pub fn render(&self, full: bool, refreshes: crate::server::catalogue::RefreshTotals) -> String {
        let mut out = String::new();
        out.push_str("# HELP brobygger_up The service answers.\n# TYPE brobygger_up gauge\nbrobygger_up 1\n");
        if !full {
            out.push_str("# Traffic and domain events need the scraper's bearer token (--metrics-token).\n");
            return out;
        }
        out.push_str("# HELP brobygger_http_requests_total HTTP requests by route pattern and status.\n");
        out.push_str("# TYPE brobygger_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "brobygger_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP brobygger_http_request_duration_seconds Time from request to response.\n");
        out.push_str("# TYPE brobygger_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                for (bound, n) in BUCKETS.iter().zip(h.counts) {
                    let _ = writeln!(
                        out,
                        "brobygger_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                    );
                }
                let _ = writeln!(
                    out,
                    "brobygger_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "brobygger_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "brobygger_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        out.push_str("# HELP brobygger_events_total Domain events (decisions, outcomes, batch runs).\n");
        out.push_str("# TYPE brobygger_events_total counter\n");
        if let Ok(e) = self.events.lock() {
            for (name, n) in e.iter() {
                let _ = writeln!(out, "brobygger_events_total{{event=\"{name}\"}} {n}");
            }
        }
        out.push_str(
            "# HELP brobygger_evidence_refreshes_total Scorers made again after outcomes (coalesced, beside the requests).\n",
        );
        out.push_str("# TYPE brobygger_evidence_refreshes_total counter\n");
        let _ = writeln!(out, "brobygger_evidence_refreshes_total {}", refreshes.count);
        out.push_str("# HELP brobygger_evidence_refresh_seconds_total Time those refreshes took in all.\n");
        out.push_str("# TYPE brobygger_evidence_refresh_seconds_total counter\n");
        let _ = writeln!(out, "brobygger_evidence_refresh_seconds_total {}", refreshes.time.as_secs_f64());
        out
    }
}

/// Whether `authorization` (the header) carries the configured scraper token. Both sides are
/// hashed before comparing, so the time taken tells nothing about the token.
pub fn is_scraper(configured: Option<&str>, authorization: Option<&str>) -> bool {
    use sha2::{Digest, Sha256};
    let (Some(configured), Some(presented)) =
        (configured.filter(|t| !t.is_empty()), authorization.and_then(|a| a.strip_prefix("Bearer ")))
    else {
        return false;
    };
    Sha256::digest(configured.as_bytes()) == Sha256::digest(presented.trim().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_15_anonymous_metrics_show_no_tenant_activity() {
        let m = Metrics::default();
        m.observe("/v1/decisions", 201, 0.01);
        m.event("decisions_accepted");
        let public = m.render(false, Default::default());
        assert!(public.contains("brobygger_up 1"));
        assert!(!public.contains("decisions"), "{public}");
        assert!(!public.contains("brobygger_http_requests_total{"), "{public}");
        let full = m.render(
            true,
            crate::server::catalogue::RefreshTotals { count: 3, time: std::time::Duration::from_millis(250) },
        );
        assert!(full.contains("decisions_accepted") && full.contains("route=\"/v1/decisions\""));
        assert!(full.contains("brobygger_evidence_refreshes_total 3\n"), "{full}");
        assert!(full.contains("brobygger_evidence_refresh_seconds_total 0.25\n"), "{full}");
        assert!(!public.contains("refresh"), "{public}");
        assert!(is_scraper(Some("s3cret"), Some("Bearer s3cret")));
        assert!(!is_scraper(Some("s3cret"), Some("Bearer other")));
        assert!(!is_scraper(None, Some("Bearer ")));
        assert!(!is_scraper(Some(""), Some("Bearer ")));
    }
}
