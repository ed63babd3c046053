//! Retrying a request, the same way for every provider. Throttling (429, 503) is flow control, not
//! failure (README, "Safety"): it is waited out as long as the cycle's throttle budget lasts, and
//! every request to that directory waits with it. Other transient failures get a bounded number of
//! attempts, with the directory's `Retry-After` honoured (RFC 9110 §10.2.3) or exponential backoff
//! otherwise. Which answers are which is the provider's call; when to send again is decided here.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::budget::{DEFAULT_CONCURRENCY, DirectoryBudget};
use super::http_date;

/// The longest wait between two attempts, whatever a directory's `Retry-After` asks.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The shortest wait a directory's `Retry-After` can ask for, and the shortest hold after any
/// throttling answer: a storm of them never repeats a request at network speed.
pub const RETRY_AFTER_FLOOR: Duration = Duration::from_secs(1);
/// How long one cycle waits out a directory's throttling, in all, before it gives up on the
/// requests still throttled: minutes, so that a directory that paces its clients is followed,
/// while one that throttles without end still ends the cycle (the rest waits for the next).
pub const THROTTLE_BUDGET: Duration = Duration::from_secs(5 * 60);

/// What one attempt came to.
pub enum Attempt<T> {
    /// The final answer.
    Done(T),
    /// The directory is throttling (429, 503): sent again after `after` (else backoff) for as
    /// long as the throttle budget lasts; `give_up` is the answer when it is spent.
    Throttled { after: Option<Duration>, give_up: T },
    /// A transient failure, worth another attempt after `after` (else backoff); `give_up` is
    /// the answer when no attempt is left.
    Retry { after: Option<Duration>, give_up: T },
}

/// The pace of one cycle's requests to one directory. The directory's budget (shared with
/// every other client of it) holds every request while the directory's `Retry-After` runs and
/// limits the requests in flight; the time this cycle spends held is counted against its own
/// throttle budget, once however many of its requests waited together.
pub struct Pacer {
    shared: Arc<DirectoryBudget>,
    budget: Duration,
    state: Mutex<Held>,
    jitter: Jitter,
}

/// Where backoff's jitter comes from: a fraction in [0, 1).
pub type Jitter = fn() -> f64;

struct Held {
    /// How long this cycle has been held so far…
    held: Duration,
    /// …counted up to this instant.
    counted_until: Instant,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(THROTTLE_BUDGET)
    }
}

impl Pacer {
    /// A pacer with a directory budget of its own.
    pub fn new(budget: Duration) -> Self {
        Pacer::sharing(Arc::new(DirectoryBudget::new(DEFAULT_CONCURRENCY)), budget)
    }

    /// A pacer of one cycle towards the directory whose budget is `shared`.
    pub fn sharing(shared: Arc<DirectoryBudget>, budget: Duration) -> Self {
        Pacer {
            shared,
            budget,
            state: Mutex::new(Held {
                held: Duration::ZERO,
                counted_until: Instant::now(),
            }),
            jitter: random_fraction,
        }
    }

    /// This pacer, with its backoff's jitter from `jitter` (tests make it predictable).
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Backoff before attempt `attempt + 1`, jittered: between half of `backoff(attempt)` and
    /// all of it, so that clients that failed together do not all come back together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let half = backoff(attempt) / 2;
        // `mul_f64` panics on what is not finite: such a source gives no jitter.
        let fraction = Some((self.jitter)()).filter(|f| f.is_finite()).unwrap_or(0.0);
        half + half.mul_f64(fraction.clamp(0.0, 1.0))
    }

    /// Requests in flight at once towards the directory.
    pub fn limit(&self) -> usize {
        self.shared.limit()
    }

    /// See `DirectoryBudget::still`.
    pub async fn still(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.shared.still().await
    }

    /// Counts a hold until `until` against this cycle's budget; false when it would pass it.
    fn count(&self, until: Instant) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let now = Instant::now();
        let added = until.saturating_duration_since(state.counted_until.max(now));
        if state.held + added > self.budget {
            return false;
        }
        state.held += added;
        state.counted_until = state.counted_until.max(until);
        true
    }

    /// Waits until requests may be sent again (a hold of this cycle's or another's).
    pub async fn ready(&self) {
        loop {
            let not_before = self.shared.not_before();
            if not_before <= Instant::now() {
                return;
            }
            // Time held by another configuration's throttling counts too: a directory that
            // throttles without end ends this cycle, whoever it answered.
            self.count(not_before);
            tokio::time::sleep_until(not_before).await;
        }
    }

    /// The directory asked to wait `wait` (at least `RETRY_AFTER_FLOOR`): holds every request
    /// to it until then. False when that would take this cycle's holds past its budget (the
    /// caller gives up instead).
    pub fn hold(&self, wait: Duration) -> bool {
        let until = Instant::now() + wait.max(RETRY_AFTER_FLOOR);
        if !self.count(until) {
            return false;
        }
        self.shared.hold_until(until);
        true
    }
}

/// Runs `attempt(1)`, `attempt(2)`, … through `pacer` until one is `Done`, the throttle budget
/// is spent, or `attempts` transient failures were met.
pub async fn with_retries<T, F, Fut>(attempts: u32, pacer: &Pacer, attempt: F) -> T
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    retrying(attempts, pacer, false, attempt).await
}

/// `with_retries` for a write: each attempt also waits while a listing holds the directory
/// still (`DirectoryBudget::still`).
pub async fn writing_with_retries<T, F, Fut>(attempts: u32, pacer: &Pacer, attempt: F) -> T
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    retrying(attempts, pacer, true, attempt).await
}

async fn retrying<T, F, Fut>(attempts: u32, pacer: &Pacer, write: bool, mut attempt: F) -> T
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let (mut number, mut throttles, mut failures) = (1, 0, 0);
    loop {
        pacer.ready().await;
        // The write slot before the permit: a write waiting for a listing holds no place
        // among the requests in flight, so the listing's own pages are never kept waiting.
        let slot = if write {
            Some(pacer.shared.write_slot().await)
        } else {
            None
        };
        let permit = pacer.shared.permit().await;
        let answer = attempt(number).await;
        drop(permit);
        drop(slot);
        match answer {
            Attempt::Done(answer) => return answer,
            Attempt::Throttled { after, give_up } => {
                throttles += 1;
                if !pacer.hold(after.unwrap_or_else(|| pacer.backoff(throttles))) {
                    return give_up;
                }
            }
            Attempt::Retry { after, give_up } => {
                failures += 1;
                if failures >= attempts {
                    return give_up;
                }
                tokio::time::sleep(after.unwrap_or_else(|| pacer.backoff(failures))).await;
            }
        }
        number += 1;
    }
}

/// Exponential backoff before attempt `attempt + 1` (200 ms, 400 ms, …), capped.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(2u64.saturating_pow(attempt.saturating_sub(1)))).min(MAX_BACKOFF)
}

/// A fraction in [0, 1) that differs from call to call: std's `RandomState` has keys random
/// per thread and different for each new state, which is all jitter needs (no crate for it).
fn random_fraction() -> f64 {
    let bits = RandomState::new().hash_one(std::time::Instant::now()) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

/// A directory's `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as a wait
/// of at least `RETRY_AFTER_FLOOR` — `0` or a date already past is a second, not a request
/// sent again at once — and at most `MAX_BACKOFF`. Anything else (a negative number, a
/// fraction, garbage) is as if absent: backoff.
pub fn retry_after(header: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    retry_after_at(header?.to_str().ok()?, jiff::Timestamp::now())
}

/// `retry_after`, with the clock read at `now`.
fn retry_after_at(text: &str, now: jiff::Timestamp) -> Option<Duration> {
    let text = text.trim();
    let wait = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        // delay-seconds = 1*DIGIT; more digits than a u64 holds ask for longer than the cap.
        text.parse().map_or(MAX_BACKOFF, Duration::from_secs)
    } else {
        let ahead = http_date::parse(text)?.duration_since(now);
        // A date already past asks for no wait at all: the floor.
        Duration::try_from(ahead).unwrap_or(Duration::ZERO)
    };
    Some(wait.clamp(RETRY_AFTER_FLOOR, MAX_BACKOFF))
}

#[cfg(test)]
mod tests;
