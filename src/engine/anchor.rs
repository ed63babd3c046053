//! The anchor (docs/architecture.md, rule 4): every user xtsync creates or adopts carries
//! `<sourceTenantId>/<sourceUserId>`, so identity survives renames and restarts.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Anchor {
    /// Lower-case GUID of the source tenant.
    pub tenant_id: String,
    pub user_id: String,
}

impl Anchor {
    pub fn new(tenant_id: &str, user_id: &str) -> Anchor {
        Anchor {
            tenant_id: tenant_id.to_ascii_lowercase(),
            user_id: user_id.to_owned(),
        }
    }

    /// Parses `<guid>/<id>`; anything else is not an anchor (an ordinary externalId).
    pub fn parse(text: &str) -> Option<Anchor> {
        Anchor::split(text).map(|(tenant, user)| Anchor::new(tenant, user))
    }

    /// `parse` without copying: the tenant GUID (in the case it was written in) and the user
    /// id, borrowed from `text`. The target index holds one per target user.
    pub fn split(text: &str) -> Option<(&str, &str)> {
        let (tenant, user) = text.split_once('/')?;
        (is_guid(tenant) && !user.is_empty()).then_some((tenant, user))
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.tenant_id, self.user_id)
    }
}

fn is_guid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_non_anchors() {
        let a = Anchor::parse("72F988BF-86f1-41af-91ab-2d7cd011db47/u-1").expect("anchor");
        assert_eq!(a.tenant_id, "72f988bf-86f1-41af-91ab-2d7cd011db47");
        assert_eq!(a.to_string(), "72f988bf-86f1-41af-91ab-2d7cd011db47/u-1");
        assert_eq!(
            Anchor::split("72F988BF-86f1-41af-91ab-2d7cd011db47/u-1"),
            Some(("72F988BF-86f1-41af-91ab-2d7cd011db47", "u-1")),
            "split borrows both parts as written"
        );
        for not in [
            "",
            "abc/1",
            "72f988bf-86f1-41af-91ab-2d7cd011db47/",
            "E1234",
            "72f988bf-86f1-41af-91ab/x",
        ] {
            assert_eq!(Anchor::parse(not), None, "{not}");
            assert_eq!(Anchor::split(not), None, "{not}");
        }
    }
}
