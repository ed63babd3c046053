//! A fake Microsoft Graph (and its token endpoint) for tests and benchmarks: no real Entra
//! tenant is reachable from here, so this follows the documented request and response shapes
//! of Microsoft Learn — paths, the query options xtsync relies on (`$select`, `$filter`,
//! `$top`, `$count` with `ConsistencyLevel: eventual`, `$expand=manager`), status codes,
//! `@odata.nextLink` / `@odata.deltaLink` / `@removed`, error bodies, `$batch` and
//! `Retry-After` — and refuses what Graph refuses (advanced filters without
//! `ConsistencyLevel`, more than 20 requests in a batch, writes to read-only settings).
//! Several tenants live in one fake; a token names its tenant, as in Entra. Multitenant
//! organizations span them (`organization.rs`): an owner's organization and tenants, each
//! tenant's join request and templates, joins completed at once unless held.
//! Switches inject throttling and failures; a request log lets tests count what was sent.
//! (Its crate declares `fault_rules` at the root, from `tests/fault_rules.rs`.)

#![allow(dead_code)]

mod assertions;
mod directory;
mod groups;
mod mto_templates;
mod odata;
mod organization;
mod policy;
mod server;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

/// A rule that answers matching requests with an error instead of serving them.
pub use crate::fault_rules::Rule as Fault;
#[allow(unused_imports)] // the benches use neither
pub use assertions::{EXCHANGE_AUDIENCE, FederatedCredential};
pub use directory::TenantState;

/// A request as the fake saw it (inner requests of a batch too, flagged).
#[derive(Clone, Debug)]
pub struct Logged {
    pub tenant: String,
    pub method: String,
    /// Path and query, decoded, e.g. `/v1.0/users?$select=id`.
    pub target: String,
    pub in_batch: bool,
}

impl Logged {
    pub fn is_write(&self) -> bool {
        self.method != "GET" && !self.target.starts_with("/v1.0/$batch")
    }
}

#[derive(Default)]
pub(crate) struct State {
    tenants: BTreeMap<String, TenantState>,
    /// Access token → tenant id.
    tokens: BTreeMap<String, String>,
    /// Tokens issued so far.
    issued: u32,
    faults: crate::fault_rules::Faults,
    /// Throttle every n-th Graph request (a storm), with this Retry-After.
    throttle_every: Option<(u32, u32)>,
    counter: u32,
    /// Requests the storm throttled.
    stormed: u32,
    /// Added to every HTTP request (not to each request inside a batch): a network round trip.
    pub(crate) latency: std::time::Duration,
    log: Vec<Logged>,
    next_id: u64,
    /// Client authentication: issuers' keys, `jti`s seen, the clock.
    pub(crate) assertions: assertions::Assertions,
    /// Multitenant organizations across the tenants, join requests, templates.
    organizations: organization::Organizations,
}

impl State {
    /// The injected answer for this request, if a switch says so.
    fn injected(&mut self, method: &str, target: &str) -> Option<(u16, Option<u32>)> {
        if let Some(fault) = self.faults.take(method, target) {
            return Some((fault.status, fault.retry_after));
        }
        if let Some((every, retry_after)) = self.throttle_every {
            self.counter += 1;
            if self.counter.is_multiple_of(every) {
                self.stormed += 1;
                return Some((429, Some(retry_after)));
            }
        }
        None
    }
}

/// A running fake; clones share it.
#[derive(Clone)]
pub struct FakeGraph {
    /// `http://127.0.0.1:PORT`: both the login and the Graph endpoint.
    pub base: String,
    state: Arc<Mutex<State>>,
}

impl FakeGraph {
    /// Starts a fake on a free port of 127.0.0.1, served until the runtime ends.
    pub async fn start() -> FakeGraph {
        let state = Arc::new(Mutex::new(State::default()));
        let base = server::serve(state.clone()).await;
        FakeGraph { base, state }
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake graph state")
    }

    /// An xtsync Graph client for `tenant_id` whose login and Graph endpoints are this fake.
    pub fn client(
        &self,
        tenant_id: &str,
        client_id: &str,
        secret: &str,
        tokens: Arc<xtsync::providers::msgraph::TokenCache>,
    ) -> xtsync::providers::msgraph::GraphClient {
        use xtsync::providers::msgraph::{ClientCredential, Credentials, Endpoints, GraphClient};
        GraphClient::new(
            xtsync::providers::http_client().expect("an HTTP client"),
            Endpoints {
                login: self.base.clone(),
                graph: self.base.clone(),
            },
            Credentials {
                tenant_id: tenant_id.to_owned(),
                client_id: client_id.to_owned(),
                secret: ClientCredential::Secret(secret.to_owned()),
            },
            tokens,
        )
    }

    /// Adds a tenant whose app `client_id` authenticates with `secret`; its initial domain is
    /// `<name>.onmicrosoft.com`.
    pub fn add_tenant(&self, tenant_id: &str, name: &str, client_id: &str, secret: &str) {
        let tenant = TenantState::new(tenant_id, name, client_id, secret);
        self.state().tenants.insert(tenant_id.to_ascii_lowercase(), tenant);
    }

    /// Uploads a certificate (PEM) to the app of `tenant_id`, as "Certificates & secrets" does.
    pub fn add_certificate(&self, tenant_id: &str, pem: &str) {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).expect("a PEM certificate");
        self.with_tenant(tenant_id, |t, _| t.app.certificates.push(der.to_vec()));
    }

    /// Removes the client secret of the app of `tenant_id` (a certificate-only app).
    pub fn remove_secret(&self, tenant_id: &str) {
        self.with_tenant(tenant_id, |t, _| t.app.secret = None);
    }

    /// Adds a federated identity credential to the app of `tenant_id`.
    pub fn add_federated_credential(&self, tenant_id: &str, credential: FederatedCredential) {
        self.with_tenant(tenant_id, |t, _| t.app.federated.push(credential));
    }

    /// Trusts the RSA signing keys of a JWKS (RFC 7517) for tokens issued by `issuer`.
    pub fn add_issuer(&self, issuer: &str, jwks: &Value) {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let keys = jwks["keys"].as_array().cloned().unwrap_or_default();
        let keys = keys
            .iter()
            .filter_map(|k| {
                let decode = |f: &str| URL_SAFE_NO_PAD.decode(k[f].as_str()?).ok();
                Some((
                    k["kid"].as_str().unwrap_or_default().to_owned(),
                    decode("n")?,
                    decode("e")?,
                ))
            })
            .collect();
        self.state().assertions.issuers.insert(issuer.to_owned(), keys);
    }

    /// Runs the fake's clock `seconds` ahead of this machine's.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.state().assertions.clock_offset = seconds;
    }

    /// The last client assertion presented to the token endpoint.
    pub fn last_assertion(&self) -> Option<String> {
        self.state().assertions.last.clone()
    }

    /// Runs `f` on a tenant's directory (seeding, changing, inspecting).
    pub fn with_tenant<T>(&self, tenant_id: &str, f: impl FnOnce(&mut TenantState, &mut IdSource) -> T) -> T {
        let mut state = self.state();
        let state = &mut *state;
        let tenant = state
            .tenants
            .get_mut(&tenant_id.to_ascii_lowercase())
            .expect("tenant in the fake");
        let mut ids = IdSource(&mut state.next_id);
        f(tenant, &mut ids)
    }

    /// Adds an internal member; returns its id.
    pub fn add_member(&self, tenant_id: &str, user_principal_name: &str, attributes: Value) -> String {
        self.with_tenant(tenant_id, |t, ids| {
            t.add_member(ids.next(), user_principal_name, attributes)
        })
    }

    pub fn users(&self, tenant_id: &str) -> Vec<Value> {
        self.with_tenant(tenant_id, |t, _| t.users.values().cloned().collect())
    }

    /// Adds a security group with these direct members (users or groups); returns its id.
    pub fn add_group(&self, tenant_id: &str, name: &str, members: &[String]) -> String {
        self.with_tenant(tenant_id, |t, ids| {
            let id = ids.next();
            t.add_group(id.clone(), name, members);
            id
        })
    }

    /// Every group: its properties, and its direct members.
    pub fn groups(&self, tenant_id: &str) -> Vec<(Value, Vec<String>)> {
        self.with_tenant(tenant_id, |t, _| {
            t.groups
                .values()
                .map(|g| (g.value.clone(), g.members.clone()))
                .collect()
        })
    }

    /// Changes a group as an administrator would: `f` gets its properties and members.
    pub fn change_group(&self, tenant_id: &str, id: &str, f: impl FnOnce(&mut Value, &mut Vec<String>)) {
        self.with_tenant(tenant_id, |t, _| {
            if let Some(group) = t.groups.get_mut(id) {
                f(&mut group.value, &mut group.members);
                t.touch_group(id);
            }
        });
    }

    pub fn deleted_users(&self, tenant_id: &str) -> Vec<Value> {
        self.with_tenant(tenant_id, |t, _| t.deleted.values().cloned().collect())
    }

    pub fn add_fault(&self, fault: Fault) {
        self.state().faults.add(fault);
    }

    /// Throttles every `every`-th request (429, `Retry-After: retry_after`) until cleared.
    pub fn storm(&self, every: u32, retry_after: u32) {
        self.state().throttle_every = Some((every, retry_after));
    }

    /// Delays every HTTP answer by `latency`, as the network to Graph would.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.state().latency = latency;
    }

    pub fn clear_faults(&self) {
        let mut state = self.state();
        state.faults.clear();
        state.throttle_every = None;
    }

    /// Invalidates every access token issued so far (a revocation, a key rollover).
    pub fn revoke_tokens(&self) {
        self.state().tokens.clear();
    }

    pub fn tokens_issued(&self) -> u32 {
        self.state().issued
    }

    /// Requests answered with an injected error so far.
    pub fn throttled(&self) -> u32 {
        let state = self.state();
        state.faults.injected() + state.stormed
    }

    pub fn log(&self) -> Vec<Logged> {
        self.state().log.clone()
    }

    pub fn clear_log(&self) {
        self.state().log.clear();
    }

    /// The multitenant organization `tenant_id` is active in (as its Get answers), and its
    /// tenants (as List answers them).
    pub fn organization(&self, tenant_id: &str) -> Option<(Value, Vec<Value>)> {
        let state = self.state();
        let key = state.organizations.organization_of(&tenant_id.to_ascii_lowercase())?;
        let organization = state.organizations.organizations.get(&key)?;
        let members = organization.members.values().cloned().collect();
        Some((
            serde_json::json!({ "displayName": organization.display_name, "description": organization.description }),
            members,
        ))
    }

    /// The join request record of `tenant_id`, once it has one.
    pub fn join_request(&self, tenant_id: &str) -> Option<Value> {
        self.state()
            .organizations
            .join_requests
            .get(&tenant_id.to_ascii_lowercase())
            .cloned()
    }

    /// The partner configuration and identity synchronization templates of `tenant_id`.
    pub fn templates(&self, tenant_id: &str) -> (Value, Value) {
        let mut state = self.state();
        let templates = state
            .organizations
            .templates
            .entry(tenant_id.to_ascii_lowercase())
            .or_default();
        (templates.partner.clone(), templates.identity_sync.clone())
    }

    /// Join requests wait, `notStarted`, until `complete_joins` (Entra takes up to 2 hours).
    pub fn hold_joins(&self, hold: bool) {
        self.state().organizations.hold_joins = hold;
    }

    /// Completes every join request waiting.
    pub fn complete_joins(&self) {
        let mut state = self.state();
        let State {
            tenants, organizations, ..
        } = &mut *state;
        organizations.complete_joins(tenants);
    }

    /// The partner configuration of `tenant_id` for `partner`, and its identity
    /// synchronization settings, as Graph stores them.
    pub fn partner(&self, tenant_id: &str, partner: &str) -> (Option<Value>, Option<Value>) {
        let partner = partner.to_ascii_lowercase();
        self.with_tenant(tenant_id, |t, _| {
            (
                t.policies.partners.get(&partner).cloned(),
                t.policies.identity_sync.get(&partner).cloned(),
            )
        })
    }

    /// The requests of one tenant.
    pub fn requests(&self, tenant_id: &str) -> Vec<Logged> {
        let tenant = tenant_id.to_ascii_lowercase();
        self.log().into_iter().filter(|l| l.tenant == tenant).collect()
    }
}

/// Ids as Entra makes them (GUIDs), unique across the fake.
pub struct IdSource<'a>(&'a mut u64);

impl IdSource<'_> {
    pub fn next(&mut self) -> String {
        *self.0 += 1;
        format!("{:08x}-0000-4000-8000-{:012x}", 0x5eed_u32, *self.0)
    }
}
