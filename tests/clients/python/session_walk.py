#!/usr/bin/env python3
"""One MCP session through a round-robin balancer, with the official MCP Python SDK (PyPI `mcp`).

Used by tests/e2e/replicas.rs: toolgate replicas behind nginx serve one session whatever replica
each request lands on. The walk: initialize, tools/list, `ref__echo` several times, a tool that
makes the server ask the client for a completion (sampling/createMessage, a server->client
request answered by a POST that may land on another replica), a tool that adds a tool upstream
(the notifications/tools/list_changed reaches the client's stream), tools/list again.

Env: MCP_URL, TOKEN (a bearer token), ECHOES (how many echo calls, default 6),
     PAUSE_AFTER (optional: after that many echo calls, print `paused` to stdout and wait for a
     line on stdin before going on - the test stops a replica meanwhile).
stdout: JSON lines; the last is the result. stderr: progress. Exit non-zero on any failure.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anyio
import mcp.client.auth.oauth2 as _sdk_oauth2
from mcp import types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

httpx: Any = getattr(_sdk_oauth2, "httpx2", None) or _sdk_oauth2.httpx


def log(message: str) -> None:
    print(f"session_walk: {message}", file=sys.stderr, flush=True)


def text_of(result: Any) -> str:
    if getattr(result, "is_error", False) or getattr(result, "isError", False):
        raise RuntimeError(f"tool error: {result}")
    return "".join(getattr(c, "text", "") for c in result.content)


async def main() -> None:
    url = os.environ["MCP_URL"]
    token = os.environ["TOKEN"]
    echoes = int(os.environ.get("ECHOES", "6"))
    pause_after = os.environ.get("PAUSE_AFTER")
    list_changed = anyio.Event()

    async def sampling(context: Any, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        first = params.messages[0].content
        prompt = getattr(first, "text", "")
        log(f"sampling request: {prompt!r}")
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"completion of {prompt}"),
            model="walk-model",
            stop_reason="endTurn",
        )

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ServerNotification) or hasattr(message, "root"):
            inner = getattr(message, "root", message)
            if getattr(inner, "method", None) == "notifications/tools/list_changed":
                list_changed.set()
        elif getattr(message, "method", None) == "notifications/tools/list_changed":
            list_changed.set()

    http_client = httpx.AsyncClient(
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(30.0, read=60.0),
    )
    async with http_client, streamable_http_client(url, http_client=http_client) as streams:
        read_stream, write_stream = streams[0], streams[1]
        async with ClientSession(
            read_stream, write_stream, sampling_callback=sampling, message_handler=on_message
        ) as session:
            init = await session.initialize()
            log(f"initialized: protocol {getattr(init, 'protocol_version', None)}")
            tools = sorted(t.name for t in (await session.list_tools()).tools)
            echoed = []
            for i in range(echoes):
                if pause_after is not None and i == int(pause_after):
                    print(json.dumps({"paused": i}), flush=True)
                    await anyio.to_thread.run_sync(sys.stdin.readline)
                echoed.append(text_of(await session.call_tool("ref__echo", {"text": f"hello {i}"})))
            sampled = text_of(await session.call_tool("ref__test_sampling", {"prompt": "two plus two"}))
            added = text_of(await session.call_tool("ref__add_tool", {"name": "walk_added"}))
            with anyio.fail_after(15):
                await list_changed.wait()
            after = sorted(t.name for t in (await session.list_tools()).tools)
    print(
        json.dumps(
            {
                "tools": tools,
                "echoes": echoed,
                "sampling": sampled,
                "added": added,
                "list_changed": True,
                "tools_after": after,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    try:
        anyio.run(main)
    except Exception as error:  # noqa: BLE001 - reported to the test
        log(f"failed: {type(error).__name__}: {error}")
        sys.exit(1)
