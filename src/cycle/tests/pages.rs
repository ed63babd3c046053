//! Initial cycles read the source page by page and write each page while the next is read
//! (docs/architecture.md, "One cycle, step by step"); a read that fails half-way writes what it
//! read and deprovisions nothing.

use std::sync::Arc;

use tokio::sync::Notify;

use super::*;
use crate::providers::memory::{Faults, Request};

#[tokio::test]
async fn each_page_is_written_while_the_next_is_read() {
    let pair = CyclePair::all_users();
    // The source sends a page only once the target has been written since the last one: a
    // cycle that waited for the whole read before writing would never get a second page.
    let written = Arc::new(Notify::new());
    pair.source.page_by_waiting(2, written.clone());
    pair.target.notify_writes(written);
    for name in ["ann", "bob", "cid", "dee", "eve", "fay"] {
        pair.source.put(person(name, name));
    }
    let report = pair.initial().await;
    assert_eq!(report.created, 6);
    assert_eq!(pair.target.users().len(), 6);
}

#[tokio::test]
async fn a_read_that_fails_half_way_writes_what_it_read_and_deprovisions_nothing() {
    let pair = CyclePair::all_users();
    pair.source.page_by(2);
    for name in ["ann", "bob", "cid", "dee"] {
        pair.source.put(person(name, name));
    }
    pair.initial().await;
    // ann and bob leave; two join; the next read fails after its first page.
    pair.source.remove("ann");
    pair.source.remove("bob");
    pair.source.put(person("aby", "aby"));
    pair.source.put(person("abe", "abe"));
    pair.source.set_faults(Faults {
        read_fails_after_pages: Some(1),
        ..Faults::default()
    });
    pair.target.take_log();
    let error = pair.try_cycle(None, None).await.expect_err("the read failed");
    assert!(matches!(error, CycleError::SourceRead(_)), "{error}");
    let writes = pair.target.take_writes();
    assert_eq!(
        writes,
        [
            Request::Create {
                user_name: "abe@contoso.com".into()
            },
            Request::Create {
                user_name: "aby@contoso.com".into()
            },
        ],
        "the first page (by id: abe, aby) was written; nothing was deprovisioned"
    );
    assert!(pair.provisioned("ann").is_some_and(|u| u.active()));
}

#[tokio::test]
async fn what_is_not_seen_waits_for_the_last_page() {
    // A user provisioned earlier whose source user is on the last page is not taken for gone
    // when the first pages do not show it.
    let pair = CyclePair::all_users();
    pair.source.page_by(1);
    for name in ["ann", "bob", "zed"] {
        pair.source.put(person(name, name));
    }
    pair.initial().await;
    pair.target.take_log();
    let again = pair.initial().await;
    assert_eq!((again.unchanged, again.deprovisioned), (3, 0));
    assert!(pair.target.take_writes().is_empty());
    assert!(
        !pair
            .source
            .take_log()
            .iter()
            .any(|r| matches!(r, Request::ConfirmGone { .. }))
    );
}
