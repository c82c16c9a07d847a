"""The copy engine through the real language server: suggestions from the user's own code, the
choice between them and the model's, and what must never become ghost text."""

from __future__ import annotations

import asyncio
import time

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.test_lsp import edit_document, end_of, inline, open_document, start_server, status

pytestmark = pytest.mark.asyncio(loop_scope="module")

TAB = "def area(width, height):\n    return width * height * SCALE_FACTOR\n"
TYPED = "def area(width, height):\n    return width"
WORKSPACE_FILE = "def volume(depth, base):\n    return depth * base.surface_in_square_metres()\n"


async def last_context(client) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="nanopilot.lastContext")
    )


async def suggestion(client, text: str, uri: str) -> str:
    items = await inline(client, end_of(text), uri)
    return items[0].insert_text if items else ""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    (root / "shapes.py").write_text(WORKSPACE_FILE)
    outside = tmp_path_factory.mktemp("outside") / "secret.py"
    outside.write_text("def volume(depth, base):\n    return depth * LEAKED_FROM_OUTSIDE\n")
    (root / "linked.py").symlink_to(outside)
    (root / ".env").write_text("def volume(depth, base):\n    return depth * ENV_SECRET\n")
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tiny_model_dir, workspace):
    options = {"nanopilot": {"temperature": 0, "multiline": "never"}}
    client = await start_server(tiny_model_dir, init_options=options, workspace=workspace)
    yield client
    await client.shutdown_session()


async def test_a_line_from_an_open_tab_is_suggested_and_its_source_is_shown(client):
    open_document(client, TAB, "file:///tabs/geometry.py")
    open_document(client, TYPED, "file:///tabs/new.py")
    (item,) = await inline(client, end_of(TYPED), "file:///tabs/new.py")
    assert item.insert_text == " * height * SCALE_FACTOR"
    assert list(item.command.arguments) == [{"source": "copy:tab"}]
    context = await last_context(client)
    assert context["source"] == "copy:tab"
    assert context["copy"]["from"] == "file:///tabs/geometry.py:2"
    assert context["copy"]["tokens"] >= 6
    assert (await status(client))["sources"].get("copy:tab", 0) >= 1


async def test_an_edit_is_seen_by_the_next_lookup(client):
    uri = "file:///tabs/edited.py"
    open_document(client, "x = 1\n", uri)
    # A match long enough to win outright (8+ tokens): the test is about the index, not the choice.
    line = "total_cost = unit_price * quantity_ordered * (1 + tax_rate) + shipping_fee\n"
    edit_document(client, uri, 2, types.Position(1, 0), types.Position(1, 0), line)
    typed = "def invoice():\n    total_cost = unit_price * quantity_ordered * (1 + tax_rate)"
    open_document(client, typed, "file:///tabs/invoice.py")
    assert await suggestion(client, typed, "file:///tabs/invoice.py") == " + shipping_fee"


async def test_any_language_gets_copies_but_never_the_python_model(client):
    tab = "function area(width, height) {\n  return width * height * scaleFactor;\n}\n"
    typed = "function area(width, height) {\n  return width"
    open_document(client, tab, "file:///js/geometry.js", language="javascript")
    open_document(client, typed, "file:///js/new.js", language="javascript")
    assert await suggestion(client, typed, "file:///js/new.js") == " * height * scaleFactor;"
    alone = "let unrelated = "
    open_document(client, alone, "file:///js/alone.js", language="javascript")
    assert await suggestion(client, alone, "file:///js/alone.js") == ""
    assert (await last_context(client))["source"] == "nothing"


async def test_workspace_files_are_read_but_not_links_out_of_it_nor_secrets(client, workspace):
    typed = "def volume(depth, base):\n    return depth *"
    uri = (workspace / "new_module.py").as_uri()
    open_document(client, typed, uri)
    deadline = time.monotonic() + 20
    text = ""
    while time.monotonic() < deadline:  # the scan runs in the background
        text = await suggestion(client, typed, uri)
        if text:
            break
        await asyncio.sleep(0.2)
    assert text == " base.surface_in_square_metres()"
    index = (await status(client))["index"]
    assert "LEAKED_FROM_OUTSIDE" not in str(index) and "ENV_SECRET" not in str(index)


async def test_a_denied_document_open_in_a_tab_is_never_suggested(client):
    secret = "API_TOKEN_FOR_PAYMENTS = 'sk-live-0123456789abcdef'\n"
    open_document(client, secret, "file:///project/.env.production")
    typed = "API_TOKEN_FOR_PAYMENTS ="
    open_document(client, typed, "file:///project/settings.py")
    text = await suggestion(client, typed, "file:///project/settings.py")
    assert "sk-live" not in text
    context = await last_context(client)
    assert context["copy"] is None or "sk-live" not in context["copy"]["text"]


async def test_the_index_setting_turns_copies_off(client):
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"nanopilot": {"index": "off"}})
    )
    deadline = time.monotonic() + 10
    while (await status(client))["settings"]["index"] != "off":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await suggestion(client, TYPED, "file:///tabs/new.py")
    assert not (await last_context(client))["source"].startswith("copy")
