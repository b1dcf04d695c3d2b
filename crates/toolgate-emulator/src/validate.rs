//! Checks a parsed config once, so request handling can trust ids and references.

use std::collections::HashSet;

use crate::config::{ConfigError, EmulatorConfig, MemberType};

fn is_guid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok() && text.len() == 36
}

fn require_guid(key: String, value: &str) -> Result<(), ConfigError> {
    if is_guid(value) {
        Ok(())
    } else {
        Err(ConfigError::invalid(key, format!("\"{value}\" is not a GUID")))
    }
}

fn require_unique(seen: &mut HashSet<String>, key: String, value: &str) -> Result<(), ConfigError> {
    if seen.insert(value.to_ascii_lowercase()) {
        Ok(())
    } else {
        Err(ConfigError::invalid(key, format!("\"{value}\" is used twice")))
    }
}

impl EmulatorConfig {
    /// Validates ids, uniqueness and cross-references; the error names the first bad key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.settings;
        if s.token_lifetime_secs == 0 {
            return Err(ConfigError::invalid("settings.token_lifetime_secs", "must be positive"));
        }
        if s.code_lifetime_secs == 0 {
            return Err(ConfigError::invalid("settings.code_lifetime_secs", "must be positive"));
        }
        if s.refresh_token_lifetime_secs == 0 {
            return Err(ConfigError::invalid(
                "settings.refresh_token_lifetime_secs",
                "must be positive",
            ));
        }
        self.validate_tenants()?;
        self.validate_apps()?;
        self.validate_users()
    }

    fn validate_tenants(&self) -> Result<(), ConfigError> {
        let mut seen = HashSet::new();
        for (i, t) in self.tenants.iter().enumerate() {
            require_guid(format!("tenants[{i}].id"), &t.id)?;
            require_unique(&mut seen, format!("tenants[{i}].id"), &t.id)?;
            for (field, value) in [("name", &t.name), ("domain", &t.domain)] {
                let key = format!("tenants[{i}].{field}");
                if value.is_empty() || value.contains('/') {
                    return Err(ConfigError::invalid(key, "must be a non-empty path segment"));
                }
                if matches!(value.as_str(), "common" | "organizations" | "consumers") {
                    return Err(ConfigError::invalid(key, "is reserved by Entra"));
                }
                require_unique(&mut seen, key, value)?;
            }
            if t.b2c && t.policies.is_empty() {
                return Err(ConfigError::invalid(
                    format!("tenants[{i}].policies"),
                    "a B2C tenant needs at least one user-flow policy (e.g. B2C_1_signupsignin)",
                ));
            }
            if !t.b2c && !t.policies.is_empty() {
                return Err(ConfigError::invalid(
                    format!("tenants[{i}].policies"),
                    "user-flow policies exist only in B2C tenants (set b2c = true)",
                ));
            }
            for (j, policy) in t.policies.iter().enumerate() {
                let valid = !policy.is_empty()
                    && policy
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
                if !valid || policy.eq_ignore_ascii_case("v2.0") {
                    return Err(ConfigError::invalid(
                        format!("tenants[{i}].policies[{j}]"),
                        format!("\"{policy}\" is not a valid policy name"),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_apps(&self) -> Result<(), ConfigError> {
        let mut ids = HashSet::new();
        let mut uris = HashSet::new();
        for (i, app) in self.apps.iter().enumerate() {
            require_guid(format!("apps[{i}].client_id"), &app.client_id)?;
            require_unique(&mut ids, format!("apps[{i}].client_id"), &app.client_id)?;
            if self.tenant(&app.tenant).is_none() {
                return Err(ConfigError::invalid(
                    format!("apps[{i}].tenant"),
                    format!("no tenant \"{}\" is configured", app.tenant),
                ));
            }
            if !matches!(app.access_token_version, 1 | 2) {
                return Err(ConfigError::invalid(
                    format!("apps[{i}].access_token_version"),
                    "must be 1 or 2",
                ));
            }
            for (j, uri) in app.identifier_uris.iter().enumerate() {
                let key = format!("apps[{i}].identifier_uris[{j}]");
                if !uri.contains(':') || uri.ends_with('/') {
                    return Err(ConfigError::invalid(key, "must be a URI without a trailing slash"));
                }
                require_unique(&mut uris, key, uri)?;
            }
            let platforms = [
                ("web", &app.redirect_uris.web),
                ("spa", &app.redirect_uris.spa),
                ("public_client", &app.redirect_uris.public_client),
            ];
            for (platform, list) in platforms {
                for (j, uri) in list.iter().enumerate() {
                    if url::Url::parse(uri).is_err() {
                        return Err(ConfigError::invalid(
                            format!("apps[{i}].redirect_uris.{platform}[{j}]"),
                            format!("\"{uri}\" is not an absolute URL"),
                        ));
                    }
                }
            }
            for (j, assignment) in app.app_role_assignments.iter().enumerate() {
                if self.app(&assignment.client).is_none() {
                    return Err(ConfigError::invalid(
                        format!("apps[{i}].app_role_assignments[{j}].client"),
                        format!("no app \"{}\" is configured", assignment.client),
                    ));
                }
                for (k, role) in assignment.roles.iter().enumerate() {
                    let defined = app
                        .app_roles
                        .iter()
                        .any(|r| &r.value == role && r.allowed_member_types.contains(&MemberType::Application));
                    if !defined {
                        return Err(ConfigError::invalid(
                            format!("apps[{i}].app_role_assignments[{j}].roles[{k}]"),
                            format!("\"{role}\" is not an app role of this app for applications"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn validate_users(&self) -> Result<(), ConfigError> {
        let mut oids = HashSet::new();
        let mut logins = HashSet::new();
        for (i, user) in self.users.iter().enumerate() {
            let Some(tenant) = self.tenant(&user.tenant) else {
                return Err(ConfigError::invalid(
                    format!("users[{i}].tenant"),
                    format!("no tenant \"{}\" is configured", user.tenant),
                ));
            };
            require_guid(format!("users[{i}].oid"), &user.oid)?;
            require_unique(&mut oids, format!("users[{i}].oid"), &user.oid)?;
            if user.user_name.is_empty() {
                return Err(ConfigError::invalid(
                    format!("users[{i}].user_name"),
                    "must not be empty",
                ));
            }
            require_unique(
                &mut logins,
                format!("users[{i}].user_name"),
                &format!("{}@{}", user.user_name, tenant.id),
            )?;
            match (&user.home_tenant, user.guest) {
                (None, true) => {
                    return Err(ConfigError::invalid(
                        format!("users[{i}].home_tenant"),
                        "a guest needs a home tenant (tenant id or configured tenant name)",
                    ));
                }
                (Some(home), _) if self.tenant(home).is_none() && !is_guid(home) => {
                    return Err(ConfigError::invalid(
                        format!("users[{i}].home_tenant"),
                        format!("\"{home}\" is neither a GUID nor a configured tenant"),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}
