//! The gate (docs/architecture.md, rules 1–2): may this SyncConfiguration write anything? Pure: it
//! is given what the controller dereferenced and answers `Open` or the first failing check, in
//! the order rule 1 fixes, so the reason on the resource is always the most basic problem.
//! The spec itself (`InvalidSpec`, first in that order) is validated one step earlier, so a
//! gate only ever sees a valid configuration.

use crate::access::{self, EffectivePolicy, EntrySource};
use crate::api::reasons::ReadyReason;
use crate::api::tenant::Cloud;

/// Why the gate is closed, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    pub reason: ReadyReason,
    pub message: String,
}

/// What the controller found when it looked up a referenced Tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TenantState {
    Missing,
    /// Not checked yet, or its spec changed since the check.
    Pending {
        message: String,
    },
    NotReady {
        reason: String,
        message: String,
    },
    Ready(TenantFacts),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantFacts {
    pub tenant_id: String,
    pub cloud: Cloud,
    /// The directory the Tenant names (`controller::lookup::directory_of`): two Tenants may
    /// name one, and rule 2 is about directories.
    pub directory: String,
    /// `spec.domains` in compared form (`engine::address::domains`): with a directory's own
    /// verified domains, the addresses whose users are this tenant's (adoption, rule 5).
    pub domains: Vec<String>,
}

/// Another SyncConfiguration's claim on a (source, target) pair of directories: one that could
/// run (not suspended, not invalid, both Tenants Ready) or that holds the pair. A holder wins
/// over every configuration that does not hold it; among the others `rank` orders claims: the
/// smallest (oldest creation time, then namespace/name) wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairClaim {
    pub rank: (i64, String),
    pub source_directory: String,
    pub target_directory: String,
    /// Its status says it holds the pair (`status.claimedPair`): it keeps it until it is
    /// deleted, suspended or invalid, so that a configuration becoming runnable later never
    /// takes it over (no flapping).
    pub holds: bool,
}

/// The pair of directories a configuration connects, as `status.claimedPair` records it: at
/// most `MAX_PAIR_KEY` bytes, a long one cut and followed by a digest of the whole, so that it
/// stays within the status bounds and still tells pairs apart.
pub fn pair_key(source_directory: &str, target_directory: &str) -> String {
    let key = format!("{source_directory} → {target_directory}");
    if key.len() <= MAX_PAIR_KEY {
        return key;
    }
    let digest = format!(" #{:016x}", crate::engine::digest::fnv1a([key.as_str()]));
    let mut cut = MAX_PAIR_KEY - digest.len();
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{digest}", &key[..cut])
}

const MAX_PAIR_KEY: usize = 512;

pub struct GateInput<'a> {
    pub source_name: &'a str,
    pub source: &'a TenantState,
    pub target_name: &'a str,
    pub target: &'a TenantState,
    /// This configuration's own rank, and every other configuration's claim in the cluster.
    pub rank: (i64, String),
    pub claims: &'a [PairClaim],
    /// The pair this configuration held when its status was last written, if any.
    pub claimed_pair: Option<&'a str>,
    /// The target tenant's effective settings (its inbound side applies): its policy, if any,
    /// with its Organizations' partner templates (`access::overlay`).
    pub target_policy: Option<&'a EffectivePolicy>,
    /// The source tenant's effective settings (its outbound side applies).
    pub source_policy: Option<&'a EffectivePolicy>,
    /// `groupProvisioning.enabled`: the target must also allow group sync.
    pub provisions_groups: bool,
}

/// The pair of tenants a configuration with an open gate connects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenPair {
    pub source: TenantFacts,
    pub target: TenantFacts,
    /// Why the gate is open, in words (the `Ready=True` message).
    pub message: String,
}

impl OpenPair {
    /// The pair of directories, as `status.claimedPair` records it.
    pub fn key(&self) -> String {
        pair_key(&self.source.directory, &self.target.directory)
    }
}

/// The checks in rule 1's order; the first that fails closes the gate.
pub fn evaluate(input: &GateInput<'_>) -> Result<OpenPair, Closed> {
    let source = ready_tenant("source", input.source_name, input.source)?;
    let target = ready_tenant("target", input.target_name, input.target)?;
    let pair = OpenPair {
        message: format!(
            "source '{}' ({}) → target '{}' ({}): tenants Ready and their policies allow the sync",
            input.source_name, source.tenant_id, input.target_name, target.tenant_id
        ),
        source,
        target,
    };
    distinct_tenants(input, &pair)?;
    supported_clouds(input, &pair)?;
    first_of_its_pair(input, &pair)?;
    policies_allow(input, &pair)?;
    Ok(pair)
}

fn closed(reason: ReadyReason, message: String) -> Result<(), Closed> {
    Err(Closed { reason, message })
}

fn distinct_tenants(input: &GateInput<'_>, pair: &OpenPair) -> Result<(), Closed> {
    if pair.source.directory == pair.target.directory {
        return closed(
            ReadyReason::SameTenant,
            format!(
                "source '{}' and target '{}' name the same directory ({}); a directory cannot sync into itself",
                input.source_name, input.target_name, pair.source.directory
            ),
        );
    }
    if pair.source.tenant_id.eq_ignore_ascii_case(&pair.target.tenant_id) {
        return closed(
            ReadyReason::SameTenant,
            format!(
                "source '{}' and target '{}' are the same tenant ({}); a tenant cannot sync into itself",
                input.source_name, input.target_name, pair.source.tenant_id
            ),
        );
    }
    Ok(())
}

/// Entra supports neither cross-cloud synchronization nor 21Vianet (Microsoft Learn,
/// "Cross-tenant synchronization: limitations").
fn supported_clouds(input: &GateInput<'_>, pair: &OpenPair) -> Result<(), Closed> {
    let (source, target) = (&pair.source, &pair.target);
    for (role, name, facts) in [
        ("source", input.source_name, source),
        ("target", input.target_name, target),
    ] {
        if facts.cloud == Cloud::China21Vianet {
            return closed(
                ReadyReason::UnsupportedCloud,
                format!(
                    "{role} tenant '{name}' is in the China21Vianet cloud, where cross-tenant synchronization is not supported"
                ),
            );
        }
    }
    if source.cloud != target.cloud {
        return closed(
            ReadyReason::CrossCloudNotSupported,
            format!(
                "source '{}' is in the {} cloud and target '{}' in the {} cloud; synchronization never crosses clouds",
                input.source_name, source.cloud, input.target_name, target.cloud
            ),
        );
    }
    Ok(())
}

/// Rule 2: one configuration per (source, target) pair of directories, whatever Tenants name
/// them. The holder keeps it; without one, the oldest configuration that could run wins.
fn first_of_its_pair(input: &GateInput<'_>, pair: &OpenPair) -> Result<(), Closed> {
    let (source, target) = (&pair.source.directory, &pair.target.directory);
    let key = pair_key(source, target);
    // Holders first, then the oldest: a smaller key wins.
    let own = (input.claimed_pair != Some(key.as_str()), &input.rank);
    if let Some(winner) = input
        .claims
        .iter()
        .filter(|c| &c.source_directory == source && &c.target_directory == target)
        .filter(|c| (!c.holds, &c.rank) < own)
        .min_by(|a, b| (!a.holds, &a.rank).cmp(&(!b.holds, &b.rank)))
    {
        let why = if winner.holds {
            "it holds the pair"
        } else {
            "it is older"
        };
        return closed(
            ReadyReason::DuplicatePair,
            format!(
                "SyncConfiguration {} already syncs {key} ({why}); only one configuration per pair of directories is allowed",
                winner.rank.1
            ),
        );
    }
    Ok(())
}

/// The target's inbound settings for the source, then the source's outbound settings for the
/// target; a missing policy means the defaults, which deny.
fn policies_allow(input: &GateInput<'_>, pair: &OpenPair) -> Result<(), Closed> {
    let (source, target) = (&pair.source.tenant_id, &pair.target.tenant_id);
    let inbound = input
        .target_policy
        .map_or_else(|| access::no_policy(source), |p| p.for_partner(source))
        .inbound;
    let target_policy = settings_named(input.target_policy, source);
    if !inbound.allow_users_sync {
        return closed(
            ReadyReason::InboundSyncNotAllowed,
            format!(
                "target '{}' does not allow users sync from {source}: {target_policy} must set inbound.allowUsersSync for this partner",
                input.target_name
            ),
        );
    }
    if !inbound.automatically_redeem_invitations {
        return closed(
            ReadyReason::AutomaticRedemptionNotConfigured,
            format!(
                "target '{}' does not redeem invitations from {source} automatically: {target_policy} must set inbound.automaticallyRedeemInvitations for this partner",
                input.target_name
            ),
        );
    }
    let outbound = input
        .source_policy
        .map_or_else(|| access::no_policy(target), |p| p.for_partner(target))
        .outbound;
    if !outbound.automatically_redeem_invitations {
        return closed(
            ReadyReason::AutomaticRedemptionNotConfigured,
            format!(
                "source '{}' does not redeem invitations to {target} automatically: {} must set outbound.automaticallyRedeemInvitations for this partner",
                input.source_name,
                settings_named(input.source_policy, target)
            ),
        );
    }
    if input.provisions_groups && !inbound.allow_groups_sync {
        return closed(
            ReadyReason::InboundGroupSyncNotAllowed,
            format!(
                "groupProvisioning is enabled, but target '{}' does not allow group sync from {source}: {target_policy} must set inbound.allowGroupsSync for this partner",
                input.target_name
            ),
        );
    }
    Ok(())
}

/// Where a tenant's settings for `partner` come from, in the words of a gate message.
fn settings_named(policy: Option<&EffectivePolicy>, partner: &str) -> String {
    let Some(policy) = policy else {
        return "it has no CrossTenantAccessPolicy, so the defaults apply, and they deny; its policy".to_owned();
    };
    match (policy.source_of(partner), policy.own_policy) {
        (Some(EntrySource::Organization(org)), true) => {
            format!(
                "the partnerTemplate of Organization '{org}' (or, for a field it leaves out, its CrossTenantAccessPolicy's default)"
            )
        }
        (Some(EntrySource::Organization(org)), false) => format!(
            "it has no CrossTenantAccessPolicy and a field the partnerTemplate of Organization '{org}' leaves out denies; that template or its policy"
        ),
        (_, true) => "its CrossTenantAccessPolicy".to_owned(),
        (_, false) => "it has no CrossTenantAccessPolicy, so the defaults apply, and they deny; its policy".to_owned(),
    }
}

fn ready_tenant(role: &str, name: &str, state: &TenantState) -> Result<TenantFacts, Closed> {
    let message = match state {
        TenantState::Ready(facts) => return Ok(facts.clone()),
        TenantState::Missing => format!("{role} Tenant '{name}' does not exist in this namespace"),
        TenantState::Pending { message } => format!("{role} Tenant '{name}' is not Ready yet: {message}"),
        TenantState::NotReady { reason, message } => {
            format!("{role} Tenant '{name}' is not Ready ({reason}): {message}")
        }
    };
    Err(Closed {
        reason: ReadyReason::TenantNotReady,
        message,
    })
}

#[cfg(test)]
mod tests;
