//! Whether a worker is still doing its job, for its readiness probe: it beats each time
//! it claims work or finds none due, and after each group of results it records. A
//! worker whose database stopped answering, or whose loop is stuck, stops beating.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Heartbeat {
    /// Milliseconds since the epoch of the last beat; 0 before the first.
    last: Arc<AtomicI64>,
    /// How long without a beat is too long: a batch's calls all start within the lease,
    /// so a working worker beats at least once per lease and idle poll.
    stale_after: Duration,
}

impl Heartbeat {
    pub fn new(stale_after: Duration) -> Heartbeat {
        Heartbeat {
            last: Arc::new(AtomicI64::new(0)),
            stale_after,
        }
    }

    pub fn beat(&self) {
        self.last
            .store(crate::store::now_millis(), Ordering::Relaxed);
    }

    /// How long ago the last beat was, or why the worker is not ready.
    pub fn check(&self, now_millis: i64) -> Result<Duration, String> {
        let last = self.last.load(Ordering::Relaxed);
        if last == 0 {
            return Err("it has not yet claimed work nor found none due".into());
        }
        let age = Duration::from_millis(now_millis.saturating_sub(last).max(0) as u64);
        if age > self.stale_after {
            return Err(format!(
                "it last claimed work or found none due {} s ago (more than {} s)",
                age.as_secs(),
                self.stale_after.as_secs()
            ));
        }
        Ok(age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_is_ready_from_its_first_beat_until_it_stops_beating() {
        let heartbeat = Heartbeat::new(Duration::from_secs(10));
        assert!(heartbeat.check(crate::store::now_millis()).is_err());
        heartbeat.beat();
        let now = crate::store::now_millis();
        assert!(heartbeat.check(now).is_ok());
        let later = heartbeat.check(now + 11_000).unwrap_err();
        assert!(later.contains("more than 10 s"), "{later}");
    }
}
