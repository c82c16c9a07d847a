"""HTTP for remote engines: one pooled httpx client, and streamed events as JSON objects.

Any way the exchange can go wrong (refused, DNS, timeout, 4xx/5xx, malformed or truncated
JSON/SSE) becomes one exception type, `EngineFault`, with a short reason for the user.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Literal

import httpx

StreamKind = Literal["sse", "ndjson"]
ERROR_BODY_CHARS = 200


class EngineFault(Exception):
    """The engine could not give an answer; the message says why in a few words."""


class StreamEnd(Exception):
    """An SSE stream's explicit end marker (`data: [DONE]`)."""


def make_client(base_url: str, timeout_s: float, api_key: str | None) -> httpx.AsyncClient:
    """Pooled keep-alive connections to one engine; the key goes in a header, never a log."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=httpx.Timeout(timeout_s),
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4),
        trust_env=False,  # a proxy from the environment would be a surprise for a local engine
    )


def describe(err: Exception) -> str:
    """A one-line reason for an httpx error (the URL, never the headers)."""
    if isinstance(err, httpx.TimeoutException):
        return f"timed out ({type(err).__name__})"
    if isinstance(err, httpx.ConnectError):
        return f"cannot connect ({err})"
    return f"{type(err).__name__}: {err}"


async def check_status(response: httpx.Response) -> None:
    """EngineFault with the start of the body for a 4xx/5xx answer."""
    if response.status_code < 400:
        return
    body = (await response.aread()).decode("utf-8", "replace")[:ERROR_BODY_CHARS]
    raise EngineFault(f"HTTP {response.status_code}: {' '.join(body.split())}")


def parse_line(line: str, kind: StreamKind) -> dict | None:
    """The JSON object one stream line carries, None for lines without one (SSE comments,
    `event:` lines, keep-alive blank lines). StreamEnd for `data: [DONE]`."""
    line = line.strip()
    if kind == "sse":
        if not line.startswith("data:"):
            if line.startswith("error:"):
                raise EngineFault(f"engine error: {line[6:].strip()[:ERROR_BODY_CHARS]}")
            return None
        line = line[5:].strip()
        if line == "[DONE]":
            raise StreamEnd
    if not line:
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError as err:
        raise EngineFault(f"malformed JSON in the stream ({err.msg})") from err
    if not isinstance(event, dict):
        raise EngineFault("malformed stream: an event is not a JSON object")
    if "error" in event:
        raise EngineFault(f"engine error: {str(event['error'])[:ERROR_BODY_CHARS]}")
    return event


async def events(response: httpx.Response, kind: StreamKind) -> AsyncIterator[dict]:
    """The stream's JSON objects in order; ends at the stream's end or its [DONE] marker."""
    async for line in response.aiter_lines():
        try:
            event = parse_line(line, kind)
        except StreamEnd:
            return
        if event is not None:
            yield event
