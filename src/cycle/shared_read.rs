//! A complete read of a small source, shared (docs/architecture.md, "Shared source reads"): the
//! Initial cycles of one source that start within `SHARED_FOR` of a complete read of it take
//! that read instead of reading the directory again. In an Organization every tenant is the
//! source of a configuration to every other, and their first cycles start together.
//!
//! A shared read is the same evidence as one of the cycle's own: complete, and each user it no
//! longer lists is still read directly before it is deprovisioned (rule 8). The cycle reports
//! the shared read's watermark, so the next Incremental cycle reads every change made since
//! that read began. Only reads of at most `SHARED_UP_TO` users are kept, each for `SHARED_FOR`,
//! and only a configuration's first cycle takes one (the controller decides): a later cycle
//! never goes back to a read older than the one it last applied.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;

use crate::engine::user::User;

/// How long a complete read is shared after it began: the first cycles of an Organization's
/// configurations start within it, and a user changed meanwhile is read by the next
/// Incremental cycle.
pub const SHARED_FOR: Duration = Duration::from_secs(30);

/// The largest read kept: one page of a SCIM listing. A larger source is read by each cycle,
/// page by page, as it is written.
pub const SHARED_UP_TO: usize = 1000;

/// A complete read of a whole source directory.
pub struct CompleteRead {
    pub users: Vec<User>,
    /// Where the next Incremental cycle starts.
    pub watermark: Option<String>,
    began: Instant,
}

/// The complete reads of the small sources read in the last `SHARED_FOR`, by source; and when
/// each configuration that may take one last ended a cycle or an on-demand answer (its data is
/// at least that new: an older read is not for it).
#[derive(Clone, Default)]
pub struct SourceReads(Arc<Mutex<Registry>>);

#[derive(Default)]
struct Registry {
    reads: HashMap<String, Arc<CompleteRead>>,
    applied: HashMap<String, Instant>,
}

impl Registry {
    /// Forgets what is older than `SHARED_FOR`: no read kept began before then, so a
    /// configuration's applied time from before then rules none out.
    fn prune(&mut self) {
        self.reads.retain(|_, read| read.began.elapsed() < SHARED_FOR);
        self.applied.retain(|_, at| at.elapsed() < SHARED_FOR);
    }
}

/// Where a configuration's cycle may share its source's reads: the registry, and the
/// configuration (its uid).
#[derive(Clone, Copy)]
pub struct Sharing<'a> {
    pub reads: &'a SourceReads,
    pub configuration: &'a str,
}

/// Where a cycle shares its source's reads: the registry and the configuration, and which
/// source this is (its Tenant's namespace, name, tenant id and directory: two Tenants never
/// share a read).
pub struct SharedSource<'a> {
    pub sharing: Sharing<'a>,
    pub key: String,
}

impl SharedSource<'_> {
    /// A complete read of this source that began less than `SHARED_FOR` ago, and not before
    /// this configuration last ended a cycle or an on-demand answer.
    pub fn recent(&self) -> Option<Arc<CompleteRead>> {
        let registry = self.sharing.reads.0.lock().ok()?;
        let applied = registry.applied.get(self.sharing.configuration);
        registry
            .reads
            .get(&self.key)
            .filter(|r| r.began.elapsed() < SHARED_FOR && applied.is_none_or(|at| r.began >= *at))
            .cloned()
    }

    /// This configuration has ended a cycle or an on-demand answer (whatever its result): what
    /// it wrote may be newer than any read kept now.
    pub fn applied(&self) {
        if let Ok(mut registry) = self.sharing.reads.0.lock() {
            registry.prune();
            registry
                .applied
                .insert(self.sharing.configuration.to_owned(), Instant::now());
        }
    }

    /// Keeps a complete read that began at `began`, for `SHARED_FOR` (a larger one is not
    /// kept, nor one older than the read kept now); it is dropped when that time is up, or when
    /// a newer read of this source is kept.
    pub fn keep(&self, users: Vec<User>, watermark: Option<String>, began: Instant) {
        if users.len() > SHARED_UP_TO {
            return;
        }
        let read = Arc::new(CompleteRead {
            users: users.into_iter().map(as_kept).collect(),
            watermark,
            began,
        });
        if let Ok(mut registry) = self.sharing.reads.0.lock() {
            if registry.reads.get(&self.key).is_some_and(|kept| kept.began >= began) {
                return;
            }
            registry.reads.insert(self.key.clone(), read);
        }
        let registry: Weak<_> = Arc::downgrade(&self.sharing.reads.0);
        tokio::spawn(async move {
            tokio::time::sleep_until(began + SHARED_FOR).await;
            if let Some(registry) = registry.upgrade()
                && let Ok(mut registry) = registry.lock()
            {
                registry.prune();
            }
        });
    }
}

/// A user as a shared read keeps it: an external user (a guest, or a user another tenant
/// provisioned) is out of every configuration's scope whatever its spec (`engine::scope`), and
/// all a plan asks of it is its id (to deprovision what it once provisioned from it): only that
/// is kept. In an Organization most of a member's users are other members' guests.
fn as_kept(user: User) -> User {
    if !user.is_external() {
        return user;
    }
    User {
        id: user.id,
        external: true,
        ..User::default()
    }
}

impl SourceReads {
    /// How many reads are kept now.
    pub fn held(&self) -> usize {
        self.0.lock().map_or(0, |r| r.reads.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, user_type: &str) -> User {
        User {
            id: id.to_owned(),
            attributes: [
                ("userName", format!("{id}@contoso.com")),
                ("userType", user_type.to_owned()),
            ]
            .into_iter()
            .collect(),
            ..User::default()
        }
    }

    /// One source's reads, as `configuration` shares them.
    fn of<'a>(reads: &'a SourceReads, configuration: &'a str) -> SharedSource<'a> {
        SharedSource {
            sharing: Sharing { reads, configuration },
            key: "ns/source/t".to_owned(),
        }
    }

    #[tokio::test]
    async fn a_read_that_began_earlier_never_replaces_a_newer_one() {
        let reads = SourceReads::default();
        let shared = of(&reads, "uid");
        let earlier = Instant::now();
        tokio::time::sleep(Duration::from_millis(5)).await;
        shared.keep(vec![user("new", "Member")], Some("newer".to_owned()), Instant::now());
        // A read that began first and ended last.
        shared.keep(vec![user("old", "Member")], Some("older".to_owned()), earlier);
        let kept = shared.recent().expect("a read");
        assert_eq!(kept.watermark.as_deref(), Some("newer"));
    }

    #[tokio::test]
    async fn a_configuration_that_ended_a_cycle_takes_no_read_that_began_before() {
        let reads = SourceReads::default();
        let shared = |configuration| of(&reads, configuration);
        shared("a").keep(vec![user("m", "Member")], Some("first".to_owned()), Instant::now());
        tokio::time::sleep(Duration::from_millis(5)).await;
        // A first cycle that failed, or an on-demand answer: what it wrote may be newer.
        shared("b").applied();
        assert!(shared("b").recent().is_none(), "older than what b applied");
        assert!(shared("c").recent().is_some(), "another configuration may take it");
        tokio::time::sleep(Duration::from_millis(5)).await;
        shared("a").keep(vec![user("m", "Member")], Some("second".to_owned()), Instant::now());
        let newer = shared("b").recent().expect("a read newer than what b applied");
        assert_eq!(newer.watermark.as_deref(), Some("second"));
    }

    #[tokio::test]
    async fn a_guest_is_kept_as_its_id_alone() {
        let reads = SourceReads::default();
        let shared = of(&reads, "uid");
        shared.keep(vec![user("m", "Member"), user("g", "Guest")], None, Instant::now());
        let kept = shared.recent().expect("a read");
        assert_eq!(kept.users[0], user("m", "Member"), "an internal user whole");
        assert_eq!(kept.users[1].id, "g");
        assert!(kept.users[1].is_external() && kept.users[1].get("userName").is_none());
    }
}
