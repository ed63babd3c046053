//! May a Secret be used, and sent where its Tenant would send it? A Secret opts in with the
//! label `xtsync.io/credentials: "true"` and names the URLs it may go to with the annotation
//! `xtsync.io/credentials-for` (README, "Credentials"). A refusal says how to allow the
//! Tenant, as an exact `kubectl annotate` command, so that an upgrade needs no guesswork.

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

use crate::api::{CREDENTIALS_FOR, CREDENTIALS_LABEL};
use crate::providers::destination::{Destination, Grant};

/// `Ok` when `secret` opts in as directory credentials and its annotation covers every one of
/// `destinations`; else the message of `SecretNotAllowed`.
pub(super) fn check(secret: &Secret, ns: &str, destinations: &[Destination]) -> Result<(), String> {
    let name = secret.name_any();
    if secret.labels().get(CREDENTIALS_LABEL).map(String::as_str) != Some("true") {
        return Err(format!(
            "Secret '{name}' lacks the label {CREDENTIALS_LABEL}: \"true\"; xtsync uses only Secrets labelled as directory credentials, and sent nothing"
        ));
    }
    let annotation = secret.annotations().get(CREDENTIALS_FOR).map(String::as_str);
    let grant = Grant::parse(annotation);
    let refused: Vec<&Destination> = destinations.iter().filter(|d| !grant.covers(&d.url)).collect();
    if refused.is_empty() {
        return Ok(());
    }
    Err(refusal(&name, ns, annotation.is_some(), &grant, &refused))
}

/// Where the Secret may not go, why, and the command that would allow it: the prefixes the
/// annotation grants today (so other Tenants sharing the Secret keep theirs) plus this Tenant's.
fn refusal(name: &str, ns: &str, annotated: bool, grant: &Grant, refused: &[&Destination]) -> String {
    let places: Vec<String> = refused.iter().map(|d| format!("{} ({})", d.url, d.field)).collect();
    let places = places.join(" and ");
    let them = if refused.len() == 1 { "it" } else { "them" };
    let mut message = if annotated {
        format!(
            "Secret '{name}' may not be sent to {places}: its annotation {CREDENTIALS_FOR} lists no prefix of {them}"
        )
    } else {
        format!(
            "Secret '{name}' may not be sent to {places}: it has no annotation {CREDENTIALS_FOR} listing where it may be sent"
        )
    };
    message.push_str("; nothing was sent.");
    if !grant.ignored.is_empty() {
        let ignored: Vec<String> = grant.ignored.iter().map(ToString::to_string).collect();
        message.push_str(&format!(" Ignored entries: {}.", ignored.join("; ")));
    }
    let mut value: Vec<String> = grant.prefixes.iter().map(ToString::to_string).collect();
    for destination in refused {
        let url = destination.url.to_string();
        if !value.contains(&url) {
            value.push(url);
        }
    }
    let overwrite = if annotated { " --overwrite" } else { "" };
    message.push_str(&format!(
        " If this is the directory the Secret belongs to, allow it with: kubectl annotate secret -n {ns} {name}{overwrite} {CREDENTIALS_FOR}={}",
        shell_word(&value.join(","))
    ));
    message
}

/// `text` as one shell word: as it is when nothing in it is special to a shell, else quoted.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || ":/._,%~+=@-".contains(c);
    if text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}
