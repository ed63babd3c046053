//! Retrying a request, the same way for every provider: a bounded number of attempts, with
//! the directory's `Retry-After` honoured (RFC 9110 §10.2.3) or exponential backoff otherwise.
//! Which answers are worth retrying is the provider's call; when to retry is decided here.

use std::future::Future;
use std::time::Duration;

/// The longest wait between two attempts, whatever a directory's `Retry-After` asks.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one attempt came to.
pub enum Attempt<T> {
    /// The final answer.
    Done(T),
    /// Worth another attempt after `after` (the directory's `Retry-After`, else backoff);
    /// `give_up` is the answer when no attempt is left.
    Retry { after: Option<Duration>, give_up: T },
}

/// Runs `attempt(1)`, `attempt(2)`, … until one is `Done` or `attempts` are spent.
pub async fn with_retries<T, F, Fut>(attempts: u32, mut attempt: F) -> T
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let mut number = 1;
    loop {
        match attempt(number).await {
            Attempt::Done(answer) => return answer,
            Attempt::Retry { give_up, .. } if number >= attempts => return give_up,
            Attempt::Retry { after, .. } => {
                tokio::time::sleep(after.unwrap_or_else(|| backoff(number))).await;
                number += 1;
            }
        }
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
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_seconds_are_honoured_and_capped() {
        assert_eq!(
            retry_after(Some(&HeaderValue::from_static("2"))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(Some(&HeaderValue::from_static("3600"))), Some(MAX_BACKOFF));
        assert_eq!(
            retry_after(Some(&HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"))),
            None
        );
        assert_eq!(retry_after(None), None);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(3), Duration::from_millis(800));
        assert_eq!(backoff(40), MAX_BACKOFF);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_stop_at_the_first_answer_or_give_up_at_the_last() {
        let mut seen = Vec::new();
        let answer = with_retries(3, |n| {
            seen.push(n);
            async move {
                Attempt::Retry {
                    after: Some(Duration::from_secs(1)),
                    give_up: n,
                }
            }
        })
        .await;
        assert_eq!((answer, seen), (3, vec![1, 2, 3]));
        let early = with_retries(5, |n| async move {
            if n == 2 {
                Attempt::Done("done")
            } else {
                Attempt::Retry {
                    after: None,
                    give_up: "gave up",
                }
            }
        })
        .await;
        assert_eq!(early, "done");
    }
}
