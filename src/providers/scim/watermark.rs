//! Where an incremental SCIM read starts (README, "How a sync works", step 1).
//! `meta.lastModified gt <latest seen>` misses a change made in the same second as the latest one
//! seen, and a change made while a long read was paging (a user changed on a page already read,
//! while a later page carried a later stamp). So the next read starts earlier than the latest stamp
//! seen — by the time the read took and a minute more — and includes that instant (`ge`). The users
//! that overlap brings back unchanged are recognised by id, stamp and version, and left out;
//! re-reading one would be harmless (it plans no write), leaving it out keeps incremental cycles
//! small.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::engine::digest::fnv1a;
use crate::engine::user::User;

/// How much earlier than the latest stamp seen the next read starts, besides the time the
/// read took: room for a server's clock and its writes in flight.
const OVERLAP: Duration = Duration::from_secs(60);
/// Users remembered as seen; beyond this the oldest are read again next time (harmlessly).
const MAX_SEEN: usize = 1000;

/// The watermark as kept in `status.watermark`: JSON, `{"since": …, "seen": [fingerprints]}`.
/// A plain timestamp (what earlier versions kept) is read as `since` with nothing seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watermark {
    since: String,
    seen: HashSet<String>,
}

impl Watermark {
    pub fn parse(text: &str) -> Watermark {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return Watermark {
                since: text.to_owned(),
                seen: HashSet::new(),
            };
        };
        Watermark {
            since: value
                .get("since")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            seen: value
                .get("seen")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        }
    }

    pub fn encode(&self) -> String {
        let mut seen: Vec<&String> = self.seen.iter().collect();
        seen.sort_unstable();
        json!({ "since": self.since, "seen": seen }).to_string()
    }

    /// The SCIM filter of the read this watermark starts.
    pub fn filter(&self) -> String {
        format!("meta.lastModified ge {}", super::filter::literal(&self.since))
    }

    /// The previous read saw this user as it is now.
    pub fn already_seen(&self, user: &User) -> bool {
        fingerprint(user).is_some_and(|f| self.seen.contains(&f))
    }

    /// Where the read after this one starts, given every user this read returned (before any
    /// was left out as already seen). None when the stamps cannot be reckoned with (the next
    /// read is then a full one): an unparseable stamp is no ground to skip anything.
    pub fn after(users: &[User], previous: Option<&Watermark>, read: Read) -> Option<Watermark> {
        let mut stamps = Stamps::default();
        stamps.add(users);
        stamps.watermark(previous, read)
    }
}

/// When a read began and how long it took.
#[derive(Clone, Copy, Debug)]
pub struct Read {
    /// The directory's clock when it answered the first page (its `Date` header), if it told.
    pub began: Option<Timestamp>,
    pub took: Duration,
}

/// The stamps of a read taken page by page: the latest, and the `MAX_SEEN` most recent users —
/// all a watermark needs, whatever the size of the read.
#[derive(Default)]
pub struct Stamps {
    unreadable: bool,
    latest: Option<Timestamp>,
    /// The most recent users by stamp, with their fingerprints; a min-heap of `MAX_SEEN`.
    recent: BinaryHeap<Reverse<(Timestamp, Option<String>)>>,
}

impl Stamps {
    pub fn add(&mut self, users: &[User]) {
        for user in users {
            let Some(stamp) = user.modified.as_deref().and_then(|m| m.parse::<Timestamp>().ok()) else {
                self.unreadable = true;
                continue;
            };
            self.latest = self.latest.max(Some(stamp));
            self.recent.push(Reverse((stamp, fingerprint(user))));
            if self.recent.len() > MAX_SEEN {
                self.recent.pop();
            }
        }
    }

    /// The watermark of the read these stamps came from (see `Watermark::after`).
    pub fn watermark(self, previous: Option<&Watermark>, read: Read) -> Option<Watermark> {
        if self.unreadable {
            return None;
        }
        let Some(latest) = self.latest else {
            return previous.cloned();
        };
        let overlap = SignedDuration::try_from(OVERLAP).ok()?;
        let mut since = match read.began {
            // Every change made after the read began carries a stamp after the directory's
            // clock then, give or take the overlap: users last changed well before are read as
            // they are, and the next read need not bring them back (a directory bulk-loaded
            // once would otherwise be read again by every incremental cycle, the "seen" list
            // being bounded).
            Some(began) => latest.min(began.checked_sub(overlap).ok()?),
            // Without the directory's clock: back from the latest stamp by the read and more.
            None => {
                let back = SignedDuration::try_from(read.took.saturating_add(OVERLAP)).ok()?;
                latest.checked_sub(back).ok()?
            }
        };
        if let Some(earlier) = previous.and_then(|p| p.since.parse::<Timestamp>().ok()) {
            since = since.max(earlier);
        }
        Some(Watermark {
            since: since.to_string(),
            seen: self
                .recent
                .into_iter()
                .filter(|Reverse((t, _))| *t >= since)
                .filter_map(|Reverse((_, f))| f)
                .collect(),
        })
    }
}

/// A user's id, stamp and version, as 16 hex digits — only when they tell two versions of the
/// user apart: a stamp in whole seconds without a version could hide a second change made in
/// the same second, and such a user is read again rather than taken for seen.
fn fingerprint(user: &User) -> Option<String> {
    let stamp = user.modified.as_deref()?;
    let fine_grained = stamp.contains('.');
    if user.version.is_none() && !fine_grained {
        return None;
    }
    let version = user.version.as_deref().unwrap_or_default();
    Some(format!("{:016x}", fnv1a([user.id.as_str(), stamp, version])))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read of `seconds` by a directory that did not tell its clock.
    fn took(seconds: u64) -> Read {
        Read {
            began: None,
            took: Duration::from_secs(seconds),
        }
    }

    fn user(id: &str, stamp: &str, version: Option<&str>) -> User {
        User {
            id: id.into(),
            modified: Some(stamp.into()),
            version: version.map(str::to_owned),
            ..User::default()
        }
    }

    #[test]
    fn the_next_read_starts_before_the_latest_stamp_by_the_read_and_a_minute() {
        let users = [
            user("a", "2026-12-02T00:00:05Z", Some("W/\"1\"")),
            user("b", "2026-12-02T00:10:00.250Z", None),
        ];
        let next = Watermark::after(&users, None, took(30)).expect("stamps");
        assert_eq!(next.since, "2026-12-02T00:08:30.25Z");
        assert_eq!(next.filter(), "meta.lastModified ge \"2026-12-02T00:08:30.25Z\"");
        assert!(next.already_seen(&users[1]), "b is within the overlap");
        assert!(!next.already_seen(&users[0]), "a is before it");
        assert!(
            !next.already_seen(&user("b", "2026-12-02T00:10:00.500Z", None)),
            "b changed again"
        );
    }

    #[test]
    fn whole_second_stamps_without_a_version_are_never_taken_for_seen() {
        let users = [user("a", "2026-12-02T00:00:05Z", None)];
        let next = Watermark::after(&users, None, took(0)).expect("stamps");
        assert!(!next.already_seen(&users[0]));
    }

    #[test]
    fn the_watermark_never_moves_back_and_survives_status() {
        let previous = Watermark::parse("2026-12-02T00:09:59Z");
        let users = [user("a", "2026-12-02T00:10:00Z", Some("1"))];
        let next = Watermark::after(&users, Some(&previous), took(0)).expect("stamps");
        assert_eq!(next.since, "2026-12-02T00:09:59Z");
        assert_eq!(Watermark::parse(&next.encode()), next);
        assert_eq!(Watermark::after(&[], Some(&next), took(0)), Some(next));
    }

    #[test]
    fn a_stamp_that_cannot_be_read_means_a_full_read_next() {
        let users = [user("a", "yesterday", Some("1"))];
        assert_eq!(Watermark::after(&users, None, took(0)), None);
    }

    #[test]
    fn a_read_taken_page_by_page_keeps_the_most_recent_users_only() {
        // 1,500 users over 15 pages: the watermark is the same as from one read, and only the
        // 1,000 most recent stamps were kept on the way.
        let users: Vec<User> = (0..1500)
            .map(|i| {
                user(
                    &format!("u{i}"),
                    &format!("2026-12-02T00:{:02}:{:02}.5Z", i / 60 % 60, i % 60),
                    Some("1"),
                )
            })
            .collect();
        let mut stamps = Stamps::default();
        for page in users.chunks(100) {
            stamps.add(page);
            assert!(stamps.recent.len() <= MAX_SEEN);
        }
        assert_eq!(
            stamps.watermark(None, took(600)),
            Watermark::after(&users, None, took(600))
        );
    }

    #[test]
    fn users_changed_well_before_the_read_are_not_read_again() {
        // 3,000 users bulk-loaded within a second, read ten minutes later by a directory that
        // tells its clock: the next read starts at the latest stamp, not a minute before it.
        let users: Vec<User> = (0..3000)
            .map(|i| user(&format!("u{i}"), &format!("2026-12-02T00:00:00.{i:04}Z"), Some("1")))
            .collect();
        let read = Read {
            began: Some("2026-12-02T00:10:00Z".parse().expect("time")),
            took: Duration::from_secs(5),
        };
        let next = Watermark::after(&users, None, read).expect("stamps");
        assert_eq!(next.since, "2026-12-02T00:00:00.2999Z");
        assert!(next.already_seen(&users[2999]));
        // Read while they were still being loaded, the overlap covers the load.
        let early = Read {
            began: Some("2026-12-02T00:00:00.5Z".parse().expect("time")),
            ..read
        };
        let next = Watermark::after(&users, None, early).expect("stamps");
        assert_eq!(next.since, "2026-12-01T23:59:00.5Z");
    }
}
