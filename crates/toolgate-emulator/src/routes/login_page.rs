//! The interactive sign-in page: one button per user of the tenant, posting back to the same
//! authorize path with every original parameter as a hidden field. Everything is escaped.

use poem::Response;
use poem::http::StatusCode;

use crate::config::TenantConfig;
use crate::state::EmulatorState;

pub(crate) fn render(
    state: &EmulatorState,
    tenant: Option<&TenantConfig>,
    params: &[(String, String)],
    path: &str,
) -> Response {
    let attr = |s: &str| html_escape::encode_double_quoted_attribute(s).into_owned();
    let text = |s: &str| html_escape::encode_text(s).into_owned();
    let hidden: String = params
        .iter()
        .filter(|(k, _)| k != "username")
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", attr(k), attr(v)))
        .collect();
    let hint = params.iter().find(|(k, _)| k == "login_hint").map(|(_, v)| v.as_str());
    let buttons: String = state
        .config
        .users_in(tenant)
        .into_iter()
        .map(|u| {
            let upn = state.config.upn(u);
            let hinted = hint.is_some_and(|h| h.eq_ignore_ascii_case(&u.user_name) || h.eq_ignore_ascii_case(&upn));
            format!(
                "<li><button type=\"submit\" name=\"username\" value=\"{}\"{}>{} <small>{}</small></button></li>",
                attr(&u.user_name),
                if hinted { " autofocus class=\"hinted\"" } else { "" },
                text(&u.display_name),
                text(&upn),
            )
        })
        .collect();
    let title = tenant.map_or_else(|| "any organization".to_owned(), |t| t.name.clone());
    let page = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head><body>\
         <h1>Sign in ({})</h1><p>Entra ID emulator: pick an account.</p>\
         <form method=\"post\" action=\"{}\">{hidden}<ul id=\"users\">{buttons}</ul></form></body></html>",
        text(&title),
        attr(path),
    );
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .body(page)
}
