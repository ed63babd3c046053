//! Every attribute a mapping or filter may name is read from Graph: the property it is written
//! to is in `$select` (Microsoft Learn, "user: delta" and "List users": without `$select` only
//! a default set of properties is returned, and `onPremisesExtensionAttributes` never).

use super::resource::{AnchorAttribute, EXPAND_MANAGER, SELECT, to_patch};
use crate::engine::attributes::KNOWN;
use crate::engine::plan::Changes;

#[test]
fn every_mappable_attribute_is_selected_where_it_is_written() {
    let selected: Vec<&str> = SELECT.split(',').collect();
    for attribute in KNOWN {
        if attribute == "manager" {
            // Set through `/manager/$ref`, read through `$expand`.
            assert!(EXPAND_MANAGER.starts_with("manager("), "{EXPAND_MANAGER}");
            continue;
        }
        let mut changes = Changes::new();
        changes.insert(attribute, Some("value@example.com".into()));
        let patch = to_patch(&changes, AnchorAttribute::DEFAULT, Some("fabrikam.onmicrosoft.com"));
        let written: Vec<&String> = patch.as_object().expect("a JSON object").keys().collect();
        assert!(!written.is_empty(), "{attribute} is written to no Graph property");
        for property in written {
            assert!(
                selected.contains(&property.as_str()),
                "{attribute} is written to {property}, which $select does not read: {SELECT}"
            );
        }
    }
}

#[test]
fn what_tells_external_identities_apart_is_selected() {
    let selected: Vec<&str> = SELECT.split(',').collect();
    for property in [
        "id",
        "creationType",
        "externalUserState",
        "otherMails",
        "proxyAddresses",
    ] {
        assert!(selected.contains(&property), "{property} is not in $select: {SELECT}");
    }
}
