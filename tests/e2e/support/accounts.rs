//! A kubeconfig that authenticates as a ServiceAccount, with a token from the TokenRequest API,
//! so that a process started with it has exactly the RBAC the account is granted — what a pod
//! running as that account would have.

use std::path::PathBuf;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use kube::api::PostParams;

use super::TestNs;

/// A kubeconfig for the ServiceAccount `account` of `namespace` (it must exist).
pub async fn kubeconfig_for(t: &TestNs, namespace: &str, account: &str) -> PathBuf {
    // Through the API, not `kubectl create token`, which Debian's kubectl 1.20 lacks.
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: vec![],
            ..Default::default()
        },
        ..Default::default()
    };
    let token = Api::<ServiceAccount>::namespaced(t.client.clone(), namespace)
        .create_token_request(account, &PostParams::default(), &request)
        .await
        .expect("TokenRequest")
        .status
        .expect("token")
        .token;
    let admin = std::fs::read_to_string(&t.env.kubeconfig).expect("kubeconfig");
    let admin_token = admin
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .expect("admin token")
        .to_owned();
    let limited = admin.replace(&admin_token, token.trim());
    let kubeconfig = std::env::temp_dir().join(format!("xtsync-{namespace}-{account}.kubeconfig"));
    std::fs::write(&kubeconfig, limited).expect("write kubeconfig");
    kubeconfig
}
