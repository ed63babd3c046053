//! Bounds on every string xtsync writes to a status or an Event. Directories and annotations
//! supply user names, error texts, watermarks and requests of any length; a status too large
//! to write would freeze conditions, counters and alerts (etcd refuses a request over about
//! 1.5 MiB, and the whole object — spec and status — must fit in one). Each field is cut to
//! its bound here, at one place, by `conditions::bounded`; the whole status then stays under
//! `MAX_STATUS_BYTES` as JSON.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;

use crate::api::conditions::{MAX_MESSAGE, bounded};
use crate::api::organization::OrganizationStatus;
use crate::api::policy::CrossTenantAccessPolicyStatus;
use crate::api::sync_config::SyncConfigurationStatus;
use crate::api::tenant::TenantStatus;
use crate::engine::digest::fnv1a;

/// The most a status may take as JSON: far under etcd's request limit, leaving room for the
/// spec and metadata of the same object.
pub const MAX_STATUS_BYTES: usize = 256 * 1024;
/// `status.failures` keeps this many, newest first.
pub const MAX_FAILURES: usize = 20;
/// A user's name in `status.failures`, an on-demand request, a restart value.
pub const MAX_NAME: usize = 256;
/// `status.pendingDeletions.names` keeps this many (sorted; `count` counts them all).
pub const MAX_PENDING_NAMES: usize = 100;
/// A failure's message (a directory's error text).
pub const MAX_FAILURE_MESSAGE: usize = 512;
/// A word of ours (an action, a reason, a phase, a cycle id) and a tenant id a directory lists.
const MAX_WORD: usize = 128;
/// Kubernetes' own limits on a condition's type and reason (metav1.Condition).
const MAX_CONDITION_TYPE: usize = 316;
const MAX_CONDITION_REASON: usize = 1024;
/// Conditions kept: xtsync writes at most four types per object.
const MAX_CONDITIONS: usize = 8;
/// A watermark as JSON. It is read back, so it is never cut: a longer one is dropped, and the
/// next cycle reads everything (an Initial cycle), which is always safe. A SCIM watermark of
/// a thousand fingerprints takes about 21 KB.
pub const MAX_WATERMARK: usize = 32 * 1024;
/// An Event's note: events.k8s.io refuses notes over 1 KiB.
pub const MAX_EVENT_NOTE: usize = 1024;
/// Partners Entra lists that a policy does not: named up to this many.
const MAX_LISTED: usize = 100;
/// An Organization's `status.tenants` lists this many (members have no cap; a listed one takes
/// at most about 480 bytes: five times Entra's cap of 100 active tenants fits the status).
pub const MAX_MEMBER_STATUSES: usize = 500;

/// A status whose every string is within its bound.
pub trait Bounded {
    fn bounded(self) -> Self;
}

/// `text` as an identity that a later reconcile compares (an annotation's value answered or
/// acted on): itself when short, else its start and a digest of the whole, so that two long
/// values still differ and the same value is recognised.
pub fn key(text: &str) -> String {
    if text.len() <= MAX_NAME {
        return text.to_owned();
    }
    let digest = format!("#{:016x}", fnv1a([text]));
    format!("{}{digest}", bounded(text, MAX_NAME - digest.len()))
}

fn watermark(value: Option<String>) -> Option<String> {
    value.filter(|w| serde_json::to_string(w).is_ok_and(|json| json.len() <= MAX_WATERMARK))
}

fn conditions(conditions: Vec<Condition>) -> Vec<Condition> {
    conditions
        .into_iter()
        .take(MAX_CONDITIONS)
        .map(|c| Condition {
            type_: bounded(&c.type_, MAX_CONDITION_TYPE),
            reason: bounded(&c.reason, MAX_CONDITION_REASON),
            message: bounded(&c.message, MAX_MESSAGE),
            ..c
        })
        .collect()
}

impl Bounded for SyncConfigurationStatus {
    fn bounded(mut self) -> Self {
        self.conditions = conditions(self.conditions);
        if let Some(cycle) = &mut self.last_cycle {
            cycle.id = cycle.id.as_deref().map(|id| bounded(id, MAX_WORD));
        }
        self.failures.truncate(MAX_FAILURES);
        for failure in &mut self.failures {
            failure.user = bounded(&failure.user, MAX_NAME);
            failure.action = bounded(&failure.action, MAX_WORD);
            failure.reason = bounded(&failure.reason, MAX_WORD);
            failure.message = bounded(&failure.message, MAX_FAILURE_MESSAGE);
        }
        if let Some(quarantine) = &mut self.quarantine {
            quarantine.reason = bounded(&quarantine.reason, MAX_WORD);
        }
        if let Some(answer) = &mut self.on_demand {
            answer.request = key(&answer.request);
            answer.result = bounded(&answer.result, MAX_WORD);
            answer.message = bounded(&answer.message, MAX_MESSAGE);
        }
        if let Some(pending) = &mut self.pending_deletions {
            pending.token = key(&pending.token);
            pending.names.truncate(MAX_PENDING_NAMES);
            for name in &mut pending.names {
                *name = bounded(name, MAX_NAME);
            }
        }
        self.last_approved_deletions = self.last_approved_deletions.as_deref().map(key);
        self.observed_restart = self.observed_restart.as_deref().map(key);
        self.watermark = watermark(self.watermark);
        self.groups_watermark = watermark(self.groups_watermark);
        if let Some(progress) = &mut self.progress {
            progress.phase = bounded(&progress.phase, MAX_WORD);
        }
        self
    }
}

impl Bounded for TenantStatus {
    fn bounded(mut self) -> Self {
        self.conditions = conditions(self.conditions);
        self
    }
}

impl Bounded for CrossTenantAccessPolicyStatus {
    fn bounded(mut self) -> Self {
        self.conditions = conditions(self.conditions);
        self.unmanaged_partners.truncate(MAX_LISTED);
        for partner in &mut self.unmanaged_partners {
            *partner = bounded(partner, MAX_WORD);
        }
        self
    }
}

impl Bounded for OrganizationStatus {
    fn bounded(mut self) -> Self {
        self.conditions = conditions(self.conditions);
        self.tenants.truncate(MAX_MEMBER_STATUSES);
        for member in &mut self.tenants {
            member.name = bounded(&member.name, MAX_NAME);
            member.tenant_id = member.tenant_id.as_deref().map(|id| bounded(id, MAX_WORD));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_value_when_short_and_a_stable_digest_when_long() {
        assert_eq!(key("2026-12-04T18:00:00Z"), "2026-12-04T18:00:00Z");
        let long = "r".repeat(10_000);
        let other = format!("{long}s");
        assert!(key(&long).len() <= MAX_NAME);
        assert_eq!(key(&long), key(&long));
        assert_ne!(key(&long), key(&other), "values that differ past the cut still differ");
        assert_eq!(key(&key(&long)), key(&long), "a key is its own key");
    }

    #[test]
    fn the_partners_entra_lists_are_named_within_bounds() {
        let status = CrossTenantAccessPolicyStatus {
            unmanaged_partners: vec!["p".repeat(1024); 10_000],
            ..CrossTenantAccessPolicyStatus::default()
        }
        .bounded();
        assert_eq!(status.unmanaged_partners.len(), MAX_LISTED);
        let bytes = serde_json::to_vec(&status).expect("serializes").len();
        assert!(bytes <= MAX_STATUS_BYTES / 8, "{bytes} bytes");
    }

    #[test]
    fn an_organization_of_any_size_has_a_status_within_bounds() {
        use crate::api::organization::MemberStatus;
        let member = MemberStatus {
            name: "t".repeat(253),
            tenant_id: Some("x".repeat(4096)),
            ..MemberStatus::default()
        };
        let status = OrganizationStatus {
            tenants: vec![member; 5000],
            ..OrganizationStatus::default()
        }
        .bounded();
        assert_eq!(status.tenants.len(), MAX_MEMBER_STATUSES);
        let bytes = serde_json::to_vec(&status).expect("serializes").len();
        assert!(bytes <= MAX_STATUS_BYTES, "{bytes} bytes");
    }

    #[test]
    fn a_watermark_too_long_is_dropped_never_cut() {
        let fits = "w".repeat(1000);
        assert_eq!(watermark(Some(fits.clone())), Some(fits));
        assert_eq!(watermark(Some("\"".repeat(MAX_WATERMARK))), None, "measured as JSON");
    }
}
