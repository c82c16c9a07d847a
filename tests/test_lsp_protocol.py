"""A request whose params do not validate gets the JSON-RPC error -32602, never silence."""

from __future__ import annotations

import asyncio
import json

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from tests.test_lsp import URI, send_raw, start_server, status

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def raw_request(client, request_id: str, method: str, params) -> object:
    """Send a request as raw JSON (no client-side checks) and wait for its answer."""
    future = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[request_id] = future  # the client matches the answer by id
    message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    send_raw(client, json.dumps(message))
    return await asyncio.wait_for(future, 60)


async def test_invalid_params_get_an_error_answer(tiny_model_dir):
    client = await start_server(tiny_model_dir, wait_ready=False)
    try:
        no_context = {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}
        with pytest.raises(JsonRpcInvalidParams, match="context"):
            await raw_request(client, "no-context", "textDocument/inlineCompletion", no_context)
        with pytest.raises(JsonRpcInvalidParams, match="textDocument/completion"):
            await raw_request(client, "bad-types", "textDocument/completion", {"position": "x"})
        assert (await status(client))["requests"] == 0  # answered before any handler ran
    finally:
        await client.shutdown_session()
