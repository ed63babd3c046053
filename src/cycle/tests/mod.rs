//! Whole cycles against in-memory directories (`providers::memory`): one test per rule of
//! docs/architecture.md ("The rules") that needs no apiserver, asserting what the target holds and
//! which requests the cycle made. The whole layer runs in milliseconds.

mod actions;
mod audit;
mod deadline;
mod deprovisioning;
mod dry_run;
mod failures;
mod groups;
mod incremental;
mod matching;
mod on_demand;
mod pages;
mod properties;
mod scope;
mod server_errors;
mod shared;

use super::*;
use crate::cycle::audit::Collected;
use crate::engine::attributes::WORK_EMAIL;
use crate::engine::mapping;
use crate::engine::rules::SyncRules;
use crate::engine::user::User;
use crate::engine::vocabulary::ScopeMode;
use crate::providers::memory::MemoryDirectory;

pub const SOURCE: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub const OTHER: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// A source and a target directory and the rules of the configuration between them.
pub struct CyclePair {
    pub source: MemoryDirectory,
    pub target: MemoryDirectory,
    pub rules: SyncRules,
    /// The source tenant's domains: `contoso.com`, the domain of `person`'s addresses.
    pub source_domains: Vec<String>,
    pub dry_run: bool,
    /// The provisioning log of every cycle run so far.
    pub log: Collected,
    /// Each cycle's deadline.
    pub deadline: std::time::Duration,
    /// Where Initial cycles share their source's complete reads (`None`: each reads its own).
    pub shared_reads: Option<SourceReads>,
}

impl CyclePair {
    /// `AllUsers`, the default mappings, adoption on, soft delete, threshold 500.
    pub fn all_users() -> CyclePair {
        let mut rules = SyncRules {
            mappings: mapping::effective(&[]),
            adopt_existing: true,
            ..SyncRules::default()
        };
        rules.scope.mode = ScopeMode::AllUsers;
        CyclePair {
            source: MemoryDirectory::new(),
            target: MemoryDirectory::new(),
            rules,
            source_domains: vec!["contoso.com".to_owned()],
            dry_run: false,
            log: Collected::default(),
            deadline: crate::cycle::deadline::SHORTEST,
            shared_reads: None,
        }
    }

    /// `AssignedUsersAndGroups` with these users and groups.
    pub fn assigned(users: &[&str], groups: &[&str]) -> CyclePair {
        let mut pair = CyclePair::all_users();
        pair.rules.scope.mode = ScopeMode::AssignedUsersAndGroups;
        pair.rules.scope.users = users.iter().map(|u| (*u).to_owned()).collect();
        pair.rules.scope.groups = groups.iter().map(|g| (*g).to_owned()).collect();
        pair
    }

    pub fn input<'a>(&'a self, watermark: Option<&'a str>, approval: Option<&'a str>) -> CycleInput<'a> {
        CycleInput {
            source_tenant_id: SOURCE,
            source_domains: &self.source_domains,
            rules: &self.rules,
            approval,
            watermark,
            groups_watermark: None,
            group_members_digest: None,
            dry_run: self.dry_run,
            audit: &self.log,
            progress: &super::progress::Untracked,
            deadline: Deadline::after(self.deadline),
            shared_source: self.shared_reads.as_ref().map(|reads| SharedSource {
                sharing: shared_read::Sharing {
                    reads,
                    configuration: "this configuration",
                },
                key: SOURCE.to_owned(),
            }),
        }
    }

    pub async fn try_cycle(&self, watermark: Option<&str>, approved: Option<&str>) -> Result<CycleReport, CycleError> {
        run(&self.source, &self.target, &self.input(watermark, approved)).await
    }

    /// An Initial cycle that must run.
    pub async fn initial(&self) -> CycleReport {
        self.try_cycle(None, None).await.expect("the cycle runs")
    }

    /// Shares this pair's source reads (`shared_read`) and makes one: an Initial cycle from the
    /// source into another, empty target, as another configuration of this source would.
    pub async fn share_a_source_read(&mut self) -> CycleReport {
        self.shared_reads = Some(SourceReads::default());
        let other_target = MemoryDirectory::new();
        let report = run(&self.source, &other_target, &self.input(None, None)).await;
        self.source.take_log();
        report.expect("the other configuration's cycle runs")
    }

    /// An Incremental cycle from `watermark` that must run.
    pub async fn incremental(&self, watermark: &str) -> CycleReport {
        self.try_cycle(Some(watermark), None).await.expect("the cycle runs")
    }

    /// The Incremental cycle after `previous`, from its watermarks, as the controller runs it.
    pub async fn after(&self, previous: &CycleReport) -> Result<CycleReport, CycleError> {
        let input = CycleInput {
            watermark: Some(previous.watermark.as_deref().expect("a watermark")),
            group_members_digest: previous.group_members_digest.as_deref(),
            ..self.input(None, None)
        };
        run(&self.source, &self.target, &input).await
    }

    /// The cleanup on delete of this pair's configuration, logging to `log`.
    pub async fn clean_up(&self, approval: Option<&str>) -> Result<cleanup::Cleanup, DirectoryError> {
        let cleaning = cleanup::Cleaning {
            deprovision: self.rules.deprovision,
            actions: self.rules.actions,
            audit: &self.log,
        };
        cleanup::clean_up(&self.target, SOURCE, &cleaning, approval).await
    }

    /// The target user provisioned from source user `id`.
    pub fn provisioned(&self, id: &str) -> Option<User> {
        self.target.find("externalId", &anchor(id))
    }
}

pub fn anchor(source_id: &str) -> String {
    format!("{SOURCE}/{source_id}")
}

/// An internal user `name@contoso.com` with a display name and work email.
pub fn person(id: &str, name: &str) -> User {
    user(
        id,
        &[
            ("userName", &format!("{name}@contoso.com")),
            ("displayName", name),
            (WORK_EMAIL, &format!("{name}@contoso.com")),
        ],
    )
}

pub fn user(id: &str, attributes: &[(&'static str, &str)]) -> User {
    User {
        id: id.to_owned(),
        attributes: attributes.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        ..User::default()
    }
}
