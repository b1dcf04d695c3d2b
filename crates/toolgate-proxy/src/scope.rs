//! Which scopes a client gets. Clients ask for what they know — short names (`access_as_user`),
//! Entra's full names (`api://{app}/access_as_user`), OIDC scopes, and names of their own
//! (Claude sends `claudeai`). The authorization server may fully or partially ignore the scope
//! requested (RFC 6749 §3.3), and says what it granted in the token response's `scope` (§5.1):
//!
//! - a requested scope this server offers is granted, by its short name;
//! - OIDC scopes (`openid`, `profile`, `email`, `offline_access`) are dropped: the proxy asks
//!   Entra for what it needs itself;
//! - any other scope is ignored;
//! - when nothing offered remains, every offered scope is granted (the default).
//!
//! At a refresh (RFC 6749 §6) a requested scope narrows the grant; unknown scopes are ignored the
//! same way, and an offered scope outside the original grant is `invalid_scope`.

/// OIDC scopes a client may ask for; the proxy requests them from Entra itself.
const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Most scope tokens looked at in one request (the rest are ignored, like unknown ones).
const MAX_REQUESTED_TOKENS: usize = 64;

/// The server's offered scopes and the prefix of their full Entra names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Offered<'a> {
    pub scopes: &'a [String],
    /// `api://{app}` (trailing `/` optional).
    pub prefix: &'a str,
}

impl<'a> Offered<'a> {
    /// The offered short name a requested token stands for, if any.
    fn known(&self, token: &str) -> Option<&'a String> {
        let prefix = self.prefix.trim_end_matches('/');
        let short = token
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or(token);
        self.scopes.iter().find(|offered| offered.as_str() == short)
    }

    /// The offered scopes among `requested`, each once, in the order asked.
    fn recognised(&self, requested: &str) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for token in requested
            .split(' ')
            .filter(|t| !t.is_empty())
            .take(MAX_REQUESTED_TOKENS)
        {
            if OIDC_SCOPES.contains(&token) {
                continue;
            }
            if let Some(known) = self.known(token)
                && !found.contains(known)
            {
                found.push(known.clone());
            }
        }
        found
    }

    /// The scopes granted for an authorization request or a registration.
    pub fn grant(&self, requested: Option<&str>) -> Vec<String> {
        let found = self.recognised(requested.unwrap_or_default());
        if found.is_empty() { self.scopes.to_vec() } else { found }
    }

    /// The scopes of a refreshed token: `requested` within `granted`; `Err` names an offered
    /// scope that was not granted.
    pub fn narrow(&self, requested: Option<&str>, granted: &[String]) -> Result<Vec<String>, String> {
        let found = self.recognised(requested.unwrap_or_default());
        if found.is_empty() {
            return Ok(granted.to_vec());
        }
        match found.iter().find(|scope| !granted.contains(scope)) {
            Some(extra) => Err(extra.clone()),
            None => Ok(found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "api://a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f";

    fn offered(scopes: &[String]) -> Offered<'_> {
        Offered { scopes, prefix: PREFIX }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn unknown_scopes_are_ignored_and_the_default_granted() {
        let scopes = strings(&["access_as_user"]);
        let offered = offered(&scopes);
        for requested in [
            None,
            Some(""),
            Some("claudeai"),
            Some("claudeai access_as_user"),
            Some("access_as_user claudeai"),
            Some("openid profile email offline_access"),
            Some("openid claudeai offline_access"),
            Some("api://a9e2d5f0-3b1c-4d8e-9f7a-6c5b4a3d2e1f/access_as_user"),
            Some("access_as_user access_as_user"),
            Some("api://other/access_as_user"),
            Some("  access_as_user  "),
        ] {
            assert_eq!(offered.grant(requested), strings(&["access_as_user"]), "{requested:?}");
        }
    }

    #[test]
    fn a_subset_of_the_offered_scopes_is_kept() {
        let scopes = strings(&["access_as_user", "Tasks.Read"]);
        let offered = offered(&scopes);
        assert_eq!(offered.grant(Some("claudeai Tasks.Read")), strings(&["Tasks.Read"]));
        assert_eq!(offered.grant(Some("claudeai")), scopes);
        assert_eq!(
            offered.grant(Some(&format!("{PREFIX}/Tasks.Read access_as_user"))),
            strings(&["Tasks.Read", "access_as_user"])
        );
        assert_eq!(offered.grant(Some("tasks.read")), scopes, "names are case-sensitive");
    }

    #[test]
    fn refresh_narrows_within_the_grant() {
        let scopes = strings(&["access_as_user", "Tasks.Read"]);
        let offered = offered(&scopes);
        let granted = strings(&["access_as_user"]);
        assert_eq!(offered.narrow(None, &granted), Ok(granted.clone()));
        assert_eq!(offered.narrow(Some("claudeai"), &granted), Ok(granted.clone()));
        assert_eq!(
            offered.narrow(Some("claudeai access_as_user"), &granted),
            Ok(granted.clone())
        );
        assert_eq!(
            offered.narrow(Some("access_as_user Tasks.Read"), &granted),
            Err("Tasks.Read".to_owned())
        );
        assert_eq!(
            offered.narrow(Some("Tasks.Read"), &scopes),
            Ok(strings(&["Tasks.Read"]))
        );
    }

    #[test]
    fn huge_requests_are_bounded() {
        let scopes = strings(&["access_as_user"]);
        let offered = offered(&scopes);
        let flood = format!("{} access_as_user", "x ".repeat(10_000));
        assert_eq!(offered.grant(Some(&flood)), scopes, "the known scope is past the bound");
    }
}
