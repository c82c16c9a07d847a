"""Repository context through the language server: a remote engine (a scripted fake one) gets
code from the other open tab in its prompt, nanopilot.lastContext names it, and the `context`
setting turns it off."""

from __future__ import annotations

import pytest
from lsprotocol import types

from tests.fake_engine import FakeEngine, Reply
from tests.test_lsp import end_of, inline, open_document, start_server
from tests.test_lsp_engines import wait_for
from tests.test_remote_engines import llama_tokens

pytestmark = pytest.mark.asyncio(loop_scope="module")

HELPERS = (
    "def load_inventory(path):\n"
    "    with open(path) as handle:\n"
    "        records = json.load(handle)\n"
    "    return [Item(record['name'], record['price']) for record in records]\n"
)
CURRENT = (
    "def main(path):\n"
    "    records = json.load(handle)\n"
    "    items = [Item(record['name'], record['price']) for record in records]\n"
    "    total"
)
COMMENTS = "".join(f"# {line}".rstrip() + "\n" for line in HELPERS.splitlines())


def answer(path: str, body: dict) -> Reply:
    return Reply(404) if path == "/props" else Reply(lines=llama_tokens(" = len(items)", "\n"))


async def last_context(client) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="nanopilot.lastContext")
    )


async def test_a_remote_engine_gets_the_other_tabs_code(tiny_model_dir):
    with FakeEngine() as fake:
        fake.reply = answer
        engine = {"kind": "llamacpp", "url": fake.url, "timeoutMs": 5000}
        options = {"nanopilot": {"temperature": 0, "multiline": "never", "engine": engine}}
        client = await start_server(tiny_model_dir, init_options=options)
        try:
            open_document(client, HELPERS, "file:///tabs/helpers.py")
            open_document(client, CURRENT, "file:///tabs/main.py")
            items = await inline(client, end_of(CURRENT), "file:///tabs/main.py")
            assert [item.insert_text for item in items] == [" = len(items)"]
            prompt = fake.seen[-1].body["prompt"]  # no suffix in the prompt: /completion
            assert prompt == f"# Path: helpers.py\n{COMMENTS}# Path: main.py\n{CURRENT}"
            context = await last_context(client)
            assert context["context"] == [
                {"path": "helpers.py", "first_line": "def load_inventory(path):"}
            ]

            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"nanopilot": {"context": False}})
            )
            await wait_for(
                lambda: any("'context': False" in m.message for m in client.log_messages)
            )
            await inline(client, end_of(CURRENT), "file:///tabs/main.py")
            assert fake.seen[-1].body["prompt"] == CURRENT
        finally:
            await client.shutdown_session()
