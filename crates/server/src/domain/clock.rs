//! The server's one source of "now". Everything that depends on the time (availability,
//! callback due times, created_ms of stored rows) asks the [`Clock`] in the state, so tests can
//! pin or move time instead of sleeping or racing the wall clock.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Current time as Unix milliseconds (UTC).
pub trait Clock: Debug + Send + Sync + 'static {
    fn now_ms(&self) -> i64;
}

/// A clock shared between the server and whoever set it up (tests keep a handle).
pub type SharedClock = Arc<dyn Clock>;

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
    }
}

/// A clock that stands still until told otherwise: for tests.
#[derive(Debug, Default)]
pub struct ManualClock {
    now_ms: AtomicI64,
}

impl ManualClock {
    pub fn at(now_ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock { now_ms: AtomicI64::new(now_ms) })
    }

    pub fn set(&self, now_ms: i64) {
        self.now_ms.store(now_ms, Ordering::SeqCst);
    }

    pub fn advance(&self, by: Duration) {
        self.now_ms.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

/// Starts at a chosen instant and then advances in real time. Behind the testing-only
/// `--fake-now` option, so end-to-end tests can put a server into "Monday 17:50 in Riga".
#[derive(Debug)]
pub struct ShiftedClock {
    start_ms: i64,
    started: Instant,
}

impl ShiftedClock {
    pub fn starting_at(start_ms: i64) -> ShiftedClock {
        ShiftedClock { start_ms, started: Instant::now() }
    }
}

impl Clock for ShiftedClock {
    fn now_ms(&self) -> i64 {
        self.start_ms + self.started.elapsed().as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_ms(), 3_000);
        clock.set(10);
        assert_eq!(clock.now_ms(), 10);
    }

    #[test]
    fn shifted_clock_starts_at_the_fake_instant_and_runs_forward() {
        let clock = ShiftedClock::starting_at(1_790_000_000_000);
        let a = clock.now_ms();
        assert!((1_790_000_000_000..1_790_000_001_000).contains(&a));
        std::thread::sleep(Duration::from_millis(5));
        assert!(clock.now_ms() >= a + 5);
    }
}
