//! Scope strings as Entra reads them: `api://{app}/{scope}`, `{resource}/.default`, bare Graph
//! permission names, and the OIDC scopes. One resource per request (AADSTS28000).

use crate::config::EmulatorConfig;
use crate::errors::AadError;

/// Microsoft Graph as a resource: its audience in tokens.
pub(crate) const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Graph delegated permissions the emulator knows; others are invalid scopes (AADSTS70011).
const GRAPH_SCOPES: &[&str] = &[
    "User.Read",
    "User.ReadBasic.All",
    "User.Read.All",
    "Mail.Read",
    "Mail.Send",
    "Calendars.Read",
    "Files.Read",
    "Files.Read.All",
    "GroupMember.Read.All",
    "Directory.Read.All",
];

/// Which resource a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resource {
    /// An app registration, by client id, with the resource URI the client used.
    App {
        client_id: String,
        uri: String,
    },
    Graph,
}

/// A scope parameter after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedScopes {
    pub resource: Resource,
    /// Delegated permission names for `scp`.
    pub scp: Vec<String>,
    /// Whether `{resource}/.default` was asked for.
    pub default: bool,
    pub openid: bool,
    pub profile: bool,
    pub email: bool,
    pub offline_access: bool,
}

impl ResolvedScopes {
    /// The `scope` member of a token response: full resource scopes plus OIDC ones asked for.
    pub(crate) fn response_scope(&self) -> String {
        let mut out: Vec<String> = match &self.resource {
            Resource::App { uri, .. } => self.scp.iter().map(|s| format!("{uri}/{s}")).collect(),
            Resource::Graph => self.scp.clone(),
        };
        for (on, name) in [
            (self.openid, "openid"),
            (self.profile, "profile"),
            (self.email, "email"),
            (self.offline_access, "offline_access"),
        ] {
            if on && !out.iter().any(|s| s == name) {
                out.push(name.to_owned());
            }
        }
        out.join(" ")
    }
}

/// `{resource}/{name}` when the scope names a resource: a URI (`api://…`, `https://…`, `urn:…`)
/// or a bare app id GUID followed by `/`. Scopes are request input: the GUID prefix is taken
/// with `str::get`, so a multi-byte character where the 36th byte falls is simply not a GUID
/// (and the scope ends as AADSTS70011), never a panic.
fn split_resource(scope: &str) -> Option<(&str, &str)> {
    let looks_like_uri = scope.contains("://")
        || scope.starts_with("urn:")
        || scope.len() > 37
            && scope
                .get(..36)
                .is_some_and(|prefix| uuid::Uuid::parse_str(prefix).is_ok());
    if !looks_like_uri {
        return None;
    }
    scope
        .rsplit_once('/')
        .filter(|(uri, name)| !name.is_empty() && !uri.ends_with(':'))
}

/// Resolves a space-separated scope parameter.
pub(crate) fn resolve(config: &EmulatorConfig, scope_param: &str) -> Result<ResolvedScopes, AadError> {
    let mut resource: Option<Resource> = None;
    let mut names: Vec<String> = Vec::new();
    let mut out = ResolvedScopes {
        resource: Resource::Graph,
        scp: Vec::new(),
        default: false,
        openid: false,
        profile: false,
        email: false,
        offline_access: false,
    };
    let mut any = false;
    for scope in scope_param.split_whitespace() {
        any = true;
        match scope {
            "openid" => out.openid = true,
            "profile" => out.profile = true,
            "email" => out.email = true,
            "offline_access" => out.offline_access = true,
            _ => {
                let (this, name) = match split_resource(scope) {
                    Some((uri, name)) if uri == GRAPH_RESOURCE || uri == GRAPH_APP_ID => (Resource::Graph, name),
                    Some((uri, name)) => {
                        let app = config
                            .app_by_resource(uri)
                            .ok_or_else(|| AadError::unknown_resource(uri))?;
                        if name != ".default" && !app.scopes.iter().any(|s| s == name) {
                            return Err(AadError::invalid_scope(scope));
                        }
                        (
                            Resource::App {
                                client_id: app.client_id.clone(),
                                uri: uri.to_owned(),
                            },
                            name,
                        )
                    }
                    None => {
                        if !GRAPH_SCOPES.contains(&scope) {
                            return Err(AadError::invalid_scope(scope));
                        }
                        (Resource::Graph, scope)
                    }
                };
                let same = match (&resource, &this) {
                    (None, _) => true,
                    (Some(Resource::App { client_id: a, .. }), Resource::App { client_id: b, .. }) => a == b,
                    (Some(a), b) => a == b,
                };
                if !same {
                    return Err(AadError::multiple_resources());
                }
                resource.get_or_insert(this);
                if name == ".default" {
                    out.default = true;
                } else if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
        }
    }
    if !any {
        return Err(AadError::missing_parameter("scope"));
    }
    out.resource = resource.unwrap_or(Resource::Graph);
    out.scp = match &out.resource {
        Resource::App { client_id, .. } if out.default => {
            config.app(client_id).map(|a| a.scopes.clone()).unwrap_or_default()
        }
        Resource::App { .. } => names,
        // Entra answers OIDC-only and Graph requests with a Graph token carrying User.Read.
        Resource::Graph => {
            let mut scp = names;
            if scp.is_empty() || out.default {
                scp.retain(|s| s != "User.Read");
                scp.insert(0, "User.Read".to_owned());
            }
            for (on, name) in [(out.openid, "openid"), (out.profile, "profile"), (out.email, "email")] {
                if on {
                    scp.push(name.to_owned());
                }
            }
            scp
        }
    };
    Ok(out)
}

/// Only `{resource}/.default`, alone, is allowed for app-only flows (AADSTS1002012).
pub(crate) fn resolve_app_only(config: &EmulatorConfig, scope_param: &str) -> Result<ResolvedScopes, AadError> {
    let mut parts = scope_param.split_whitespace();
    let (Some(only), None) = (parts.next(), parts.next()) else {
        return if scope_param.trim().is_empty() {
            Err(AadError::missing_parameter("scope"))
        } else {
            Err(AadError::client_credentials_scope(scope_param))
        };
    };
    if !only.ends_with("/.default") {
        return Err(AadError::client_credentials_scope(only));
    }
    let mut resolved = resolve(config, only)?;
    if resolved.resource == Resource::Graph {
        resolved.scp.clear();
    }
    Ok(resolved)
}
