//! The `Synced` and `Quarantined` reasons of a cycle that could not run, from its error.

use crate::api::reasons::{QuarantinedReason, SyncedReason};
use crate::cycle::CycleError;
use crate::providers::{ConnectError, DirectoryError};

/// The `Synced` reason of a cycle that could not run.
pub fn synced_reason(error: &CycleError) -> SyncedReason {
    match error {
        CycleError::TargetRead(DirectoryError::AuthenticationFailed { .. }) => SyncedReason::AuthenticationFailed,
        CycleError::SourceRead(_) => SyncedReason::SourceReadFailed,
        CycleError::TargetRead(_) => SyncedReason::TargetReadFailed,
        CycleError::TimedOut { .. } => SyncedReason::CycleTimedOut,
        CycleError::Unusable { error, .. } => match error {
            ConnectError::TenantNotFound(_) => SyncedReason::TenantNotFound,
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

/// The `Quarantined` reason of a cycle that could not run.
pub(super) fn quarantined_reason(error: &CycleError) -> QuarantinedReason {
    match synced_reason(error) {
        SyncedReason::AuthenticationFailed => QuarantinedReason::AuthenticationFailed,
        SyncedReason::TargetReadFailed => QuarantinedReason::TargetReadFailed,
        SyncedReason::TenantNotFound => QuarantinedReason::TenantNotFound,
        SyncedReason::SecretNotFound => QuarantinedReason::SecretNotFound,
        SyncedReason::SecretNotAllowed => QuarantinedReason::SecretNotAllowed,
        SyncedReason::InvalidTenantSpec => QuarantinedReason::InvalidTenantSpec,
        SyncedReason::UnsupportedCloud => QuarantinedReason::UnsupportedCloud,
        // The rest are not reasons of a cycle that could not run; `synced_reason` gives none.
        SyncedReason::SourceReadFailed
        | SyncedReason::CycleTimedOut
        | SyncedReason::CycleSucceeded
        | SyncedReason::DryRun
        | SyncedReason::PartiallySynced
        | SyncedReason::CycleFailed
        | SyncedReason::GateClosed
        | SyncedReason::Suspended => QuarantinedReason::SourceReadFailed,
    }
}
