//! Direct reads of a Graph tenant by id ("Get user"): the ids come from anchors a target
//! wrote, so only object ids (GUIDs) are ever sent as a path.

use reqwest::Method;

use super::client::BatchRequest;
use super::directory::MsGraphDirectory;
use super::endpoints::is_object_id;
use super::resource::{self, EXPAND_MANAGER, SELECT};
use crate::engine::user::User;
use crate::providers::DirectoryError;

impl MsGraphDirectory {
    /// These users as "Get user" finds them; one answered 404 is left out.
    pub(super) async fn users_by_id(&self, ids: &[String]) -> Result<Vec<User>, DirectoryError> {
        // An id that is no object id names no user, and is not sent as a path.
        let reads = ids
            .iter()
            .filter(|id| is_object_id(id))
            .map(|id| {
                let query = [("$select", SELECT), ("$expand", EXPAND_MANAGER)];
                BatchRequest::new(Method::GET, &["users", id], &query, None)
            })
            .collect();
        let mut found = Vec::new();
        for read in self.run(reads).await {
            match read {
                Ok(value) => found.push(
                    resource::to_user(&value, self.anchor)
                        .ok_or_else(|| DirectoryError::InvalidResponse("a user read by id has no id".into()))?,
                ),
                Err(DirectoryError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }
}
