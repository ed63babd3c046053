//! Prometheus metrics, all named `xtsync_*`. Labels are bounded sets (kind, result, cycle type,
//! action) — never object or user names, so cardinality does not grow with the fleet.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::cycle::{CycleError, CycleReport};
use crate::engine::vocabulary::{CycleAction, GroupAction, UserAction};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReconcileLabels {
    pub kind: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CycleLabels {
    /// `Initial` or `Incremental`.
    pub r#type: &'static str,
    /// `succeeded`, `partial` or `failed`.
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UserLabels {
    /// `create`, `update` (restores included), `adopt`, `deprovision`, `skip`.
    pub action: &'static str,
    /// `succeeded` or `failed`.
    pub result: &'static str,
}

/// One object by namespace and name: bounded by the objects in the cluster, removed with them.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ObjectLabels {
    pub namespace: String,
    pub name: String,
}

type ObjectGauge = Family<ObjectLabels, Gauge<i64, std::sync::atomic::AtomicI64>>;

/// One SyncConfiguration's gauges.
pub struct ConfigGauges {
    pub labels: ObjectLabels,
    pub pending_deletions: u32,
    pub last_success: Option<i64>,
    pub interval: Option<Duration>,
}

pub struct Metrics {
    registry: Registry,
    /// Per SyncConfiguration, for the chart's alerts: deprovisionings held for approval, the
    /// last successful cycle (Unix seconds) and the interval (seconds).
    pub pending_deletions: ObjectGauge,
    pub last_success: ObjectGauge,
    pub interval: ObjectGauge,
    /// Per Tenant: 1 when Ready.
    pub tenant_ready: ObjectGauge,
    /// Per Tenant with a client certificate: when it expires (Unix seconds).
    pub credential_expiry: ObjectGauge,
    /// Cycles due but waiting for a slot (`--max-concurrent-cycles`).
    pub cycles_waiting: Gauge<i64, std::sync::atomic::AtomicI64>,
    /// How late cycles start behind their `nextSyncTime`.
    pub cycle_lag: Histogram,
    pub reconciles: Family<ReconcileLabels, Counter>,
    pub cycles: Family<CycleLabels, Counter>,
    pub cycle_duration: Family<CycleLabels, Histogram>,
    pub users: Family<UserLabels, Counter>,
    /// Group provisioning: group operations (members counted one by one) by action and result.
    pub groups: Family<UserLabels, Counter>,
    pub quarantined: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub leader: Gauge<i64, std::sync::atomic::AtomicI64>,
    /// Sets the per-object gauges from the caches just before each scrape: kept up to date on
    /// every reconcile instead, they cost a pass over every configuration per reconcile.
    refresh: std::sync::Mutex<Option<Refresh>>,
}

type Refresh = Box<dyn Fn(&Metrics) + Send + Sync>;

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("xtsync"),
            reconciles: Family::default(),
            cycles: Family::default(),
            cycle_duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.05, 2.0, 14))),
            users: Family::default(),
            groups: Family::default(),
            quarantined: Gauge::default(),
            leader: Gauge::default(),
            pending_deletions: ObjectGauge::default(),
            last_success: ObjectGauge::default(),
            interval: ObjectGauge::default(),
            tenant_ready: ObjectGauge::default(),
            credential_expiry: ObjectGauge::default(),
            cycles_waiting: Gauge::default(),
            cycle_lag: Histogram::new(exponential_buckets(0.1, 2.0, 14)),
            refresh: std::sync::Mutex::new(None),
        };
        let r = &mut m.registry;
        r.register("reconciles", "Reconciles by kind and result", m.reconciles.clone());
        r.register("cycles", "Sync cycles by type and result", m.cycles.clone());
        r.register(
            "cycle_duration_seconds",
            "Duration of sync cycles",
            m.cycle_duration.clone(),
        );
        r.register("users", "User operations by action and result", m.users.clone());
        r.register(
            "groups",
            "Group operations by action (create, update, deprovision, member_add, member_remove) and result",
            m.groups.clone(),
        );
        r.register(
            "quarantined_configurations",
            "SyncConfigurations now quarantined",
            m.quarantined.clone(),
        );
        r.register("leader", "1 when this replica runs the controllers", m.leader.clone());
        r.register(
            "pending_deletions",
            "Deprovisionings held by accidentalDeletionThreshold, per SyncConfiguration",
            m.pending_deletions.clone(),
        );
        r.register(
            "last_successful_sync_timestamp_seconds",
            "When a SyncConfiguration last completed a cycle without failures",
            m.last_success.clone(),
        );
        r.register("interval_seconds", "A SyncConfiguration's interval", m.interval.clone());
        r.register("tenant_ready", "1 when a Tenant is Ready", m.tenant_ready.clone());
        r.register(
            "credential_expiry_timestamp_seconds",
            "When a Tenant's client certificate expires (Unix seconds)",
            m.credential_expiry.clone(),
        );
        r.register(
            "cycles_waiting",
            "Cycles due but waiting for a slot",
            m.cycles_waiting.clone(),
        );
        r.register(
            "cycle_lag_seconds",
            "How late cycles start behind their nextSyncTime",
            m.cycle_lag.clone(),
        );
        m
    }
}

impl Metrics {
    /// The text exposition format (OpenMetrics) of every metric.
    /// What sets the per-object gauges before each scrape (the controllers', while they run).
    pub fn refresh_with(&self, refresh: Refresh) {
        if let Ok(mut slot) = self.refresh.lock() {
            *slot = Some(refresh);
        }
    }

    pub fn encode(&self) -> String {
        if let Ok(refresh) = self.refresh.lock()
            && let Some(refresh) = refresh.as_ref()
        {
            refresh(self);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    pub fn reconciled(&self, kind: &'static str, ok: bool) {
        self.reconciles
            .get_or_create(&ReconcileLabels {
                kind,
                result: if ok { "succeeded" } else { "failed" },
            })
            .inc();
    }

    pub fn cycle(&self, r#type: &'static str, result: &'static str, took: Duration) {
        let labels = CycleLabels { r#type, result };
        self.cycles.get_or_create(&labels).inc();
        self.cycle_duration.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// A cycle's outcome: its type and result, and its users by action.
    pub fn record_cycle(&self, initial: bool, outcome: &Result<CycleReport, CycleError>, took: Duration) {
        let kind = if initial { "Initial" } else { "Incremental" };
        let report = match outcome {
            Err(CycleError::TimedOut { .. }) => return self.cycle(kind, "timedOut", took),
            Err(_) => return self.cycle(kind, "failed", took),
            // A dry run made no user operation.
            Ok(report) if report.dry_run => return self.cycle(kind, "dryRun", took),
            Ok(report) => report,
        };
        let result = if report.failed == 0 {
            "succeeded"
        } else if report.mostly_failed() || report.target_auth_failed {
            "failed"
        } else {
            "partial"
        };
        self.cycle(kind, result, took);
        // Failures by the metric's action label: a failed restore is a failed update.
        let failed = |label: &str| {
            report
                .failures_by_action
                .iter()
                .filter(|(action, _)| matches!(action, CycleAction::User(_)) && action.metric_label() == label)
                .map(|(_, count)| count)
                .sum::<u32>()
        };
        for (action, succeeded) in [
            (UserAction::Create, report.created),
            (UserAction::Update, report.updated),
            (UserAction::Adopt, report.adopted),
            (UserAction::Deprovision, report.deprovisioned),
        ] {
            let action = CycleAction::User(action);
            self.user_operations(action, succeeded, failed(action.metric_label()));
        }
        self.user_operations(CycleAction::Skip, report.skipped, 0);
        if let Some(g) = &report.groups {
            let failed = |action: GroupAction| g.failed_by_action.get(&action).copied().unwrap_or(0);
            for (action, succeeded, failed) in [
                (GroupAction::CreateGroup, g.created, failed(GroupAction::CreateGroup)),
                (
                    GroupAction::UpdateGroup,
                    g.updated,
                    failed(GroupAction::UpdateGroup) + failed(GroupAction::RestoreGroup),
                ),
                (
                    GroupAction::DeprovisionGroup,
                    g.deprovisioned,
                    failed(GroupAction::DeprovisionGroup),
                ),
                (
                    GroupAction::AddMembers,
                    g.members_added,
                    failed(GroupAction::AddMembers),
                ),
                (
                    GroupAction::RemoveMembers,
                    g.members_removed,
                    failed(GroupAction::RemoveMembers),
                ),
            ] {
                operations(
                    &self.groups,
                    CycleAction::Group(action).metric_label(),
                    succeeded,
                    failed,
                );
            }
        }
    }

    /// What the alerts need of every SyncConfiguration, as their statuses now say: pending
    /// deprovisionings, the last successful cycle (Unix seconds), the interval. From the cache,
    /// so that configurations that went away drop out.
    pub fn configurations(&self, configs: impl IntoIterator<Item = ConfigGauges>) {
        self.pending_deletions.clear();
        self.last_success.clear();
        self.interval.clear();
        for config in configs {
            self.pending_deletions
                .get_or_create(&config.labels)
                .set(i64::from(config.pending_deletions));
            if let Some(at) = config.last_success {
                self.last_success.get_or_create(&config.labels).set(at);
            }
            if let Some(interval) = config.interval {
                let seconds = i64::try_from(interval.as_secs()).unwrap_or(i64::MAX);
                self.interval.get_or_create(&config.labels).set(seconds);
            }
        }
    }

    /// Every Tenant's readiness, from the cache (Tenants that went away drop out).
    pub fn tenants(&self, tenants: impl IntoIterator<Item = (ObjectLabels, bool)>) {
        self.tenant_ready.clear();
        for (labels, ready) in tenants {
            self.tenant_ready.get_or_create(&labels).set(i64::from(ready));
        }
    }

    /// Every Tenant's credential expiry, where its status has one, from the cache.
    pub fn credential_expiries(&self, tenants: impl IntoIterator<Item = (ObjectLabels, i64)>) {
        self.credential_expiry.clear();
        for (labels, expiry) in tenants {
            self.credential_expiry.get_or_create(&labels).set(expiry);
        }
    }

    pub fn user_operations(&self, action: CycleAction, succeeded: u32, failed: u32) {
        operations(&self.users, action.metric_label(), succeeded, failed);
    }
}

fn operations(family: &Family<UserLabels, Counter>, action: &'static str, succeeded: u32, failed: u32) {
    for (result, count) in [("succeeded", succeeded), ("failed", failed)] {
        if count > 0 {
            family
                .get_or_create(&UserLabels { action, result })
                .inc_by(u64::from(count));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_prefixed_and_labelled_by_bounded_sets() {
        let m = Metrics::default();
        m.reconciled("SyncConfiguration", true);
        m.cycle("Initial", "succeeded", Duration::from_millis(120));
        m.user_operations(CycleAction::User(UserAction::Create), 3, 1);
        m.quarantined.set(2);
        let text = m.encode();
        assert!(
            text.contains(r#"xtsync_reconciles_total{kind="SyncConfiguration",result="succeeded"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"xtsync_cycles_total{type="Initial",result="succeeded"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"xtsync_users_total{action="create",result="failed"} 1"#),
            "{text}"
        );
        assert!(text.contains("xtsync_quarantined_configurations 2"), "{text}");
        assert!(text.contains("xtsync_cycle_duration_seconds_bucket"), "{text}");
    }

    #[test]
    fn a_cycles_failures_count_under_the_action_the_report_names_a_restore_as_an_update() {
        let m = Metrics::default();
        let mut report = CycleReport {
            updated: 2,
            failed: 3,
            ..CycleReport::default()
        };
        let failure = |action| crate::cycle::UnwrittenUser {
            user: "alice@contoso.com".into(),
            action: CycleAction::User(action),
            reason: crate::providers::DirectoryError::NotFound.reason(),
            message: "not found".into(),
        };
        report.keep_failures([
            failure(UserAction::Update),
            failure(UserAction::Restore),
            failure(UserAction::Create),
        ]);
        m.record_cycle(true, &Ok(report), Duration::from_secs(1));
        let text = m.encode();
        for line in [
            r#"xtsync_users_total{action="update",result="succeeded"} 2"#,
            r#"xtsync_users_total{action="update",result="failed"} 2"#,
            r#"xtsync_users_total{action="create",result="failed"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[test]
    fn a_cycle_that_timed_out_is_counted_apart_from_failed_ones() {
        let m = Metrics::default();
        let timed_out = CycleError::TimedOut {
            after: Duration::from_secs(3600),
        };
        m.record_cycle(false, &Err(timed_out), Duration::from_secs(3600));
        let text = m.encode();
        let line = r#"xtsync_cycles_total{type="Incremental",result="timedOut"} 1"#;
        assert!(text.contains(line), "{text}");
    }

    #[test]
    fn group_operations_are_counted_by_action_and_result() {
        let m = Metrics::default();
        let mut groups = crate::cycle::report::GroupReport {
            created: 2,
            members_added: 30,
            members_removed: 1,
            failed: 1,
            ..Default::default()
        };
        groups.failed_by_action.insert(GroupAction::AddMembers, 1);
        let report = CycleReport {
            groups: Some(groups),
            ..CycleReport::default()
        };
        m.record_cycle(true, &Ok(report), Duration::from_secs(1));
        let text = m.encode();
        for line in [
            r#"xtsync_groups_total{action="create",result="succeeded"} 2"#,
            r#"xtsync_groups_total{action="member_add",result="succeeded"} 30"#,
            r#"xtsync_groups_total{action="member_add",result="failed"} 1"#,
            r#"xtsync_groups_total{action="member_remove",result="succeeded"} 1"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains(r#"action="deprovision""#), "{text}");
    }

    #[test]
    fn per_object_gauges_follow_the_objects_and_dry_runs_count_no_operations() {
        let m = Metrics::default();
        let labels = |name: &str| ObjectLabels {
            namespace: "team-a".into(),
            name: name.into(),
        };
        let gauges = |name: &str, pending| ConfigGauges {
            labels: labels(name),
            pending_deletions: pending,
            last_success: Some(1_700_000_000),
            interval: Some(Duration::from_secs(2400)),
        };
        m.configurations([gauges("a", 3), gauges("b", 0)]);
        m.tenants([(labels("contoso"), false)]);
        let text = m.encode();
        assert!(
            text.contains(r#"xtsync_pending_deletions{namespace="team-a",name="a"} 3"#),
            "{text}"
        );
        assert!(
            text.contains(r#"xtsync_interval_seconds{namespace="team-a",name="b"} 2400"#),
            "{text}"
        );
        assert!(
            text.contains(r#"xtsync_tenant_ready{namespace="team-a",name="contoso"} 0"#),
            "{text}"
        );
        m.configurations([gauges("b", 0)]);
        assert!(
            !m.encode().contains(r#"name="a""#),
            "a configuration that went away drops out"
        );
        m.credential_expiries([(labels("contoso"), 1_900_000_000)]);
        assert!(
            m.encode().contains(
                r#"xtsync_credential_expiry_timestamp_seconds{namespace="team-a",name="contoso"} 1900000000"#
            ),
            "a client certificate's expiry, for the chart's alert"
        );
        m.credential_expiries([]);
        assert!(!m.encode().contains(r#"xtsync_credential_expiry_timestamp_seconds{"#));

        let dry = CycleReport {
            dry_run: true,
            created: 5,
            ..CycleReport::default()
        };
        m.record_cycle(true, &Ok(dry), Duration::from_secs(1));
        let text = m.encode();
        assert!(
            text.contains(r#"xtsync_cycles_total{type="Initial",result="dryRun"} 1"#),
            "{text}"
        );
        assert!(
            !text.contains(r#"action="create""#),
            "a dry run made no operation: {text}"
        );
    }
}
