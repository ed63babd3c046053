//! The leader's own proof that it still holds the Lease (README, "Safety"). kube-lease-manager
//! reports a lost Lease only once it can read the Lease again: a leader cut off from the API
//! server would go on believing it leads — and writing to directories, cycles in flight
//! included — while a standby takes over when the Lease expires. So the leader re-reads the
//! Lease every second (each read bounded) and counts itself the holder only until its own last
//! renewal plus the lease duration, less a margin; past that, for whatever reason (reads
//! failing, a renewal late, another holder), it stops.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

/// How often the Lease is read, and how long one read may take.
const CHECK_EVERY: Duration = Duration::from_secs(1);
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Stop this long before the Lease would expire: room for the check interval and clock steps.
const MARGIN: Duration = Duration::from_secs(3);

/// Why the leader stopped counting itself the holder.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Lost {
    #[error("the Lease is held by {0:?}")]
    OtherHolder(Option<String>),
    #[error("the Lease could not be shown renewed in time (last known to expire at {expires_ms} ms)")]
    NotRenewed { expires_ms: i64 },
}

/// Until when (Unix ms) this Lease is shown held by `identity`, by its renewal time (written
/// by this very replica, so read against its own clock) plus its duration, less the margin.
pub fn held_until(lease: &Lease, identity: &str, default_duration: Duration) -> Result<Option<i64>, Lost> {
    let spec = lease.spec.as_ref();
    let holder = spec.and_then(|s| s.holder_identity.clone());
    if holder.as_deref() != Some(identity) {
        return Err(Lost::OtherHolder(holder));
    }
    let Some(renewed) = spec.and_then(|s| s.renew_time.as_ref()) else {
        return Ok(None);
    };
    let duration = spec
        .and_then(|s| s.lease_duration_seconds)
        .and_then(|s| u64::try_from(s).ok())
        .map_or(default_duration, Duration::from_secs);
    let valid = duration.saturating_sub(MARGIN);
    Ok(Some(
        renewed.0.as_millisecond() + i64::try_from(valid.as_millis()).unwrap_or(i64::MAX),
    ))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Returns when this replica can no longer show that it holds the Lease `name`. Called right
/// after the Lease was acquired, which holds it for at least `duration` from before the call.
pub async fn until_lost(api: Api<Lease>, name: String, identity: String, duration: Duration) -> Lost {
    let mut expires_ms = now_ms() + i64::try_from(duration.saturating_sub(MARGIN).as_millis()).unwrap_or(0);
    let mut tick = tokio::time::interval(CHECK_EVERY);
    loop {
        tick.tick().await;
        match tokio::time::timeout(READ_TIMEOUT, api.get(&name)).await {
            Ok(Ok(lease)) => match held_until(&lease, &identity, duration) {
                Ok(Some(until)) => expires_ms = until,
                Ok(None) => {}
                Err(lost) => return lost,
            },
            Ok(Err(error)) => tracing::debug!(%error, "reading the Lease failed"),
            Err(_) => tracing::debug!("reading the Lease timed out"),
        }
        if now_ms() >= expires_ms {
            return Lost::NotRenewed { expires_ms };
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    use super::*;

    fn lease(holder: Option<&str>, renewed_ms: Option<i64>, seconds: Option<i32>) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_owned),
                renew_time: renewed_ms.map(|ms| MicroTime(jiff::Timestamp::from_millisecond(ms).expect("a timestamp"))),
                lease_duration_seconds: seconds,
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        }
    }

    #[test]
    fn the_lease_is_held_until_its_renewal_plus_its_duration_less_the_margin() {
        let held = held_until(
            &lease(Some("me"), Some(100_000), Some(15)),
            "me",
            Duration::from_secs(30),
        );
        assert_eq!(held, Ok(Some(100_000 + 12_000)));
        let default = held_until(&lease(Some("me"), Some(100_000), None), "me", Duration::from_secs(30));
        assert_eq!(default, Ok(Some(100_000 + 27_000)));
        assert_eq!(
            held_until(&lease(Some("me"), None, None), "me", Duration::ZERO),
            Ok(None)
        );
    }

    #[test]
    fn another_holder_or_none_is_a_lost_lease() {
        assert_eq!(
            held_until(&lease(Some("other"), Some(1), Some(15)), "me", Duration::ZERO),
            Err(Lost::OtherHolder(Some("other".into())))
        );
        assert_eq!(
            held_until(&lease(None, None, None), "me", Duration::ZERO),
            Err(Lost::OtherHolder(None))
        );
    }
}
