//! The cluster as a world: the watch caches of `Context`, and directories opened with the
//! credentials read from the API (`controller::tenant_directory`).

use std::sync::Arc;

use super::World;
use crate::controller::{Caches, Context, Error, Vetted, tenant_directory};
use crate::providers::{Directory, Unopenable};

impl World for Context {
    type ApiError = Error;

    fn caches(&self) -> Caches<'_> {
        Context::caches(self)
    }

    async fn open_directory(&self, ns: &str, name: &str) -> Vetted<Arc<dyn Directory>, Unopenable> {
        Ok(tenant_directory::directory(self, ns, name).await?.map(Arc::from))
    }
}
