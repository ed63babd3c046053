//! Liveness that means something (README, "Operating it"): `/healthz` fails when a controller
//! has stopped making progress, so that the kubelet restarts a stuck operator.
//!
//! A controller is stalled when an object has waited longer than `--stall-after` for its
//! reconcile to start while that controller started and finished none at all; a watch is
//! stalled when it has waited as long to hand an event to the controllers. Nothing waiting,
//! nothing stalled: a quiet cluster is a healthy one. Stalls are counted once every watch has
//! listed (kube-runtime starts no reconcile before; a slow first list is `/readyz`'s to report).
//!
//! A reconcile in flight is not waiting. A cycle runs inside its reconcile for up to its
//! deadline (docs/architecture.md, "One cycle, step by step") and is bounded by that; an object
//! triggered again while its reconcile runs waits for that reconcile, not for a stuck loop.
//!
//! The functions that decide take `now`, so that the rules are tested without a clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// `--stall-after` unless told otherwise: long enough for any reconcile to be started under
/// load, short enough that a stuck operator is restarted within minutes.
pub const DEFAULT_STALL_AFTER: Duration = Duration::from_secs(120);

/// The three controllers, as `XTSYNC_DEBUG_STALL` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Controller {
    Tenant,
    Policy,
    SyncConfiguration,
    Organization,
}

impl Controller {
    /// The kind it reconciles, as metrics and messages name it.
    pub fn kind(self) -> &'static str {
        match self {
            Controller::Tenant => "Tenant",
            Controller::Policy => "CrossTenantAccessPolicy",
            Controller::SyncConfiguration => "SyncConfiguration",
            Controller::Organization => "Organization",
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown controller '{0}': expected tenant, policy, syncconfiguration or organization")]
pub struct UnknownController(String);

impl FromStr for Controller {
    type Err = UnknownController;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "tenant" => Ok(Controller::Tenant),
            "policy" => Ok(Controller::Policy),
            "syncconfiguration" => Ok(Controller::SyncConfiguration),
            "organization" => Ok(Controller::Organization),
            _ => Err(UnknownController(text.to_owned())),
        }
    }
}

/// An object a controller works on.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Why `/healthz` fails.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Stall {
    #[error(
        "the {kind} controller has taken no work for {idle:?}: {object} has waited {waited:?} for its reconcile (stall bound {bound:?})"
    )]
    Controller {
        kind: &'static str,
        object: Key,
        waited: Duration,
        idle: Duration,
        bound: Duration,
    },
    #[error("the {kind} watch has waited {waited:?} for the controllers to take an event (stall bound {bound:?})")]
    Watch {
        kind: String,
        waited: Duration,
        bound: Duration,
    },
}

/// One controller's loop: what waits for it, what it runs, when it last moved.
struct Loop {
    waiting: HashMap<Key, Instant>,
    running: HashSet<Key>,
    moved: Instant,
    /// Every watch has listed. Before that kube-runtime holds reconciles back, and a long first
    /// list is for `/readyz` to report, not a stall.
    listed: bool,
}

#[derive(Default)]
struct State {
    loops: BTreeMap<Controller, Loop>,
    /// Watches handing an event to the controllers, since when.
    delivering: BTreeMap<String, Instant>,
}

/// What `/healthz` answers from; the controllers and watches report into it.
pub struct Liveness {
    stall_after: Duration,
    state: Mutex<State>,
}

impl Default for Liveness {
    fn default() -> Self {
        Liveness::new(DEFAULT_STALL_AFTER)
    }
}

impl Liveness {
    pub fn new(stall_after: Duration) -> Self {
        Liveness {
            stall_after,
            state: Mutex::new(State::default()),
        }
    }

    pub fn stall_after(&self) -> Duration {
        self.stall_after
    }

    // A panic while the lock was held leaves bookkeeping, not an invariant, half done: go on.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The controllers started: each loop starts afresh, its watches listing.
    pub fn started_controllers(&self, controllers: &[Controller], now: Instant) {
        let mut state = self.state();
        for &controller in controllers {
            let fresh = Loop {
                waiting: HashMap::new(),
                running: HashSet::new(),
                moved: now,
                listed: false,
            };
            state.loops.insert(controller, fresh);
        }
    }

    /// Every watch has listed: the controllers take work from `now` on, the objects of the
    /// first list included, so that is when their waiting starts.
    pub fn listed(&self, now: Instant) {
        for l in self.state().loops.values_mut() {
            l.listed = true;
            l.moved = now;
            for since in l.waiting.values_mut() {
                *since = (*since).max(now);
            }
        }
    }

    /// The controllers stopped (a standby, a lost Lease): nothing of theirs waits any more.
    pub fn stopped_controllers(&self) {
        let mut state = self.state();
        state.loops.clear();
        state.delivering.clear();
    }

    /// Work for `key` reached `controller` (a watch event or a related object's change).
    pub fn arrived(&self, controller: Controller, key: Key, now: Instant) {
        if let Some(l) = self.state().loops.get_mut(&controller) {
            l.waiting.entry(key).or_insert(now);
        }
    }

    /// The reconcile of `key` started.
    pub fn started(&self, controller: Controller, key: &Key, now: Instant) {
        if let Some(l) = self.state().loops.get_mut(&controller) {
            l.waiting.remove(key);
            l.running.insert(key.clone());
            l.moved = now;
        }
    }

    /// The reconcile of `key` ended, well or not.
    pub fn finished(&self, controller: Controller, key: &Key, now: Instant) {
        if let Some(l) = self.state().loops.get_mut(&controller) {
            l.running.remove(key);
            l.moved = now;
        }
    }

    /// The controller took the work for `key` and found the object gone: nothing to run.
    pub fn gone(&self, controller: Controller, key: &Key, now: Instant) {
        if let Some(l) = self.state().loops.get_mut(&controller) {
            l.waiting.remove(key);
            l.moved = now;
        }
    }

    /// The watch of `kind` is handing an event over.
    pub fn delivering(&self, kind: &str, now: Instant) {
        self.state().delivering.insert(kind.to_owned(), now);
    }

    /// The watch of `kind` has handed its event over.
    pub fn delivered(&self, kind: &str) {
        self.state().delivering.remove(kind);
    }

    /// Healthy, or the first stall found (watches first: a blocked watch starves a controller).
    /// Nothing is stalled while no controller runs (a standby, or the first list still going).
    pub fn verdict(&self, now: Instant) -> Result<(), Stall> {
        let bound = self.stall_after;
        let state = self.state();
        if !state.loops.values().any(|l| l.listed) {
            return Ok(());
        }
        for (kind, since) in &state.delivering {
            let waited = now.saturating_duration_since(*since);
            if waited > bound {
                return Err(Stall::Watch {
                    kind: kind.clone(),
                    waited,
                    bound,
                });
            }
        }
        for (controller, l) in state.loops.iter().filter(|(_, l)| l.listed) {
            let idle = now.saturating_duration_since(l.moved);
            if idle <= bound {
                continue;
            }
            let oldest = l
                .waiting
                .iter()
                .filter(|(key, _)| !l.running.contains(*key))
                .min_by_key(|(key, since)| (**since, (*key).clone()));
            if let Some((key, since)) = oldest {
                let waited = now.saturating_duration_since(*since);
                if waited > bound {
                    return Err(Stall::Controller {
                        kind: controller.kind(),
                        object: key.clone(),
                        waited,
                        idle,
                        bound,
                    });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_secs(10);

    fn key(name: &str) -> Key {
        Key {
            namespace: Some("ns".into()),
            name: name.into(),
        }
    }

    fn started_at(t0: Instant) -> Liveness {
        let live = Liveness::new(BOUND);
        live.started_controllers(&[Controller::Tenant, Controller::SyncConfiguration], t0);
        live.listed(t0);
        live
    }

    fn secs(t0: Instant, s: u64) -> Instant {
        t0 + Duration::from_secs(s)
    }

    #[test]
    fn a_quiet_controller_is_alive_however_long_nothing_happens() {
        let t0 = Instant::now();
        let live = started_at(t0);
        assert_eq!(live.verdict(secs(t0, 3600)), Ok(()));
    }

    #[test]
    fn work_waiting_past_the_bound_while_the_loop_does_not_move_is_a_stall() {
        let t0 = Instant::now();
        let live = started_at(t0);
        live.arrived(Controller::Tenant, key("contoso"), secs(t0, 1));
        assert_eq!(live.verdict(secs(t0, 11)), Ok(()), "within the bound");
        let stall = live.verdict(secs(t0, 12)).expect_err("stalled");
        assert!(
            matches!(&stall, Stall::Controller { kind: "Tenant", object, .. } if object == &key("contoso")),
            "{stall}"
        );
        assert!(stall.to_string().contains("ns/contoso"), "{stall}");
    }

    #[test]
    fn work_taken_in_time_is_no_stall() {
        let t0 = Instant::now();
        let live = started_at(t0);
        live.arrived(Controller::Tenant, key("contoso"), secs(t0, 1));
        live.started(Controller::Tenant, &key("contoso"), secs(t0, 2));
        assert_eq!(live.verdict(secs(t0, 100)), Ok(()), "running, then nothing waits");
        live.finished(Controller::Tenant, &key("contoso"), secs(t0, 3));
        assert_eq!(live.verdict(secs(t0, 100)), Ok(()));
    }

    #[test]
    fn an_object_waiting_behind_its_own_long_reconcile_is_no_stall() {
        // A cycle runs inside its reconcile; a change meanwhile waits for it to end.
        let t0 = Instant::now();
        let live = started_at(t0);
        live.arrived(Controller::SyncConfiguration, key("a-to-b"), t0);
        live.started(Controller::SyncConfiguration, &key("a-to-b"), t0);
        live.arrived(Controller::SyncConfiguration, key("a-to-b"), secs(t0, 5));
        assert_eq!(live.verdict(secs(t0, 600)), Ok(()));
        // Once it ends, the waiting change must be taken within the bound.
        live.finished(Controller::SyncConfiguration, &key("a-to-b"), secs(t0, 600));
        assert_eq!(live.verdict(secs(t0, 610)), Ok(()));
        assert!(live.verdict(secs(t0, 611)).is_err());
    }

    #[test]
    fn a_loop_that_keeps_moving_is_not_stalled_by_one_old_entry() {
        let t0 = Instant::now();
        let live = started_at(t0);
        live.arrived(Controller::Tenant, key("old"), t0);
        live.started(Controller::Tenant, &key("other"), secs(t0, 15));
        assert_eq!(live.verdict(secs(t0, 20)), Ok(()), "moved 5 s ago");
        assert!(live.verdict(secs(t0, 26)).is_err(), "then idle past the bound");
    }

    #[test]
    fn an_object_found_gone_waits_no_more() {
        let t0 = Instant::now();
        let live = started_at(t0);
        live.arrived(Controller::Tenant, key("deleted"), t0);
        live.gone(Controller::Tenant, &key("deleted"), secs(t0, 1));
        assert_eq!(live.verdict(secs(t0, 100)), Ok(()));
    }

    #[test]
    fn stopped_controllers_leave_nothing_waiting() {
        let t0 = Instant::now();
        let live = started_at(t0);
        live.arrived(Controller::Tenant, key("contoso"), t0);
        live.stopped_controllers();
        assert_eq!(live.verdict(secs(t0, 100)), Ok(()));
        live.arrived(Controller::Tenant, key("contoso"), t0);
        assert_eq!(live.verdict(secs(t0, 100)), Ok(()), "not running: nothing to take it");
    }

    #[test]
    fn a_watch_blocked_past_the_bound_is_a_stall() {
        let t0 = Instant::now();
        let live = started_at(t0);
        live.delivering("Tenant", t0);
        assert_eq!(live.verdict(secs(t0, 10)), Ok(()));
        assert!(matches!(live.verdict(secs(t0, 11)), Err(Stall::Watch { .. })));
        live.delivered("Tenant");
        assert_eq!(live.verdict(secs(t0, 11)), Ok(()));
    }

    #[test]
    fn the_first_list_is_no_stall_and_its_objects_wait_from_its_end() {
        // kube-runtime holds reconciles back until every watch has listed.
        let t0 = Instant::now();
        let live = Liveness::new(BOUND);
        live.started_controllers(&[Controller::Tenant], t0);
        live.arrived(Controller::Tenant, key("listed-first"), t0);
        live.delivering("Tenant", t0);
        assert_eq!(live.verdict(secs(t0, 600)), Ok(()), "still listing");
        live.delivered("Tenant");
        live.listed(secs(t0, 600));
        assert_eq!(live.verdict(secs(t0, 610)), Ok(()), "it waits from the list's end");
        let stall = live.verdict(secs(t0, 611)).expect_err("never taken");
        assert!(
            matches!(stall, Stall::Controller { waited, .. } if waited == Duration::from_secs(11)),
            "{stall}"
        );
    }

    #[test]
    fn controllers_are_named_as_xtsync_debug_stall_names_them() {
        assert_eq!("tenant".parse(), Ok(Controller::Tenant));
        assert_eq!("policy".parse(), Ok(Controller::Policy));
        assert_eq!("SyncConfiguration".parse(), Ok(Controller::SyncConfiguration));
        assert!("tenants".parse::<Controller>().is_err());
    }
}
