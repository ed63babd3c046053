//! Rule 9: one user's failure never stops the cycle; most failing counts towards quarantine,
//! and the target refusing us is noted (it quarantines at once).

use super::*;
use crate::providers::memory::{FaultKind, Faults};

#[tokio::test]
async fn one_users_failure_never_stops_the_cycle() {
    let pair = CyclePair::all_users();
    for (id, name) in [("a1", "alice"), ("b1", "bob"), ("c1", "carol")] {
        pair.source.put(person(id, name));
    }
    pair.target.set_faults(Faults {
        writes_of: ["bob@contoso.com".to_owned()].into(),
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert_eq!((report.created, report.failed), (2, 1), "{report:?}");
    let failure = &report.failures[0];
    let rejected = crate::providers::directory::DirectoryError::Rejected {
        status: 400,
        code: None,
        detail: None,
    }
    .reason();
    assert_eq!(
        (failure.user.as_str(), failure.action.as_str(), failure.reason),
        ("bob@contoso.com", "Create", rejected)
    );
    assert!(!report.mostly_failed(), "one of three failed");
}

#[tokio::test]
async fn most_writes_failing_counts_towards_quarantine() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.source.put(person("b1", "bob"));
    pair.target.set_faults(Faults {
        writes: Some(FaultKind::Rejected),
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert_eq!((report.attempted, report.failed), (2, 2));
    assert!(report.mostly_failed());
}

#[tokio::test]
async fn a_target_refusing_the_credentials_is_noted_even_for_one_write() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target.set_faults(Faults {
        writes: Some(FaultKind::AuthenticationFailed),
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert!(report.target_auth_failed, "{report:?}");
}

#[tokio::test]
async fn a_failed_target_read_writes_nothing() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target.set_faults(Faults {
        reads: Some(FaultKind::Unreachable),
        ..Faults::default()
    });
    let error = pair.try_cycle(None, None).await.expect_err("fails");
    assert!(matches!(error, CycleError::TargetRead(_)), "{error}");
    assert!(pair.target.take_writes().is_empty());
}

#[tokio::test]
async fn throttling_alone_never_warrants_quarantine() {
    // README, "Safety": a storm of 429s once made every write fail, and the configuration was
    // quarantined.
    let pair = CyclePair::all_users();
    for (id, name) in [("a1", "alice"), ("b1", "bob"), ("c1", "carol")] {
        pair.source.put(person(id, name));
    }
    pair.target.set_faults(Faults {
        writes: Some(FaultKind::Throttled),
        ..Faults::default()
    });
    let report = pair.initial().await;
    assert_eq!((report.failed, report.throttled), (3, 3), "{report:?}");
    assert!(!report.mostly_failed(), "throttling is flow control, not failure");
}

#[tokio::test]
async fn a_mapping_that_outgrows_its_bound_skips_that_user_and_the_cycle_goes_on() {
    // Each Replace doubles every "x": 8 "x" become 128 KiB, twice the bound of a value.
    let doubling = (0..14).fold("[displayName]".to_owned(), |inner, _| {
        format!(r#"Replace({inner}, "x", , , "xx", , )"#)
    });
    let mut pair = CyclePair::all_users();
    pair.rules.mappings = mapping::effective(&[mapping::Mapping {
        target: "displayName",
        value: mapping::MappingValue::Expression(crate::engine::expression::parse(&doubling).expect("parses")),
        apply_on: crate::engine::vocabulary::ApplyOn::Always,
    }]);
    pair.source.put(person("a1", "alice"));
    pair.source.put(user(
        "m1",
        &[("userName", "mallory@contoso.com"), ("displayName", "xxxxxxxx")],
    ));
    pair.source.put(person("c1", "carol"));
    let report = pair.initial().await;
    assert_eq!((report.created, report.skipped, report.failed), (2, 1, 0), "{report:?}");
    let failure = &report.failures[0];
    assert_eq!(
        (failure.user.as_str(), failure.reason),
        ("mallory@contoso.com", "MappingFailed")
    );
    assert!(failure.message.contains("64 KiB"), "{}", failure.message);
    assert!(pair.provisioned("m1").is_none(), "nothing written for her");
    assert!(pair.provisioned("a1").is_some() && pair.provisioned("c1").is_some());
}
