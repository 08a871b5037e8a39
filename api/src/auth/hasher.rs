//! Argon2 work on threads of its own. Hashing a secret is slow on purpose (tens of milliseconds
//! of CPU); run on the threads that serve database work, a flood of sign-ins starved every other
//! request. Here it runs on one dedicated thread with a bounded queue: at most one core hashes,
//! and when the queue is full a sign-in is told to retry instead of waiting.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// Sign-ins waiting for the hashing thread before new ones are refused.
const QUEUE: usize = 64;

/// Runs Argon2 work on its dedicated thread.
#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
}

impl Hasher {
    /// Starts `threads` hashing threads.
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = sync_channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("tthc-hasher-{i}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Self { jobs })
    }

    /// Runs `f` on a hashing thread and answers its result; 503 when too many wait already.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::Unavailable(
                    "too many sign-ins are being checked; retry in a moment".into(),
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::Internal("the hashing thread stopped".into()));
            }
        }
        rx.await
            .map_err(|_| ApiError::Internal("the hashing thread dropped a job".into()))
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only to take one job; a poisoned lock means a job panicked while
        // another thread took one, and the queue itself is still sound.
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn runs_jobs_off_the_caller_thread() {
        let hasher = Hasher::start(1).unwrap();
        let (value, thread) = hasher
            .run(|| (6 * 7, std::thread::current().name().map(str::to_owned)))
            .await
            .unwrap();
        assert_eq!(value, 42);
        assert_eq!(thread.as_deref(), Some("tthc-hasher-0"));
    }
}
