//! `matcher oversight` (the oversight figures of one municipality as a page in Danish for the
//! head of the job centre, or JSON) and `matcher retention` (delete the records past their
//! retention period, or count them with `--dry-run`), both on the service's database file.

use crate::cli::flags::{parse_date, read_policies};
use crate::cli::out::say;
use crate::server;
use anyhow::{Context, bail};
use matcher_core::model::Date;
use std::path::{Path, PathBuf};

/// Flags of `matcher oversight`.
#[derive(clap::Args)]
pub struct OversightArgs {
    /// The service's SQLite file.
    #[arg(long)]
    db: PathBuf,
    /// The municipality (kommunekode), e.g. 0851.
    #[arg(long)]
    municipality: u16,
    /// First day of decisions counted (YYYY-MM-DD); default 29 days before `--to`.
    #[arg(long, value_parser = parse_date)]
    from: Option<Date>,
    /// Last day counted (YYYY-MM-DD); default today (UTC).
    #[arg(long, value_parser = parse_date)]
    to: Option<Date>,
    /// Policy file(s) as `serve --policy` takes them: the `[oversight]` thresholds.
    #[arg(long = "policy")]
    policies: Vec<PathBuf>,
    /// Write the page (HTML, Danish) here; without it, the JSON of `GET /v1/oversight` goes to
    /// stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Flags of `matcher retention`.
#[derive(clap::Args)]
pub struct RetentionArgs {
    /// The service's SQLite file.
    #[arg(long)]
    db: PathBuf,
    /// Policy file(s) as `serve --policy` takes them: the `[retention]` periods.
    #[arg(long = "policy")]
    policies: Vec<PathBuf>,
    /// The day periods are counted back from (YYYY-MM-DD); default today (UTC).
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    /// Count what is due, delete nothing.
    #[arg(long)]
    dry_run: bool,
}

fn existing_store(db: &Path) -> anyhow::Result<server::store::Store> {
    if !db.is_file() {
        bail!("{}: no such database file", db.display());
    }
    server::store::Store::open(db).with_context(|| format!("opening {}", db.display()))
}

/// `matcher oversight`.
pub(super) fn oversight(args: &OversightArgs) -> anyhow::Result<()> {
    let policies = read_policies(&args.policies)?;
    let store = existing_store(&args.db)?;
    let to = args.to.unwrap_or_else(crate::clock::today_utc);
    let from = args.from.unwrap_or(to.plus_days(-29));
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let (from, to) = (from.to_string(), to.to_string());
    let m = args.municipality;
    let rows = store.decisions_shown(m, &from, &to).context("reading the decisions")?;
    let policy = policies.get(policies.index_for(matcher_core::model::MunicipalityCode(m)));
    let o = server::oversight::oversight(m, (&from, &to), &rows, &policy.oversight, (None, usize::MAX));
    match &args.out {
        Some(path) => {
            std::fs::write(path, server::pages::oversight_page(&o))
                .with_context(|| format!("writing {}", path.display()))?;
            let flagged = o.caseworkers.iter().chain(&o.teams).filter(|g| g.figures.rubber_stamp).count();
            eprintln!("{}: {} decisions, {flagged} groups flagged", path.display(), o.total.decisions);
        }
        None => say!("{}", serde_json::to_string_pretty(&o)?),
    }
    Ok(())
}

/// `matcher retention`.
pub(super) fn retention(args: &RetentionArgs) -> anyhow::Result<()> {
    let policies = read_policies(&args.policies)?;
    let store = existing_store(&args.db)?;
    let today = args.today.unwrap_or_else(crate::clock::today_utc);
    let done =
        server::retention::enforce(&store, &policies, today, args.dry_run).context("applying retention")?;
    let verb = if args.dry_run { "due (dry run, nothing deleted)" } else { "deleted" };
    say!("municipality\tsuggestion_log\taccess_log\tdecisions\toutcomes\tbatch_runs");
    for d in &done {
        say!(
            "{:04}\t{}\t{}\t{}\t{}\t{}",
            d.municipality,
            d.suggestion_log,
            d.access_log,
            d.decisions,
            d.outcomes,
            d.batch_runs
        );
    }
    let total: u64 =
        done.iter().map(|d| d.suggestion_log + d.access_log + d.decisions + d.outcomes + d.batch_runs).sum();
    eprintln!("retention on {today}: {total} records {verb}");
    Ok(())
}
