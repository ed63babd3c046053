use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::header::HeaderValue;

use super::*;
use crate::providers::budget::DirectoryBudget;

fn header(value: &str) -> Option<Duration> {
    retry_after(Some(&HeaderValue::from_str(value).expect("a header value")))
}

#[test]
fn retry_after_seconds_are_honoured_and_capped() {
    assert_eq!(header("2"), Some(Duration::from_secs(2)));
    assert_eq!(header("3600"), Some(MAX_BACKOFF));
    assert_eq!(retry_after(None), None);
}

/// RFC 9110 §10.2.3 allows `Retry-After: 0`; sent again at once, a storm of them would be a
/// busy loop against the directory.
#[test]
fn retry_after_zero_waits_the_floor() {
    assert_eq!(header("0"), Some(RETRY_AFTER_FLOOR));
}

#[test]
fn an_absurd_retry_after_is_capped() {
    assert_eq!(header("1000000000000"), Some(MAX_BACKOFF));
    // More digits than any clock holds: still delay-seconds, still capped.
    assert_eq!(header("99999999999999999999999999"), Some(MAX_BACKOFF));
}

#[test]
fn a_negative_or_garbled_retry_after_counts_as_absent() {
    for value in ["-5", "soon", "1.5", "", "+3", "Wed, 21 Oct 2015 07:28:00"] {
        assert_eq!(header(value), None, "{value:?}");
    }
}

#[test]
fn retry_after_as_an_http_date_in_the_past_waits_the_floor() {
    assert_eq!(header("Wed, 21 Oct 2015 07:28:00 GMT"), Some(RETRY_AFTER_FLOOR));
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let now = jiff::Timestamp::from_second(1_445_412_480).expect("a time"); // Wed, 21 Oct 2015 07:28:00 GMT
    let at = |value: &str| retry_after_at(value, now);
    assert_eq!(at("Wed, 21 Oct 2015 07:28:07 GMT"), Some(Duration::from_secs(7)));
    assert_eq!(at("Wed, 21 Oct 2015 09:00:00 GMT"), Some(MAX_BACKOFF), "capped");
    assert_eq!(
        at("Wed, 21 Oct 2015 07:27:00 GMT"),
        Some(RETRY_AFTER_FLOOR),
        "past: the floor"
    );
    // The obsolete formats a recipient must accept too (RFC 9110 §5.6.7).
    assert_eq!(at("Wednesday, 21-Oct-15 07:28:05 GMT"), Some(Duration::from_secs(5)));
    assert_eq!(at("Wed Oct 21 07:28:03 2015"), Some(Duration::from_secs(3)));
    assert_eq!(
        at("Thu Oct  1 07:28:03 2015"),
        Some(RETRY_AFTER_FLOOR),
        "space-padded day"
    );
}

#[test]
fn backoff_doubles_and_is_capped() {
    assert_eq!(backoff(1), Duration::from_millis(200));
    assert_eq!(backoff(3), Duration::from_millis(800));
    assert_eq!(backoff(40), MAX_BACKOFF);
}

/// When a request failed, after how long its second attempt was sent.
async fn second_attempt_after(pacer: &Pacer) -> Duration {
    let first = || Attempt::Retry {
        after: None,
        give_up: Duration::ZERO,
    };
    answered_after_one(pacer, Instant::now(), first).await
}

/// A request whose first attempt answers `first()`, then answered with the time since `start`.
async fn answered_after_one(pacer: &Pacer, start: Instant, first: fn() -> Attempt<Duration>) -> Duration {
    with_retries(5, pacer, |n| async move {
        if n == 1 {
            first()
        } else {
            Attempt::Done(start.elapsed())
        }
    })
    .await
}

/// Clients that failed together do not all come back at the same instant.
#[tokio::test(start_paused = true)]
async fn backoff_has_jitter() {
    let pacers: Vec<Pacer> = (0..8).map(|_| Pacer::default()).collect();
    let mut waits = futures::future::join_all(pacers.iter().map(second_attempt_after)).await;
    waits.dedup();
    assert!(waits.len() > 1, "eight clients, all back after {:?}", waits[0]);
}

#[tokio::test(start_paused = true)]
async fn jitter_keeps_backoff_between_half_and_all_of_it() {
    let least = Pacer::default().with_jitter(|| 0.0);
    assert_eq!(second_attempt_after(&least).await, backoff(1) / 2);
    let most = Pacer::default().with_jitter(|| 0.999_999);
    assert!(most.backoff(40) <= MAX_BACKOFF && most.backoff(40) > MAX_BACKOFF * 99 / 100);
    assert!(random_fraction() >= 0.0 && random_fraction() < 1.0);
    let broken = Pacer::default().with_jitter(|| f64::NAN);
    assert_eq!(broken.backoff(1), backoff(1) / 2, "a broken source gives no jitter");
}

#[tokio::test(start_paused = true)]
async fn transient_failures_stop_at_the_first_answer_or_give_up_at_the_last_attempt() {
    let mut seen = Vec::new();
    let answer = with_retries(3, &Pacer::default(), |n| {
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
    let early = with_retries(5, &Pacer::default(), |n| async move {
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

/// Throttling is flow control (README, "Safety"): a storm of 30 × `429 Retry-After: 1` is waited
/// out — the request goes through on the 31st attempt, 30 s later — however few attempts transient
/// failures get.
#[tokio::test(start_paused = true)]
async fn a_throttling_storm_is_waited_out_not_counted_as_failed_attempts() {
    let start = Instant::now();
    let answer = with_retries(5, &Pacer::default(), |n| async move {
        if n <= 30 {
            Attempt::Throttled {
                after: Some(Duration::from_secs(1)),
                give_up: Err(n),
            }
        } else {
            Attempt::Done(Ok(n))
        }
    })
    .await;
    assert_eq!(answer, Ok(31));
    assert_eq!(start.elapsed().as_secs(), 30);
}

/// Attempts a request throttled `after` each time gets within `window` (paused clock).
async fn throttled_attempts_in(window: Duration, after: Option<Duration>) -> u32 {
    let (sent, pacer) = (AtomicU32::new(0), Pacer::default());
    let throttled = with_retries(5, &pacer, |_| {
        sent.fetch_add(1, Ordering::SeqCst);
        async move { Attempt::Throttled { after, give_up: () } }
    });
    assert!(
        tokio::time::timeout(window, throttled).await.is_err(),
        "still throttled"
    );
    sent.load(Ordering::SeqCst)
}

/// A throttling answer whose `Retry-After` is absent, negative or garbled (backoff, from
/// 100 ms) still waits a second: throttling is never answered at network speed.
#[tokio::test(start_paused = true)]
async fn a_throttle_without_a_usable_retry_after_still_waits_the_floor() {
    let attempts = throttled_attempts_in(Duration::from_millis(3500), None).await;
    assert!(attempts <= 4, "{attempts} attempts in 3.5 s");
}

/// An absurd `Retry-After` holds the directory for `MAX_BACKOFF`, not for ages.
#[tokio::test(start_paused = true)]
async fn an_absurd_retry_after_holds_for_the_cap() {
    let absurd = header("1000000000000");
    let window = MAX_BACKOFF * 3 + Duration::from_millis(500);
    assert_eq!(throttled_attempts_in(window, absurd).await, 4);
}

/// A directory that throttles without end still ends the cycle: within the budget, not later.
#[tokio::test(start_paused = true)]
async fn throttling_without_end_gives_up_when_the_budget_is_spent() {
    let start = Instant::now();
    let pacer = Pacer::new(Duration::from_secs(10));
    let answer: Result<(), u32> = with_retries(5, &pacer, |n| async move {
        Attempt::Throttled {
            after: Some(Duration::from_secs(1)),
            give_up: Err(n),
        }
    })
    .await;
    assert_eq!(
        answer,
        Err(11),
        "ten holds of 1 s fit a budget of 10 s; the 11th throttle gives up"
    );
    assert!(start.elapsed() <= Duration::from_secs(10), "{:?}", start.elapsed());
}

/// A request throttled once for 2 s, then answered with the time it was answered at.
async fn throttled_once_for_two_seconds(pacer: &Pacer, start: Instant) -> Duration {
    let first = || Attempt::Throttled {
        after: Some(Duration::from_secs(2)),
        give_up: Duration::ZERO,
    };
    answered_after_one(pacer, start, first).await
}

/// Pacing: once the directory throttles one request, the others to it wait as well rather than
/// each earning a 429 — and requests throttled together are one hold against the budget.
#[tokio::test(start_paused = true)]
async fn a_throttled_request_holds_every_request_to_that_directory() {
    let pacer = Arc::new(Pacer::new(Duration::from_secs(3)));
    let start = Instant::now();
    let throttled = throttled_once_for_two_seconds(&pacer, start);
    let sent = Arc::new(AtomicU32::new(0));
    let (other_pacer, other_sent) = (pacer.clone(), sent.clone());
    let other = async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        with_retries(5, &other_pacer, |_| {
            other_sent.fetch_add(1, Ordering::SeqCst);
            async move { Attempt::Done::<Duration>(start.elapsed()) }
        })
        .await
    };
    let (first, second) = tokio::join!(throttled, other);
    assert_eq!(first, Duration::from_secs(2));
    assert_eq!(
        second,
        Duration::from_secs(2),
        "the other request waited for the hold too"
    );
    assert_eq!(sent.load(Ordering::SeqCst), 1, "and was sent once");
    // Requests throttled together are one hold against the budget, not one each.
    let together = Pacer::new(Duration::from_secs(3));
    assert!(together.hold(Duration::from_secs(2)));
    assert!(
        together.hold(Duration::from_secs(2)),
        "the same hold again adds nothing"
    );
    assert!(
        together.hold(Duration::from_millis(2500)),
        "half a second more: 2.5 s of 3 s"
    );
    assert!(
        !together.hold(Duration::from_millis(3500)),
        "a second more would pass the budget"
    );
}

/// One budget per directory (README, "Operating it"): configurations that talk to the same
/// directory share its hold — a 429 answered to one holds the other's requests too.
#[tokio::test(start_paused = true)]
async fn a_hold_of_one_configuration_holds_every_configuration_of_that_directory() {
    let shared = Arc::new(DirectoryBudget::new(4));
    let (first, second) = (
        Pacer::sharing(shared.clone(), THROTTLE_BUDGET),
        Pacer::sharing(shared, THROTTLE_BUDGET),
    );
    let start = Instant::now();
    let throttled = throttled_once_for_two_seconds(&first, start);
    let other = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        with_retries(
            5,
            &second,
            |_| async move { Attempt::Done::<Duration>(start.elapsed()) },
        )
        .await
    };
    let (a, b) = tokio::join!(throttled, other);
    assert_eq!((a, b), (Duration::from_secs(2), Duration::from_secs(2)));
}
