//! A scripted browser: follows nothing by itself, keeps cookies by name (ignoring `Secure`, as a
//! browser does on loopback), reads forms from pages and submits them. Plus the OAuth client
//! steps (register, authorize URL with PKCE, token requests).

use std::collections::BTreeMap;

use aws_lc_rs::digest::{SHA256, digest};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use url::Url;

/// One response as the browser saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// A query parameter of the redirect target.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let location = Url::parse(self.location.as_deref()?).ok()?;
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Default)]
pub struct Browser {
    http: reqwest::Client,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    /// A browser whose connections come from `address` (any 127.0.0.0/8 address on loopback), so
    /// the server sees another client address.
    pub fn from_address(address: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .local_address(address.parse::<std::net::IpAddr>().unwrap())
                .build()
                .unwrap(),
            cookies: BTreeMap::new(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Reply {
        let request = self.http.get(url);
        self.send(request).await
    }

    /// A navigation another site started (a link on someone else's page).
    pub async fn follow_link_from_another_site(&mut self, url: &str) -> Reply {
        self.get_with_fetch_site(url, "cross-site").await
    }

    /// A navigation with Fetch Metadata `Sec-Fetch-Site: {site}` (`none`: the user or a native
    /// app opened it; `same-origin`, `same-site`, `cross-site`).
    pub async fn get_with_fetch_site(&mut self, url: &str, site: &str) -> Reply {
        let request = self.http.get(url).header("sec-fetch-site", site);
        self.send(request).await
    }

    pub async fn post_form(&mut self, url: &str, form: &[(String, String)]) -> Reply {
        let request = self.http.post(url).form(form);
        self.send(request).await
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Reply {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if cookie.is_empty() {
            request
        } else {
            request.header("cookie", cookie)
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for set in headers.get_all(SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = headers.get(LOCATION).map(|v| v.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap();
        Reply {
            status,
            location,
            headers,
            body,
        }
    }

    /// At Entra (the emulator): the sign-in page, then its form submitted as `user`.
    /// Returns Entra's redirect back to the proxy's callback.
    pub async fn sign_in_at_entra(&mut self, entra_url: &str, user: &str) -> Reply {
        let page = self.get(entra_url).await;
        assert_eq!(page.status, 200, "emulator sign-in page: {}", page.body);
        let mut form = hidden_inputs(&page.body);
        form.push(("username".into(), user.into()));
        let action = Url::parse(entra_url).unwrap().join(&form_action(&page.body)).unwrap();
        let reply = self.post_form(action.as_str(), &form).await;
        assert_eq!(reply.status, 302, "emulator sign-in: {}", reply.body);
        reply
    }

    /// `/authorize` → Entra's sign-in as `user` → the proxy's callback; returns the callback's answer
    /// (the consent page, unless something refused).
    pub async fn reach_consent(&mut self, authorize_url: &str, user: &str) -> Reply {
        let start = self.get(authorize_url).await;
        assert_eq!(start.status, 302, "authorize: {}", start.body);
        let back = self.sign_in_at_entra(start.location.as_deref().unwrap(), user).await;
        self.get(back.location.as_deref().unwrap()).await
    }

    /// Submits the consent page's form with `decision`.
    pub async fn decide(&mut self, base: &str, consent_page: &Reply, decision: &str) -> Reply {
        let mut form = hidden_inputs(&consent_page.body);
        form.push(("decision".into(), decision.into()));
        self.post_form(&format!("{base}/auth/consent"), &form).await
    }
}

/// `<input type="hidden" name="…" value="…">` pairs, unescaped.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input ")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
        .collect()
}

pub fn form_action(html: &str) -> String {
    let form = html.split("<form ").nth(1).expect("a form");
    attribute(form, "action").expect("a form action")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let tag = tag.split('>').next()?;
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let end = tag[start..].find('"')? + start;
    Some(html_escape::decode_html_entities(&tag[start..end]).into_owned())
}

/// A client's side of one authorization: PKCE pair and state.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub state: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let challenge = toolgate_jose::base64url_encode(digest(&SHA256, verifier.as_bytes()));
        Self {
            verifier,
            challenge,
            state: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// The `/authorize` URL with every required parameter; `extra` overrides or adds.
    pub fn authorize_url(&self, base: &str, client_id: &str, redirect_uri: &str, extra: &[(&str, &str)]) -> String {
        let mut params: BTreeMap<&str, &str> = BTreeMap::from([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("code_challenge", self.challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", self.state.as_str()),
            ("scope", "access_as_user"),
        ]);
        for (k, v) in extra {
            if v.is_empty() {
                params.remove(k);
            } else {
                params.insert(k, v);
            }
        }
        let mut url = Url::parse(&format!("{base}/authorize")).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        url.to_string()
    }
}

/// Registers a new public client with `redirect_uris` (RFC 7591); returns its client id. Each
/// call is another client: the name carries a random suffix (identical metadata would get the
/// same client back).
pub async fn register(base: &str, redirect_uris: &[&str]) -> String {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let response = reqwest::Client::new()
        .post(format!("{base}/register"))
        .json(&json!({
            "client_name": format!("e2e test client {}", suffix.get(..8).unwrap_or_default()),
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["client_id"].as_str().unwrap().to_owned()
}

/// `POST /register` with any JSON body; the status and the parsed answer.
pub async fn register_json(base: &str, body: &Value) -> (u16, Value) {
    register_from(&reqwest::Client::new(), base, body, &[]).await
}

/// `POST /register` through `http` (bound to some address), with extra headers.
pub async fn register_from(http: &reqwest::Client, base: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut request = http.post(format!("{base}/register")).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An HTTP client whose connections come from `address` (127.0.0.0/8 on loopback).
pub fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// A token endpoint answer.
#[derive(Debug)]
pub struct Tokens {
    pub status: u16,
    pub body: Value,
}

impl Tokens {
    pub fn access_token(&self) -> String {
        self.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", self.body))
            .to_owned()
    }

    pub fn refresh_token(&self) -> String {
        self.body["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", self.body))
            .to_owned()
    }

    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }
}

pub async fn token_request(base: &str, form: &[(&str, &str)]) -> Tokens {
    let response = reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Tokens { status, body }
}

pub async fn redeem(base: &str, client_id: &str, redirect_uri: &str, code: &str, verifier: &str) -> Tokens {
    token_request(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("code", code),
            ("code_verifier", verifier),
        ],
    )
    .await
}

pub async fn refresh(base: &str, client_id: &str, refresh_token: &str) -> Tokens {
    token_request(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// The whole browser part for `user`: authorize → Entra → callback → consent (approve).
/// Returns the final redirect to the client.
pub async fn authorize(browser: &mut Browser, base: &str, authorize_url: &str, user: &str) -> Reply {
    let consent = browser.reach_consent(authorize_url, user).await;
    assert_eq!(consent.status, 200, "consent page: {}", consent.body);
    browser.decide(base, &consent, "approve").await
}

/// Registers a client, runs the browser part as `user` and redeems the code.
pub async fn sign_in(base: &str, user: &str) -> (String, Tokens) {
    let redirect = "http://127.0.0.1:9/callback";
    let client_id = register(base, &[redirect]).await;
    let pkce = Pkce::new();
    let mut browser = Browser::new();
    let done = authorize(
        &mut browser,
        base,
        &pkce.authorize_url(base, &client_id, redirect, &[]),
        user,
    )
    .await;
    let code = done
        .location_param("code")
        .unwrap_or_else(|| panic!("no code: {done:?}"));
    let tokens = redeem(base, &client_id, redirect, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    (client_id, tokens)
}
