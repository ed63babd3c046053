//! A plain SCIM client for tests: seeds and inspects tenants of the real scim2-server.

use serde_json::{Value, json};

use super::SCIM_TOKEN;

pub struct Scim {
    base: String,
    http: reqwest::Client,
}

impl Scim {
    pub fn new(base: String) -> Scim {
        Scim {
            base,
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(SCIM_TOKEN);
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("scim2-server answers");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert!(status.is_success(), "{method} {path}: HTTP {status}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("JSON")
        }
    }

    /// Creates a user; `extra` is merged into the resource. Returns its id.
    pub async fn add_user(&self, user_name: &str, extra: Value) -> String {
        let mut user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": user_name,
            "displayName": user_name.split('@').next().unwrap_or(user_name),
            "emails": [{ "type": "work", "value": user_name, "primary": true }],
            "active": true,
        });
        if let (Some(u), Some(e)) = (user.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                u.insert(k.clone(), v.clone());
            }
        }
        self.call(reqwest::Method::POST, "/Users", Some(user))
            .await
            .get("id")
            .and_then(Value::as_str)
            .expect("created user has an id")
            .to_owned()
    }

    /// Creates many users in Bulk requests of 500 (fast seeding); `extra` is merged into each.
    pub async fn add_users(&self, user_names: &[String], extra: Value) -> Vec<String> {
        let mut ids = Vec::new();
        for chunk in user_names.chunks(500) {
            let operations: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let mut data = json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                        "userName": name,
                        "displayName": name,
                        "active": true,
                    });
                    if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
                        d.extend(e.clone());
                    }
                    json!({ "method": "POST", "path": "/Users", "bulkId": i.to_string(), "data": data })
                })
                .collect();
            let request =
                json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations });
            let response = self.call(reqwest::Method::POST, "/Bulk", Some(request)).await;
            for op in response["Operations"].as_array().expect("bulk operations") {
                let location = op["location"].as_str().expect("bulk create succeeded");
                ids.push(location.rsplit('/').next().unwrap_or_default().to_owned());
            }
        }
        ids
    }

    pub async fn add_group(&self, name: &str, member_ids: &[&str]) -> String {
        let members: Vec<Value> = member_ids.iter().map(|id| json!({ "value": id })).collect();
        let group = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": members });
        self.call(reqwest::Method::POST, "/Groups", Some(group)).await["id"]
            .as_str()
            .expect("group id")
            .to_owned()
    }

    /// Every group (up to 1000), with its members.
    pub async fn groups(&self) -> Vec<Value> {
        let page = self
            .call(reqwest::Method::GET, "/Groups?startIndex=1&count=1000", None)
            .await;
        page["Resources"].as_array().cloned().unwrap_or_default()
    }

    pub async fn group_named(&self, name: &str) -> Option<Value> {
        self.groups().await.into_iter().find(|g| g["displayName"] == name)
    }

    /// PATCHes a group with these operations (RFC 7644 §3.5.2).
    pub async fn patch_group(&self, id: &str, operations: Value) {
        let patch = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations });
        self.call(reqwest::Method::PATCH, &format!("/Groups/{id}"), Some(patch))
            .await;
    }

    /// Every user, all pages.
    pub async fn users(&self) -> Vec<Value> {
        let mut users = Vec::new();
        loop {
            let path = format!("/Users?startIndex={}&count=1000", users.len() + 1);
            let page = self.call(reqwest::Method::GET, &path, None).await;
            let resources = page["Resources"].as_array().cloned().unwrap_or_default();
            let total = page["totalResults"].as_u64().unwrap_or(0) as usize;
            let done = resources.is_empty();
            users.extend(resources);
            if done || users.len() >= total {
                return users;
            }
        }
    }

    pub async fn user_named(&self, user_name: &str) -> Option<Value> {
        self.users().await.into_iter().find(|u| u["userName"] == user_name)
    }

    pub async fn replace(&self, id: &str, path: &str, value: Value) {
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{ "op": "replace", "path": path, "value": value }],
        });
        self.call(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(patch))
            .await;
    }

    pub async fn delete(&self, id: &str) {
        self.call(reqwest::Method::DELETE, &format!("/Users/{id}"), None).await;
    }
}
