//! What a connection test makes of a Tenant: its problem's reason and its next status, pure.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::api::conditions::{self, Verdict};
use crate::api::reasons::TenantReadyReason;
use crate::api::tenant::{Capabilities, Tenant, TenantStatus};
use crate::controller::Settings;
use crate::providers::{ConnectError, ProbeError, TestError};

/// Why a Tenant is not Ready.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TenantProblem {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
}

impl From<TestError> for TenantProblem {
    fn from(error: TestError) -> Self {
        match error {
            TestError::Connect(problem) => TenantProblem::Connect(problem),
            TestError::Probe(problem) => TenantProblem::Probe(problem),
        }
    }
}

/// A connection test's outcome: the capabilities or the problem, and when the credential
/// expires, when it was read and says.
pub(crate) struct Checked {
    pub result: Result<Capabilities, TenantProblem>,
    pub credential_expiry: Option<Timestamp>,
}

impl From<TenantProblem> for Checked {
    fn from(problem: TenantProblem) -> Self {
        Checked {
            result: Err(problem),
            credential_expiry: None,
        }
    }
}

impl From<&TenantProblem> for TenantReadyReason {
    fn from(problem: &TenantProblem) -> Self {
        match problem {
            TenantProblem::Connect(ConnectError::InvalidSpec(_)) => TenantReadyReason::InvalidSpec,
            TenantProblem::Connect(ConnectError::SecretNotFound(_)) => TenantReadyReason::SecretNotFound,
            TenantProblem::Connect(ConnectError::SecretNotAllowed(_)) => TenantReadyReason::SecretNotAllowed,
            TenantProblem::Connect(ConnectError::UnsupportedCloud(_)) => TenantReadyReason::UnsupportedCloud,
            TenantProblem::Connect(ConnectError::InvalidCertificate(_)) => TenantReadyReason::InvalidCertificate,
            TenantProblem::Connect(ConnectError::InvalidCABundle(_)) => TenantReadyReason::InvalidCABundle,
            TenantProblem::Connect(ConnectError::LoginEndpointNotTrusted(_)) => {
                TenantReadyReason::LoginEndpointNotTrusted
            }
            TenantProblem::Connect(ConnectError::AuthenticationFailed(_))
            | TenantProblem::Probe(ProbeError::AuthenticationFailed { .. }) => TenantReadyReason::AuthenticationFailed,
            TenantProblem::Probe(ProbeError::Unreachable { .. }) => TenantReadyReason::Unreachable,
            TenantProblem::Probe(ProbeError::Tls { .. }) => TenantReadyReason::TLSError,
            TenantProblem::Probe(ProbeError::TenantIdMismatch { .. }) => TenantReadyReason::TenantIdMismatch,
            TenantProblem::Probe(ProbeError::InvalidResponse { .. }) => TenantReadyReason::InvalidResponse,
        }
    }
}

/// The status a connection test gives a Tenant: `Ready` and, when it passed, capabilities.
pub(crate) fn status_after(tenant: &Tenant, checked: Checked, now: Timestamp) -> TenantStatus {
    let previous = tenant.status.clone().unwrap_or_default();
    let (verdict, capabilities) = match checked.result {
        Ok(capabilities) => (
            Verdict::truth(
                TenantReadyReason::Connected,
                "credentials found and the connection tested",
            ),
            Some(capabilities),
        ),
        Err(problem) => (
            Verdict::falsity(TenantReadyReason::from(&problem), problem.to_string()),
            None,
        ),
    };
    TenantStatus {
        observed_generation: tenant.metadata.generation,
        conditions: conditions::record(&previous.conditions, verdict, tenant.metadata.generation, now),
        capabilities,
        last_connection_check: Some(Time(now)),
        credential_expiry: checked.credential_expiry.map(Time),
    }
}

/// A Tenant that passed is checked again at the recheck pace, one that failed sooner.
pub(crate) fn requeue(checked: &Checked, settings: &Settings) -> Duration {
    if checked.result.is_ok() {
        settings.tenant_recheck
    } else {
        settings.tenant_retry
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::conditions::ConditionReason;

    fn tenant() -> Tenant {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "xtsync.io/v1alpha1", "kind": "Tenant",
            "metadata": { "name": "contoso", "namespace": "team-a", "generation": 2 },
            "spec": { "tenantId": "t", "directory": { "scim": { "url": "https://scim.example/v2",
                      "auth": { "bearerTokenSecretRef": { "name": "s", "key": "token" } } } } },
        }))
        .expect("a tenant")
    }

    #[test]
    fn a_failed_check_says_why_keeps_no_capabilities_and_is_retried_sooner() {
        let settings = Settings::default();
        let unreachable = ProbeError::Unreachable {
            url: "https://scim.example/v2".into(),
            cause: "refused".into(),
        };
        let checked = Checked::from(TenantProblem::from(unreachable));
        assert_eq!(requeue(&checked, &settings), settings.tenant_retry);
        let status = status_after(&tenant(), checked, Timestamp::now());
        let ready = conditions::find(&status.conditions, "Ready").expect("Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", TenantReadyReason::Unreachable.as_str())
        );
        assert!(status.capabilities.is_none());
        assert_eq!(status.observed_generation, Some(2));
    }

    #[test]
    fn a_passed_check_records_capabilities_and_the_credential_expiry() {
        let expiry = Timestamp::from_second(2_000_000_000).expect("a time");
        let checked = Checked {
            result: Ok(Capabilities::default()),
            credential_expiry: Some(expiry),
        };
        assert_eq!(
            requeue(&checked, &Settings::default()),
            Settings::default().tenant_recheck
        );
        let status = status_after(&tenant(), checked, Timestamp::now());
        assert!(status.capabilities.is_some());
        assert_eq!(status.credential_expiry.map(|t| t.0), Some(expiry));
    }
}
