//! Batch runs: their rows, results and the prices of the latest run per municipality.

use super::{Result, Store, StoreError, now_rfc3339};
use rusqlite::{OptionalExtension, TransactionBehavior, params};

/// A batch run's row.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// Run id: the tenant's number for it.
    pub id: i64,
    /// `running`, `finished` or `failed`.
    pub status: String,
    /// Start time.
    pub started_at: String,
    /// End time.
    pub finished_at: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Summary JSON.
    pub summary: Option<String>,
    /// Proposals JSON.
    pub proposals: Option<String>,
}

/// A batch run just started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartedBatch {
    /// The row id, for [`Store::finish_batch`] (never shown: its sequence is shared by tenants).
    pub row_id: i64,
    /// The tenant's number for it: the id the API shows.
    pub number: i64,
}

/// The offer prices of a tenant's latest finished batch run.
#[derive(Debug, Clone)]
pub struct PricesRow {
    /// Tenant.
    pub municipality: u16,
    /// The run's number (the tenant's).
    pub number: i64,
    /// The prices (JSON).
    pub prices: String,
}

impl Store {
    /// Starts a batch run row.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a run of this municipality is still running; on storage
    /// failure.
    pub fn start_batch(&self, municipality: u16) -> Result<StartedBatch> {
        self.write(|c| {
            // Immediate: the check and the number are taken under one write lock, also against
            // another process on the same file.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // One run per municipality at a time: a second start while one runs would only
            // queue the same work again (and a client retrying in a loop could fill the CPU).
            let running: Option<i64> = tx
                .query_row(
                    "SELECT number FROM batch_runs WHERE municipality = ?1 AND status = 'running' LIMIT 1",
                    params![municipality],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = running {
                return Err(StoreError::Conflict(format!("batch run {id} is still running")));
            }
            let started = tx.query_row(
                concat!(
                    "INSERT INTO batch_runs (municipality, number, status, started_at)
                 VALUES (?1, ",
                    next_number!("batch_runs"),
                    ",
                    'running', ?2) RETURNING id, number"
                ),
                params![municipality, now_rfc3339()],
                |r| Ok(StartedBatch { row_id: r.get(0)?, number: r.get(1)? }),
            )?;
            tx.commit()?;
            Ok(started)
        })
    }

    /// Finishes a batch run (by row id) with its result or its error.
    ///
    /// # Errors
    /// On storage failure.
    pub fn finish_batch(
        &self,
        id: i64,
        outcome: std::result::Result<(String, String, String), String>,
    ) -> Result<()> {
        self.write(|c| {
            let now = now_rfc3339();
            match outcome {
                Ok((summary, proposals, prices)) => c.execute(
                    "UPDATE batch_runs SET status = 'finished', finished_at = ?2, summary = ?3, proposals = ?4,
                        prices = ?5 WHERE id = ?1",
                    params![id, now, summary, proposals, prices],
                )?,
                Err(error) => c.execute(
                    "UPDATE batch_runs SET status = 'failed', finished_at = ?2, error = ?3 WHERE id = ?1",
                    params![id, now, error],
                )?,
            };
            Ok(())
        })
    }

    /// A tenant's batch run by its number.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown number (another tenant's run is never found).
    pub fn batch(&self, municipality: u16, id: i64) -> Result<BatchRow> {
        self.read(|c| {
            c.query_row(
                "SELECT number, status, started_at, finished_at, error, summary, proposals FROM batch_runs
                 WHERE municipality = ?1 AND number = ?2",
                params![municipality, id],
                |r| {
                    Ok(BatchRow {
                        id: r.get(0)?,
                        status: r.get(1)?,
                        started_at: r.get(2)?,
                        finished_at: r.get(3)?,
                        error: r.get(4)?,
                        summary: r.get(5)?,
                        proposals: r.get(6)?,
                    })
                },
            )
            .optional()?
            .ok_or(StoreError::NotFound("batch run"))
        })
    }

    /// The offer prices of each tenant's latest finished run.
    ///
    /// # Errors
    /// On storage failure.
    pub fn latest_prices(&self) -> Result<Vec<PricesRow>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT municipality, number, prices FROM batch_runs b WHERE status = 'finished'
                 AND number = (SELECT max(number) FROM batch_runs WHERE municipality = b.municipality AND status = 'finished')",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(PricesRow { municipality: r.get(0)?, number: r.get(1)?, prices: r.get(2)? })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Marks runs left `running` by a previous process as failed (they died with it).
    ///
    /// # Errors
    /// On storage failure.
    pub fn fail_interrupted_batches(&self) -> Result<()> {
        self.write(|c| {
            c.execute(
                "UPDATE batch_runs SET status = 'failed', error = 'interrupted by a restart', finished_at = ?1
                 WHERE status = 'running'",
                [now_rfc3339()],
            )?;
            Ok(())
        })
    }

    /// True when the database answers.
    pub fn ping(&self) -> bool {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?)).is_ok()
    }
}
