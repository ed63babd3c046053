//! A status never exceeds its bound: whatever a directory names its users, whatever its
//! errors say, whatever the annotations and the previous status hold, `status::next` gives a
//! status under `MAX_STATUS_BYTES` as JSON.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use proptest::prelude::*;

use super::outcome::{Open, Outcome, Ran, Step};
use super::status::{Subject, next};
use crate::api::sync_config::{OnDemandResult as Answer, SyncConfigurationStatus};
use crate::controller::bounds::MAX_STATUS_BYTES;
use crate::cycle::{CycleError, CycleReport, OnDemandOutcome, OnDemandVerdict, UnwrittenUser};
use crate::gate::{OpenPair, TenantFacts};
use crate::providers::DirectoryError;

/// Text a hostile peer could send: short or long, with characters JSON escapes (quotes,
/// backslashes, control characters) or that take several bytes.
fn hostile() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(vec!["x", "\"", "\\", "\u{0}", "é", "가", "\n", "a\"\u{1}"]),
        prop_oneof![0..16usize, 1_000..5_000usize, 100_000..300_000usize],
    )
        .prop_map(|(unit, times)| unit.repeat(times))
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds).expect("valid time")
}

fn condition(type_: String, message: String) -> Condition {
    Condition {
        type_,
        status: "False".into(),
        reason: message.clone(),
        message,
        observed_generation: None,
        last_transition_time: Time(at(0)),
    }
}

/// A previous status another writer (or an older version) filled with hostile text.
fn previous() -> impl Strategy<Value = SyncConfigurationStatus> {
    (
        proptest::collection::vec((hostile(), hostile()), 0..12),
        hostile(),
        hostile(),
    )
        .prop_map(|(conditions, approved, request)| SyncConfigurationStatus {
            conditions: conditions.into_iter().map(|(t, m)| condition(t, m)).collect(),
            last_approved_deletions: Some(approved),
            on_demand: Some(Answer {
                request,
                result: "Failed".into(),
                message: String::new(),
                time: Time(at(0)),
            }),
            ..SyncConfigurationStatus::default()
        })
}

fn report() -> impl Strategy<Value = Result<CycleReport, CycleError>> {
    let failures = proptest::collection::vec((hostile(), hostile()), 0..30);
    (failures, hostile(), hostile(), any::<bool>()).prop_map(|(failures, watermark, detail, fails)| {
        if fails {
            return Err(CycleError::SourceRead(DirectoryError::InvalidResponse(detail)));
        }
        let failed = u32::try_from(failures.len()).unwrap_or(u32::MAX);
        Ok(CycleReport {
            full: true,
            watermark: Some(watermark.clone()),
            groups_watermark: Some(watermark),
            failures: failures
                .into_iter()
                .map(|(user, message)| UnwrittenUser {
                    user,
                    action: crate::engine::vocabulary::CycleAction::User(crate::engine::vocabulary::UserAction::Create),
                    reason: crate::engine::vocabulary::SkipReason::MappingFailed.as_str(),
                    message,
                })
                .collect(),
            failed,
            attempted: failed,
            ..CycleReport::default()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_status_never_exceeds_its_bound(
        previous in previous(),
        result in report(),
        request in hostile(),
        answer in hostile(),
        restart in hostile(),
    ) {
        let outcome = Outcome::Open(Box::new(Open {
            pair: OpenPair {
                source: TenantFacts { tenant_id: "s".into(), cloud: crate::api::tenant::Cloud::Global, directory: "graph s".into(), domains: Vec::new() },
                target: TenantFacts { tenant_id: "t".into(), cloud: crate::api::tenant::Cloud::Global, directory: "graph t".into(), domains: Vec::new() },
                message: answer.clone(),
            },
            interval: Duration::from_secs(600),
            on_demand: Some((request, OnDemandOutcome { result: OnDemandVerdict::Failed, message: answer })),
            step: Step::Ran(Box::new(Ran {
                id: "c1".into(),
                restart: Some(restart),
                result,
                elapsed: Duration::from_secs(1),
            })),
        }));
        let subject = Subject { name: "contoso-to-fabrikam".into(), generation: Some(1) };
        let status = next(&previous, &outcome, &subject, at(10), Duration::from_secs(300)).status;
        let bytes = serde_json::to_vec(&status).expect("serializes").len();
        prop_assert!(bytes <= MAX_STATUS_BYTES, "{bytes} bytes");
    }
}
