//! Direct reads of a SCIM directory by id (RFC 7644 §3.4.1, "Retrieving a Known Resource"):
//! the ids come from anchors a target wrote, so each is one path segment, whatever it holds.

use futures::FutureExt;
use futures::future::BoxFuture;

use super::client::ScimClient;
use super::resource;
use crate::engine::user::User;
use crate::providers::{DirectoryError, InFlightLimit};

impl ScimClient {
    /// These users as `GET /Users/{id}` finds them; one answered 404 is left out.
    pub(super) async fn users_by_id(&self, ids: &[String]) -> Result<Vec<User>, DirectoryError> {
        let reads: Vec<BoxFuture<'_, Result<Option<User>, DirectoryError>>> = ids
            .iter()
            .map(|id| {
                async move {
                    match self.get_resource(id).await {
                        Ok(found) => resource::to_user(&found).map(Some).ok_or_else(|| {
                            DirectoryError::InvalidResponse(format!("user {id} was answered without an id"))
                        }),
                        Err(DirectoryError::NotFound) => Ok(None),
                        Err(e) => Err(e),
                    }
                }
                .boxed()
            })
            .collect();
        let mut users = Vec::new();
        for read in crate::providers::in_input_order(reads, self.concurrency()).await {
            users.extend(read?);
        }
        Ok(users)
    }
}
