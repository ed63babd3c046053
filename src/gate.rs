//! The gate of DESIGN.md §3 rules 1–2: may this SyncConfiguration write anything? Pure: it
//! is given what the controller dereferenced and answers `Open` or the first failing check, in
//! the order DESIGN.md fixes, so the reason on the resource is always the most basic problem.
//! The spec itself (`InvalidSpec`, first in that order) is validated one step earlier, so a
//! gate only ever sees a valid configuration.

use crate::access;
use crate::api::policy::CrossTenantAccessPolicySpec;
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
    /// `spec.domains` in compared form (`engine::address::domains`): with a directory's own
    /// verified domains, the addresses whose users are this tenant's (adoption, rule 5).
    pub domains: Vec<String>,
}

/// Another SyncConfiguration's claim on a (source, target) pair of tenant ids. `rank` orders
/// claims: the smallest (oldest creation time, then namespace/name) wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairClaim {
    pub rank: (i64, String),
    pub source_tenant_id: String,
    pub target_tenant_id: String,
}

pub struct GateInput<'a> {
    pub source_name: &'a str,
    pub source: &'a TenantState,
    pub target_name: &'a str,
    pub target: &'a TenantState,
    /// This configuration's own rank, and every other configuration's claim in the cluster.
    pub rank: (i64, String),
    pub claims: &'a [PairClaim],
    /// The target tenant's policy (its inbound side applies), if any.
    pub target_policy: Option<&'a CrossTenantAccessPolicySpec>,
    /// The source tenant's policy (its outbound side applies), if any.
    pub source_policy: Option<&'a CrossTenantAccessPolicySpec>,
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

/// The checks in DESIGN.md's order; the first that fails closes the gate.
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

/// Rule 2: one configuration per (source, target) pair; the oldest wins.
fn first_of_its_pair(input: &GateInput<'_>, pair: &OpenPair) -> Result<(), Closed> {
    let (source, target) = (&pair.source.tenant_id, &pair.target.tenant_id);
    let same_pair = |c: &&PairClaim| {
        c.source_tenant_id.eq_ignore_ascii_case(source) && c.target_tenant_id.eq_ignore_ascii_case(target)
    };
    if let Some(winner) = input
        .claims
        .iter()
        .filter(same_pair)
        .filter(|c| c.rank < input.rank)
        .min_by(|a, b| a.rank.cmp(&b.rank))
    {
        return closed(
            ReadyReason::DuplicatePair,
            format!(
                "SyncConfiguration {} already syncs {source} → {target}; only one configuration per pair is allowed (the oldest wins)",
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
    let policy_name = |p: Option<&CrossTenantAccessPolicySpec>| match p {
        Some(_) => "its CrossTenantAccessPolicy",
        None => "it has no CrossTenantAccessPolicy, so the defaults apply, and they deny; its policy",
    };
    let inbound = input
        .target_policy
        .map_or_else(|| access::no_policy(source), |p| access::effective_for(p, source))
        .inbound;
    let target_policy = policy_name(input.target_policy);
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
        .map_or_else(|| access::no_policy(target), |p| access::effective_for(p, target))
        .outbound;
    if !outbound.automatically_redeem_invitations {
        return closed(
            ReadyReason::AutomaticRedemptionNotConfigured,
            format!(
                "source '{}' does not redeem invitations to {target} automatically: {} must set outbound.automaticallyRedeemInvitations for this partner",
                input.source_name,
                policy_name(input.source_policy)
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
mod tests {
    use super::*;

    const CONTOSO: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const FABRIKAM: &str = "11111111-2222-3333-4444-555555555555";

    fn ready(id: &str, cloud: Cloud) -> TenantState {
        TenantState::Ready(TenantFacts {
            tenant_id: id.into(),
            cloud,
            domains: Vec::new(),
        })
    }

    fn allowing(partner: &str, inbound: bool, redeem_in: bool, redeem_out: bool) -> CrossTenantAccessPolicySpec {
        serde_json::from_value(serde_json::json!({
            "tenantRef": {"name": "x"},
            "partners": [{"tenantId": partner,
                          "inbound": {"allowUsersSync": inbound, "automaticallyRedeemInvitations": redeem_in},
                          "outbound": {"automaticallyRedeemInvitations": redeem_out}}]
        }))
        .expect("policy")
    }

    struct Case {
        source: TenantState,
        target: TenantState,
        claims: Vec<PairClaim>,
        target_policy: Option<CrossTenantAccessPolicySpec>,
        source_policy: Option<CrossTenantAccessPolicySpec>,
        provisions_groups: bool,
    }

    impl Case {
        fn valid() -> Case {
            Case {
                source: ready(CONTOSO, Cloud::Global),
                target: ready(FABRIKAM, Cloud::Global),
                claims: vec![],
                target_policy: Some(allowing(CONTOSO, true, true, false)),
                source_policy: Some(allowing(FABRIKAM, false, false, true)),
                provisions_groups: false,
            }
        }

        fn run(&self) -> Result<OpenPair, Closed> {
            evaluate(&GateInput {
                source_name: "contoso",
                source: &self.source,
                target_name: "fabrikam",
                target: &self.target,
                rank: (100, "ns/mine".into()),
                claims: &self.claims,
                target_policy: self.target_policy.as_ref(),
                source_policy: self.source_policy.as_ref(),
                provisions_groups: self.provisions_groups,
            })
        }

        fn reason(&self) -> ReadyReason {
            self.run().expect_err("gate should be closed").reason
        }
    }

    #[test]
    fn valid_pair_opens() {
        let open = Case::valid().run().expect("open");
        assert_eq!(open.source.tenant_id, CONTOSO);
        assert_eq!(open.target.tenant_id, FABRIKAM);
    }

    #[test]
    fn missing_or_unready_tenant_says_which_and_why() {
        let mut c = Case::valid();
        c.target = TenantState::NotReady {
            reason: crate::api::reasons::TenantReadyReason::SecretNotFound.to_string(),
            message: "Secret 'x' not found".into(),
        };
        let closed = c.run().expect_err("closed");
        assert_eq!(closed.reason, ReadyReason::TenantNotReady);
        assert!(
            closed.message.contains("target Tenant 'fabrikam'")
                && closed
                    .message
                    .contains(&crate::api::reasons::TenantReadyReason::SecretNotFound.to_string()),
            "{}",
            closed.message
        );

        c.source = TenantState::Missing;
        assert!(
            c.run()
                .expect_err("closed")
                .message
                .contains("source Tenant 'contoso' does not exist")
        );
    }

    #[test]
    fn same_tenant_is_refused_even_under_two_names() {
        let mut c = Case::valid();
        c.target = ready(&CONTOSO.to_uppercase(), Cloud::Global);
        c.target_policy = None;
        assert_eq!(c.reason(), ReadyReason::SameTenant);
    }

    #[test]
    fn china_cloud_is_unsupported_before_cross_cloud() {
        let mut c = Case::valid();
        c.target = ready(FABRIKAM, Cloud::China21Vianet);
        assert_eq!(c.reason(), ReadyReason::UnsupportedCloud);
        c.target = ready(FABRIKAM, Cloud::USGovernment);
        assert_eq!(c.reason(), ReadyReason::CrossCloudNotSupported);
    }

    #[test]
    fn the_oldest_configuration_of_a_pair_wins() {
        let mut c = Case::valid();
        let claim = |rank: i64, name: &str, s: &str, t: &str| PairClaim {
            rank: (rank, name.into()),
            source_tenant_id: s.into(),
            target_tenant_id: t.into(),
        };
        c.claims = vec![
            claim(200, "ns/newer", CONTOSO, FABRIKAM),
            claim(50, "ns/reverse", FABRIKAM, CONTOSO),
        ];
        assert!(
            c.run().is_ok(),
            "newer duplicates and the reverse direction do not block"
        );
        c.claims.push(claim(50, "other/older", CONTOSO, FABRIKAM));
        let closed = c.run().expect_err("closed");
        assert_eq!(closed.reason, ReadyReason::DuplicatePair);
        assert!(closed.message.contains("other/older"));
        // Same creation time: the name breaks the tie, deterministically.
        c.claims = vec![claim(100, "ns/aaa", CONTOSO, FABRIKAM)];
        assert_eq!(c.reason(), ReadyReason::DuplicatePair);
    }

    #[test]
    fn inbound_sync_must_be_allowed_by_the_target() {
        let mut c = Case::valid();
        c.target_policy = None;
        assert_eq!(c.reason(), ReadyReason::InboundSyncNotAllowed);
        assert!(
            c.run()
                .expect_err("closed")
                .message
                .contains("no CrossTenantAccessPolicy")
        );
        c.target_policy = Some(allowing(CONTOSO, false, true, false));
        assert_eq!(c.reason(), ReadyReason::InboundSyncNotAllowed);
        c.target_policy = Some(allowing(FABRIKAM, true, true, true));
        assert_eq!(
            c.reason(),
            ReadyReason::InboundSyncNotAllowed,
            "a policy for another partner does not apply"
        );
    }

    #[test]
    fn automatic_redemption_is_needed_on_both_sides() {
        let mut c = Case::valid();
        c.target_policy = Some(allowing(CONTOSO, true, false, false));
        assert_eq!(c.reason(), ReadyReason::AutomaticRedemptionNotConfigured);
        let mut c = Case::valid();
        c.source_policy = None;
        let closed = c.run().expect_err("closed");
        assert_eq!(closed.reason, ReadyReason::AutomaticRedemptionNotConfigured);
        assert!(closed.message.contains("outbound.automaticallyRedeemInvitations"));
    }

    #[test]
    fn group_provisioning_needs_the_target_to_allow_group_sync_last() {
        let mut c = Case::valid();
        c.provisions_groups = true;
        let closed = c.run().expect_err("closed");
        assert_eq!(closed.reason, ReadyReason::InboundGroupSyncNotAllowed);
        assert!(closed.message.contains("inbound.allowGroupsSync"), "{}", closed.message);
        c.source_policy = None;
        assert_eq!(
            c.reason(),
            ReadyReason::AutomaticRedemptionNotConfigured,
            "group sync is checked after automatic redemption"
        );
        let mut c = Case::valid();
        c.provisions_groups = true;
        c.target_policy = Some(
            serde_json::from_value(serde_json::json!({
                "tenantRef": {"name": "x"},
                "default": {"inbound": {"allowGroupsSync": true}},
                "partners": [{"tenantId": CONTOSO,
                              "inbound": {"allowUsersSync": true, "automaticallyRedeemInvitations": true}}]
            }))
            .expect("policy"),
        );
        assert!(c.run().is_ok(), "allowGroupsSync inherits the default");
    }
}
