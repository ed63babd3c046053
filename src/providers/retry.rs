//! Retrying a request, the same way for every provider. Throttling (429, 503) is flow control,
//! not failure (Trust #6): it is waited out as long as the cycle's throttle budget lasts, and
//! every request to that directory waits with it. Other transient failures get a bounded
//! number of attempts, with the directory's `Retry-After` honoured (RFC 9110 §10.2.3) or
//! exponential backoff otherwise. Which answers are which is the provider's call; when to send
//! again is decided here.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The longest wait between two attempts, whatever a directory's `Retry-After` asks.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
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

/// The pace of the requests to one directory during one cycle: when the directory throttles
/// one request, every request to it waits until the directory's `Retry-After` has passed,
/// instead of each earning a 429 of its own; and the time spent so held is counted against
/// one budget for the whole cycle, whatever the concurrency.
pub struct Pacer {
    budget: Duration,
    state: Mutex<Pace>,
}

struct Pace {
    /// No request is sent before this instant.
    not_before: Instant,
    /// How long the directory has held this pacer's requests so far.
    held: Duration,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new(THROTTLE_BUDGET)
    }
}

impl Pacer {
    pub fn new(budget: Duration) -> Self {
        Pacer {
            budget,
            state: Mutex::new(Pace {
                not_before: Instant::now(),
                held: Duration::ZERO,
            }),
        }
    }

    /// Waits until requests may be sent again.
    pub async fn ready(&self) {
        loop {
            let not_before = self
                .state
                .lock()
                .map_or_else(|_| Instant::now(), |pace| pace.not_before);
            if not_before <= Instant::now() {
                return;
            }
            tokio::time::sleep_until(not_before).await;
        }
    }

    /// The directory asked to wait `wait`: holds every request until then. False when that
    /// would take the hold past the budget (the caller gives up instead).
    pub fn hold(&self, wait: Duration) -> bool {
        let Ok(mut pace) = self.state.lock() else {
            return false;
        };
        let now = Instant::now();
        let until = now + wait;
        // Only the part of the wait beyond an existing hold is new: concurrent requests that
        // were throttled together are one hold, not one each.
        let added = until.saturating_duration_since(pace.not_before.max(now));
        if pace.held + added > self.budget {
            return false;
        }
        pace.held += added;
        pace.not_before = pace.not_before.max(until);
        true
    }
}

/// Runs `attempt(1)`, `attempt(2)`, … through `pacer` until one is `Done`, the throttle budget
/// is spent, or `attempts` transient failures were met.
pub async fn with_retries<T, F, Fut>(attempts: u32, pacer: &Pacer, mut attempt: F) -> T
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let (mut number, mut throttles, mut failures) = (1, 0, 0);
    loop {
        pacer.ready().await;
        match attempt(number).await {
            Attempt::Done(answer) => return answer,
            Attempt::Throttled { after, give_up } => {
                throttles += 1;
                if !pacer.hold(after.unwrap_or_else(|| backoff(throttles))) {
                    return give_up;
                }
            }
            Attempt::Retry { after, give_up } => {
                failures += 1;
                if failures >= attempts {
                    return give_up;
                }
                tokio::time::sleep(after.unwrap_or_else(|| backoff(failures))).await;
            }
        }
        number += 1;
    }
}

/// Exponential backoff before attempt `attempt + 1` (200 ms, 400 ms, …), capped.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(2u64.saturating_pow(attempt.saturating_sub(1)))).min(MAX_BACKOFF)
}

/// `Retry-After` as delta-seconds (RFC 9110 §10.2.3), capped; HTTP dates fall back to backoff.
pub fn retry_after(header: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let seconds: u64 = header?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_BACKOFF))
}

#[cfg(test)]
mod tests;
