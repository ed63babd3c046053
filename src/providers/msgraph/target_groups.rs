//! Groups of a Microsoft Entra tenant written as a target (README, "Groups"): created with the
//! anchor, renamed, given members with `members@odata.bind` (up to 20 per request, as "Add
//! members" allows) and relieved of them with `DELETE /groups/{id}/members/{memberId}/$ref`,
//! every request through `$batch`. Graph deletes security groups for good ("Delete group"), so
//! a group that returns to scope is created again.

use reqwest::Method;
use serde_json::{Map, Value, json};

use std::collections::BTreeSet;

use super::client::BatchRequest;
use super::directory::MsGraphDirectory;
use crate::engine::digest;
use crate::engine::groups::GroupChange;
use crate::providers::DirectoryError;

/// Members one request may bind.
const BIND_LIMIT: usize = 20;

/// One request of a change, and whether a 404 answers it as well as a success (removing what
/// is already gone).
struct Step {
    change: usize,
    request: BatchRequest,
    gone_is_done: bool,
}

impl MsGraphDirectory {
    /// The `@odata.bind` reference of a directory object: a URL, its id one segment of it.
    fn reference(&self, id: &str) -> Result<Value, DirectoryError> {
        Ok(json!(self.client.endpoints.v1_url(&["directoryObjects", id])?.as_str()))
    }

    /// `members@odata.bind` requests adding `members` to `group`, 20 at a time; none when an
    /// id cannot be one segment of a path.
    fn bindings<'a>(
        &self,
        group: &str,
        members: impl IntoIterator<Item = &'a String>,
    ) -> Result<Vec<BatchRequest>, DirectoryError> {
        let members: Vec<&String> = members.into_iter().collect();
        members
            .chunks(BIND_LIMIT)
            .map(|chunk| {
                let references = chunk.iter().map(|m| self.reference(m)).collect::<Result<Vec<_>, _>>()?;
                let body = json!({ "members@odata.bind": references });
                BatchRequest::new(Method::PATCH, &["groups", group], &[], Some(body))
            })
            .collect()
    }

    /// Every change as its requests, sent together; a created group's members beyond the
    /// first 20 follow once it has an id. One result per change: its first error, if any.
    pub(super) async fn group_changes(&self, changes: &[GroupChange]) -> Vec<Result<Option<String>, DirectoryError>> {
        let mut results: Vec<Result<Option<String>, DirectoryError>> = changes.iter().map(|_| Ok(None)).collect();
        // A change with an id that cannot be one segment of a path fails whole, unsent.
        let mut steps = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            match self.steps(change) {
                Ok(requests) => steps.extend(requests.into_iter().map(|(request, gone_is_done)| Step {
                    change: i,
                    request,
                    gone_is_done,
                })),
                Err(e) => results[i] = Err(e),
            }
        }
        self.send_steps(steps, &mut results, true).await;
        let mut more = Vec::new();
        for (i, change) in changes.iter().enumerate() {
            let (GroupChange::Create { members, .. }, Ok(Some(id))) = (change, &results[i]) else {
                continue;
            };
            if members.len() <= BIND_LIMIT {
                continue;
            }
            match self.bindings(id, members.iter().skip(BIND_LIMIT)) {
                Ok(requests) => more.extend(requests.into_iter().map(|request| Step {
                    change: i,
                    request,
                    gone_is_done: false,
                })),
                Err(e) => results[i] = Err(e),
            }
        }
        self.send_steps(more, &mut results, false).await;
        results
    }

    async fn send_steps(
        &self,
        steps: Vec<Step>,
        results: &mut [Result<Option<String>, DirectoryError>],
        creating: bool,
    ) {
        let requests = steps.iter().map(|s| Ok(s.request.clone())).collect();
        for (step, answer) in steps.iter().zip(self.run(requests).await) {
            let outcome = match answer {
                Ok(body) if creating && step.request.method == Method::POST && step.request.url == "/groups" => body
                    .get("id")
                    .and_then(Value::as_str)
                    .map(|id| Some(id.to_owned()))
                    .ok_or_else(|| DirectoryError::InvalidResponse("a created group has no id".into())),
                Ok(_) => Ok(None),
                Err(DirectoryError::NotFound) if step.gone_is_done => Ok(None),
                Err(e) => Err(e),
            };
            let result = &mut results[step.change];
            match (outcome, &result) {
                (Err(e), Ok(_)) => *result = Err(e),
                (Ok(Some(id)), Ok(_)) => *result = Ok(Some(id)),
                _ => {}
            }
        }
    }

    /// The requests one change takes (the first 20 members of a created group go with it),
    /// each with whether a 404 answers it as well as a success; none when an id of the change
    /// cannot be one segment of a path.
    fn steps(&self, change: &GroupChange) -> Result<Vec<(BatchRequest, bool)>, DirectoryError> {
        let request = |method, segments: &[&str], body| BatchRequest::new(method, segments, &[], body);
        Ok(match change {
            GroupChange::Create {
                display_name,
                description,
                anchor,
                members,
                ..
            } => {
                let body = self.creation(display_name, description.as_deref(), anchor, members)?;
                vec![(request(Method::POST, &["groups"], Some(body))?, false)]
            }
            GroupChange::Update { target, changes } => {
                let body: Map<String, Value> = changes.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
                let update = request(Method::PATCH, &["groups", target], Some(Value::Object(body)))?;
                vec![(update, false)]
            }
            GroupChange::AddMembers { target, members } => self
                .bindings(target, members)?
                .into_iter()
                .map(|r| (r, false))
                .collect(),
            GroupChange::RemoveMembers { target, members } => members
                .iter()
                .map(|m| {
                    Ok((
                        request(Method::DELETE, &["groups", target, "members", m, "$ref"], None)?,
                        true,
                    ))
                })
                .collect::<Result<_, DirectoryError>>()?,
            GroupChange::Delete { target } => vec![(request(Method::DELETE, &["groups", target], None)?, true)],
            GroupChange::Restore { target } => {
                let restore = ["directory", "deletedItems", target.as_str(), "restore"];
                vec![(request(Method::POST, &restore, None)?, false)]
            }
        })
    }

    /// The body of "Create group": a security group carrying the anchor, with its first 20
    /// members.
    fn creation(
        &self,
        display_name: &str,
        description: Option<&str>,
        anchor: &str,
        members: &BTreeSet<String>,
    ) -> Result<Value, DirectoryError> {
        let mut body = Map::new();
        body.insert("displayName".into(), json!(display_name));
        if let Some(description) = description {
            body.insert("description".into(), json!(description));
        }
        body.insert("mailEnabled".into(), json!(false));
        // Required, not unique for security groups; derived from the anchor so that it
        // stays within Graph's 64 allowed characters.
        let nickname = format!("xtsync-{:016x}", digest::fnv1a([anchor]));
        body.insert("mailNickname".into(), json!(nickname));
        body.insert("securityEnabled".into(), json!(true));
        body.insert(self.group_anchor(), json!(anchor));
        if !members.is_empty() {
            let first = members.iter().take(BIND_LIMIT).map(|m| self.reference(m));
            body.insert(
                "members@odata.bind".into(),
                Value::Array(first.collect::<Result<_, _>>()?),
            );
        }
        Ok(Value::Object(body))
    }
}
