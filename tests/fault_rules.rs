//! Rules that make a test server answer with an error instead of serving a request (429 with
//! Retry-After, 500, …): a method and a substring of the path, firing a given number of times.
//! Shared by the SCIM fault proxy and the fake Graph.

// Included into every test and bench crate; not each uses all of it.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Rule {
    pub method: &'static str,
    pub path_contains: String,
    pub status: u16,
    pub retry_after: Option<u32>,
    /// How many matching requests fail; `u32::MAX` for "until cleared".
    pub times: u32,
    /// Matching requests let through before the rule fires.
    pub pass_first: u32,
}

#[derive(Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Rule>>>,
    /// Requests answered with an injected error.
    injected: Arc<Mutex<u32>>,
    /// Requests answered with an injected error are served all the same first: a server that
    /// acted, then failed to answer (the SCIM proxy honours it; the fake Graph does not).
    landing: Arc<std::sync::atomic::AtomicBool>,
    /// When each write (any method but GET) arrived, answered or not.
    writes: Arc<Mutex<Vec<std::time::Instant>>>,
}

impl Faults {
    pub fn add(&self, rule: Rule) {
        self.rules.lock().expect("rules").push(rule);
    }

    pub fn clear(&self) {
        self.rules.lock().expect("rules").clear();
    }

    /// From now on, requests answered with an error are served all the same first.
    pub fn land_errors(&self) {
        self.landing.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn lands_errors(&self) -> bool {
        self.landing.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn injected(&self) -> u32 {
        *self.injected.lock().expect("count")
    }

    /// Writes (any method but GET) that arrived after `instant`.
    pub fn writes_after(&self, instant: std::time::Instant) -> usize {
        self.writes
            .lock()
            .expect("writes")
            .iter()
            .filter(|w| **w > instant)
            .count()
    }

    /// The rule that answers this request instead of the server, if any (and counts it). Every
    /// request passes here: writes are recorded with the time they arrived.
    pub fn take(&self, method: &str, path: &str) -> Option<Rule> {
        if method != "GET" {
            self.writes.lock().expect("writes").push(std::time::Instant::now());
        }
        let mut rules = self.rules.lock().expect("rules");
        let rule = rules
            .iter_mut()
            .find(|r| r.method == method && path.contains(&r.path_contains) && r.times > 0)?;
        if rule.pass_first > 0 {
            rule.pass_first -= 1;
            return None;
        }
        if rule.times != u32::MAX {
            rule.times -= 1;
        }
        *self.injected.lock().expect("count") += 1;
        Some(rule.clone())
    }
}
