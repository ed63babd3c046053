//! Condition reasons: one enum per condition type. A reason's string is its variant name
//! (derived, never typed twice) and its doc comment is what `docs/reference.md` says of it, so
//! the reasons users see, the code that sets them and the documentation cannot drift apart.

use strum::{EnumIter, EnumMessage, IntoEnumIterator, IntoStaticStr};

use super::conditions::ConditionReason;

/// Declares a reason enum for one condition type.
macro_rules! reasons {
    ($(#[$meta:meta])* $name:ident for $type_:literal { $($(#[doc = $doc:literal])+ $variant:ident,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, IntoStaticStr, EnumIter, EnumMessage)]
        pub enum $name {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ConditionReason for $name {
            const TYPE: &'static str = $type_;
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

reasons! {
    /// Tenant `Ready`: the credentials were found and the directory answered.
    TenantReadyReason for "Ready" {
        /// True: the Secret was found and the directory answered the connection test.
        Connected,
        /// Not exactly one provider, not exactly one Graph credential, or a bad `anchorAttribute`.
        InvalidSpec,
        /// The Secret or its key is missing or empty.
        SecretNotFound,
        /// The `clientCertificateSecretRef` Secret's `tls.crt`/`tls.key` are not an RSA certificate and its key, or the certificate has expired; nothing is sent.
        InvalidCertificate,
        /// The `caBundleRef` ConfigMap or Secret, or its key, is missing, or holds no PEM certificate.
        InvalidCABundle,
        /// Workload identity with an `endpoints.login` the operator does not trust (`--trusted-login-endpoint`); the federated token is not sent.
        LoginEndpointNotTrusted,
        /// The Secret lacks the label `xtsync.io/credentials: "true"` or does not allow the Tenant's URL; nothing is sent.
        SecretNotAllowed,
        /// The directory refused the credentials (401/403, or the token endpoint's `AADSTS…` error).
        AuthenticationFailed,
        /// Microsoft Graph: the credentials belong to another tenant than `spec.tenantId`.
        TenantIdMismatch,
        /// No answer: connection refused, DNS or a timeout.
        Unreachable,
        /// The TLS handshake failed: the message says what is wrong with the certificate (an unknown issuer: trust it with `caBundleRef`).
        TLSError,
        /// The answer is not SCIM (or not Microsoft Graph).
        InvalidResponse,
        /// Microsoft Graph in China21Vianet without endpoint overrides.
        UnsupportedCloud,
    }
}

reasons! {
    /// CrossTenantAccessPolicy `Ready`: its settings are in force.
    PolicyReadyReason for "Ready" {
        /// True: `status.effective` lists the merged settings per partner.
        Effective,
        /// A partner is listed twice.
        InvalidSpec,
        /// `spec.tenantRef` names no Tenant of the namespace.
        TenantNotFound,
        /// An older policy already configures this tenant (a tenant has at most one).
        DuplicatePolicy,
    }
}

reasons! {
    /// CrossTenantAccessPolicy `Applied` (Microsoft Graph tenants only): Entra has the settings.
    AppliedReason for "Applied" {
        /// True: Entra holds these settings.
        Applied,
        /// The policy itself is not Ready; nothing is pushed.
        PolicyNotReady,
        /// The policy's Tenant is not Ready; the settings are pushed once it is.
        TenantNotReady,
        /// The app lacks `Policy.ReadWrite.CrossTenantAccess`.
        Forbidden,
        /// A B2B user selection with both include and exclude, which Entra cannot hold.
        NotRepresentable,
        /// The Tenant's Secret is missing.
        SecretNotFound,
        /// The Tenant's Secret lacks the label `xtsync.io/credentials: "true"` or does not allow its URL.
        SecretNotAllowed,
        /// Microsoft Graph in China21Vianet without endpoint overrides.
        UnsupportedCloud,
        /// Graph refused the credentials.
        AuthenticationFailed,
        /// The Tenant's directory settings cannot be used (no provider, not exactly one Graph credential, a bad `anchorAttribute`).
        InvalidTenantSpec,
        /// The Tenant's `clientCertificateSecretRef` Secret holds no RSA certificate and its key, or the certificate expired; nothing is sent.
        InvalidCertificate,
        /// The Tenant's `caBundleRef` ConfigMap or Secret, or its key, is missing or holds no PEM certificate.
        InvalidCABundle,
        /// The Tenant's workload identity names an `endpoints.login` the operator does not trust; the federated token is not sent.
        LoginEndpointNotTrusted,
        /// Graph kept throttling the push.
        Throttled,
        /// Graph could not be reached.
        Unreachable,
        /// Graph refused the change; the message has its error code and request id.
        Rejected,
        /// Graph's answer was not what its documentation promises.
        InvalidResponse,
    }
}

reasons! {
    /// SyncConfiguration `Ready`: the gate (docs/architecture.md, rules 1–2), the first failing
    /// check.
    ReadyReason for "Ready" {
        /// True: both tenants Ready, same supported cloud, one configuration per pair, both policies allow it.
        GateOpen,
        /// The spec itself is wrong (operator, regex, expression, attribute, interval, mapping); the message lists every problem.
        InvalidSpec,
        /// A referenced Tenant is missing or not Ready; the message names it and its reason.
        TenantNotReady,
        /// Source and target are the same tenant id, or name the same directory.
        SameTenant,
        /// A tenant is in China21Vianet, where cross-tenant synchronization is not supported.
        UnsupportedCloud,
        /// The tenants are in different clouds.
        CrossCloudNotSupported,
        /// Another SyncConfiguration holds this pair of directories, or is older and could run.
        DuplicatePair,
        /// The target's policy, for the source's tenant id, lacks `inbound.allowUsersSync` (no policy = deny).
        InboundSyncNotAllowed,
        /// `inbound.automaticallyRedeemInvitations` (target) or `outbound.automaticallyRedeemInvitations` (source) is not set.
        AutomaticRedemptionNotConfigured,
        /// `groupProvisioning.enabled`, but the target's policy lacks `inbound.allowGroupsSync` for the source.
        InboundGroupSyncNotAllowed,
        /// Being deleted with `onConfigurationDelete: Deprovision`, the pair's active configuration cannot clean up now (a Tenant or its Secret is gone, the credentials are refused, the spec is invalid); the deletion waits, and the message says what is missing. Outranks every other reason.
        CleanupBlocked,
    }
}

reasons! {
    /// SyncConfiguration `Synced`: how the last cycle went.
    SyncedReason for "Synced" {
        /// True: the last cycle applied every change it planned.
        CycleSucceeded,
        /// True: `spec.dryRun` — the last cycle planned, and wrote nothing.
        DryRun,
        /// Some users failed; `status.failures` lists them.
        PartiallySynced,
        /// More than half of the cycle's writes failed after retries (three such cycles in a row quarantine).
        CycleFailed,
        /// No cycle runs while `Ready` is False.
        GateClosed,
        /// `spec.suspend` is true.
        Suspended,
        /// Reading the source failed or was incomplete; nothing was deprovisioned.
        SourceReadFailed,
        /// Reading the target failed; nothing was written.
        TargetReadFailed,
        /// The cycle did not end within its deadline (its interval, and at least an hour); nothing was deprovisioned; the next cycle runs as scheduled.
        CycleTimedOut,
        /// A directory refused the credentials: the target while it was read, or either Tenant's directory when the cycle connected (the message says which).
        AuthenticationFailed,
        /// A Tenant's `clientCertificateSecretRef` Secret no longer holds an RSA certificate and its key, or the certificate expired; nothing was sent.
        InvalidCertificate,
        /// A Tenant's `caBundleRef` ConfigMap or Secret, or its key, went away or holds no PEM certificate.
        InvalidCABundle,
        /// A Tenant's workload identity names an `endpoints.login` the operator does not trust; the federated token was not sent.
        LoginEndpointNotTrusted,
        /// A referenced Tenant went away during the cycle.
        TenantNotFound,
        /// A Tenant's Secret went away during the cycle.
        SecretNotFound,
        /// A Tenant's Secret lost the label `xtsync.io/credentials: "true"` or no longer allows its URL.
        SecretNotAllowed,
        /// A Tenant's directory settings cannot be used (no provider, bad `anchorAttribute`).
        InvalidTenantSpec,
        /// A Tenant's cloud has no known Microsoft Graph endpoints.
        UnsupportedCloud,
    }
}

reasons! {
    /// SyncConfiguration `Quarantined`: cycles are retried on an exponential schedule (rule 9).
    QuarantinedReason for "Quarantined" {
        /// False: the last cycle succeeded.
        Healthy,
        /// More than half of the writes failed, after retries, in three cycles in a row.
        MostOperationsFailed,
        /// False: more than half of the last cycle's writes failed after retries; a third such cycle in a row quarantines.
        WritesFailing,
        /// Reading the source failed.
        SourceReadFailed,
        /// Reading the target failed.
        TargetReadFailed,
        /// A directory refused the credentials: the target while it was read, or either Tenant's directory when the cycle connected.
        AuthenticationFailed,
        /// A Tenant's `clientCertificateSecretRef` Secret no longer holds an RSA certificate and its key, or the certificate expired.
        InvalidCertificate,
        /// A Tenant's `caBundleRef` ConfigMap or Secret, or its key, went away or holds no PEM certificate.
        InvalidCABundle,
        /// A Tenant's workload identity names an `endpoints.login` the operator does not trust.
        LoginEndpointNotTrusted,
        /// A referenced Tenant went away.
        TenantNotFound,
        /// A Tenant's Secret went away.
        SecretNotFound,
        /// A Tenant's Secret lost its credentials label or no longer allows its URL.
        SecretNotAllowed,
        /// A Tenant's directory settings cannot be used.
        InvalidTenantSpec,
        /// A Tenant's cloud has no known Microsoft Graph endpoints.
        UnsupportedCloud,
    }
}

reasons! {
    /// SyncConfiguration `DeletionThresholdExceeded` (rule 8).
    DeletionThresholdReason for "DeletionThresholdExceeded" {
        /// True: more deprovisionings than `accidentalDeletionThreshold`; none were applied; approve with `xtsync.io/approve-deletions`.
        PendingApproval,
        /// False: the last cycle's deprovisionings were within the threshold.
        WithinThreshold,
    }
}

reasons! {
    /// Organization `Ready`: every member Tenant is Ready and every generated configuration exists.
    OrganizationReadyReason for "Ready" {
        /// True: every member Tenant is Ready and every configuration the topology names exists.
        Established,
        /// A member's `tenantRef` names no Tenant of the namespace; the configurations of its pairs are generated and wait for it (their gate says `TenantNotReady`).
        TenantNotFound,
        /// A member Tenant is not Ready; the message names it and its reason.
        TenantNotReady,
        /// No member has `role: Owner`; nothing is generated or deleted until one has.
        NoOwner,
        /// The spec cannot be used (a name too long for a label, a hub missing or not a member, a member listed twice, an exclusion naming a non-member, a `syncTemplate` that does not validate); the message names the field, and nothing is generated or deleted.
        InvalidSpec,
        /// A pair of the topology is already configured by a SyncConfiguration the Organization did not generate (named in the message); that pair is left to it.
        Conflict,
    }
}

reasons! {
    /// Organization `Applied` (present when a member is a Microsoft Graph tenant): Entra's
    /// multitenant organization holds the Graph members.
    OrganizationAppliedReason for "Applied" {
        /// True: Entra holds the organization, its templates, and every Graph member is active in it.
        Applied,
        /// True: Entra holds the organization and its templates; a member's join is still under way (Entra takes up to 2 hours); `status.tenants[].state` is `Pending` until it is active.
        Joining,
        /// No Graph member has `role: Owner`: only a Graph tenant can create Entra's organization.
        NoOwner,
        /// A Graph member is in the US Government or China21Vianet cloud, where Microsoft Graph has no multitenant organizations; nothing is sent.
        UnsupportedCloud,
        /// A Graph member's Tenant is missing or not Ready; the organization is applied once every one is.
        TenantNotReady,
        /// The Graph Owner is in a multitenant organization it does not own (a tenant belongs to one at most); nothing is written.
        NotAnOwner,
        /// A member's join failed in Entra, or the member is active in another tenant's organization; the message names it and Entra's details.
        JoinFailed,
        /// The app lacks `MultiTenantOrganization.ReadWrite.All` or `Policy.ReadWrite.CrossTenantAccess` in the tenant the message names.
        Forbidden,
        /// A Graph member's Secret is missing.
        SecretNotFound,
        /// A Graph member's Secret lacks the label `xtsync.io/credentials: "true"` or does not allow its URL.
        SecretNotAllowed,
        /// Graph refused a member's credentials.
        AuthenticationFailed,
        /// A Graph member's directory settings cannot be used (not exactly one Graph credential, a bad `anchorAttribute`).
        InvalidTenantSpec,
        /// A Graph member's `clientCertificateSecretRef` Secret holds no RSA certificate and its key, or the certificate expired; nothing is sent.
        InvalidCertificate,
        /// A Graph member's `caBundleRef` ConfigMap or Secret, or its key, is missing or holds no PEM certificate.
        InvalidCABundle,
        /// A Graph member's workload identity names an `endpoints.login` the operator does not trust; the federated token is not sent.
        LoginEndpointNotTrusted,
        /// Graph kept throttling.
        Throttled,
        /// Graph could not be reached.
        Unreachable,
        /// Graph refused a change; the message has its error code and the tenant.
        Rejected,
        /// Graph's answer was not what its documentation promises.
        InvalidResponse,
    }
}

/// One condition type's reasons, for the reference.
pub struct ReasonTable {
    pub kind: &'static str,
    pub type_: &'static str,
    pub about: &'static str,
    /// (reason, meaning)
    pub reasons: Vec<(&'static str, &'static str)>,
}

fn table<R>(kind: &'static str, about: &'static str) -> ReasonTable
where
    R: ConditionReason + IntoEnumIterator + EnumMessage,
{
    ReasonTable {
        kind,
        type_: R::TYPE,
        about,
        reasons: R::iter()
            .map(|r| (r.as_str(), r.get_documentation().unwrap_or_default()))
            .collect(),
    }
}

/// Every condition of every kind, with its reasons.
pub fn catalogue() -> Vec<ReasonTable> {
    vec![
        table::<TenantReadyReason>("Tenant", "credentials found, connection tested"),
        table::<PolicyReadyReason>("CrossTenantAccessPolicy", "the settings are in force"),
        table::<AppliedReason>(
            "CrossTenantAccessPolicy",
            "Microsoft Graph tenants only: Entra has the settings",
        ),
        table::<ReadyReason>("SyncConfiguration", "the gate, first failing check in this order"),
        table::<SyncedReason>("SyncConfiguration", "how the last cycle went"),
        table::<QuarantinedReason>("SyncConfiguration", "cycles retried on an exponential schedule"),
        table::<DeletionThresholdReason>("SyncConfiguration", "deprovisionings held for approval"),
        table::<OrganizationReadyReason>(
            "Organization",
            "every member Tenant Ready, every generated configuration there",
        ),
        table::<OrganizationAppliedReason>(
            "Organization",
            "Microsoft Graph members only: Entra's multitenant organization holds them",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_variant_names_and_all_documented() {
        assert_eq!(ReadyReason::DuplicatePair.as_str(), "DuplicatePair");
        assert_eq!(ReadyReason::TYPE, "Ready");
        for table in catalogue() {
            for (reason, meaning) in &table.reasons {
                assert!(!meaning.is_empty(), "{} {reason} has no doc comment", table.type_);
            }
        }
    }
}
