//! Run: with the gate open, answer an on-demand request, then run the cycle the schedule asks
//! for — connecting to both Tenants' directories first.

use std::time::Instant;

use k8s_openapi::jiff::Timestamp;

use super::super::{Context, Error, connect};
use super::dereference::Dereferenced;
use super::outcome::{Open, Ran, Step};
use super::schedule::{self, CycleKind, Decision, Requests};
use crate::api::sync_config::{SyncConfiguration, SyncConfigurationStatus};
use crate::cycle::{self, CycleError, CycleInput, OnDemandOutcome, OnDemandResult};
use crate::gate::OpenPair;
use crate::providers::Directory;
use crate::validate::ValidSpec;

/// What a reconcile does with an open gate.
pub struct OpenGate<'a> {
    pub config: &'a SyncConfiguration,
    pub ns: &'a str,
    pub pair: OpenPair,
    pub valid: ValidSpec,
    pub previous: &'a SyncConfigurationStatus,
    pub found: &'a Dereferenced,
}

impl OpenGate<'_> {
    pub async fn run(self, ctx: &Context, now: Timestamp) -> Result<Open, Error> {
        let requests = Requests::of(self.config);
        let on_demand = match requests.new_on_demand(self.previous) {
            Some(who) => Some((who.to_owned(), self.on_demand(ctx, who).await?)),
            None => None,
        };
        let decision = schedule::decide(
            self.previous,
            &requests,
            self.valid.interval,
            self.found.source_tracks_changes,
            now,
        );
        let step = match decision {
            Decision::Wait(wait) => Step::Wait(wait),
            Decision::Run { kind, restart } => Step::Ran(self.cycle(ctx, &requests, kind, restart).await?),
        };
        Ok(Open {
            pair: self.pair,
            interval: self.valid.interval,
            on_demand,
            step,
        })
    }

    fn input<'w>(&'w self, approval: Option<&'w str>, watermark: Option<&'w str>) -> CycleInput<'w> {
        CycleInput {
            source_tenant_id: &self.pair.source.tenant_id,
            rules: &self.valid.rules,
            approval,
            concurrency: crate::providers::scim::concurrency(),
            watermark,
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
        let watermark = match kind {
            CycleKind::Initial => None,
            CycleKind::Incremental => self.previous.watermark.as_deref(),
        };
        let result = match self.connect(ctx).await? {
            Ok((source, target)) => {
                let input = self.input(requests.fresh_approval(self.previous), watermark);
                cycle::run(source.as_ref(), target.as_ref(), &input).await
            }
            Err(error) => Err(error),
        };
        let elapsed = started.elapsed();
        ctx.health
            .metrics
            .record_cycle(kind == CycleKind::Initial, &result, elapsed);
        if let Err(error) = &result {
            let config = super::dereference::label(self.config);
            tracing::warn!(%config, %error, "cycle failed; nothing was deprovisioned");
        }
        Ok(Ran {
            restart,
            result,
            elapsed,
        })
    }

    async fn on_demand(&self, ctx: &Context, who: &str) -> Result<OnDemandOutcome, Error> {
        let answer = match self.connect(ctx).await? {
            Ok((source, target)) => {
                cycle::provision_on_demand(source.as_ref(), target.as_ref(), &self.input(None, None), who).await
            }
            Err(error) => Err(error),
        };
        let answer = answer.unwrap_or_else(|error| OnDemandOutcome {
            result: OnDemandResult::Failed,
            message: error.to_string(),
        });
        let config = super::dereference::label(self.config);
        tracing::info!(%config, request = who, result = <&str>::from(answer.result), "provisioned on demand");
        Ok(answer)
    }

    async fn connect(&self, ctx: &Context) -> Result<Result<DirectoryPair, CycleError>, Error> {
        let spec = &self.config.spec;
        let source = connect::directory(ctx, self.ns, &spec.source_ref.name).await?;
        let target = connect::directory(ctx, self.ns, &spec.target_ref.name).await?;
        Ok(match (source, target) {
            (Ok(s), Ok(t)) => Ok((s, t)),
            (Err(error), _) => Err(CycleError::Unusable { role: "source", error }),
            (_, Err(error)) => Err(CycleError::Unusable { role: "target", error }),
        })
    }
}

type DirectoryPair = (Box<dyn Directory>, Box<dyn Directory>);
