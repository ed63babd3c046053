//! The provisioning log as the test process sees it: a tracing layer, installed once for the
//! whole e2e binary, that keeps every record of target `xtsync::provisioning` — the in-process
//! controllers' — as a map of its fields. Tests pick theirs by `configuration`.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

type Fields = BTreeMap<String, String>;

static RECORDS: OnceLock<Mutex<Vec<Fields>>> = OnceLock::new();

struct Collector;

struct Visitor<'a>(&'a mut Fields);

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for Collector {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != "xtsync::provisioning" {
            return;
        }
        let mut fields = Fields::new();
        event.record(&mut Visitor(&mut fields));
        if let Some(records) = RECORDS.get()
            && let Ok(mut records) = records.lock()
        {
            records.push(fields);
        }
    }
}

/// Starts collecting (once per process; later calls do nothing).
pub fn install() {
    if RECORDS.set(Mutex::new(Vec::new())).is_ok() {
        let _ = tracing::subscriber::set_global_default(Registry::default().with(Collector));
    }
}

/// The records of configuration `namespace/name` so far.
pub fn of(configuration: &str) -> Vec<Fields> {
    RECORDS
        .get()
        .and_then(|r| r.lock().ok().map(|r| r.clone()))
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.get("configuration").map(String::as_str) == Some(configuration))
        .collect()
}
