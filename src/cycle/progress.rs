//! How far a running cycle is, for `status.progress`: the cycle says where it is; the
//! controller decides how often that is written.

/// The phase of a running cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum Phase {
    Reading,
    Planning,
    Applying,
}

pub trait Progress: Send + Sync {
    /// The cycle is in `phase`, `done` of `total` (0 of 0 when it cannot tell).
    fn report(&self, phase: Phase, done: usize, total: usize);
}

/// Progress nobody follows.
pub struct Untracked;

impl Progress for Untracked {
    fn report(&self, _: Phase, _: usize, _: usize) {}
}
