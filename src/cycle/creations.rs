//! Creations that survive a burst of server errors (rule 9). A creation answered with a
//! server error may have been made all the same, and POST is not idempotent (RFC 9110
//! §9.2.2): it is never sent again blind. The target is read by anchor first — the anchor
//! makes a creation idempotent (rule 4) — and what landed counts as created, with its id;
//! what did not is sent again after a backoff, for a bounded number of rounds in the cycle.
//! What stays unsettled is counted as failed and left to the next cycle, which plans it
//! from the target as it then is.

use futures::FutureExt;
use futures::future::BoxFuture;

use crate::engine::user::Attributes;
use crate::providers::directory::{DirectoryError, TargetDirectory};
use crate::providers::retry::backoff;

/// Rounds of look-up and re-sending after the first attempt. The waits between them grow
/// from 200 ms to the retry module's cap (30 s): about two minutes in all, so that a burst of
/// server errors is outlasted within the cycle, while a target failing for good ends it.
pub const ROUNDS: u32 = 10;

/// The attribute that holds the anchor of a user to create (rule 4).
const ANCHOR: &str = "externalId";

/// Creates `users`; one result (the new id) per input, in order. Creations whose answer left
/// their outcome open are settled as described above.
pub async fn create(target: &dyn TargetDirectory, users: &[Attributes]) -> Vec<Result<String, DirectoryError>> {
    let mut results = target.create_users(users).await;
    let mut round = 0;
    loop {
        let resend = settle(target, users, &mut results).await;
        // What the last round left open stays failed: the next cycle plans it from the target.
        if resend.is_empty() || round == ROUNDS {
            return results;
        }
        round += 1;
        tracing::info!(
            users = resend.len(),
            round,
            "creations answered with a server error did not land; sending them again"
        );
        tokio::time::sleep(backoff(round)).await;
        let again: Vec<Attributes> = resend.iter().map(|&i| users[i].clone()).collect();
        for (i, result) in resend.into_iter().zip(target.create_users(&again).await) {
            results[i] = result;
        }
    }
}

/// Reads by anchor the users whose creation may have landed: those found count as created;
/// returns those not found, which may be sent again. A user whose look-up failed keeps its
/// error and is not sent again: without the read, a second creation could be a duplicate.
async fn settle(
    target: &dyn TargetDirectory,
    users: &[Attributes],
    results: &mut [Result<String, DirectoryError>],
) -> Vec<usize> {
    let open: Vec<(usize, &str)> = results
        .iter()
        .enumerate()
        .filter(|(_, result)| result.as_ref().is_err_and(DirectoryError::may_have_landed))
        .filter_map(|(i, _)| Some((i, users[i].get(ANCHOR)?.as_str())))
        .collect();
    let look_ups: Vec<BoxFuture<'_, Result<Option<String>, DirectoryError>>> =
        open.iter().map(|&(_, anchor)| find(target, anchor).boxed()).collect();
    let found = crate::providers::directory::in_input_order(look_ups, target.concurrency()).await;
    let mut resend = Vec::new();
    for ((i, anchor), found) in open.into_iter().zip(found) {
        match found {
            Ok(Some(id)) => results[i] = Ok(id),
            Ok(None) => resend.push(i),
            Err(error) => tracing::warn!(anchor, %error, "cannot tell whether a creation landed; not sent again"),
        }
    }
    resend
}

/// The id of the active user that carries `anchor`, if there is one. Only a user that does is
/// proof: a server that ignores the filter answers with others.
async fn find(target: &dyn TargetDirectory, anchor: &str) -> Result<Option<String>, DirectoryError> {
    let found = target.find_users(ANCHOR, anchor).await?;
    Ok(found
        .into_iter()
        .find(|u| !u.deleted && u.carries_anchor(anchor))
        .map(|u| u.id))
}
