//! Progress of a long run, counted for whoever shows it.
//!
//! The core never draws anything and knows no terminal: a run counts its phase and the work
//! done in it in a few atomics, and the binary polls them to draw progress bars. Counting
//! costs one relaxed atomic add per chunk of work, and nothing when no [`Progress`] is given.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// The long phases of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Scoring the candidates and building the candidate graph (counted in candidates).
    Graph,
    /// The exact solve and its certificate check (not counted: the solver reports no steps).
    Solve,
    /// Proposals, prices and the report's numbers (counted in candidates).
    Proposals,
    /// The caseload plan.
    Caseloads,
    /// Writing the run's files (counted in files).
    Writing,
}

impl Phase {
    const ALL: [Phase; 5] = [Phase::Graph, Phase::Solve, Phase::Proposals, Phase::Caseloads, Phase::Writing];

    /// A short English label for logs and progress bars.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Graph => "scoring and building the graph",
            Phase::Solve => "solving and verifying",
            Phase::Proposals => "proposals",
            Phase::Caseloads => "proposing caseworkers",
            Phase::Writing => "writing the run",
        }
    }
}

/// The current phase and how far it has come. Shared by `Arc` between a run and its observer.
#[derive(Debug, Default)]
pub struct Progress {
    /// 0 before the first phase, else the index in `Phase::ALL` plus one.
    phase: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
}

/// What an observer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// The phase under way, if any.
    pub phase: Option<Phase>,
    /// Units done in it.
    pub done: u64,
    /// Units in all; 0 when the phase is not counted.
    pub total: u64,
}

impl Progress {
    /// Starts a phase of `total` units (0 = not counted).
    pub fn start(&self, phase: Phase, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        let index = Phase::ALL.iter().position(|&p| p == phase).unwrap_or(0);
        self.phase.store(index as u8 + 1, Ordering::Release);
    }

    /// Counts `units` more done.
    pub fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// Adds units to the current phase's total, for work it learns of only once under way (a
    /// phase started uncounted, total 0, becomes counted).
    pub fn add_total(&self, units: u64) {
        self.total.fetch_add(units, Ordering::Relaxed);
    }

    /// The current state.
    pub fn snapshot(&self) -> Snapshot {
        let phase = self.phase.load(Ordering::Acquire);
        Snapshot {
            phase: (phase as usize).checked_sub(1).and_then(|i| Phase::ALL.get(i).copied()),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}

/// Starts `phase` on `progress`, if there is one.
pub(crate) fn start(progress: Option<&Progress>, phase: Phase, total: u64) {
    if let Some(p) = progress {
        p.start(phase, total);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_starts_from_zero_and_counts_up() {
        let p = Progress::default();
        assert_eq!(p.snapshot().phase, None);
        p.start(Phase::Graph, 10);
        p.advance(4);
        p.advance(3);
        assert_eq!(p.snapshot(), Snapshot { phase: Some(Phase::Graph), done: 7, total: 10 });
        p.start(Phase::Caseloads, 0);
        assert_eq!(p.snapshot(), Snapshot { phase: Some(Phase::Caseloads), done: 0, total: 0 });
    }

    #[test]
    fn work_learnt_of_under_way_raises_the_total() {
        let p = Progress::default();
        p.start(Phase::Writing, 8);
        p.advance(2);
        p.add_total(4);
        assert_eq!(p.snapshot(), Snapshot { phase: Some(Phase::Writing), done: 2, total: 12 });
        // The next phase starts from its own total again.
        p.start(Phase::Graph, 5);
        assert_eq!(p.snapshot(), Snapshot { phase: Some(Phase::Graph), done: 0, total: 5 });
    }
}
