//! The threads that answer `POST /v1/suggestions` (`--answer-threads`, one per core by
//! default): a fixed set of plain threads taking jobs from one queue, each job run to its end.
//! Tokio's blocking pool grows a thread per request in flight instead (8 or more at 8
//! connections on 2 cores), which cost ~20 % more CPU per answer; a rayon pool did as well as
//! this one but spins idle threads, and this is all the pool needs (`docs/service.md`,
//! "Suggestions with the log, session 7"). A job that panics is caught in
//! the job (the caller turns it into an error); the threads outlive every job and stop when
//! the pool is dropped. Owns no state of the service and must not run long work (batch runs
//! and writes go through `spawn_blocking`).

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed pool of answer threads.
pub struct AnswerPool {
    jobs: Sender<Job>,
}

impl AnswerPool {
    /// Starts `threads` threads (at least one).
    ///
    /// # Errors
    /// When a thread cannot be started.
    pub fn start(threads: usize) -> std::io::Result<AnswerPool> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new().name(format!("answer-{i}")).spawn(move || work(&queue))?;
        }
        Ok(AnswerPool { jobs })
    }

    /// Queues a job; false when the threads have stopped (the job is dropped, not run).
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) -> bool {
        self.jobs.send(Box::new(job)).is_ok()
    }
}

/// One thread: takes the next job (one thread waits in `recv`, the others on the lock) and
/// runs it; ends when the pool's sender is dropped.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        match job {
            // A panicking job must not end the thread: the caller's channel reports it.
            Ok(job) => {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_on_the_pool_and_a_panic_does_not_stop_it() {
        let pool = AnswerPool::start(2).expect("threads");
        let (tx, rx) = channel();
        assert!(pool.spawn(|| panic!("a job that panics")));
        for i in 0..10 {
            let tx = tx.clone();
            assert!(pool.spawn(move || {
                let name = std::thread::current().name().unwrap_or("").to_string();
                tx.send((i, name)).expect("send");
            }));
        }
        drop(tx);
        let mut got: Vec<(i32, String)> = rx.iter().collect();
        got.sort();
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
        assert!(got.iter().all(|g| g.1.starts_with("answer-")), "{got:?}");
    }
}
