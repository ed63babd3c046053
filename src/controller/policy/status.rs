//! A CrossTenantAccessPolicy's next status and when to look again, from its verdicts: pure.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use crate::access::EffectivePolicy;
use crate::api::conditions::{self, ConditionReason, Verdict};
use crate::api::policy::{CrossTenantAccessPolicy, CrossTenantAccessPolicyStatus};
use crate::api::reasons::AppliedReason;
use crate::controller::Settings;

/// The status to write and the requeue: a policy pushed to Entra is checked again at the
/// Tenant's pace (sooner after a failure), and never later than the gate's. `effective`: the
/// policy overlaid with its tenant's Organizations' templates (`access::overlay`).
pub fn next_status(
    policy: &CrossTenantAccessPolicy,
    effective: &EffectivePolicy,
    ready: Verdict,
    applied: Option<(Verdict, Vec<String>)>,
    settings: &Settings,
    now: Timestamp,
) -> (CrossTenantAccessPolicyStatus, Duration) {
    let previous = policy.status.clone().unwrap_or_default();
    let generation = policy.metadata.generation;
    let mut conditions = conditions::record(&previous.conditions, ready, generation, now);
    let (requeue, unmanaged_partners) = match applied {
        Some((applied, unmanaged)) => {
            let requeue = if applied.status {
                settings.tenant_recheck
            } else {
                settings.tenant_retry
            };
            conditions = conditions::record(&conditions, applied, generation, now);
            (requeue.min(settings.gate_recheck), unmanaged)
        }
        None => {
            conditions.retain(|c| c.type_ != AppliedReason::TYPE);
            (settings.gate_recheck, Vec::new())
        }
    };
    let status = CrossTenantAccessPolicyStatus {
        observed_generation: generation,
        conditions,
        effective: effective.partners(),
        partner_count: Some(u32::try_from(policy.spec.partners.len()).unwrap_or(u32::MAX)),
        unmanaged_partners,
    };
    (status, requeue)
}
