//! The cluster as a world: the watch caches of `Context`, and directories opened with the
//! credentials read from the API (`controller::tenant_directory`).

use std::sync::Arc;

use super::World;
use crate::controller::{Caches, Context, Error, Vetted, tenant_directory};
use crate::providers::{SourceDirectory, TargetDirectory, Unopenable};

impl World for Context {
    type ApiError = Error;

    fn caches(&self) -> Caches<'_> {
        Context::caches(self)
    }

    async fn open_source(&self, ns: &str, name: &str) -> Vetted<Arc<dyn SourceDirectory>, Unopenable> {
        Ok(tenant_directory::source(self, ns, name).await?.map(Arc::from))
    }

    async fn open_target(&self, ns: &str, name: &str) -> Vetted<Arc<dyn TargetDirectory>, Unopenable> {
        Ok(tenant_directory::target(self, ns, name).await?.map(Arc::from))
    }
}
