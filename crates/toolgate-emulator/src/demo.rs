//! The built-in demo directory: fixed GUIDs so docs, tests and the CLI name things, not literals.

use crate::config::{
    AppConfig, AppRole, AppRoleAssignment, ClientSecret, EmulatorConfig, MemberType, RedirectUris, Settings,
    TenantConfig, UserConfig,
};

/// Tenant "contoso", the home tenant of every demo app.
pub const TENANT_ID: &str = "3c9a8b1e-5d2f-4e7a-9b0c-1d2e3f4a5b6c";
pub const TENANT_NAME: &str = "contoso";
pub const TENANT_DOMAIN: &str = "contoso.example";
/// Tenant "fabrikam", a second tenant for multi-tenant tests.
pub const FABRIKAM_TENANT_ID: &str = "f4b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d";
pub const FABRIKAM_TENANT_NAME: &str = "fabrikam";
pub const FABRIKAM_TENANT_DOMAIN: &str = "fabrikam.example";

/// Tenant "toolgateb2c", an Azure AD B2C directory with two user flows.
pub const B2C_TENANT_ID: &str = "b2cb2c00-7e1a-4c2b-9d3e-4f5a6b7c8d9e";
pub const B2C_TENANT_NAME: &str = "toolgateb2c";
/// Its initial domain, the tenant segment of B2C URLs (`{name}.onmicrosoft.com`).
pub const B2C_TENANT_DOMAIN: &str = "toolgateb2c.onmicrosoft.com";
/// The sign-up/sign-in user flow.
pub const B2C_POLICY_SIGNUP_SIGNIN: &str = "B2C_1_signupsignin";
/// A second user flow (profile editing), to test that tokens of another flow are refused.
pub const B2C_POLICY_PROFILE_EDIT: &str = "B2C_1_profileedit";
/// "toolgate-b2c-api": the API registered in the B2C tenant (v2 tokens; B2C's scope URIs).
pub const B2C_API_CLIENT_ID: &str = "b2ca9100-1d2e-4f3a-8b4c-5d6e7f8a9b0c";
pub const B2C_API_IDENTIFIER_URI: &str = "https://toolgateb2c.onmicrosoft.com/toolgate-api";
pub const B2C_API_SCOPE_TASKS_READ: &str = "https://toolgateb2c.onmicrosoft.com/toolgate-api/tasks.read";
/// "toolgate-b2c-spa": a public client in the B2C tenant (loopback redirect, like the CLI).
pub const B2C_CLIENT_ID: &str = "b2cc1100-2e3f-4a4b-9c5d-6e7f8a9b0c1d";
pub const B2C_REDIRECT_URI: &str = "http://localhost";
/// A local-account consumer in the B2C tenant.
pub const BEA_OID: &str = "bea00000-0000-4000-8000-000000000008";

/// "toolgate-api": the protected MCP/REST API (v2 tokens, multi-tenant, confidential).
pub const API_CLIENT_ID: &str = "a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f";
pub const API_CLIENT_SECRET: &str = "toolgate-api-demo-secret";
pub const API_IDENTIFIER_URI: &str = "api://a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f";
pub const API_SCOPE_ACCESS_AS_USER: &str = "api://a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f/access_as_user";
pub const API_SCOPE_TASKS_READ: &str = "api://a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f/Tasks.Read";
pub const API_SCOPE_DEFAULT: &str = "api://a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f/.default";
/// "toolgate-cli": public client used by `toolgate token` (loopback redirect, any port).
pub const CLI_CLIENT_ID: &str = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f";
pub const CLI_REDIRECT_URI: &str = "http://localhost";
/// "toolgate-api-v1": like the API but issuing v1 tokens.
pub const API_V1_CLIENT_ID: &str = "b7c8d9e0-f1a2-4b3c-9d4e-5f6a7b8c9d0e";
pub const API_V1_CLIENT_SECRET: &str = "toolgate-api-v1-demo-secret";
pub const API_V1_IDENTIFIER_URI: &str = "api://toolgate-v1";
pub const API_V1_SCOPE_ACCESS_AS_USER: &str = "api://toolgate-v1/access_as_user";
/// "nightly-job": confidential daemon holding Task.Read on toolgate-api.
pub const NIGHTLY_JOB_CLIENT_ID: &str = "d3e4f5a6-b7c8-4d9e-8f0a-1b2c3d4e5f6a";
pub const NIGHTLY_JOB_CLIENT_SECRET: &str = "nightly-job-demo-secret";
/// "downstream-api": a second API called On-Behalf-Of the user by toolgate-api.
pub const DOWNSTREAM_CLIENT_ID: &str = "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9";
pub const DOWNSTREAM_IDENTIFIER_URI: &str = "api://downstream";
pub const DOWNSTREAM_SCOPE_DATA_READ: &str = "api://downstream/Data.Read";

/// Demo user object ids.
pub const ALICE_OID: &str = "a11ce000-0000-4000-8000-000000000001";
pub const BOB_OID: &str = "b0b00000-0000-4000-8000-000000000002";
pub const CAROL_OID: &str = "ca201000-0000-4000-8000-000000000003";
pub const DAVE_OID: &str = "da7e0000-0000-4000-8000-000000000004";
pub const ERIN_OID: &str = "e2140000-0000-4000-8000-000000000005";
pub const OLIVIA_OID: &str = "011a1a00-0000-4000-8000-000000000006";
pub const FRANK_OID: &str = "f2a4c000-0000-4000-8000-000000000007";
/// The group alice is in.
pub const ENGINEERING_GROUP: &str = "engineering";
/// How many groups olivia has (past the overage threshold of 200).
pub const OLIVIA_GROUP_COUNT: usize = 250;

fn tenant(id: &str, name: &str, domain: &str) -> TenantConfig {
    TenantConfig {
        id: id.into(),
        name: name.into(),
        domain: domain.into(),
        b2c: false,
        policies: Vec::new(),
    }
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn role(value: &str) -> AppRole {
    AppRole {
        value: value.into(),
        allowed_member_types: vec![MemberType::User, MemberType::Application],
    }
}

fn api_app(name: &str, client_id: &str, secret: &str, uri: &str, version: u8) -> AppConfig {
    AppConfig {
        name: name.into(),
        client_id: client_id.into(),
        tenant: TENANT_ID.into(),
        client_secrets: vec![ClientSecret::new(secret)],
        identifier_uris: vec![uri.into()],
        scopes: strings(&["access_as_user", "Tasks.Read"]),
        app_roles: ["Task.Read", "Task.Write", "Task.All", "MCPServer.Admin"]
            .map(role)
            .to_vec(),
        redirect_uris: RedirectUris {
            web: strings(&[
                "http://localhost:8080/auth/callback",
                "http://127.0.0.1:8080/auth/callback",
            ]),
            spa: strings(&[
                "http://localhost:8080/docs/oauth-receiver.html",
                "http://127.0.0.1:8080/docs/oauth-receiver.html",
            ]),
            public_client: Vec::new(),
        },
        access_token_version: version,
        multi_tenant: true,
        app_role_assignments: vec![AppRoleAssignment {
            client: NIGHTLY_JOB_CLIENT_ID.into(),
            roles: strings(&["Task.Read"]),
        }],
    }
}

fn client_app(name: &str, client_id: &str, secret: Option<&str>) -> AppConfig {
    AppConfig {
        name: name.into(),
        client_id: client_id.into(),
        tenant: TENANT_ID.into(),
        client_secrets: secret.map(ClientSecret::new).into_iter().collect(),
        identifier_uris: Vec::new(),
        scopes: Vec::new(),
        app_roles: Vec::new(),
        redirect_uris: RedirectUris::default(),
        access_token_version: 2,
        multi_tenant: true,
        app_role_assignments: Vec::new(),
    }
}

fn user(tenant: &str, name: &str, display: &str, oid: &str, roles: &[&str]) -> UserConfig {
    UserConfig {
        tenant: tenant.into(),
        user_name: name.into(),
        display_name: display.into(),
        oid: oid.into(),
        upn: None,
        roles: strings(roles),
        groups: Vec::new(),
        guest: false,
        home_tenant: None,
    }
}

/// Olivia's groups: deterministic GUIDs, enough to pass the overage threshold.
pub fn olivia_groups() -> Vec<String> {
    (1..=OLIVIA_GROUP_COUNT)
        .map(|i| format!("9a000000-0000-4000-8000-{i:012x}"))
        .collect()
}

pub(crate) fn config() -> EmulatorConfig {
    let mut cli = client_app("toolgate-cli", CLI_CLIENT_ID, None);
    cli.redirect_uris.public_client = strings(&[CLI_REDIRECT_URI]);
    let mut downstream = client_app("downstream-api", DOWNSTREAM_CLIENT_ID, Some("downstream-demo-secret"));
    downstream.identifier_uris = strings(&[DOWNSTREAM_IDENTIFIER_URI]);
    downstream.scopes = strings(&["Data.Read"]);
    downstream.multi_tenant = false;

    let mut alice = user(
        TENANT_ID,
        "alice",
        "Alice Example",
        ALICE_OID,
        &["Task.Read", "Task.Write"],
    );
    alice.groups = strings(&[ENGINEERING_GROUP]);
    let mut erin = user(TENANT_ID, "erin", "Erin Guest", ERIN_OID, &["Task.Read"]);
    erin.guest = true;
    erin.home_tenant = Some(FABRIKAM_TENANT_ID.into());
    erin.upn = Some("erin_fabrikam.example#EXT#@contoso.example".into());
    let mut olivia = user(TENANT_ID, "olivia", "Olivia Overage", OLIVIA_OID, &["Task.Read"]);
    olivia.groups = olivia_groups();

    let mut b2c_tenant = tenant(B2C_TENANT_ID, B2C_TENANT_NAME, B2C_TENANT_DOMAIN);
    b2c_tenant.b2c = true;
    b2c_tenant.policies = strings(&[B2C_POLICY_SIGNUP_SIGNIN, B2C_POLICY_PROFILE_EDIT]);
    let mut b2c_api = client_app("toolgate-b2c-api", B2C_API_CLIENT_ID, None);
    b2c_api.tenant = B2C_TENANT_ID.into();
    b2c_api.identifier_uris = strings(&[B2C_API_IDENTIFIER_URI]);
    b2c_api.scopes = strings(&["tasks.read"]);
    b2c_api.multi_tenant = false;
    let mut b2c_client = client_app("toolgate-b2c-spa", B2C_CLIENT_ID, None);
    b2c_client.tenant = B2C_TENANT_ID.into();
    b2c_client.redirect_uris.public_client = strings(&[B2C_REDIRECT_URI]);
    b2c_client.multi_tenant = false;
    let mut bea = user(B2C_TENANT_ID, "bea", "Bea Consumer", BEA_OID, &[]);
    bea.upn = Some("bea@example.org".into());

    EmulatorConfig {
        settings: Settings::default(),
        tenants: vec![
            tenant(TENANT_ID, TENANT_NAME, TENANT_DOMAIN),
            tenant(FABRIKAM_TENANT_ID, FABRIKAM_TENANT_NAME, FABRIKAM_TENANT_DOMAIN),
            b2c_tenant,
        ],
        apps: vec![
            api_app("toolgate-api", API_CLIENT_ID, API_CLIENT_SECRET, API_IDENTIFIER_URI, 2),
            cli,
            api_app(
                "toolgate-api-v1",
                API_V1_CLIENT_ID,
                API_V1_CLIENT_SECRET,
                API_V1_IDENTIFIER_URI,
                1,
            ),
            client_app("nightly-job", NIGHTLY_JOB_CLIENT_ID, Some(NIGHTLY_JOB_CLIENT_SECRET)),
            downstream,
            b2c_api,
            b2c_client,
        ],
        users: vec![
            alice,
            user(TENANT_ID, "bob", "Bob Example", BOB_OID, &["Task.Read"]),
            user(
                TENANT_ID,
                "carol",
                "Carol Admin",
                CAROL_OID,
                &["MCPServer.Admin", "Task.All"],
            ),
            user(TENANT_ID, "dave", "Dave NoRoles", DAVE_OID, &[]),
            erin,
            olivia,
            user(FABRIKAM_TENANT_ID, "frank", "Frank Fabrikam", FRANK_OID, &["Task.Read"]),
            bea,
        ],
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn demo_is_valid_and_constants_agree() {
        let config = config();
        config.validate().unwrap();
        assert_eq!(API_IDENTIFIER_URI, format!("api://{API_CLIENT_ID}"));
        assert_eq!(API_SCOPE_ACCESS_AS_USER, format!("{API_IDENTIFIER_URI}/access_as_user"));
        assert_eq!(API_SCOPE_TASKS_READ, format!("{API_IDENTIFIER_URI}/Tasks.Read"));
        assert_eq!(API_SCOPE_DEFAULT, format!("{API_IDENTIFIER_URI}/.default"));
        assert!(olivia_groups().len() > config.settings.groups_overage_threshold);
        assert_eq!(B2C_API_SCOPE_TASKS_READ, format!("{B2C_API_IDENTIFIER_URI}/tasks.read"));
        let b2c = config.tenant(B2C_TENANT_DOMAIN).unwrap();
        assert!(b2c.b2c && b2c.policies.iter().any(|p| p == B2C_POLICY_SIGNUP_SIGNIN));
    }

    #[test]
    fn b2c_policies_are_validated() {
        let err = EmulatorConfig::from_toml_str(
            "[[tenants]]\nid = \"b2cb2c00-7e1a-4c2b-9d3e-4f5a6b7c8d9e\"\nname = \"x\"\ndomain = \"x.example\"\nb2c = true\n",
        )
        .unwrap_err();
        assert_eq!(err.key(), Some("tenants[0].policies"));
        let err = EmulatorConfig::from_toml_str(
            "[[tenants]]\nid = \"b2cb2c00-7e1a-4c2b-9d3e-4f5a6b7c8d9e\"\nname = \"x\"\ndomain = \"x.example\"\npolicies = [\"B2C_1_a\"]\n",
        )
        .unwrap_err();
        assert_eq!(err.key(), Some("tenants[0].policies"));
    }

    #[test]
    fn demo_round_trips_through_toml() {
        let text = config().to_toml_string().unwrap();
        assert_eq!(EmulatorConfig::from_toml_str(&text).unwrap(), config());
    }

    #[test]
    fn config_errors_name_the_key() {
        let err =
            EmulatorConfig::from_toml_str("[[tenants]]\nid = \"not-a-guid\"\nname = \"x\"\ndomain = \"x.example\"\n")
                .unwrap_err();
        assert_eq!(err.key(), Some("tenants[0].id"));
        let err = EmulatorConfig::from_toml_str("bogus = 1\n").unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
        let dir = std::env::temp_dir().join(format!("emu-config-{}.toml", std::process::id()));
        std::fs::write(&dir, "[[users]]\ntenant = \"nope\"\nuser_name = \"a\"\ndisplay_name = \"A\"\noid = \"a11ce000-0000-4000-8000-000000000001\"\n").unwrap();
        let err = EmulatorConfig::from_file(&dir).unwrap_err().to_string();
        std::fs::remove_file(&dir).unwrap();
        assert!(
            err.contains("users[0].tenant") && err.contains(&dir.display().to_string()),
            "{err}"
        );
    }
}
