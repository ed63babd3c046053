//! `metav1.Condition` bookkeeping, following the Kubernetes API conventions: one entry per
//! type, `lastTransitionTime` moves only when the status flips, `observedGeneration` says
//! which spec the condition speaks of.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// The reasons of one condition type (`api::reasons`): the type is the enum's, so a reason can
/// never be recorded under another condition type.
pub trait ConditionReason: Copy + Into<&'static str> {
    const TYPE: &'static str;

    fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a reconcile concluded about one condition type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub type_: &'static str,
    pub status: bool,
    pub reason: &'static str,
    pub message: String,
}

impl Verdict {
    pub fn truth<R: ConditionReason>(reason: R, message: impl Into<String>) -> Self {
        Verdict::new(true, reason, message)
    }

    pub fn falsity<R: ConditionReason>(reason: R, message: impl Into<String>) -> Self {
        Verdict::new(false, reason, message)
    }

    pub fn new<R: ConditionReason>(status: bool, reason: R, message: impl Into<String>) -> Self {
        Verdict {
            type_: R::TYPE,
            status,
            reason: reason.as_str(),
            message: message.into(),
        }
    }
}

/// The longest condition message written: directories' error texts are not ours to bound, and
/// a status must stay readable (and far under the API's 32 KiB limit for a message).
pub const MAX_MESSAGE: usize = 2048;

/// `text` cut to at most `max` bytes at a character boundary, marked `…(truncated)` when cut:
/// the one helper every string written to a status or an Event goes through. Control
/// characters other than newline and tab become U+FFFD, so that no character takes more than
/// twice its bytes as JSON (`\u0000` would take six).
pub fn bounded(text: &str, max: usize) -> String {
    const CUT: &str = "…(truncated)";
    let mut out = String::with_capacity(text.len().min(max));
    for c in text.chars() {
        let c = if c < ' ' && c != '\n' && c != '\t' {
            char::REPLACEMENT_CHARACTER
        } else {
            c
        };
        if out.len() + c.len_utf8() > max {
            let mut end = max.saturating_sub(CUT.len());
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            out.truncate(end);
            out.push_str(CUT);
            return out;
        }
        out.push(c);
    }
    out
}

/// Returns `conditions` with `verdict` recorded, keeping the transition time when the status
/// did not change (so `kubectl describe` shows how long a state has lasted).
pub fn record(conditions: &[Condition], verdict: Verdict, generation: Option<i64>, now: Timestamp) -> Vec<Condition> {
    let status = if verdict.status { "True" } else { "False" };
    let previous = conditions.iter().find(|c| c.type_ == verdict.type_);
    let last_transition_time = match previous {
        Some(p) if p.status == status => p.last_transition_time.clone(),
        _ => Time(now),
    };
    let updated = Condition {
        type_: verdict.type_.to_owned(),
        status: status.to_owned(),
        reason: verdict.reason.to_owned(),
        message: bounded(&verdict.message, MAX_MESSAGE),
        observed_generation: generation,
        last_transition_time,
    };
    let mut out: Vec<Condition> = conditions
        .iter()
        .filter(|c| c.type_ != updated.type_)
        .cloned()
        .collect();
    out.push(updated);
    out.sort_by(|a, b| a.type_.cmp(&b.type_));
    out
}

/// The condition of a type, if present.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Does the condition of `reason`'s type currently carry `reason`?
pub fn has_reason<R: ConditionReason>(conditions: &[Condition], reason: R) -> bool {
    find(conditions, R::TYPE).is_some_and(|c| c.reason == reason.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::reasons::{ReadyReason, SyncedReason};

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(secs).expect("valid timestamp")
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let first = record(
            &[],
            Verdict::falsity(ReadyReason::TenantNotReady, "a"),
            Some(1),
            at(100),
        );
        let same = record(&first, Verdict::falsity(ReadyReason::SameTenant, "b"), Some(2), at(200));
        let ready = find(&same, ReadyReason::TYPE).expect("ready recorded");
        assert_eq!(ready.last_transition_time, Time(at(100)));
        assert_eq!(ready.reason, ReadyReason::SameTenant.as_str());
        assert_eq!(ready.observed_generation, Some(2));

        let flipped = record(&same, Verdict::truth(ReadyReason::GateOpen, "c"), Some(2), at(300));
        assert_eq!(
            find(&flipped, ReadyReason::TYPE).map(|c| &c.last_transition_time),
            Some(&Time(at(300)))
        );
        assert_eq!(flipped.len(), 1);
    }

    #[test]
    fn messages_are_bounded_at_a_character_boundary() {
        let long = "é".repeat(5000);
        let c = record(&[], Verdict::falsity(ReadyReason::TenantNotReady, long), None, at(1));
        assert!(c[0].message.len() <= MAX_MESSAGE && c[0].message.ends_with("…(truncated)"));
        assert_eq!(bounded("short", 10), "short");
        assert_eq!(
            bounded("a\u{0}b\nc", 10),
            "a\u{FFFD}b\nc",
            "no control character but newline and tab"
        );
    }

    #[test]
    fn other_condition_types_are_kept() {
        let a = record(&[], Verdict::truth(ReadyReason::GateOpen, ""), None, at(1));
        let b = record(&a, Verdict::falsity(SyncedReason::GateClosed, ""), None, at(2));
        assert_eq!(
            b.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(),
            vec![ReadyReason::TYPE, SyncedReason::TYPE]
        );
    }
}
