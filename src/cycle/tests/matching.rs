//! Rules 5 and 6: adopt external users, never hijack internal ones; write only what changed.

use super::*;
use crate::engine::vocabulary::SkipReason;
use crate::providers::memory::Request;

#[tokio::test]
async fn an_external_target_user_with_the_same_name_is_adopted() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target
        .put(user("b2b", &[("userName", "alice@contoso.com"), ("userType", "Guest")]));
    let report = pair.initial().await;
    assert_eq!((report.adopted, report.created), (1, 0), "{report:?}");
    let adopted = pair.target.user("b2b").expect("same user");
    assert_eq!(adopted.get("externalId"), Some(anchor("a1").as_str()));
}

#[tokio::test]
async fn an_internal_target_user_is_never_adopted_or_changed() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    let internal = user("own", &[("userName", "ALICE@contoso.com"), ("userType", "Member")]);
    pair.target.put(internal.clone());
    let report = pair.initial().await;
    assert_eq!(report.skipped, 1);
    assert_eq!(
        report.failures[0].reason,
        SkipReason::ConflictsWithInternalUser.as_str()
    );
    assert!(pair.target.take_writes().is_empty(), "nothing written");
    assert_eq!(pair.target.user("own").map(|u| u.attributes), Some(internal.attributes));
}

#[tokio::test]
async fn without_adoption_a_matching_external_user_is_skipped_with_a_reason() {
    let mut pair = CyclePair::all_users();
    pair.rules.adopt_existing = false;
    pair.source.put(person("a1", "alice"));
    pair.target
        .put(user("b2b", &[("userName", "alice@contoso.com"), ("userType", "Guest")]));
    let report = pair.initial().await;
    assert_eq!(report.failures[0].reason, SkipReason::AdoptionDisabled.as_str());
    assert!(pair.target.take_writes().is_empty());
}

#[tokio::test]
async fn a_user_provisioned_from_another_source_is_never_taken_over() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    let theirs = format!("{OTHER}/x");
    pair.target.put(user(
        "t9",
        &[("userName", "alice@contoso.com"), ("externalId", &theirs)],
    ));
    let report = pair.initial().await;
    assert_eq!(
        report.failures[0].reason,
        SkipReason::ConflictsWithProvisionedUser.as_str()
    );
    assert_eq!(
        pair.target
            .user("t9")
            .and_then(|u| u.get("externalId").map(str::to_owned)),
        Some(theirs)
    );
}

#[tokio::test]
async fn an_unchanged_user_costs_no_write_and_an_update_sends_only_what_changed() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.target.take_log();
    assert_eq!(pair.initial().await.unchanged, 1);
    assert!(pair.target.take_writes().is_empty(), "unchanged: no write");

    pair.source.set("a1", "displayName", Some("Alice Liddell"));
    pair.initial().await;
    let id = pair.provisioned("a1").expect("provisioned").id;
    assert_eq!(
        pair.target.take_writes(),
        vec![Request::Update {
            id,
            attributes: vec!["displayName"]
        }]
    );
}

#[tokio::test]
async fn a_cleared_source_attribute_is_cleared_in_the_target() {
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.initial().await;
    pair.source.set("a1", "displayName", None);
    pair.initial().await;
    assert_eq!(
        pair.provisioned("a1")
            .and_then(|u| u.get("displayName").map(str::to_owned)),
        None
    );
}

/// Rule 5 (docs/architecture.md): matching compares the desired userName and email with target
/// userNames and emails, every candidate; any internal candidate blocks, in every kind of cycle.
mod never_hijack {
    use super::*;

    fn guest(id: &str, user_name: &str) -> User {
        user(id, &[("userName", user_name), ("userType", "Guest")])
    }

    fn internal(id: &str, user_name: &str, email: &str) -> User {
        user(
            id,
            &[("userName", user_name), ("userType", "Member"), (WORK_EMAIL, email)],
        )
    }

    async fn assert_blocked(pair: &CyclePair, report: CycleReport) {
        assert_eq!(report.adopted + report.created, 0, "{report:?}");
        assert_eq!(
            report.failures[0].reason,
            SkipReason::ConflictsWithInternalUser.as_str()
        );
        assert!(pair.target.take_writes().is_empty());
    }

    #[tokio::test]
    async fn an_internal_user_with_the_same_email_blocks_adopting_a_guest_with_the_same_name() {
        let pair = CyclePair::all_users();
        pair.source.put(person("a1", "alice"));
        pair.target.put(guest("g", "alice@contoso.com"));
        pair.target
            .put(internal("own", "alice.smith@fabrikam.com", "alice@contoso.com"));
        let report = pair.initial().await;
        assert_blocked(&pair, report).await;
    }

    #[tokio::test]
    async fn an_internal_user_whose_email_is_the_desired_user_name_blocks_creation() {
        let pair = CyclePair::all_users();
        let alice = user(
            "a1",
            &[("userName", "alice@contoso.com"), (WORK_EMAIL, "a.l@contoso.com")],
        );
        pair.source.put(alice);
        pair.target
            .put(internal("own", "boss@fabrikam.com", "Alice@Contoso.com"));
        let report = pair.initial().await;
        assert_blocked(&pair, report).await;
    }

    #[tokio::test]
    async fn every_candidate_counts_not_only_the_first() {
        let pair = CyclePair::all_users();
        pair.source.put(person("a1", "alice"));
        pair.target.put(guest("a-guest", "Alice@contoso.com"));
        pair.target
            .put(internal("b-own", "alice@contoso.com", "x@fabrikam.com"));
        let report = pair.initial().await;
        assert_blocked(&pair, report).await;
    }

    #[tokio::test]
    async fn initial_cycles_from_a_shared_source_read_find_the_same_conflicts() {
        let mut pair = CyclePair::all_users();
        pair.source.put(person("a1", "alice"));
        pair.share_a_source_read().await;
        pair.target.put(guest("g", "alice@contoso.com"));
        pair.target
            .put(internal("own", "alice.smith@fabrikam.com", "alice@contoso.com"));
        let report = pair.initial().await;
        assert!(
            !pair
                .target
                .take_log()
                .contains(&crate::providers::memory::Request::ListUsers),
            "the target was looked up, not read whole"
        );
        assert_eq!(report.adopted + report.created, 0, "{report:?}");
        assert_eq!(
            report.failures[0].reason,
            SkipReason::ConflictsWithInternalUser.as_str()
        );
        assert_eq!(pair.target.users().len(), 2, "nothing created or changed");
    }

    #[tokio::test]
    async fn incremental_cycles_find_the_same_conflicts() {
        let pair = CyclePair::all_users();
        let watermark = pair.initial().await.watermark.expect("watermark");
        pair.target.put(guest("g", "alice@contoso.com"));
        pair.target
            .put(internal("own", "alice.smith@fabrikam.com", "alice@contoso.com"));
        pair.source.put(person("a1", "alice"));
        let report = pair.incremental(&watermark).await;
        assert_blocked(&pair, report).await;
    }

    #[tokio::test]
    async fn an_update_never_gives_a_user_the_name_or_email_of_an_internal_user() {
        let pair = CyclePair::all_users();
        pair.source.put(person("a1", "alice"));
        pair.initial().await;
        pair.target.put(internal("own", "bob@contoso.com", "bob@fabrikam.com"));
        pair.source.set("a1", "userName", Some("bob@contoso.com"));
        pair.target.take_log();
        let report = pair.initial().await;
        assert_blocked(&pair, report).await;
        assert_eq!(
            pair.provisioned("a1").map(|u| u.user_name().to_owned()).as_deref(),
            Some("alice@contoso.com")
        );
    }
}

/// An address outside the source's domains may be any tenant's guest: adopting it would anchor
/// it, rewrite it, make it a Member and later deprovision it.
#[tokio::test]
async fn a_guest_of_a_third_tenant_is_never_adopted() {
    let pair = CyclePair::all_users();
    pair.source.put(user(
        "a1",
        &[("userName", "victim@litware.com"), (WORK_EMAIL, "victim@litware.com")],
    ));
    let guest = user("g", &[("userName", "victim@litware.com"), ("userType", "Guest")]);
    pair.target.put(guest.clone());
    let report = pair.initial().await;
    assert_eq!(
        (report.adopted, report.created, report.skipped),
        (0, 0, 1),
        "{report:?}"
    );
    assert_eq!(report.failures[0].reason, SkipReason::ConflictsWithForeignUser.as_str());
    assert!(pair.target.take_writes().is_empty(), "nothing written");
    assert_eq!(pair.target.user("g").map(|u| u.attributes), Some(guest.attributes));
}

#[tokio::test]
async fn a_source_with_no_known_domain_adopts_nobody() {
    let mut pair = CyclePair::all_users();
    pair.source_domains.clear();
    pair.source.put(person("a1", "alice"));
    pair.target
        .put(user("b2b", &[("userName", "alice@contoso.com"), ("userType", "Guest")]));
    let report = pair.initial().await;
    assert_eq!(report.adopted, 0);
    let failure = &report.failures[0];
    assert_eq!(failure.reason, SkipReason::ConflictsWithForeignUser.as_str());
    assert!(failure.message.contains("no known domain"), "{}", failure.message);
    assert!(pair.target.take_writes().is_empty());
}

#[tokio::test]
async fn a_domain_the_source_directory_verified_is_the_sources_own() {
    let pair = CyclePair::all_users();
    pair.source.set_verified_domains(&["Contoso.NET"]);
    pair.source.put(user("a1", &[("userName", "alice@contoso.net")]));
    pair.target
        .put(user("b2b", &[("userName", "ALICE@contoso.net"), ("userType", "Guest")]));
    let report = pair.initial().await;
    assert_eq!(report.adopted, 1, "{report:?}");
    // A subdomain is another domain.
    pair.source.put(user("a2", &[("userName", "bob@eu.contoso.net")]));
    pair.target.put(user(
        "b2c",
        &[("userName", "bob@eu.contoso.net"), ("userType", "Guest")],
    ));
    let report = pair.initial().await;
    assert_eq!(report.adopted, 0);
    assert_eq!(report.failures[0].reason, SkipReason::ConflictsWithForeignUser.as_str());
}

/// The cycle created nobody: its one source user conflicts with an internal target user.
fn conflicts_with_an_internal_user(report: &CycleReport) {
    assert_eq!(report.created, 0, "{report:?}");
    assert_eq!(
        report.failures[0].reason,
        SkipReason::ConflictsWithInternalUser.as_str()
    );
}

/// An internal target user whose userName is another, but who holds the address as another
/// email (any type), in `otherMails` or as a proxy address.
fn internal_with_other_address(address: &str) -> User {
    User {
        other_addresses: vec![address.to_owned()],
        ..user(
            "own",
            &[("userName", "a.liddell@fabrikam.example"), ("userType", "Member")],
        )
    }
}

#[tokio::test]
async fn an_internal_user_is_recognised_by_any_of_its_addresses_in_every_kind_of_cycle() {
    // Initial.
    let pair = CyclePair::all_users();
    pair.source.put(person("a1", "alice"));
    pair.target.put(internal_with_other_address("Alice@Contoso.com"));
    conflicts_with_an_internal_user(&pair.initial().await);

    // Incremental: the changed user's look-ups find the internal user by its other address.
    let pair = CyclePair::all_users();
    let watermark = pair.initial().await.watermark.expect("watermark");
    pair.target.put(internal_with_other_address("alice@contoso.com"));
    pair.source.put(person("a1", "alice"));
    conflicts_with_an_internal_user(&pair.incremental(&watermark).await);

    // On demand.
    let outcome = provision_on_demand(&pair.source, &pair.target, &pair.input(None, None), "a1")
        .await
        .expect("answered");
    assert_eq!(outcome.result, crate::cycle::OnDemandVerdict::Skipped);
    assert!(
        outcome.message.contains("ConflictsWithInternalUser"),
        "{}",
        outcome.message
    );
    assert!(pair.target.take_writes().is_empty(), "nothing written");
}

#[tokio::test]
async fn addresses_match_trimmed_nfc_normalised_and_case_insensitively_in_every_kind_of_cycle() {
    // The target holds "René" decomposed (e + U+0301), in capitals and with a space.
    let internal = user(
        "own",
        &[("userName", " RENE\u{301}@contoso.com"), ("userType", "Member")],
    );
    let source = user("a1", &[("userName", "ren\u{e9}@contoso.com")]);

    let pair = CyclePair::all_users();
    pair.source.put(source.clone());
    pair.target.put(internal.clone());
    conflicts_with_an_internal_user(&pair.initial().await);

    let pair = CyclePair::all_users();
    let watermark = pair.initial().await.watermark.expect("watermark");
    pair.target.put(user(
        "own",
        &[("userName", "rene\u{301}@contoso.com"), ("userType", "Member")],
    ));
    pair.source.put(source);
    conflicts_with_an_internal_user(&pair.incremental(&watermark).await);
}
