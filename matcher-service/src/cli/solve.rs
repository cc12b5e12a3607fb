//! `matcher solve`: solves an instance in the peers' neutral format and prints one JSON line.

use crate::cli::out::say;
use anyhow::{Context, bail};
use clap::ValueEnum;
use matcher_core::assign::{self, Mode, Problem, Solution, SolveOptions};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct SolveArgs {
    /// Instance file in the peers' neutral format (`p`/`r`/`e` lines; see `matcher_core::assign::format`).
    file: PathBuf,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Algorithm.
    #[arg(long, value_enum, default_value_t = CliMode::Exact)]
    mode: CliMode,
    /// Continuity bonus (the format has no current offers, so it only matters with
    /// `--warm-check`).
    #[arg(long, default_value_t = 0)]
    bonus: i64,
    /// Also measure a warm start: change this fraction of the candidates (new random weights),
    /// make the first solution the current offers, and solve the changed instance cold and warm
    /// (from the first solution's prices).
    #[arg(long)]
    warm_check: Option<f64>,
    /// With `--warm-check`: write the changed instance here, for the peers.
    #[arg(long)]
    write_changed: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum CliMode {
    Exact,
    Stable,
    Greedy,
}

pub(super) fn run(args: &SolveArgs) -> anyhow::Result<()> {
    let name = args.file.display().to_string();
    let t = Instant::now();
    // Read line by line with the arrays reserved from the file's size: the text is never held
    // whole (it was the peak of a solve: 413 of 413 MB on geo 200k).
    let cannot =
        |e: std::io::Error| anyhow::anyhow!("cannot read {name}: {}", matcher_core::error::io_words(&e));
    let file = std::fs::File::open(&args.file).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    // A pipe or `/dev/stdin` has no size to reserve from: read it with growing arrays.
    let problem = if meta.is_file() {
        assign::read_instance_sized(&name, reader, meta.len())?
    } else {
        assign::read_instance(&name, reader)?
    };
    let parse_seconds = t.elapsed().as_secs_f64();
    let mode = match args.mode {
        CliMode::Exact => Mode::Exact,
        CliMode::Stable => Mode::Stable,
        CliMode::Greedy => Mode::Greedy,
    };
    let options =
        SolveOptions { mode, threads: args.threads, continuity_bonus: args.bonus, ..SolveOptions::default() };
    let cpu = cpu_seconds();
    let sol = assign::solve(&problem, &options)?;
    let solve_cpu_seconds = cpu_seconds().zip(cpu).map(|(b, a)| b - a);
    let t = Instant::now();
    let cert = assign::verify(&problem, &sol)?;
    let verify_seconds = t.elapsed().as_secs_f64();
    let mut out = json!({
        "solver": "brobygger",
        "instance": name,
        "mode": format!("{mode:?}").to_lowercase(),
        "objective": sol.objective,
        "matched": sol.matched(),
        "parse_seconds": parse_seconds,
        "solve_seconds": sol.stats.seconds,
        "solve_cpu_seconds": solve_cpu_seconds,
        "verify_seconds": verify_seconds,
        "gap": cert.gap.map(|g| g.to_string()),
        "threads": sol.stats.threads,
        "components": sol.stats.components,
        "largest_component": sol.stats.largest_component,
        "phases": sol.stats.phases,
        "iterations": sol.stats.iterations,
        // Where the exact solve's time went (seconds, summed over components).
        "parts": sol.stats.parts,
        // Which optimum: two runs returned the same assignment exactly when these agree.
        "assignment_digest": format!("{:016x}", digest(&sol.assignment)),
    });
    // How much optimality leaves open: candidates whose offer differs among the equally good
    // assignments.
    if mode == Mode::Exact {
        let t = Instant::now();
        let face = assign::face(&problem, &sol)?;
        out["ties"] = json!({
            "open_candidates": face.n_open(),
            "other_offers": face.others.len(),
            "may_go_unmatched": face.may_go_unmatched.iter().filter(|&&b| b).count(),
            "seconds": t.elapsed().as_secs_f64(),
        });
    }
    if let Some(frac) = args.warm_check {
        if !(0.0..=1.0).contains(&frac) || mode != Mode::Exact {
            bail!("--warm-check needs a fraction in 0..=1 and --mode exact");
        }
        let mut changed = change_candidates(&problem, frac);
        // Tonight's current offers are last night's result (continuity bonus as given).
        changed.current = sol.assignment.clone();
        if let Some(path) = &args.write_changed {
            write_instance(&changed, path)?;
        }
        let cold = assign::solve(&changed, &options)?;
        let warm_opts = SolveOptions {
            warm_start: Some(sol.offer_prices.clone()),
            warm_assignment: Some(sol.assignment.clone()),
            ..options.clone()
        };
        let warm: Solution = assign::solve(&changed, &warm_opts)?;
        let wc = assign::verify(&changed, &warm)?;
        if warm.objective != cold.objective || wc.gap != Some(0) {
            bail!(
                "warm start disagrees: warm {} (gap {:?}) vs cold {}",
                warm.objective,
                wc.gap,
                cold.objective
            );
        }
        out["warm_changed_fraction"] = json!(frac);
        out["warm_cold_seconds"] = json!(cold.stats.seconds);
        out["warm_seconds"] = json!(warm.stats.seconds);
        out["warm_objective"] = json!(warm.objective);
        out["warm_iterations"] = json!(warm.stats.iterations);
        out["warm_cold_iterations"] = json!(cold.stats.iterations);
        out["warm_repair"] = json!(warm.stats.warm_repair);
    }
    out["peak_rss_mb"] = json!(peak_rss_mb());
    say!("{out}");
    Ok(())
}

/// A copy of `p` where every `1/frac`-th candidate gets fresh weights in `1..=10000` (the
/// generator's range), deterministically.
fn change_candidates(p: &Problem, frac: f64) -> Problem {
    let mut q = p.clone();
    let k = ((p.n_candidates as f64 * frac).ceil() as usize).max(1);
    let stride = (p.n_candidates / k).max(1);
    let mut rng = matcher_core::r#gen::rng::Rng::new(0x9E37_79B9_7F4A_7C15, 0);
    for i in (0..p.n_candidates).step_by(stride).take(k) {
        for w in &mut q.weights[p.offsets[i]..p.offsets[i + 1]] {
            *w = i64::from(rng.between(1, 10_000));
        }
    }
    q
}

/// Writes `p` in the peers' neutral format (see [`assign::write_instance`]).
fn write_instance(p: &Problem, path: &Path) -> anyhow::Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    assign::write_instance(p, std::io::BufWriter::new(f))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// CPU time used so far by every thread of this process (Linux `/proc/self/stat`, clock
/// ticks of 10 ms), `None` elsewhere. On a shared machine it says what a solve cost better
/// than the wall clock, which counts the time other processes held the cores.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at the state, field 3;
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split(' ').skip(11);
    let utime: f64 = f.next()?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Peak resident memory of this process (Linux `VmHWM`), `None` elsewhere.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// FNV-1a over the assignment (unmatched as `u32::MAX`, little-endian): a short name for which
/// optimum a run returned, to compare runs and solver paths without writing the assignment out.
fn digest(assignment: &[Option<u32>]) -> u64 {
    let bytes: Vec<u8> = assignment.iter().flat_map(|a| a.unwrap_or(u32::MAX).to_le_bytes()).collect();
    matcher_core::dataset::snapshot::fnv1a64(&bytes)
}
