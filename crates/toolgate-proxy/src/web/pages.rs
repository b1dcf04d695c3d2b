//! The proxy's HTML: the consent page, the one-time code page, error pages. Every value is
//! escaped; pages load nothing and may not be framed (see `responses::page`).

use crate::flow::UserClaims;
use crate::redirect_uri::Destination;
use crate::untrusted;

fn text(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// Untrusted text (client metadata, Entra's user names, error details), made visible-safe by
/// [`untrusted`] and HTML-escaped.
fn shown(s: &str, max_chars: usize) -> String {
    text(&untrusted::clean(s, max_chars))
}

fn attr(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// The page style. `#allow` (the consent page's Allow button) takes no pointer input for its first
/// second on the page, also without JavaScript: a click meant for another window cannot land on it
/// the instant the page appears (double-click clickjacking).
pub(crate) const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}\
    .box{border:1px solid #ccc;border-radius:8px;padding:1rem 1.25rem}\
    dt{font-weight:600;margin-top:.6rem}dd{margin:0}code{word-break:break-all}\
    button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem}.warn{color:#8a1c1c}\
    @keyframes arm{from{pointer-events:none;opacity:.5}to{pointer-events:auto;opacity:1}}\
    #allow{animation:arm 1s steps(1,end) both}#allow:disabled{opacity:.5}#code{font-size:1.3rem}";

/// The consent page's only script: the Allow button stays disabled until the page has been
/// visible and focused for one second (1000 ms), and is disabled again whenever the page is hidden or
/// loses focus (a window swapped in under the user's pointer between two clicks never receives
/// the second one). Allowed by its hash in the page's CSP; nothing else may run.
pub(crate) const CONSENT_SCRIPT: &str = "(function(){var b=document.getElementById(\"allow\");if(!b)return;var t=0;\
function off(){b.disabled=true;clearTimeout(t)}\
function arm(){off();if(document.visibilityState===\"visible\"&&document.hasFocus()){t=setTimeout(function(){b.disabled=false},1000)}}\
document.addEventListener(\"visibilitychange\",arm);window.addEventListener(\"focus\",arm);window.addEventListener(\"blur\",off);arm()})();";

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>{body}</body></html>",
        text(title)
    )
}

/// What the consent page shows about the client.
pub(crate) struct ConsentView<'a> {
    pub client_name: &'a str,
    pub client_id: &'a str,
    /// How the client is known: "registered itself (unverified)", "pre-registered", "metadata document at …".
    pub client_origin: &'a str,
    pub redirect_uri: &'a str,
    /// Where the redirect sends the user (a website, an app on this computer, an app by scheme).
    pub destination: &'a Destination,
    pub scopes: &'a [String],
    pub user: &'a UserClaims,
    pub resource: &'a str,
    pub consent_id: &'a str,
    pub csrf_token: &'a str,
}

pub(crate) fn consent(view: &ConsentView<'_>) -> String {
    let scopes: String = if view.scopes.is_empty() {
        "<li>sign you in</li>".to_owned()
    } else {
        view.scopes
            .iter()
            .map(|s| format!("<li><code>{}</code></li>", text(s)))
            .collect()
    };
    let body = format!(
        "<h1>Allow access?</h1><div class=\"box\">\
         <p><strong>{client}</strong> wants to use the tools at <code>{resource}</code> as <strong>{user}</strong>.</p>\
         <dl><dt>Client</dt><dd>{client} <small>({origin}; id <code>{client_id}</code>)</small></dd>\
         <dt>It will receive your access at</dt><dd><strong>{destination}</strong><br><small><code>{redirect}</code></small></dd>\
         <dt>Permissions</dt><dd><ul>{scopes}</ul></dd></dl>\
         <p class=\"warn\">Only allow this if you started this sign-in yourself and recognise <strong>{host}</strong>.</p>\
         <form method=\"post\" action=\"/auth/consent\">\
         <input type=\"hidden\" name=\"consent\" value=\"{consent}\">\
         <input type=\"hidden\" name=\"csrf_token\" value=\"{csrf}\">\
         <button type=\"submit\" id=\"allow\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form></div>\
         <script>{script}</script>",
        client = shown(view.client_name, 80),
        resource = text(view.resource),
        user = shown(&view.user.display(), 120),
        origin = shown(view.client_origin, 300),
        client_id = shown(view.client_id, 200),
        destination = shown(&view.destination.to_string(), 200),
        host = shown(&view.destination.short(), 120),
        redirect = shown(view.redirect_uri, 300),
        consent = attr(view.consent_id),
        csrf = attr(view.csrf_token),
        script = CONSENT_SCRIPT,
    );
    shell("Allow access? - toolgate", &body)
}

/// The one-time code of `/auth/login`, to paste into a tool that cannot do OAuth.
pub(crate) fn login_code(user: &UserClaims, code: &str, minutes: u64) -> String {
    let body = format!(
        "<h1>Signed in</h1><div class=\"box\"><p>Signed in as <strong>{}</strong>.</p>\
         <p>Your one-time code (valid {minutes} minutes, usable once):</p>\
         <p><code id=\"code\">{}</code></p>\
         <p>Exchange it with <code>POST /auth/exchange</code> (form field <code>code</code>) for an access token.</p></div>",
        shown(&user.display(), 120),
        text(code)
    );
    shell("Signed in - toolgate", &body)
}

/// An error the user sees instead of being redirected (the redirect target is not vouched for,
/// or the browser is not the one that started): a title, the OAuth error code and its description.
pub(crate) fn error(title: &str, code: &str, detail: &str) -> String {
    let body = format!(
        "<h1>{}</h1><div class=\"box\"><p>{}</p><p>Start again from your application.</p>\
         <p><small>Error: <code>{}</code></small></p></div>",
        text(title),
        shown(detail, 300),
        text(code)
    );
    shell(&format!("{title} - toolgate"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How long the Allow button stays disabled after the page becomes visible and focused, in
    /// ms (without JavaScript the CSS animation holds it for 1 s).
    const ARM_DELAY_MS: u64 = 1000;

    #[test]
    fn the_consent_script_is_what_the_csp_hash_allows() {
        assert!(
            CONSENT_SCRIPT.contains(&format!("}},{ARM_DELAY_MS})")),
            "the delay in the script"
        );
        let hash = crate::web::responses::script_hash(CONSENT_SCRIPT);
        assert!(hash.starts_with("'sha256-") && hash.ends_with("='"), "{hash}");
        // Nothing in the script may need escaping inside <script> or HTML.
        assert!(!CONSENT_SCRIPT.contains("</") && !CONSENT_SCRIPT.contains('<'));
    }
}
