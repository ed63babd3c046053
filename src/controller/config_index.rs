//! Secondary indexes over the SyncConfiguration cache, kept by its watch (`feed`) beside the
//! store: kube-runtime's `Store` answers only "the object with this name". Every reconcile of
//! a configuration asks which other configurations name the same pair of Tenants (the gate's
//! rule 2, docs/architecture.md) and which Tenants an Organization's generated configurations
//! still name (its template stays in force for them); answered by scanning the whole cache, an
//! Organization of n tenants — n·(n−1) configurations, each reconciled a few times — cost
//! O(n⁴) (docs/performance.md, "An organization of 100 tenants").
//!
//! What is indexed is a spec's and labels' (plus whether `Ready` says `DuplicatePair`): the
//! answers are candidates that callers read from the store and judge exactly, so an index a
//! moment older or newer than the store can cost a reconcile, never a wrong verdict.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, RwLock};

use kube::ResourceExt;
use kube::runtime::watcher;

use super::feed::FeedIndex;
use crate::api::SyncConfiguration;
use crate::api::conditions;
use crate::api::organization::{ORGANIZATION_LABEL, SOURCE_LABEL, TARGET_LABEL};
use crate::api::reasons::ReadyReason;

/// A configuration by namespace and name.
pub type ConfigKey = (String, String);

#[derive(Default)]
pub struct ConfigIndex {
    current: RwLock<Indexes>,
    /// Built during a relist (the watch's `Init` … `InitDone`), then swapped in: a relist
    /// does not tell what was deleted while the watch was down.
    relisting: Mutex<Option<Indexes>>,
}

#[derive(Default)]
struct Indexes {
    entries: HashMap<ConfigKey, Entry>,
    /// (namespace, source Tenant, target Tenant) → the names of the configurations naming them.
    by_refs: HashMap<(String, String, String), BTreeSet<String>>,
    /// (namespace, Organization) → each Tenant its generated configurations name, and how many.
    generated: HashMap<(String, String), BTreeMap<String, usize>>,
    /// Configurations whose `Ready` says `DuplicatePair`.
    duplicates: BTreeSet<ConfigKey>,
}

/// What one configuration put into the indexes, so that it can be taken out again.
struct Entry {
    refs: (String, String),
    /// The Organizations that generated it (its label, its owner references), and the pair
    /// it was generated for (its labels', else its spec's).
    organizations: Vec<String>,
    pair: (String, String),
}

impl ConfigIndex {
    /// An index of these configurations (`xtsync plan`, tests: no watch).
    pub fn of<'a>(configs: impl IntoIterator<Item = &'a SyncConfiguration>) -> ConfigIndex {
        let mut indexes = Indexes::default();
        for config in configs {
            indexes.insert(config);
        }
        ConfigIndex {
            current: RwLock::new(indexes),
            relisting: Mutex::new(None),
        }
    }

    /// The names of the configurations of `ns` whose source is `source` and target `target`.
    pub fn naming(&self, ns: &str, source: &str, target: &str) -> Vec<String> {
        let key = (ns.to_owned(), source.to_owned(), target.to_owned());
        self.read(|i| i.by_refs.get(&key).map(|names| names.iter().cloned().collect()))
            .unwrap_or_default()
    }

    /// The Tenants the configurations Organization `ns/organization` generated name (by
    /// label or owner reference), as sources or targets.
    pub fn tenants_generated_by(&self, ns: &str, organization: &str) -> BTreeSet<String> {
        let key = (ns.to_owned(), organization.to_owned());
        self.read(|i| i.generated.get(&key).map(|tenants| tenants.keys().cloned().collect()))
            .unwrap_or_default()
    }

    /// The configurations whose `Ready` says `DuplicatePair`.
    pub fn duplicates(&self) -> Vec<ConfigKey> {
        self.read(|i| Some(i.duplicates.iter().cloned().collect()))
            .unwrap_or_default()
    }

    fn read<T>(&self, f: impl FnOnce(&Indexes) -> Option<T>) -> Option<T> {
        self.current.read().ok().and_then(|i| f(&i))
    }

    fn write(&self, f: impl FnOnce(&mut Indexes)) {
        if let Ok(mut i) = self.current.write() {
            f(&mut i);
        }
    }
}

impl FeedIndex<SyncConfiguration> for ConfigIndex {
    fn event(&self, event: &watcher::Event<SyncConfiguration>) {
        match event {
            watcher::Event::Apply(config) => self.write(|i| i.insert(config)),
            watcher::Event::Delete(config) => self.write(|i| i.remove(&key_of(config))),
            watcher::Event::Init => {
                if let Ok(mut relisting) = self.relisting.lock() {
                    *relisting = Some(Indexes::default());
                }
            }
            watcher::Event::InitApply(config) => {
                if let Ok(mut relisting) = self.relisting.lock()
                    && let Some(i) = relisting.as_mut()
                {
                    i.insert(config);
                }
            }
            watcher::Event::InitDone => {
                let listed = self.relisting.lock().ok().and_then(|mut r| r.take());
                if let Some(listed) = listed {
                    self.write(|i| *i = listed);
                }
            }
        }
    }
}

fn key_of(config: &SyncConfiguration) -> ConfigKey {
    (config.namespace().unwrap_or_default(), config.name_any())
}

impl Indexes {
    fn insert(&mut self, config: &SyncConfiguration) {
        let key = key_of(config);
        self.remove(&key);
        let (ns, name) = key.clone();
        let refs = (config.spec.source_ref.name.clone(), config.spec.target_ref.name.clone());
        let labels = config.labels();
        let mut organizations: Vec<String> = labels.get(ORGANIZATION_LABEL).into_iter().cloned().collect();
        organizations.extend(
            config
                .owner_references()
                .iter()
                .filter(|o| o.kind == "Organization")
                .map(|o| o.name.clone()),
        );
        organizations.sort();
        organizations.dedup();
        let pair = match (labels.get(SOURCE_LABEL), labels.get(TARGET_LABEL)) {
            (Some(source), Some(target)) => (source.clone(), target.clone()),
            _ => refs.clone(),
        };
        self.by_refs
            .entry((ns.clone(), refs.0.clone(), refs.1.clone()))
            .or_default()
            .insert(name);
        for organization in &organizations {
            let tenants = self.generated.entry((ns.clone(), organization.clone())).or_default();
            for tenant in [&pair.0, &pair.1] {
                *tenants.entry(tenant.clone()).or_default() += 1;
            }
        }
        let duplicate = config
            .status
            .as_ref()
            .is_some_and(|s| conditions::has_reason(&s.conditions, ReadyReason::DuplicatePair));
        if duplicate {
            self.duplicates.insert(key.clone());
        }
        self.entries.insert(
            key,
            Entry {
                refs,
                organizations,
                pair,
            },
        );
    }

    fn remove(&mut self, key: &ConfigKey) {
        self.duplicates.remove(key);
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        let (ns, name) = key;
        let refs_key = (ns.clone(), entry.refs.0, entry.refs.1);
        if let Some(names) = self.by_refs.get_mut(&refs_key) {
            names.remove(name);
            if names.is_empty() {
                self.by_refs.remove(&refs_key);
            }
        }
        for organization in entry.organizations {
            let org_key = (ns.clone(), organization);
            let Some(tenants) = self.generated.get_mut(&org_key) else {
                continue;
            };
            for tenant in [&entry.pair.0, &entry.pair.1] {
                if let Some(count) = tenants.get_mut(tenant) {
                    *count -= 1;
                    if *count == 0 {
                        tenants.remove(tenant);
                    }
                }
            }
            if tenants.is_empty() {
                self.generated.remove(&org_key);
            }
        }
    }
}

#[cfg(test)]
#[path = "config_index_tests.rs"]
mod tests;
