//! `kubectl xtsync status [NAME] [-A] [-o table|json]`: one line per SyncConfiguration, its
//! name first, from its status as the controller wrote it.

use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::{Api, ResourceExt};
use serde_json::{Value, json};

use super::cluster::Cluster;
use super::resource::{Configs, condition};
use super::{Format, PluginError};
use crate::api::SyncConfiguration;
use crate::api::conditions::ConditionReason;
use crate::api::reasons::{ReadyReason, SyncedReason};

pub async fn command(cluster: &Cluster, name: Option<&str>, all: bool, output: Format) -> Result<u8, PluginError> {
    let configs = if let Some(name) = name {
        vec![Configs::of(cluster).get(name).await?]
    } else if all {
        let api = Api::<SyncConfiguration>::all(cluster.client.clone());
        api.list(&ListParams::default()).await?.items
    } else {
        Configs::of(cluster).api.list(&ListParams::default()).await?.items
    };
    let now = Timestamp::now();
    let rows: Vec<Row> = configs.iter().map(|c| Row::of(c, all, now)).collect();
    match output {
        Format::Json => println!("{:#}", Value::Array(configs.iter().map(json_of).collect())),
        Format::Table if rows.is_empty() => {
            let place = if all {
                "any namespace".to_owned()
            } else {
                format!("namespace {}", cluster.namespace)
            };
            eprintln!("No SyncConfigurations found in {place}.");
        }
        Format::Table => print!("{}", table(&rows)),
    }
    Ok(0)
}

/// One configuration's line, in words.
#[derive(Debug, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub pair: String,
    pub ready: String,
    pub synced: String,
    pub users: String,
    pub pending: String,
    pub quarantine: String,
    pub last_sync: String,
}

impl Row {
    /// `all`: the name is `namespace/name`.
    pub fn of(config: &SyncConfiguration, all: bool, now: Timestamp) -> Row {
        let name = if all {
            format!("{}/{}", config.namespace().unwrap_or_default(), config.name_any())
        } else {
            config.name_any()
        };
        let status = config.status.clone().unwrap_or_default();
        let cell = |type_: &str| {
            condition(config, type_).map_or("-".to_owned(), |c| {
                if c.status == "True" {
                    c.status.clone()
                } else {
                    format!("{} ({})", c.status, c.reason)
                }
            })
        };
        let users = match (status.users_provisioned, status.users_in_scope) {
            (None, None) => "-".to_owned(),
            (provisioned, in_scope) => format!("{}/{}", provisioned.unwrap_or(0), in_scope.unwrap_or(0)),
        };
        let quarantine = status.quarantine.as_ref().map_or("-".to_owned(), |q| {
            let retry = q.next_attempt_time.0.duration_since(now);
            if retry.is_positive() {
                format!("{}, retry in {}", q.reason, age(retry.as_secs()))
            } else {
                format!("{}, retrying", q.reason)
            }
        });
        let last_sync = status
            .last_successful_sync_time
            .as_ref()
            .map_or("never".to_owned(), |t| {
                format!("{} ago", age(now.duration_since(t.0).as_secs()))
            });
        Row {
            name,
            pair: format!("{} → {}", config.spec.source_ref.name, config.spec.target_ref.name),
            ready: cell(ReadyReason::TYPE),
            synced: cell(SyncedReason::TYPE),
            users,
            pending: status
                .pending_deletions
                .as_ref()
                .map_or("-".to_owned(), |p| p.count.to_string()),
            quarantine,
            last_sync,
        }
    }
}

/// kubectl's table: a header, columns padded to their widest cell, three spaces apart.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "NAME",
        "SOURCE → TARGET",
        "READY",
        "SYNCED",
        "USERS",
        "PENDING",
        "QUARANTINE",
        "LAST SYNC",
    ];
    let cells: Vec<[&str; 8]> = rows
        .iter()
        .map(|r| {
            [
                r.name.as_str(),
                &r.pair,
                &r.ready,
                &r.synced,
                &r.users,
                &r.pending,
                &r.quarantine,
                &r.last_sync,
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in std::iter::once(&header).chain(&cells) {
        let padded: Vec<String> = line
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell}{}", " ".repeat(width - cell.chars().count())))
            .collect();
        out.push_str(padded.join("   ").trim_end());
        out.push('\n');
    }
    out
}

/// A configuration's line for tools: the same facts, as the status holds them.
fn json_of(config: &SyncConfiguration) -> Value {
    let status = config.status.clone().unwrap_or_default();
    let condition_of = |type_: &str| {
        condition(config, type_).map(|c| json!({ "status": c.status, "reason": c.reason, "message": c.message }))
    };
    json!({
        "namespace": config.namespace(),
        "name": config.name_any(),
        "source": config.spec.source_ref.name,
        "target": config.spec.target_ref.name,
        "ready": condition_of(ReadyReason::TYPE),
        "synced": condition_of(SyncedReason::TYPE),
        "usersProvisioned": status.users_provisioned,
        "usersInScope": status.users_in_scope,
        "pendingDeletions": status.pending_deletions,
        "quarantine": status.quarantine,
        "lastSuccessfulSyncTime": status.last_successful_sync_time,
        "nextSyncTime": status.next_sync_time,
    })
}

/// An age as kubectl prints one: `45s`, `12m`, `5h`, `3d`.
pub fn age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..120 => format!("{seconds}s"),
        120..7200 => format!("{}m", seconds / 60),
        7200..172_800 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::reasons::QuarantinedReason;
    use crate::api::sync_config::{PendingDeletions, Quarantine, SyncConfigurationStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + seconds).expect("a time")
    }

    fn condition(type_: &str, status: &str, reason: &str) -> Condition {
        Condition {
            type_: type_.into(),
            status: status.into(),
            reason: reason.into(),
            message: String::new(),
            observed_generation: Some(1),
            last_transition_time: Time(at(0)),
        }
    }

    fn config(status: SyncConfigurationStatus) -> SyncConfiguration {
        let mut config: SyncConfiguration = serde_json::from_value(json!({
            "apiVersion": "xtsync.io/v1alpha1", "kind": "SyncConfiguration",
            "metadata": { "name": "contoso-to-fabrikam", "namespace": "team-a", "generation": 1 },
            "spec": { "sourceRef": { "name": "contoso" }, "targetRef": { "name": "fabrikam" } },
        }))
        .expect("a configuration");
        config.status = Some(status);
        config
    }

    #[test]
    fn a_line_names_the_configuration_first_then_what_it_is_doing() {
        let status = SyncConfigurationStatus {
            conditions: vec![
                condition(ReadyReason::TYPE, "True", ReadyReason::GateOpen.as_str()),
                condition(SyncedReason::TYPE, "False", SyncedReason::PartiallySynced.as_str()),
            ],
            users_provisioned: Some(40),
            users_in_scope: Some(42),
            pending_deletions: Some(PendingDeletions {
                count: 600,
                token: "0123456789ab".into(),
                names: Vec::new(),
            }),
            quarantine: Some(Quarantine {
                since: Time(at(0)),
                reason: QuarantinedReason::AuthenticationFailed.as_str().into(),
                next_attempt_time: Time(at(700)),
            }),
            last_successful_sync_time: Some(Time(at(-300))),
            ..SyncConfigurationStatus::default()
        };
        let row = Row::of(&config(status), false, at(400));
        assert_eq!(
            row,
            Row {
                name: "contoso-to-fabrikam".into(),
                pair: "contoso → fabrikam".into(),
                ready: "True".into(),
                synced: format!("False ({})", SyncedReason::PartiallySynced),
                users: "40/42".into(),
                pending: "600".into(),
                quarantine: format!("{}, retry in 5m", QuarantinedReason::AuthenticationFailed),
                last_sync: "11m ago".into(),
            }
        );
        let all = Row::of(&config(SyncConfigurationStatus::default()), true, at(0));
        assert_eq!(all.name, "team-a/contoso-to-fabrikam");
        assert_eq!(
            (all.ready.as_str(), all.users.as_str(), all.last_sync.as_str()),
            ("-", "-", "never")
        );
        let text = table(&[row, all]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("NAME "), "{text}");
        assert!(lines[1].starts_with("contoso-to-fabrikam "), "{text}");
        let column = |line: &str| line.find("contoso →").expect("the pair");
        assert_eq!(column(lines[1]), column(lines[2]), "aligned:\n{text}");
    }

    #[test]
    fn ages_read_like_kubectls() {
        assert_eq!(
            [age(-3), age(45), age(130), age(7300), age(200_000)],
            ["0s", "45s", "2m", "2h", "2d"]
        );
    }
}
