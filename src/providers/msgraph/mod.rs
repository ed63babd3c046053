//! Microsoft Graph as a source and a target directory (README, "Microsoft Graph (Entra) tenants"): OAuth2 client
//! credentials (a secret, a certificate or workload identity federation), the users delta query for reads, invitations for creations, PATCH/DELETE/restore
//! for the rest, JSON batching, and Graph's throttling. Also the Tenant connection test and the
//! push of a `CrossTenantAccessPolicy` into Entra.

pub mod auth;
pub mod certificate;
pub mod client;
pub mod collection;
mod direct;
pub mod directory;
pub mod endpoints;
pub mod federation;
mod groups;
#[cfg(test)]
mod hostile_tests;
mod invited;
mod lookup;
pub mod multitenant_org;
#[cfg(test)]
mod on_demand_tests;
pub mod policy;
pub mod probe;
mod requests;
pub mod resource;
#[cfg(test)]
mod scope_tests;
#[cfg(test)]
mod segment_tests;
#[cfg(test)]
mod select_tests;
mod source;
mod target;
mod target_groups;
pub mod wire;

pub use auth::{ClientCredential, Credentials, TokenCache};
pub use certificate::ClientCertificate;
pub use client::GraphClient;
pub use directory::MsGraphDirectory;
pub use endpoints::Endpoints;
pub use federation::Federation;
pub use probe::probe;
