//! Run: with the gate open, answer an on-demand request, then run the cycle the schedule asks
//! for — connecting to both Tenants' directories first.

use std::time::Instant;

use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;

use super::super::world::{CycleStart, Runnable};
use super::super::{Context, Error};
use super::outcome::{Open, Ran, Step};
use super::progress;
use super::provisioning::{self, LogSink};
use super::schedule::{self, CycleKind, Decision, Requests, first_cycle};
use crate::api::sync_config::{SyncConfiguration, SyncConfigurationStatus};
use crate::cycle::audit::Sink;
use crate::cycle::progress::{Progress, Untracked};
use crate::cycle::shared_read::Sharing;
use crate::cycle::{CycleError, OnDemandOutcome, OnDemandVerdict};

/// What a reconcile does with an open gate.
pub struct OpenGate<'a> {
    pub config: &'a SyncConfiguration,
    pub ns: &'a str,
    pub runnable: Runnable,
    pub previous: &'a SyncConfigurationStatus,
}

impl OpenGate<'_> {
    pub async fn run(self, ctx: &Context, now: Timestamp) -> Result<Open, Error> {
        let requests = Requests::of(self.config);
        let on_demand = match requests.new_on_demand(self.previous) {
            Some(who) => Some((who.to_owned(), Box::pin(self.on_demand(ctx, who)).await?)),
            None => None,
        };
        let decision = schedule::decide(
            self.previous,
            &requests,
            self.runnable.valid.interval,
            self.runnable.source_tracks_changes,
            now,
        );
        let step = match decision {
            Decision::Wait(wait) => Step::Wait(wait),
            Decision::Run { kind, restart } => Step::Ran(Box::new(self.cycle(ctx, &requests, kind, restart).await?)),
        };
        Ok(Open {
            interval: self.runnable.valid.interval,
            pair: self.runnable.pair,
            on_demand,
            step,
        })
    }

    /// Where a cycle (or an on-demand answer) starts: after `watermark` (`None`: read in full).
    fn start<'w>(
        &'w self,
        ctx: &'w Context,
        approval: Option<&'w str>,
        watermark: Option<&'w str>,
        audit: &'w dyn Sink,
        progress: &'w dyn Progress,
    ) -> CycleStart<'w> {
        CycleStart {
            approval,
            watermark,
            groups_watermark: watermark.and(self.previous.groups_watermark.as_deref()),
            group_members_digest: watermark.and(self.previous.group_members_digest.as_deref()),
            dry_run: self.config.spec.dry_run,
            audit,
            progress,
            shared_reads: first_cycle(self.previous).then_some(Sharing {
                reads: &ctx.source_reads,
                configuration: self.config.metadata.uid.as_deref().unwrap_or_default(),
            }),
        }
    }

    /// The provisioning log of a cycle (or on-demand answer) starting now, with its new id.
    fn log(&self) -> LogSink {
        LogSink {
            cycle_id: provisioning::cycle_id(
                self.config.metadata.uid.as_deref().unwrap_or_default(),
                Timestamp::now().as_millisecond(),
            ),
            configuration: format!("{}/{}", self.ns, self.config.name_any()),
            source_tenant_id: self.runnable.pair.source.tenant_id.clone(),
            target_tenant_id: self.runnable.pair.target.tenant_id.clone(),
            dry_run: self.config.spec.dry_run,
        }
    }

    async fn cycle(
        &self,
        ctx: &Context,
        requests: &Requests,
        kind: CycleKind,
        restart: Option<String>,
    ) -> Result<Ran, Error> {
        let started = Instant::now();
        // A slot of the cycle's kind (fair scheduling); the wait counts into the cycle's time in
        // status (it completes that much later) but not into its duration metric.
        let _slot = ctx.slots.take(kind == CycleKind::Initial, &ctx.health.metrics).await;
        // Boxed: a reconcile waiting for a slot holds only what it needs to wait, not the
        // cycle's whole state (thousands of configurations may wait at once).
        Box::pin(self.cycle_in_slot(ctx, requests, kind, restart, started)).await
    }

    /// The cycle itself, once it holds a slot.
    async fn cycle_in_slot(
        &self,
        ctx: &Context,
        requests: &Requests,
        kind: CycleKind,
        restart: Option<String>,
        started: Instant,
    ) -> Result<Ran, Error> {
        let running = Instant::now();
        if let Some(due) = &self.previous.next_sync_time {
            let late = Timestamp::now().duration_since(due.0);
            if late.is_positive() {
                ctx.health.metrics.cycle_lag.observe(late.as_secs_f64());
            }
        }
        // A dry run reads everything each time (it wrote nothing, so every change is still to
        // come) and consumes no approval.
        let dry_run = self.config.spec.dry_run;
        let watermark = match kind {
            CycleKind::Incremental if !dry_run => self.previous.watermark.as_deref(),
            CycleKind::Initial | CycleKind::Incremental => None,
        };
        let approval = requests.fresh_approval(self.previous).filter(|_| !dry_run);
        let log = self.log();
        let id = log.cycle_id.clone();
        let api = kube::Api::<SyncConfiguration>::namespaced(ctx.client.clone(), self.ns);
        // As the cache shows it: a progress an earlier run of the operator left behind is removed
        // when this cycle ends, even if this cycle is too short to write one.
        let shown = self.config.status.as_ref().is_some_and(|s| s.progress.is_some());
        let (progress, following) = progress::follow(api, self.config.name_any(), shown);
        let result = match self.runnable.connect(ctx).await? {
            Ok(directories) => {
                let start = self.start(ctx, approval, watermark, &log, &progress);
                self.runnable.run_cycle(&directories, start).await
            }
            Err(unusable) => Err(unusable.into()),
        };
        // The cycle ended: `status.progress` is removed before the status says so.
        drop(progress);
        let _ = following.await;
        let elapsed = started.elapsed();
        ctx.health
            .metrics
            .record_cycle(kind == CycleKind::Initial, &result, running.elapsed());
        if let Err(error) = &result {
            let config = super::label(self.config);
            tracing::warn!(%config, %error, "cycle failed; nothing was deprovisioned");
        }
        Ok(Ran {
            id,
            restart,
            result,
            elapsed,
        })
    }

    async fn on_demand(&self, ctx: &Context, who: &str) -> Result<OnDemandOutcome, Error> {
        let answer = match self.runnable.connect(ctx).await? {
            Ok(directories) => {
                let log = self.log();
                let start = self.start(ctx, None, None, &log, &Untracked);
                self.runnable.provision_on_demand(&directories, start, who).await
            }
            Err(unusable) => Err(CycleError::from(unusable)),
        };
        let answer = answer.unwrap_or_else(|error| OnDemandOutcome {
            result: OnDemandVerdict::Failed,
            message: error.to_string(),
        });
        let config = super::label(self.config);
        tracing::info!(%config, request = who, result = <&str>::from(answer.result), "provisioned on demand");
        Ok(answer)
    }
}
