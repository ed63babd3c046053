//! Tenant reconciler: Secret → connection test → `Ready` and capabilities.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::PartialObjectMeta;
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::{Api, ResourceExt};

use super::{Context, Error, directories, secrets, status};
use crate::api::SecretKeyRef;
use crate::api::conditions::{self, READY, Verdict};
use crate::api::tenant::{Capabilities, Directory, Tenant, TenantStatus};
use crate::providers::msgraph::resource::AnchorAttribute;
use crate::providers::{self, ProbeError};

/// Why a Tenant is not Ready. The variant name is the condition reason.
#[derive(Debug, thiserror::Error)]
enum TenantProblem {
    #[error("{0}")]
    InvalidSpec(String),
    #[error("{0}")]
    SecretNotFound(String),
    #[error(transparent)]
    Graph(directories::GraphSetupProblem),
    #[error(transparent)]
    Probe(#[from] ProbeError),
}

impl TenantProblem {
    fn reason(&self) -> &'static str {
        match self {
            TenantProblem::InvalidSpec(_) => "InvalidSpec",
            TenantProblem::SecretNotFound(_) => "SecretNotFound",
            TenantProblem::Graph(p) => p.reason(),
            TenantProblem::Probe(e) => e.reason(),
        }
    }
}

pub async fn reconcile(tenant: Arc<Tenant>, ctx: Arc<Context>) -> Result<Action, Error> {
    let ns = tenant.namespace().ok_or(Error::NotNamespaced)?;
    let name = tenant.name_any();
    let checked = check(&tenant, &ns, &ctx).await?;
    let now = Timestamp::now();
    let previous = tenant.status.clone().unwrap_or_default();
    let (verdict, capabilities, requeue) = match checked {
        Ok(capabilities) => (
            Verdict::truth(READY, "Connected", "credentials found and the connection tested"),
            Some(capabilities),
            ctx.settings.tenant_recheck,
        ),
        Err(problem) => {
            tracing::info!(tenant = %name, namespace = %ns, reason = problem.reason(), message = %problem, "tenant not ready");
            (
                Verdict::falsity(READY, problem.reason(), problem.to_string()),
                None,
                ctx.settings.tenant_retry,
            )
        }
    };
    let new_status = TenantStatus {
        observed_generation: tenant.metadata.generation,
        conditions: conditions::record(&previous.conditions, verdict, tenant.metadata.generation, now),
        capabilities,
        last_connection_check: Some(Time(now)),
    };
    status::apply(&Api::<Tenant>::namespaced(ctx.client.clone(), &ns), &name, &new_status).await?;
    Ok(Action::requeue(requeue))
}

/// The connection test. The outer error is ours (retry); the inner one is the user's (status).
async fn check(tenant: &Tenant, ns: &str, ctx: &Context) -> Result<Result<Capabilities, TenantProblem>, Error> {
    let spec = &tenant.spec;
    match &spec.directory {
        Directory {
            scim: Some(scim),
            msgraph: None,
        } => {
            let token = match read_secret(ctx, ns, &scim.auth.bearer_token_secret_ref).await? {
                Ok(token) => token,
                Err(problem) => return Ok(Err(problem)),
            };
            Ok(providers::scim::probe(&ctx.http, &scim.url, &token)
                .await
                .map_err(TenantProblem::from))
        }
        Directory {
            scim: None,
            msgraph: Some(graph),
        } => {
            if let Err(message) = AnchorAttribute::of(graph.anchor_attribute.as_deref()) {
                return Ok(Err(TenantProblem::InvalidSpec(message)));
            }
            let client = match directories::graph_client(ctx, ns, tenant, graph).await? {
                Ok(client) => client,
                Err(problem) => return Ok(Err(TenantProblem::Graph(problem))),
            };
            Ok(providers::msgraph::probe(&client).await.map_err(TenantProblem::from))
        }
        _ => Ok(Err(TenantProblem::InvalidSpec(
            "spec.directory must set exactly one of scim or msgraph".into(),
        ))),
    }
}

async fn read_secret(ctx: &Context, ns: &str, key_ref: &SecretKeyRef) -> Result<Result<String, TenantProblem>, Error> {
    Ok(secrets::read_key(&ctx.client, ns, key_ref)
        .await?
        .map_err(TenantProblem::SecretNotFound))
}

/// A Secret changed (or appeared, or went away): check again the Tenants of its namespace that
/// name it, so that fixing a credential takes effect at once.
pub fn secret_mapper(
    tenants: Store<Tenant>,
) -> impl Fn(PartialObjectMeta<Secret>) -> Vec<ObjectRef<Tenant>> + Send + Sync + 'static {
    move |secret| {
        let (Some(ns), name) = (secret.namespace(), secret.name_any()) else {
            return Vec::new();
        };
        tenants
            .state()
            .into_iter()
            .filter(|t| {
                t.namespace().as_deref() == Some(ns.as_str()) && secret_name(&t.spec.directory) == Some(name.as_str())
            })
            .map(|t| ObjectRef::from_obj(t.as_ref()))
            .collect()
    }
}

fn secret_name(directory: &Directory) -> Option<&str> {
    directory
        .scim
        .as_ref()
        .map(|s| s.auth.bearer_token_secret_ref.name.as_str())
        .or_else(|| directory.msgraph.as_ref().map(|g| g.client_secret_ref.name.as_str()))
}
