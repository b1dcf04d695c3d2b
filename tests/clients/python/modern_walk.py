#!/usr/bin/env python3
"""The MCP 2026-07-28 era (stateless: `server/discover`, no `initialize`, no session) with the
official MCP Python SDK's high-level `Client` (PyPI `mcp`), in its default `mode="auto"`.

Used by tests/e2e/modern_protocol.rs: the walk discovers the server, lists tools, calls
`ref__echo` a few times and a denied transfer, each request on its own (the SDK sends the
`_meta` protocol fields and the SEP-2243 `Mcp-Method`/`Mcp-Name` headers itself).

Env: MCP_URL, TOKEN (a bearer token), MODE (default "auto").
stdout: one JSON line. stderr: progress. Exit non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
import mcp.client.auth.oauth2 as _sdk_oauth2
from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client

httpx: Any = getattr(_sdk_oauth2, "httpx2", None) or _sdk_oauth2.httpx


def log(message: str) -> None:
    print(f"modern_walk: {message}", file=sys.stderr, flush=True)


async def main() -> None:
    url = os.environ["MCP_URL"]
    token = os.environ["TOKEN"]
    mode = os.environ.get("MODE", "auto")
    session_ids: set[str] = set()

    async def record(response: Any) -> None:
        session = response.headers.get("mcp-session-id")
        if session:
            session_ids.add(session)

    http_client = httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(30.0, read=60.0),
        event_hooks={"response": [record]},
    )
    async with http_client:
        transport = streamable_http_client(url, http_client=http_client)
        async with Client(transport, mode=mode, cache=None) as client:
            version = client.protocol_version
            log(f"protocol {version}")
            tools = sorted(t.name for t in (await client.list_tools()).tools)
            echoes = []
            for i in range(3):
                result = await client.call_tool("ref__echo", {"text": f"modern {i}"})
                echoes.append("".join(getattr(c, "text", "") for c in result.content))
            try:
                denied = await client.call_tool("ref__transfer", {"amount": 5000, "currency": "EUR"})
                denied_text = "".join(getattr(c, "text", "") for c in denied.content)
            except Exception as error:  # noqa: BLE001 - the gate's JSON-RPC error
                denied_text = f"error: {error}"
    print(
        json.dumps(
            {
                "protocol": version,
                "tools": tools,
                "echoes": echoes,
                "denied": denied_text,
                "session_ids": sorted(session_ids),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    try:
        anyio.run(main)
    except Exception as error:  # noqa: BLE001 - reported to the test
        log(f"failed: {type(error).__name__}: {error!r}")
        sys.exit(1)
