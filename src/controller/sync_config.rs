//! SyncConfiguration reconciler: dereference → compile the spec → gate → status.
//! The sync cycle itself comes after the gate (DESIGN.md §3 rules 3–11).

use std::sync::Arc;

use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};

use super::{Context, Error, lookup, status};
use crate::api::conditions::{self, READY, Verdict};
use crate::api::sync_config::{SyncConfiguration, SyncConfigurationStatus};
use crate::api::{CrossTenantAccessPolicy, Tenant};
use crate::engine::compile;
use crate::gate::{self, GateInput, PairClaim};

pub async fn reconcile(config: Arc<SyncConfiguration>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = config.namespace().ok_or(Error::NotNamespaced)?;
    let name = config.name_any();
    let verdict = evaluate_gate(&config, &ns, &ctx);
    if !verdict.status {
        tracing::debug!(config = %name, namespace = %ns, reason = %verdict.reason, "gate closed");
    }
    let previous = config.status.clone().unwrap_or_default();
    let new_status = SyncConfigurationStatus {
        observed_generation: config.metadata.generation,
        conditions: conditions::record(
            &previous.conditions,
            verdict,
            config.metadata.generation,
            Timestamp::now(),
        ),
        ..previous
    };
    status::apply(
        &Api::<SyncConfiguration>::namespaced(ctx.client.clone(), &ns),
        &name,
        &new_status,
    )
    .await?;
    Ok(Action::requeue(ctx.settings.gate_recheck))
}

fn evaluate_gate(config: &SyncConfiguration, ns: &str, ctx: &Context) -> Verdict {
    let spec = &config.spec;
    let compiled = compile::compile(spec);
    let source = lookup::tenant(&ctx.tenants, ns, &spec.source_ref.name);
    let target = lookup::tenant(&ctx.tenants, ns, &spec.target_ref.name);
    let source_state = lookup::tenant_state(source.as_deref());
    let target_state = lookup::tenant_state(target.as_deref());
    let own_rank = lookup::rank(config);
    let claims: Vec<PairClaim> = ctx
        .configs
        .state()
        .iter()
        .filter_map(|other| {
            let rank = lookup::rank(other.as_ref());
            if rank == own_rank {
                return None;
            }
            let (source_tenant_id, target_tenant_id) = lookup::pair_of(&ctx.tenants, other)?;
            Some(PairClaim {
                rank,
                source_tenant_id,
                target_tenant_id,
            })
        })
        .collect();
    let target_policy = lookup::policy_in_force(&ctx.policies, ns, &spec.target_ref.name);
    let source_policy = lookup::policy_in_force(&ctx.policies, ns, &spec.source_ref.name);

    let input = GateInput {
        spec: compiled.as_ref().map(|_| ()),
        source_name: &spec.source_ref.name,
        source: &source_state,
        target_name: &spec.target_ref.name,
        target: &target_state,
        rank: own_rank,
        claims: &claims,
        target_policy: target_policy.as_ref().map(|p| &p.spec),
        source_policy: source_policy.as_ref().map(|p| &p.spec),
    };
    match gate::evaluate(&input) {
        Ok(pair) => Verdict::truth(
            READY,
            "GateOpen",
            format!(
                "source '{}' ({}) → target '{}' ({}): tenants Ready and their policies allow the sync",
                spec.source_ref.name, pair.source.tenant_id, spec.target_ref.name, pair.target.tenant_id
            ),
        ),
        Err(closed) => Verdict::falsity(READY, closed.reason.as_str(), closed.message),
    }
}

/// A configuration changed or went away: configurations of the same pair may win or lose, and
/// any now marked `DuplicatePair` may have been freed.
pub fn sibling_mapper(
    ctx: Arc<Context>,
) -> impl Fn(SyncConfiguration) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |changed| {
        let changed_rank = lookup::rank(&changed);
        let pair = lookup::pair_of(&ctx.tenants, &changed);
        ctx.configs
            .state()
            .into_iter()
            .filter(|c| lookup::rank(c.as_ref()) != changed_rank)
            .filter(|c| {
                (pair.is_some() && lookup::pair_of(&ctx.tenants, c) == pair)
                    || c.status
                        .as_ref()
                        .is_some_and(|s| lookup::ready_reason_is(&s.conditions, "DuplicatePair"))
            })
            .map(|c| ObjectRef::from_obj(c.as_ref()))
            .collect()
    }
}

/// A Tenant changed (its readiness, id or cloud): every configuration that names it.
pub fn tenant_mapper(
    configs: Store<SyncConfiguration>,
) -> impl Fn(Tenant) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |tenant| configs_naming(&configs, tenant.namespace(), &tenant.name_any())
}

/// A policy changed: every configuration whose source or target is the policy's tenant.
pub fn policy_mapper(
    configs: Store<SyncConfiguration>,
) -> impl Fn(CrossTenantAccessPolicy) -> Vec<ObjectRef<SyncConfiguration>> + Send + Sync + 'static {
    move |policy| configs_naming(&configs, policy.namespace(), &policy.spec.tenant_ref.name)
}

/// The configurations of `namespace` whose source or target is the Tenant `tenant_name`.
fn configs_naming(
    configs: &Store<SyncConfiguration>,
    namespace: Option<String>,
    tenant_name: &str,
) -> Vec<ObjectRef<SyncConfiguration>> {
    configs
        .state()
        .into_iter()
        .filter(|c| {
            c.namespace() == namespace
                && (c.spec.source_ref.name == tenant_name || c.spec.target_ref.name == tenant_name)
        })
        .map(|c| ObjectRef::from_obj(c.as_ref()))
        .collect()
}
