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
            ConnectError::InvalidSpec(_) => SyncedReason::InvalidTenantSpec,
            ConnectError::InvalidCABundle(_) => SyncedReason::InvalidCABundle,
            ConnectError::LoginEndpointNotTrusted(_) => SyncedReason::LoginEndpointNotTrusted,
            ConnectError::UnsupportedCloud(_) => SyncedReason::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) => SyncedReason::AuthenticationFailed,
            ConnectError::InvalidCertificate(_) => SyncedReason::InvalidCertificate,
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
            ConnectError::InvalidSpec(_) => QuarantinedReason::InvalidTenantSpec,
            ConnectError::InvalidCABundle(_) => QuarantinedReason::InvalidCABundle,
            ConnectError::LoginEndpointNotTrusted(_) => QuarantinedReason::LoginEndpointNotTrusted,
            ConnectError::UnsupportedCloud(_) => QuarantinedReason::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) => QuarantinedReason::AuthenticationFailed,
            ConnectError::InvalidCertificate(_) => QuarantinedReason::InvalidCertificate,
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

    #[test]
    fn a_tenant_whose_certificate_ca_bundle_or_login_endpoint_became_unusable_says_so() {
        let unusable = |error: ConnectError| CycleError::Unusable {
            role: "target",
            error: error.into(),
        };
        let cases = [
            (
                unusable(ConnectError::InvalidCertificate("expired".into())),
                SyncedReason::InvalidCertificate,
                QuarantinedReason::InvalidCertificate,
            ),
            (
                unusable(ConnectError::InvalidCABundle("no PEM".into())),
                SyncedReason::InvalidCABundle,
                QuarantinedReason::InvalidCABundle,
            ),
            (
                unusable(ConnectError::LoginEndpointNotTrusted("https://login.example".into())),
                SyncedReason::LoginEndpointNotTrusted,
                QuarantinedReason::LoginEndpointNotTrusted,
            ),
        ];
        for (error, synced, quarantined) in cases {
            assert_eq!(synced_reason(&error), synced, "{error}");
            assert_eq!(quarantined_reason(&error), Some(quarantined), "{error}");
        }
    }
}
