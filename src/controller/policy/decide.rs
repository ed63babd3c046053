//! What a CrossTenantAccessPolicy's conditions say, decided from facts already gathered: pure,
//! so that each verdict is a plain function of what the reconciler found.

use crate::api::conditions::Verdict;
use crate::api::reasons::{AppliedReason, PolicyReadyReason};
use crate::providers::msgraph::policy::{PushError, Pushed};
use crate::providers::{ConnectError, DirectoryError};

/// What the reconciler found about a policy in the cluster.
pub struct PolicyFacts<'a> {
    pub namespace: &'a str,
    /// The Tenant the policy configures (`spec.tenantRef.name`).
    pub tenant: &'a str,
    pub tenant_exists: bool,
    /// Tenant ids the partners list more than once.
    pub repeated_partners: Vec<String>,
    /// The policy in force for the tenant (the oldest), when it is another one.
    pub other_policy_in_force: Option<String>,
    pub partners: usize,
}

/// `Ready`: the spec is valid, its Tenant exists, and it is the tenant's only policy.
pub fn readiness(facts: &PolicyFacts<'_>) -> Verdict {
    let tenant = facts.tenant;
    if !facts.repeated_partners.is_empty() {
        return Verdict::falsity(
            PolicyReadyReason::InvalidSpec,
            format!(
                "partners list tenant {} more than once",
                facts.repeated_partners.join(", ")
            ),
        );
    }
    if !facts.tenant_exists {
        return Verdict::falsity(
            PolicyReadyReason::TenantNotFound,
            format!("Tenant '{tenant}' does not exist in namespace '{}'", facts.namespace),
        );
    }
    match &facts.other_policy_in_force {
        Some(winner) => Verdict::falsity(
            PolicyReadyReason::DuplicatePolicy,
            format!(
                "CrossTenantAccessPolicy '{winner}' already configures Tenant '{tenant}'; a tenant has at most one policy (the oldest wins)"
            ),
        ),
        None => Verdict::truth(
            PolicyReadyReason::Effective,
            format!(
                "settings in force for Tenant '{tenant}' and {} listed partner(s)",
                facts.partners
            ),
        ),
    }
}

/// How pushing the settings into the tenant's directory went.
pub enum PushOutcome {
    /// Not a Microsoft Graph tenant: there is nothing to push, and no `Applied` condition.
    NothingToPush,
    PolicyNotReady,
    TenantNotReady,
    Unusable(ConnectError),
    Pushed(Pushed),
    Failed(PushError),
}

/// `Applied`, with the partners Entra has that the policy does not list; `None` when there is
/// nothing to push.
pub fn applied(outcome: PushOutcome, tenant: &str, partners: usize) -> Option<(Verdict, Vec<String>)> {
    let reason = applied_reason(&outcome)?;
    let message = match &outcome {
        PushOutcome::NothingToPush => return None,
        PushOutcome::PolicyNotReady => "the policy is not Ready; nothing is pushed to Entra".to_owned(),
        PushOutcome::TenantNotReady => format!("Tenant '{tenant}' is not Ready; the policy is pushed once it is"),
        PushOutcome::Unusable(problem) => problem.to_string(),
        PushOutcome::Pushed(pushed) => {
            let unmanaged = match pushed.unmanaged_partners.len() {
                0 => String::new(),
                n => format!("; {n} partner(s) configured in Entra and not listed here are left alone"),
            };
            format!("Entra has these settings for {partners} listed partner(s){unmanaged}")
        }
        PushOutcome::Failed(PushError::NotRepresentable(message)) => message.clone(),
        PushOutcome::Failed(PushError::Directory(DirectoryError::Rejected {
            status: 403,
            code,
            detail,
        })) => format!(
            "Entra refused the change ({}: {}); the app needs the application permission Policy.ReadWrite.CrossTenantAccess",
            code.as_deref().unwrap_or_default(),
            detail.as_deref().unwrap_or_default()
        ),
        PushOutcome::Failed(PushError::Directory(e)) => format!("pushing the settings to Entra failed: {e}"),
    };
    Some(match outcome {
        PushOutcome::Pushed(pushed) => (Verdict::truth(reason, message), pushed.unmanaged_partners),
        PushOutcome::NothingToPush
        | PushOutcome::PolicyNotReady
        | PushOutcome::TenantNotReady
        | PushOutcome::Unusable(_)
        | PushOutcome::Failed(_) => (Verdict::falsity(reason, message), Vec::new()),
    })
}

/// The `Applied` reason of a push's outcome, each cause its own; `None` when there is nothing
/// to push.
fn applied_reason(outcome: &PushOutcome) -> Option<AppliedReason> {
    Some(match outcome {
        PushOutcome::NothingToPush => return None,
        PushOutcome::PolicyNotReady => AppliedReason::PolicyNotReady,
        PushOutcome::TenantNotReady => AppliedReason::TenantNotReady,
        PushOutcome::Pushed(_) => AppliedReason::Applied,
        PushOutcome::Unusable(problem) => match problem {
            ConnectError::SecretNotFound(_) => AppliedReason::SecretNotFound,
            ConnectError::SecretNotAllowed(_) => AppliedReason::SecretNotAllowed,
            ConnectError::UnsupportedCloud(_) => AppliedReason::UnsupportedCloud,
            ConnectError::AuthenticationFailed(_) => AppliedReason::AuthenticationFailed,
            ConnectError::InvalidSpec(_) => AppliedReason::InvalidTenantSpec,
            ConnectError::InvalidCertificate(_) => AppliedReason::InvalidCertificate,
            ConnectError::InvalidCABundle(_) => AppliedReason::InvalidCABundle,
            ConnectError::LoginEndpointNotTrusted(_) => AppliedReason::LoginEndpointNotTrusted,
        },
        PushOutcome::Failed(PushError::NotRepresentable(_)) => AppliedReason::NotRepresentable,
        PushOutcome::Failed(PushError::Directory(error)) => match error {
            DirectoryError::Rejected { status: 403, .. } => AppliedReason::Forbidden,
            DirectoryError::AuthenticationFailed { .. } => AppliedReason::AuthenticationFailed,
            DirectoryError::Throttled { .. } => AppliedReason::Throttled,
            DirectoryError::Unreachable(_) => AppliedReason::Unreachable,
            DirectoryError::Rejected { .. }
            | DirectoryError::Refused { .. }
            | DirectoryError::PreconditionFailed
            | DirectoryError::Unsupported(_)
            | DirectoryError::NotFound => AppliedReason::Rejected,
            DirectoryError::InvalidResponse(_) | DirectoryError::Stopped => AppliedReason::InvalidResponse,
        },
    })
}
