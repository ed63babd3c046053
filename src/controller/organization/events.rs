//! Events of an Organization: a member joined, a tenant started leaving, a tenant is gone;
//! Entra completed a member's join, or it failed.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Resource;
use kube::runtime::events::{Event, EventType};

use crate::api::Tenant;
use crate::api::conditions::bounded;
use crate::api::organization::Organization;
use crate::controller::Context;
use crate::controller::bounds::MAX_EVENT_NOTE;

/// Reasons of an Organization's Events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum OrganizationEventReason {
    /// A tenant became a member: its pairs' configurations are generated.
    MemberJoined,
    /// A tenant is no longer a member: its configurations are being deleted.
    MemberLeaving,
    /// Entra reports a Microsoft Graph member active in the multitenant organization.
    EntraJoinCompleted,
    /// A Microsoft Graph member's join failed in Entra, or it is active in another
    /// organization (Warning).
    EntraJoinFailed,
}

/// What the operator was doing (the Event's `action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr)]
pub enum OrganizationEventAction {
    /// Generating and deleting configurations for the members.
    FanOut,
    /// Applying the organization to Entra.
    ApplyToEntra,
}

/// An Event about `tenant` (its `related` object, so that each tenant's Events aggregate apart).
pub async fn publish(
    ctx: &Context,
    organization: &Organization,
    tenant: &str,
    type_: EventType,
    reason: OrganizationEventReason,
    note: &str,
) {
    let related = ObjectReference {
        api_version: Some(Tenant::api_version(&()).into_owned()),
        kind: Some(Tenant::kind(&()).into_owned()),
        name: Some(tenant.to_owned()),
        namespace: organization.meta().namespace.clone(),
        ..ObjectReference::default()
    };
    let action = match reason {
        OrganizationEventReason::MemberJoined | OrganizationEventReason::MemberLeaving => {
            OrganizationEventAction::FanOut
        }
        OrganizationEventReason::EntraJoinCompleted | OrganizationEventReason::EntraJoinFailed => {
            OrganizationEventAction::ApplyToEntra
        }
    };
    let event = Event {
        type_,
        reason: <&str>::from(reason).into(),
        note: Some(bounded(note, MAX_EVENT_NOTE)),
        action: <&str>::from(action).into(),
        secondary: Some(related),
    };
    if let Err(error) = ctx.recorder.publish(&event, &organization.object_ref(&())).await {
        tracing::debug!(%error, "could not publish an event");
    }
}
