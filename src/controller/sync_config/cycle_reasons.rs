//! The `Synced` and `Quarantined` reasons of a cycle that could not run, from its error.

use crate::api::reasons::{QuarantinedReason, SyncedReason};
use crate::cycle::CycleError;
use crate::providers::{ConnectError, DirectoryError, Unopenable};

/// The `Synced` reason of a cycle that could not run.
pub fn synced_reason(error: &CycleError) -> SyncedReason {
    match error {
        CycleError::TargetRead(DirectoryError::AuthenticationFailed { .. }) => SyncedReason::AuthenticationFailed,
        CycleError::SourceRead(_) => SyncedReason::SourceReadFailed,
        CycleError::TargetRead(_) => SyncedReason::TargetReadFailed,
        CycleError::TimedOut { .. } => SyncedReason::CycleTimedOut,
        CycleError::Unusable {
            error: Unopenable::TenantNotFound(_),
            ..
        } => SyncedReason::TenantNotFound,
        CycleError::Unusable {
            error: Unopenable::Unusable(error),
            ..
        } => match error {
            ConnectError::SecretNotFound(_) => SyncedReason::SecretNotFound,
            ConnectError::SecretNotAllowed(_) => SyncedReason::SecretNotAllowed,
            ConnectError::InvalidSpec(_)
            | ConnectError::InvalidCABundle(_)
            | ConnectError::LoginEndpointNotTrusted(_) => SyncedReason::InvalidTenantSpec,
            ConnectError::UnsupportedCloud(_) => SyncedReason::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) | ConnectError::InvalidCertificate(_) => {
                SyncedReason::AuthenticationFailed
            }
        },
    }
}

/// The `Quarantined` reason of a cycle that could not run; `None` when the cause is no
/// failure of the directories (the cycle ran out of time), which never quarantines by itself.
pub(super) fn quarantined_reason(error: &CycleError) -> Option<QuarantinedReason> {
    Some(match error {
        CycleError::TargetRead(DirectoryError::AuthenticationFailed { .. }) => QuarantinedReason::AuthenticationFailed,
        CycleError::SourceRead(_) => QuarantinedReason::SourceReadFailed,
        CycleError::TargetRead(_) => QuarantinedReason::TargetReadFailed,
        CycleError::TimedOut { .. } => return None,
        CycleError::Unusable {
            error: Unopenable::TenantNotFound(_),
            ..
        } => QuarantinedReason::TenantNotFound,
        CycleError::Unusable {
            error: Unopenable::Unusable(error),
            ..
        } => match error {
            ConnectError::SecretNotFound(_) => QuarantinedReason::SecretNotFound,
            ConnectError::SecretNotAllowed(_) => QuarantinedReason::SecretNotAllowed,
            ConnectError::InvalidSpec(_)
            | ConnectError::InvalidCABundle(_)
            | ConnectError::LoginEndpointNotTrusted(_) => QuarantinedReason::InvalidTenantSpec,
            ConnectError::UnsupportedCloud(_) => QuarantinedReason::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) | ConnectError::InvalidCertificate(_) => {
                QuarantinedReason::AuthenticationFailed
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_has_its_own_reasons_and_running_out_of_time_quarantines_nothing() {
        let unusable = |error| CycleError::Unusable { role: "source", error };
        let cases = [
            (
                CycleError::SourceRead(DirectoryError::Unreachable("refused".into())),
                SyncedReason::SourceReadFailed,
                Some(QuarantinedReason::SourceReadFailed),
            ),
            (
                CycleError::TargetRead(DirectoryError::NotFound),
                SyncedReason::TargetReadFailed,
                Some(QuarantinedReason::TargetReadFailed),
            ),
            (
                CycleError::TimedOut {
                    after: std::time::Duration::from_secs(3600),
                },
                SyncedReason::CycleTimedOut,
                None,
            ),
            (
                unusable(Unopenable::TenantNotFound("contoso".into())),
                SyncedReason::TenantNotFound,
                Some(QuarantinedReason::TenantNotFound),
            ),
            (
                unusable(ConnectError::InvalidSpec("no provider".into()).into()),
                SyncedReason::InvalidTenantSpec,
                Some(QuarantinedReason::InvalidTenantSpec),
            ),
        ];
        for (error, synced, quarantined) in cases {
            assert_eq!(synced_reason(&error), synced, "{error}");
            assert_eq!(quarantined_reason(&error), quarantined, "{error}");
        }
    }
}
