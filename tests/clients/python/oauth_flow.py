#!/usr/bin/env python3
"""Headless OAuth 2.1 + MCP client built on the official MCP Python SDK (PyPI `mcp`).

Proves that an unmodified SDK client can: get a 401 from the MCP endpoint, discover the
protected resource metadata (RFC 9728) and the authorization server metadata (RFC 8414),
register itself (RFC 7591), run the authorization-code flow with PKCE S256 through a headless
"browser" (sign-in and consent forms submitted in code), redeem the code, call initialize +
tools/list, have the SDK refresh its token (refresh_token grant) and list tools again with the
refreshed token.

Env: MCP_URL (required), TOOLGATE_USER (required), CLIENT_NAME (optional).
stdout: one JSON line on success. stderr: progress. Exit non-zero on any failure.
Tokens, codes and secrets are never printed.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import anyio
import mcp.client.auth.oauth2 as _sdk_oauth2
from mcp.client.auth import OAuthClientProvider
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

# The HTTP library the SDK itself is built on: `httpx2` for mcp 2.x, `httpx` for mcp 1.x.
httpx: Any = getattr(_sdk_oauth2, "httpx2", None) or _sdk_oauth2.httpx
try:  # mcp >= 2: callback handlers return an AuthorizationCodeResult (code, state, iss)
    from mcp.client.auth import AuthorizationCodeResult  # type: ignore[attr-defined]
except ImportError:  # mcp 1.x: callback handlers return (code, state)
    AuthorizationCodeResult = None  # type: ignore[assignment,misc]

MCP_URL = os.environ.get("MCP_URL", "")
USER = os.environ.get("TOOLGATE_USER", "")
CLIENT_NAME = os.environ.get("CLIENT_NAME") or "toolgate python sdk test"
# Nothing listens here: the walk stops at the redirect to this URI and reads its query.
REDIRECT_URI = "http://127.0.0.1:8977/callback"
MAX_HOPS = 15
HTTP_TIMEOUT_S = 20.0
OVERALL_TIMEOUT_S = 120.0
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def log(msg: str) -> None:
    print(f"[py-oauth] {msg}", file=sys.stderr, flush=True)


class FlowError(Exception):
    pass


# ---------------------------------------------------------------------------------------
# Tiny headless browser: cookie jar + manual redirects + HTML form submission.
# ---------------------------------------------------------------------------------------


class CookieJar:
    """Cookies keyed by name only. `Secure`, `Domain` and the port are deliberately ignored:
    the server sets `__Host-` cookies with `Secure` over plain http on loopback, which a real
    browser accepts (loopback is a secure context) but httpx's own jar would not send back."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def store(self, response: Any) -> None:
        for line in response.headers.get_list("set-cookie"):
            pair, *attrs = line.split(";")
            if "=" not in pair:
                continue
            name, value = (s.strip() for s in pair.split("=", 1))
            if not name:
                continue
            expired = False
            for attr in attrs:
                key, _, val = attr.partition("=")
                key, val = key.strip().lower(), val.strip()
                if key == "max-age":
                    try:
                        expired = expired or int(val) <= 0
                    except ValueError:
                        pass
                elif key == "expires":
                    try:
                        expired = expired or parsedate_to_datetime(val).timestamp() <= time.time()
                    except (TypeError, ValueError):
                        pass
            if expired:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    def header(self, url: str) -> str | None:
        host = urlsplit(url).hostname or ""
        if host not in LOOPBACK or not self.cookies:
            return None
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


_ATTR_RE = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")


def attrs_of(tag: str) -> dict[str, str]:
    """Attributes of one start tag, in any order; entity-decoded values."""
    inner = re.sub(r"^<\s*[a-zA-Z]+", "", tag)
    inner = re.sub(r"/?>$", "", inner)
    out: dict[str, str] = {}
    for m in _ATTR_RE.finditer(inner):
        raw = next((g for g in (m.group(2), m.group(3), m.group(4)) if g is not None), "")
        out[m.group(1).lower()] = html.unescape(raw)
    return out


def page_summary(text: str) -> str:
    m = re.search(r"<title[^>]*>(.*?)</title>", text, re.I | re.S)
    title = html.unescape(m.group(1).strip()) if m else None
    snippet = re.sub(r"\s+", " ", text)[:300]
    return f"title={json.dumps(title)} body={json.dumps(snippet)}"


@dataclass
class Submission:
    kind: str
    action: str
    method: str
    fields: list[tuple[str, str]]


def form_submission(text: str, page_url: str, user: str) -> Submission:
    """How to submit the first form of a page: sign in as `user`, or approve consent."""
    path = urlsplit(page_url).path
    m = re.search(r"<form\b[^>]*>(.*?)</form\s*>", text, re.I | re.S)
    if not m:
        raise FlowError(f"page {path} has no <form>: {page_summary(text)}")
    form = attrs_of(re.match(r"<form\b[^>]*>", m.group(0), re.I).group(0))  # type: ignore[union-attr]
    body = m.group(1)
    fields: list[tuple[str, str]] = []
    for tag in re.findall(r"<input\b[^>]*>", body, re.I):
        a = attrs_of(tag)
        if a.get("type", "text").lower() == "hidden" and a.get("name"):
            fields.append((a["name"], a.get("value", "")))
    buttons = [attrs_of(tag) for tag in re.findall(r"<button\b[^>]*>", body, re.I)]
    if any(b.get("name") == "username" for b in buttons):
        offered = [b.get("value") for b in buttons if b.get("name") == "username"]
        if user not in offered:
            raise FlowError(f"sign-in page offers no button for user {user!r} (offers {offered})")
        fields.append(("username", user))
        kind = "sign-in"
    elif any(b.get("name") == "decision" and b.get("value") == "approve" for b in buttons):
        fields.append(("decision", "approve"))
        kind = "consent"
    else:
        raise FlowError(f"unrecognised form on {path}: {page_summary(text)}")
    action = urljoin(page_url, form.get("action") or page_url)
    return Submission(kind, action, (form.get("method") or "get").upper(), fields)


def is_redirect_uri(url: str) -> bool:
    a, b = urlsplit(url), urlsplit(REDIRECT_URI)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


@dataclass
class AuthorizationResponse:
    code: str
    state: str | None
    iss: str | None


async def headless_authorize(authorization_url: str, user: str) -> AuthorizationResponse:
    """Walk from the authorization URL to the redirect back to REDIRECT_URI (never fetched)."""
    jar = CookieJar()
    url, method, data = authorization_url, "GET", None
    steps: list[str] = []
    async with httpx.AsyncClient(follow_redirects=False, timeout=HTTP_TIMEOUT_S) as client:
        for _ in range(MAX_HOPS):
            if is_redirect_uri(url):
                log(f"walk: {' -> '.join(steps)} -> client redirect URI")
                q = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
                if q.get("error"):
                    desc = f" ({q['error_description']})" if q.get("error_description") else ""
                    raise FlowError(f"authorization failed: error={q['error']}{desc}")
                if not q.get("code"):
                    raise FlowError("authorization redirect carried neither code nor error")
                return AuthorizationResponse(q["code"], q.get("state"), q.get("iss"))
            headers = {}
            cookie = jar.header(url)
            if cookie:
                headers["Cookie"] = cookie
            if data is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            response = await client.request(method, url, headers=headers, content=data)
            client.cookies.clear()  # the jar above is the only cookie store
            jar.store(response)
            path = urlsplit(url).path
            steps.append(f"{method} {path} {response.status_code}")
            if 300 <= response.status_code < 400:
                location = response.headers.get("location")
                if not location:
                    raise FlowError(f"{response.status_code} from {path} without Location")
                url, method, data = urljoin(url, location), "GET", None
                continue
            text = response.text
            ctype = response.headers.get("content-type", "")
            if response.status_code != 200 or "html" not in ctype:
                raise FlowError(
                    f"unexpected {response.status_code} ({ctype}) from {method} {path}: {page_summary(text)}"
                )
            sub = form_submission(text, url, user)
            steps[-1] += f" [{sub.kind} form]"
            if sub.method == "POST":
                url, method, data = sub.action, "POST", urlencode(sub.fields).encode()
            else:
                sep = "&" if urlsplit(sub.action).query else "?"
                url, method, data = sub.action + sep + urlencode(sub.fields), "GET", None
    raise FlowError(f"authorization walk exceeded {MAX_HOPS} hops: {' -> '.join(steps)}")


# ---------------------------------------------------------------------------------------
# SDK plumbing: in-memory TokenStorage, redirect/callback handlers, request recording.
# ---------------------------------------------------------------------------------------


class InMemoryTokenStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Run:
    allow_interactive: bool = True
    authorization: AuthorizationResponse | None = None
    walk_error: BaseException | None = None
    # (endpoint, grant_type) of every token request the SDK made
    token_grants: list[tuple[str, str]] = field(default_factory=list)
    # (JSON-RPC method, bearer) of every MCP POST; kept in memory, never printed
    mcp_bearers: list[tuple[str | None, str]] = field(default_factory=list)


RUN = Run()


async def redirect_handler(authorization_url: str) -> None:
    if not RUN.allow_interactive:
        RUN.walk_error = FlowError("the SDK asked for a new interactive authorization where a refresh was expected")
        raise RUN.walk_error
    q = dict(parse_qsl(urlsplit(authorization_url).query))
    parts = urlsplit(authorization_url)
    log(
        f"SDK redirects to {parts.scheme}://{parts.netloc}{parts.path} (scope={q.get('scope')!r}, "
        f"resource={q.get('resource')!r}, code_challenge_method={q.get('code_challenge_method')})"
    )
    try:
        RUN.authorization = await headless_authorize(authorization_url, USER)
    except BaseException as exc:
        RUN.walk_error = exc
        raise


async def callback_handler() -> Any:
    a = RUN.authorization
    if a is None:
        raise FlowError("no authorization response captured")
    if AuthorizationCodeResult is not None:
        return AuthorizationCodeResult(code=a.code, state=a.state, iss=a.iss)
    return a.code, a.state


async def record_request(request: Any) -> None:
    if request.method != "POST":
        return
    try:
        body = request.content
    except Exception:  # a streaming body: not one of ours
        return
    ctype = request.headers.get("content-type", "")
    url = str(request.url)
    if "application/x-www-form-urlencoded" in ctype:
        grant = dict(parse_qsl(body.decode(errors="replace"))).get("grant_type")
        if grant:
            RUN.token_grants.append((url.split("?")[0], grant))
    elif url == str(httpx.URL(MCP_URL)) and "json" in ctype:
        try:
            method = json.loads(body).get("method")
        except (ValueError, AttributeError):
            method = None
        bearer = request.headers.get("authorization", "")
        RUN.mcp_bearers.append((method, bearer[7:] if bearer.lower().startswith("bearer ") else ""))


async def list_tool_names(session: ClientSession) -> list[str]:
    result = await session.list_tools()
    names = [t.name for t in result.tools]
    cursor = getattr(result, "next_cursor", None) or getattr(result, "nextCursor", None)
    while cursor:
        from mcp.types import PaginatedRequestParams

        result = await session.list_tools(params=PaginatedRequestParams(cursor=cursor))
        names += [t.name for t in result.tools]
        cursor = getattr(result, "next_cursor", None) or getattr(result, "nextCursor", None)
    return sorted(names)


async def flow() -> dict[str, Any]:
    storage = InMemoryTokenStorage()
    provider = OAuthClientProvider(
        server_url=MCP_URL,
        client_metadata=OAuthClientMetadata(
            client_name=CLIENT_NAME,
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    http_client = httpx.AsyncClient(
        auth=provider,
        timeout=httpx.Timeout(HTTP_TIMEOUT_S, read=60.0),
        event_hooks={"request": [record_request]},
    )
    async with http_client, streamable_http_client(MCP_URL, http_client=http_client) as streams:
        read_stream, write_stream = streams[0], streams[1]
        async with ClientSession(read_stream, write_stream) as session:
            # 1. initialize: 401 -> discovery -> DCR -> authorization (headless walk) -> token -> retry.
            log(f"initializing {MCP_URL} (no token yet)")
            init = await session.initialize()
            if RUN.authorization is None:
                raise FlowError("the MCP endpoint accepted a request without a token (expected 401)")
            client_info = storage.client_info
            if client_info is None or not client_info.client_id:
                raise FlowError("the SDK did not register a client")
            first = storage.tokens
            if first is None or not first.access_token:
                raise FlowError("no access token after the authorization-code exchange")
            if not first.refresh_token:
                raise FlowError("the token response carried no refresh_token")
            if not any(g == "authorization_code" for _, g in RUN.token_grants):
                raise FlowError("no authorization_code grant was recorded")
            server_info = getattr(init, "server_info", None) or getattr(init, "serverInfo", None)
            log(f"registered client {client_info.client_id}; initialized server {getattr(server_info, 'name', None)!r}")

            metadata = provider.context.oauth_metadata
            if metadata is None:
                raise FlowError("no authorization server metadata was discovered")
            issuer = str(metadata.issuer)
            iss = RUN.authorization.iss
            iss_checked = False
            if iss is not None:
                root_variant = urlsplit(issuer).path in ("", "/") and iss.rstrip("/") == issuer.rstrip("/")
                if iss != issuer and not root_variant:
                    raise FlowError(f"authorization response iss {iss!r} != metadata issuer {issuer!r}")
                iss_checked = True
            elif getattr(metadata, "authorization_response_iss_parameter_supported", None) is True:
                # RFC 9207 section 2.4 (mcp 2.x enforces this itself; mcp 1.x does not).
                raise FlowError(
                    "authorization response carried no iss although the metadata advertises "
                    "authorization_response_iss_parameter_supported"
                )
            else:
                log("authorization response carried no iss parameter")

            tools = await list_tool_names(session)
            log(f"tools/list: {len(tools)} tools")

            # 2. Refresh through the SDK: mark the held access token expired, so the provider's
            # own auth flow runs the refresh_token grant before the next request goes out.
            RUN.allow_interactive = False
            grants_before = len(RUN.token_grants)
            bearers_before = len(RUN.mcp_bearers)
            provider.context.token_expiry_time = time.time() - 1
            tools_after = await list_tool_names(session)
            refresh_grants = [e for e, g in RUN.token_grants[grants_before:] if g == "refresh_token"]
            refreshed = bool(refresh_grants)
            if not refreshed:
                raise FlowError("the SDK did not use the refresh_token grant")
            if metadata.token_endpoint and refresh_grants[0] != str(metadata.token_endpoint):
                raise FlowError("the refresh went to an endpoint other than the metadata's token_endpoint")
            second = storage.tokens
            token_changed = bool(second and second.access_token and second.access_token != first.access_token)
            if not token_changed:
                raise FlowError("the access token did not change after the refresh")
            list_calls = [b for m, b in RUN.mcp_bearers[bearers_before:] if m == "tools/list"]
            if not list_calls or any(b != second.access_token for b in list_calls):  # type: ignore[union-attr]
                raise FlowError("tools/list after the refresh was not sent with the refreshed access token")
            log(f"refreshed via {refresh_grants[0]}; tools/list after refresh: {len(tools_after)} tools")

    return {
        "client_id": client_info.client_id,
        "tools": tools,
        "tools_after_refresh": tools_after,
        "refreshed": refreshed,
        "token_changed": token_changed,
        "iss_checked": iss_checked,
    }


def root_cause(exc: BaseException) -> BaseException:
    """Unwrap exception groups (anyio task groups) down to the first leaf."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


async def main() -> int:
    if not MCP_URL:
        log("FAILED: MCP_URL is not set")
        return 2
    if not USER:
        log("FAILED: TOOLGATE_USER is not set")
        return 2
    try:
        with anyio.fail_after(OVERALL_TIMEOUT_S):
            out = await flow()
    except BaseException as exc:  # noqa: BLE001 - report every failure the same way
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        cause = RUN.walk_error or root_cause(exc)
        if isinstance(cause, FlowError):
            log(f"FAILED: {cause}")
        elif isinstance(cause, TimeoutError):
            log(f"FAILED: timed out after {OVERALL_TIMEOUT_S:.0f}s")
        else:
            log(f"FAILED: {type(cause).__name__}: {cause}")
        return 1
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
