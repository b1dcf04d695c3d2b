//! The signed-in user as the proxy remembers it between Entra's answer and the tokens it issues.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use toolgate_core::{Groups, Principal, PrincipalKind};

use crate::config::PROXY_TOKEN_CLAIMS;

/// What the proxy carries over from a validated Entra token into its own tokens. Built only from
/// verified claims; the `sub` is toolgate's stable `user:{tid}/{oid}`, never a mutable name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserClaims {
    pub sub: String,
    pub tid: String,
    pub oid: Option<String>,
    pub name: Option<String>,
    pub preferred_username: Option<String>,
    pub roles: Vec<String>,
    /// `None` when Entra reported a group overage (too many groups to list).
    pub groups: Option<Vec<String>>,
    pub guest: bool,
    /// Entra claims carried under their own names ([`crate::ProxyConfig::carried_claims`]): what
    /// `[policy] extra_claims` maps, so a policy sees the same value under `entra-proxy` as under
    /// `entra-jwt`. Never one of [`crate::PROXY_TOKEN_CLAIMS`].
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl UserClaims {
    /// From the principal of a validated Entra token, carrying the `carried` claims it has. App-only
    /// principals never get here: the proxy's flows always have a signed-in user.
    pub fn from_entra(principal: &Principal, carried: &[String]) -> Self {
        let extra = carried
            .iter()
            .filter(|name| !PROXY_TOKEN_CLAIMS.contains(&name.as_str()))
            .filter_map(|name| Some((name.clone(), principal.claims.get(name)?.clone())))
            .collect();
        Self {
            sub: principal.id.clone(),
            tid: principal.tenant_id.clone(),
            oid: principal.object_id.clone(),
            name: principal.display_name.clone(),
            preferred_username: principal.username.clone(),
            roles: principal.roles.clone(),
            groups: match &principal.groups {
                Groups::Listed { ids } => Some(ids.clone()),
                Groups::Overage { .. } => None,
            },
            guest: principal.guest,
            extra,
        }
    }

    /// How the consent page names the user.
    pub fn display(&self) -> String {
        match (&self.name, &self.preferred_username) {
            (Some(name), Some(user)) => format!("{name} ({user})"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => self.sub.clone(),
        }
    }

    /// The claims this user contributes to a proxy access token: the carried Entra claims first,
    /// then the proxy's own (which always win).
    pub fn token_claims(&self, claims: &mut Map<String, Value>) {
        for (name, value) in &self.extra {
            if !PROXY_TOKEN_CLAIMS.contains(&name.as_str()) {
                claims.insert(name.clone(), value.clone());
            }
        }
        claims.insert("sub".into(), Value::from(self.sub.clone()));
        claims.insert("tid".into(), Value::from(self.tid.clone()));
        let optional = [
            ("oid", &self.oid),
            ("name", &self.name),
            ("preferred_username", &self.preferred_username),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                claims.insert(name.into(), Value::from(value.clone()));
            }
        }
        if !self.roles.is_empty() {
            claims.insert("roles".into(), Value::from(self.roles.clone()));
        }
        match &self.groups {
            Some(ids) if !ids.is_empty() => {
                claims.insert("groups".into(), Value::from(ids.clone()));
            }
            Some(_) => {}
            None => {
                claims.insert("groups_overage".into(), Value::Bool(true));
            }
        }
        if self.guest {
            claims.insert("guest".into(), Value::Bool(true));
        }
    }

    /// Rebuilds the user from a verified proxy token's claims; `None` if a required claim is absent.
    pub fn from_token_claims(claims: &Map<String, Value>) -> Option<Self> {
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let list = |name: &str| -> Vec<String> {
            claims
                .get(name)
                .and_then(Value::as_array)
                .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let overage = claims.get("groups_overage").and_then(Value::as_bool) == Some(true);
        Some(Self {
            sub: text("sub")?,
            tid: text("tid")?,
            oid: text("oid"),
            name: text("name"),
            preferred_username: text("preferred_username"),
            roles: list("roles"),
            groups: (!overage).then(|| list("groups")),
            guest: claims.get("guest").and_then(Value::as_bool) == Some(true),
            // The token's other claims stay in the principal's `claims`; which of them were
            // carried is not recorded in the token.
            extra: Map::new(),
        })
    }

    /// The principal later stages see for a request carrying a proxy token.
    pub fn principal(
        &self,
        provider: &str,
        client_id: Option<String>,
        scopes: Vec<String>,
        expires_at: i64,
        claims: Map<String, Value>,
    ) -> Principal {
        Principal {
            id: self.sub.clone(),
            kind: PrincipalKind::User,
            tenant_id: self.tid.clone(),
            object_id: self.oid.clone(),
            display_name: self.name.clone(),
            username: self.preferred_username.clone(),
            roles: self.roles.clone(),
            scopes,
            groups: match &self.groups {
                Some(ids) => Groups::Listed { ids: ids.clone() },
                None => Groups::Overage { source: None },
            },
            client_app_id: client_id,
            guest: self.guest,
            provider: provider.to_owned(),
            expires_at,
            claims,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entra_principal(claims: Value) -> Principal {
        Principal {
            id: "user:t/o".into(),
            kind: PrincipalKind::User,
            tenant_id: "t".into(),
            object_id: Some("o".into()),
            display_name: Some("Alice".into()),
            username: Some("alice@contoso.example".into()),
            roles: vec!["Task.Read".into()],
            scopes: vec!["access_as_user".into()],
            groups: Groups::Listed { ids: Vec::new() },
            client_app_id: Some("entra-client".into()),
            guest: false,
            provider: "entra-proxy".into(),
            expires_at: 0,
            claims: match claims {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        }
    }

    #[test]
    fn carried_claims_reach_the_token_under_their_names_and_never_override_the_proxys() {
        let principal = entra_principal(json!({
            "acct": 0, "ver": "2.0", "department": "Sales", "aud": "api://x", "sub": "pairwise",
            "ctry": ["DE"],
        }));
        let carried: Vec<String> = ["acct", "department", "ctry", "aud", "sub", "missing"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let user = UserClaims::from_entra(&principal, &carried);
        assert_eq!(
            Value::Object(user.extra.clone()),
            json!({"acct": 0, "department": "Sales", "ctry": ["DE"]}),
            "the proxy's own claims (aud, sub) are never carried; absent ones are skipped"
        );
        let mut claims = Map::new();
        user.token_claims(&mut claims);
        assert_eq!(claims["department"], "Sales");
        assert_eq!(claims["acct"], 0);
        assert_eq!(claims["sub"], "user:t/o", "the proxy's sub, not Entra's pairwise one");
        // Stored grants from before carried claims existed still load.
        let old: UserClaims = serde_json::from_value(json!({
            "sub": "user:t/o", "tid": "t", "oid": null, "name": null, "preferred_username": null,
            "roles": [], "groups": [], "guest": false
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(old.extra.is_empty());
    }
}
