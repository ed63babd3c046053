//! The fan-out (README, "Organizations"): from an Organization's spec and the SyncConfigurations
//! of its namespace to the configurations it must have — name, labels, spec — and those it must
//! delete. Pure, so that `xtsync plan` can show what an Organization would generate.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ring::digest::{SHA256, digest};
use serde_json::{Value, json};

use crate::api::organization::{
    NOT_IN_TEMPLATE, ORGANIZATION_LABEL, OnLeave, OrganizationSpec, SOURCE_LABEL, TARGET_LABEL, TopologyMode,
};
use crate::api::sync_config::{OnConfigurationDelete, SyncConfigurationSpec};

/// The longest object name (a DNS subdomain, RFC 1123).
const MAX_OBJECT_NAME: usize = 253;

/// An ordered pair of members, by Tenant name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    pub source: String,
    pub target: String,
}

impl Pair {
    pub fn new(source: &str, target: &str) -> Pair {
        Pair {
            source: source.to_owned(),
            target: target.to_owned(),
        }
    }

    pub fn involves(&self, tenant: &str) -> bool {
        self.source == tenant || self.target == tenant
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} → {}", self.source, self.target)
    }
}

/// A SyncConfiguration of the Organization's namespace, as the fan-out sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Existing {
    pub name: String,
    /// The pair, when this Organization generated it (its labels, or its owner reference).
    pub generated: Option<Pair>,
    /// The Tenants its spec names.
    pub refs: Option<Pair>,
    /// The directories of those Tenants (`lookup::directory_of`), when both exist.
    pub directories: Option<(String, String)>,
    /// It is being deleted.
    pub deleting: bool,
    /// Its `Ready` condition is True.
    pub ready: bool,
}

/// A configuration as the Organization wants it.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    pub name: String,
    pub pair: Pair,
    pub labels: BTreeMap<String, String>,
    pub spec: SyncConfigurationSpec,
}

/// What the Organization must have and must not have.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FanOut {
    pub desired: Vec<Desired>,
    /// Pairs left to a configuration the Organization did not generate: (pair, its name).
    pub conflicts: Vec<(Pair, String)>,
    /// Generated configurations no pair wants any more (a member left, the topology changed,
    /// a second copy of a pair): to delete.
    pub stale: Vec<String>,
}

/// The ordered pairs the topology names, minus `topology.exclude`, sorted. Members are taken
/// as listed (the spec is validated first: no member twice, the hub a member).
pub fn pairs(spec: &OrganizationSpec) -> Vec<Pair> {
    let members: Vec<&str> = spec.tenants.iter().map(|m| m.tenant_ref.name.as_str()).collect();
    let hub = spec.topology.hub.as_ref().map(|h| h.name.as_str());
    let mut out = BTreeSet::new();
    for source in &members {
        for target in &members {
            if source == target {
                continue;
            }
            let wanted = match (spec.topology.mode, hub) {
                (TopologyMode::Mesh, _) => true,
                (TopologyMode::FromHub, Some(hub)) => *source == hub,
                (TopologyMode::ToHub, Some(hub)) => *target == hub,
                (TopologyMode::HubAndSpoke, Some(hub)) => *source == hub || *target == hub,
                (_, None) => false,
            };
            if wanted {
                out.insert(Pair::new(source, target));
            }
        }
    }
    for excluded in &spec.topology.exclude {
        out.remove(&Pair::new(&excluded.source.name, &excluded.target.name));
    }
    out.into_iter().collect()
}

/// A generated configuration's spec: `syncTemplate`, the pair, the Organization's `suspend`,
/// and `onLeave` in place of the template's `onConfigurationDelete`.
pub fn spec_for(spec: &OrganizationSpec, pair: &Pair) -> Result<SyncConfigurationSpec, serde_json::Error> {
    let mut object = spec.sync_template.0.clone();
    for field in NOT_IN_TEMPLATE {
        object.remove(field);
    }
    object.insert("sourceRef".into(), json!({ "name": pair.source }));
    object.insert("targetRef".into(), json!({ "name": pair.target }));
    object.insert("suspend".into(), json!(spec.suspend));
    let mut config: SyncConfigurationSpec = serde_json::from_value(Value::Object(object))?;
    config.deprovision.on_configuration_delete = match spec.on_leave {
        OnLeave::Retain => OnConfigurationDelete::Keep,
        OnLeave::Deprovision => OnConfigurationDelete::Deprovision,
    };
    Ok(config)
}

/// The labels of a generated configuration: how the Organization finds it again.
pub fn labels_for(organization: &str, pair: &Pair) -> BTreeMap<String, String> {
    BTreeMap::from([
        (ORGANIZATION_LABEL.to_owned(), organization.to_owned()),
        (SOURCE_LABEL.to_owned(), pair.source.clone()),
        (TARGET_LABEL.to_owned(), pair.target.clone()),
    ])
}

/// `<organization>-<source>-to-<target>`.
pub fn plain_name(organization: &str, pair: &Pair) -> String {
    format!("{organization}-{}-to-{}", pair.source, pair.target)
}

/// The plain name cut to fit, with `-<8 hex digits of SHA-256 of the organization and the
/// pair>`: for a plain name too long, or taken by another object.
pub fn suffixed_name(organization: &str, pair: &Pair) -> String {
    let hash = digest(
        &SHA256,
        format!("{organization}\n{}\n{}", pair.source, pair.target).as_bytes(),
    );
    let hex: String = hash.as_ref()[..4].iter().map(|b| format!("{b:02x}")).collect();
    let mut base = plain_name(organization, pair);
    // A name is ASCII (the parts are Kubernetes names), so any byte is a boundary.
    base.truncate(MAX_OBJECT_NAME - hex.len() - 1);
    // Each dot-separated part of a DNS subdomain ends with a letter or digit.
    let base = base.trim_end_matches(['-', '.']);
    format!("{base}-{hex}")
}

/// The fan-out of a valid spec over the namespace's configurations (`existing`). `directories`:
/// each member's directory, for members whose Tenant exists — a configuration the Organization
/// did not generate claims a pair when it names the same Tenants or the same directories
/// (docs/architecture.md, rule 2).
pub fn fan_out(
    organization: &str,
    spec: &OrganizationSpec,
    existing: &[Existing],
    directories: &BTreeMap<String, String>,
) -> Result<FanOut, serde_json::Error> {
    let wanted = pairs(spec);
    let mut out = FanOut::default();
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    let mut names: BTreeSet<String> = existing.iter().map(|e| e.name.clone()).collect();
    // By pair, the first of each (`existing` is sorted by name): one pass, not one per pair.
    let mut ours: HashMap<&Pair, &Existing> = HashMap::new();
    for e in existing {
        if let Some(pair) = &e.generated {
            ours.entry(pair).or_insert(e);
        }
    }
    let others = Claimants::of(existing);
    for pair in &wanted {
        let spec = spec_for(spec, pair)?;
        let labels = labels_for(organization, pair);
        if let Some(mine) = ours.get(pair) {
            kept.insert(&mine.name);
            out.desired.push(Desired {
                name: mine.name.clone(),
                pair: pair.clone(),
                labels,
                spec,
            });
            continue;
        }
        if let Some(other) = others.claiming(pair, directories) {
            out.conflicts.push((pair.clone(), other.name.clone()));
            continue;
        }
        let plain = plain_name(organization, pair);
        let name = if plain.len() <= MAX_OBJECT_NAME && !names.contains(&plain) {
            plain
        } else {
            suffixed_name(organization, pair)
        };
        if names.contains(&name) {
            out.conflicts.push((pair.clone(), name));
            continue;
        }
        names.insert(name.clone());
        out.desired.push(Desired {
            name,
            pair: pair.clone(),
            labels,
            spec,
        });
    }
    out.stale = existing
        .iter()
        .filter(|e| e.generated.is_some() && !kept.contains(e.name.as_str()))
        .map(|e| e.name.clone())
        .collect();
    Ok(out)
}

/// The configurations the Organization did not generate, not being deleted: each claims the
/// pair its spec names, and the pair of directories its Tenants have.
struct Claimants<'a> {
    by_refs: HashMap<&'a Pair, &'a Existing>,
    by_directories: HashMap<(&'a str, &'a str), &'a Existing>,
}

impl<'a> Claimants<'a> {
    fn of(existing: &'a [Existing]) -> Claimants<'a> {
        let mut claimants = Claimants {
            by_refs: HashMap::new(),
            by_directories: HashMap::new(),
        };
        for e in existing.iter().filter(|e| e.generated.is_none() && !e.deleting) {
            if let Some(refs) = &e.refs {
                claimants.by_refs.entry(refs).or_insert(e);
            }
            if let Some((source, target)) = &e.directories {
                claimants.by_directories.entry((source, target)).or_insert(e);
            }
        }
        claimants
    }

    /// The first (by name) that claims `pair`: by the Tenants it names, else by directories.
    fn claiming(&self, pair: &Pair, directories: &BTreeMap<String, String>) -> Option<&'a Existing> {
        let by_directories = || {
            let (source, target) = directories.get(&pair.source).zip(directories.get(&pair.target))?;
            self.by_directories.get(&(source.as_str(), target.as_str())).copied()
        };
        match (self.by_refs.get(pair).copied(), by_directories()) {
            (Some(a), Some(b)) => Some(if b.name < a.name { b } else { a }),
            (a, b) => a.or(b),
        }
    }
}

/// The tenants that are leaving: not members, yet named by a generated configuration that
/// still exists. A tenant is gone from the organization — and what the Organization set up for
/// it may be withdrawn — only once it is in neither list.
pub fn leaving(spec: &OrganizationSpec, existing: &[Existing]) -> BTreeSet<String> {
    let members: BTreeSet<&str> = spec.tenants.iter().map(|m| m.tenant_ref.name.as_str()).collect();
    existing
        .iter()
        .filter_map(|e| e.generated.as_ref())
        .flat_map(|pair| [&pair.source, &pair.target])
        .filter(|tenant| !members.contains(tenant.as_str()))
        .cloned()
        .collect()
}
