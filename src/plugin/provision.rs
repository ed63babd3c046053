//! `kubectl xtsync provision NAME --user USER`: provisioning on demand (docs/architecture.md,
//! rule 11). The request is `<user>#<nonce>` with a new nonce each time, so that the same user
//! can be provisioned again; the plugin waits for `status.onDemand` to answer that very value.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use serde_json::json;

use super::cluster::Cluster;
use super::resource::{Configs, Look, not_running};
use super::{Format, PluginError};
use crate::api::PROVISION_ON_DEMAND;
use crate::controller::bounds::key;
use crate::cycle::OnDemandVerdict;

pub async fn command(
    cluster: &Cluster,
    name: &str,
    user: &str,
    timeout: Duration,
    output: Format,
) -> Result<u8, PluginError> {
    let configs = Configs::of(cluster);
    let config = configs.get(name).await?;
    if let Some(why) = not_running(&config) {
        return Err(PluginError::NotDone(format!(
            "syncconfiguration/{name}: {why}; nothing was requested"
        )));
    }
    let request = request(user, Timestamp::now());
    configs.annotate(name, PROVISION_ON_DEMAND, &request, None).await?;
    let answered_as = key(&request);
    let what = format!("syncconfiguration/{name}: provisioning '{user}' on demand ({PROVISION_ON_DEMAND}={request})");
    let answer = configs
        .wait_for(name, timeout, &what, |config| {
            match config.status.as_ref().and_then(|s| s.on_demand.as_ref()) {
                Some(answer) if answer.request == answered_as => Look::Answered(answer.clone()),
                _ => not_running(config).map_or(Look::Pending, Look::Stopped),
            }
        })
        .await?;
    match output {
        Format::Table => println!(
            "syncconfiguration/{name}: {user}: {}: {}",
            answer.result, answer.message
        ),
        Format::Json => println!(
            "{:#}",
            json!({ "configuration": name, "user": user, "request": answer.request,
                    "result": answer.result, "message": answer.message, "time": answer.time })
        ),
    }
    Ok(exit_code(&answer.result))
}

/// `<user>#<nonce>`: the nonce (hexadecimal nanoseconds) makes every request new
/// (`cycle::on_demand::subject` takes it off again).
pub fn request(user: &str, now: Timestamp) -> String {
    format!("{user}#{:x}", now.as_nanosecond().unsigned_abs())
}

/// 0: the user is provisioned and up to date (or, in a dry run, would be); 2: answered, but not
/// provisioned (no such user, out of scope, skipped); 1: it failed.
pub fn exit_code(result: &str) -> u8 {
    use OnDemandVerdict::*;
    let is = |r: OnDemandVerdict| <&str>::from(r) == result;
    if [Created, Updated, Adopted, Restored, Unchanged, DryRun]
        .into_iter()
        .any(is)
    {
        0
    } else if [NotFound, OutOfScope, Skipped].into_iter().any(is) {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cycle::on_demand::subject;

    #[test]
    fn every_request_is_new_and_names_the_user() {
        let first = request("bob#1", Timestamp::from_second(1).expect("a time"));
        let second = request("bob#1", Timestamp::from_second(2).expect("a time"));
        assert_ne!(first, second);
        assert_eq!(subject(&first), "bob#1", "the controller reads the user back");
        assert_eq!(subject(&request("group:Sales", Timestamp::now())), "group:Sales");
    }

    #[test]
    fn the_exit_code_says_whether_the_user_is_provisioned() {
        assert_eq!(exit_code(OnDemandVerdict::Created.into()), 0);
        assert_eq!(exit_code(OnDemandVerdict::Unchanged.into()), 0);
        assert_eq!(exit_code(OnDemandVerdict::OutOfScope.into()), 2);
        assert_eq!(exit_code(OnDemandVerdict::Skipped.into()), 2);
        assert_eq!(exit_code(OnDemandVerdict::Failed.into()), 1);
        assert_eq!(exit_code("SomethingNew"), 1);
    }
}
