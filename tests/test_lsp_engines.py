"""The language server with a remote engine (a scripted fake one): the setting takes effect
without a restart, an outage gives empty answers, one message and a status, and then recovery."""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types

from tests.fake_engine import FakeEngine, Reply, sse
from tests.test_lsp import ADD, end_of, inline, open_document, start_server, status

pytestmark = pytest.mark.asyncio(loop_scope="module")


def answer(path: str, body: dict) -> Reply:
    if path == "/props":
        return Reply(404)
    events = [{"content": "return a * b", "stop": False}, {"content": "", "stop": True}]
    return Reply(lines=sse(*events))


async def wait_for(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_switching_to_a_remote_engine_and_its_outage(tiny_model_dir):
    client = await start_server(tiny_model_dir, init_options={"nanopilot": {"temperature": 0}})
    notifications: list[str] = []

    @client.feature("nanopilot/status")
    def status_changed(params) -> None:  # the status report, as a dict or pygls' plain object
        notifications.append(params["state"] if isinstance(params, dict) else params.state)

    with FakeEngine() as fake:
        fake.reply = answer
        try:
            open_document(client, ADD + "\n")
            local = [item.insert_text for item in await inline(client, end_of(ADD))]
            assert local == ["return a + b"]  # the tiny model's answer

            engine = {"kind": "llamacpp", "url": fake.url, "timeoutMs": 2000}
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"nanopilot": {"engine": engine}})
            )
            await wait_for(lambda: any("in use" in m.message for m in client.log_messages))
            remote = [item.insert_text for item in await inline(client, end_of(ADD))]
            assert remote == ["return a * b"]  # the fake engine's: cached local answers dropped
            # the server's default leaves the suffix out: the prefix alone, as a completion
            assert fake.seen[-1].path == "/completion" and fake.seen[-1].body["prompt"] == ADD

            fake.reply = lambda path, body: Reply(503, ["loading model"], content_type="text/plain")
            for line in range(3):  # three requests at new spots (no cached answer), engine down
                uri = f"file:///work/down_{line}.py"
                open_document(client, f"# {line}\n{ADD}\n", uri)
                assert await inline(client, types.Position(2, 4), uri) == []
            report = await status(client)
            assert report["state"] == "engine unreachable" and "HTTP 503" in report["error"]
            assert len([m for m in client.messages if "unreachable" in m.message]) == 1
            await wait_for(lambda: notifications)
            assert notifications[0] == "engine unreachable"

            fake.reply = answer
            items = await inline(client, types.Position(2, 4), "file:///work/down_0.py")
            assert [item.insert_text for item in items] == ["return a * b"]
            assert (await status(client))["state"] == "ready"
            await wait_for(lambda: len(notifications) == 2)
            assert notifications[1] == "ready"
        finally:
            await client.shutdown_session()
