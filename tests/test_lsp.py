"""The language server end to end over stdio (pytest-lsp), with the tiny real models."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from tests.tiny_model import RELIABLE_COMPLETIONS

pytestmark = pytest.mark.asyncio(loop_scope="module")

URI = "file:///work/example.py"
ADD = "def add(a, b):\n    "
# The model alone (no copy engine, no filter): what these tests check is the model's path.
GREEDY = {"nanopilot": {"temperature": 0, "multiline": "never", "index": "off", "filter": "eager"}}
COUNTERS = ("requests", "answered", "accepted", "lruHits", "typingThroughHits", "cancelled")


async def start_server(
    model_dir: Path | str | None,
    *,
    init_options: dict | None = None,
    configuration: dict | None = None,
    wait_ready: bool = True,
    command: tuple[str, ...] = (sys.executable, "-m", "server"),
    cwd: Path | None = None,
    workspace: Path | None = None,
) -> LanguageClient:
    """Start `command` (with `--model model_dir` unless None: the default model) and initialize
    (with `workspace` as the root folder when given)."""
    client = make_test_lsp_client()
    for section, values in (configuration or {}).items():
        client.set_configuration(values, section=section)
    model_args = () if model_dir is None else ("--model", str(model_dir))
    await client.start_io(*command, *model_args, cwd=cwd)
    capabilities = client_capabilities("visual-studio-code")
    client.initialize_result = await client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            initialization_options=init_options,
            root_uri=workspace.as_uri() if workspace else None,
        )
    )
    if wait_ready:
        await wait_for_state(client, {"ready"})
    return client


async def status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="nanopilot.status")
    )


async def wait_for_state(client: LanguageClient, states: set[str], timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        current = await status(client)
        if current["state"] in states:
            return current
        assert time.monotonic() < deadline, f"server still {current['state']}"
        await asyncio.sleep(0.1)


def open_document(
    client: LanguageClient, text: str, uri: str = URI, language: str = "python"
) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
        )
    )


def edit_document(
    client: LanguageClient, uri: str, version: int, start: types.Position, end: types.Position,
    text: str,
) -> None:  # fmt: skip
    """One incremental `didChange`: `text` replaces the range from `start` to `end`."""
    change = types.TextDocumentContentChangePartial(range=types.Range(start, end), text=text)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[change],
        )
    )


def end_of(text: str) -> types.Position:
    lines = text.split("\n")
    return types.Position(len(lines) - 1, len(lines[-1]))


async def inline(client: LanguageClient, position: types.Position, uri: str = URI) -> list:
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=position,
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )
    return list(result.items if isinstance(result, types.InlineCompletionList) else result)


BAD_MESSAGES = [
    '{"jsonrpc": "2.0", "id": "bad-1", "method": "textDocument/inlineCompletion",'
    ' "params": {"textDocument": 3, "position": "x"}}',
    '{"jsonrpc": "2.0", "id": "bad-2", "method": "textDocument/completion", "params": null}',
    "{oops",
    '{"jsonrpc": "2.0", "id": "bad-3", "method": "nanopilot/unknown", "params": {}}',
    '{"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 12345}}',
]


def send_raw(client: LanguageClient, body: str) -> None:
    """Write one JSON-RPC message as is, bypassing the client's type checks."""
    data = body.encode()
    client.protocol.writer.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tiny_model_dir):
    client = await start_server(tiny_model_dir, init_options=GREEDY)
    yield client
    await client.shutdown_session()


async def test_capabilities_are_advertised(client):
    capabilities = client.initialize_result.capabilities
    assert capabilities.inline_completion_provider is not None
    assert capabilities.completion_provider is not None
    sync = capabilities.text_document_sync
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert "nanopilot.status" in capabilities.execute_command_provider.commands
    assert client.initialize_result.server_info.version == metadata.version("nanopilot")


async def test_model_load_reports_progress_and_logs(client):
    reports = [report for values in client.progress_reports.values() for report in values]
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert "ready" in reports[-1].message
    assert any("ready" in message.message for message in client.log_messages)


@pytest.mark.parametrize(("prefix", "expected"), RELIABLE_COMPLETIONS.items())
async def test_ghost_text(client, prefix, expected):
    uri = f"file:///work/ghost_{len(prefix)}.py"
    open_document(client, prefix + "\n", uri)
    items = await inline(client, end_of(prefix), uri)
    assert [item.insert_text for item in items] == [expected]
    assert items[0].command.command == "nanopilot.accepted"
    assert items[0].range.start == end_of(prefix)


async def test_classic_completion_replaces_the_word_being_typed(client):
    uri = "file:///work/classic.py"
    open_document(client, ADD + "ret\n", uri)
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(1, 7))
    )
    assert result.is_incomplete
    (item,) = result.items
    assert item.text_edit.new_text == "return a + b"
    assert item.text_edit.range == types.Range(types.Position(1, 4), types.Position(1, 7))
    assert item.label == "return a + b"


async def test_incremental_edits_are_applied(client):
    uri = "file:///work/edits.py"
    open_document(client, "x = 1\n", uri)
    edit_document(
        client, uri, 2, types.Position(0, 0), types.Position(0, 5), "def greet(name):\n    "
    )
    items = await inline(client, types.Position(1, 4), uri)
    assert [item.insert_text for item in items] == ['return "Hello, " + name']


async def test_a_notebook_cell_is_completed_like_a_file(client):
    """notebookDocument/didOpen puts its cells in the workspace by pygls' own path."""
    cell = "vscode-notebook-cell:/work/shop.ipynb#W0sZmlsZQ%3D%3D"
    client.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri="file:///work/shop.ipynb", notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code, document=cell)],
            ),
            cell_text_documents=[types.TextDocumentItem(cell, "python", 1, ADD + "\n")],
        )
    )  # fmt: skip
    items = await inline(client, end_of(ADD), cell)
    assert [item.insert_text for item in items] == ["return a + b"]


async def test_utf16_positions_after_an_emoji(client):
    """An emoji is 2 UTF-16 units: the server must not take the column for code points."""
    uri = "file:///work/emoji.py"
    line = '    s = "😀😀"; ret'
    open_document(client, "def add(a, b):\n" + line + "urn_value = 1\n", uri)
    column = len(line.encode("utf-16-le")) // 2
    cursor = types.Position(1, column)
    result = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), cursor)
    )
    (item,) = result.items  # the word before the cursor is "ret", 3 units before the cursor
    assert item.text_edit.range == types.Range(types.Position(1, column - 3), cursor)
    (ghost,) = await inline(client, cursor, uri)
    assert ghost.range.start == cursor and ghost.insert_text
    assert item.text_edit.new_text == "ret" + ghost.insert_text


async def test_typing_through_and_lru_answer_without_the_model(client):
    uri = "file:///work/typing.py"
    open_document(client, ADD + "\n", uri)
    first = await inline(client, types.Position(1, 4), uri)
    assert first[0].insert_text == "return a + b"
    before = await status(client)
    edit_document(client, uri, 2, types.Position(1, 4), types.Position(1, 4), "ret")
    typed = await inline(client, types.Position(1, 7), uri)
    assert typed[0].insert_text == "urn a + b"
    again = await inline(client, types.Position(1, 7), uri)
    assert again[0].insert_text == "urn a + b"
    after = await status(client)
    assert after["typingThroughHits"] >= before["typingThroughHits"] + 1


async def test_status_counts_requests_latency_and_acceptance(client):
    uri = "file:///work/status.py"
    open_document(client, "# status\n" + ADD + "\n", uri)  # a spot no other test asks for
    before = await status(client)
    (first,) = await inline(client, types.Position(2, 4), uri)  # the model runs
    (again,) = await inline(client, types.Position(2, 4), uri)  # the very same: the cache
    assert again.insert_text == first.insert_text != ""
    await inline(client, types.Position(0, 0), "file:///work/never-opened.py")  # no answer
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="nanopilot.accepted")
    )
    current = await status(client)
    counted = {key: current[key] - before[key] for key in COUNTERS}
    assert counted == {"requests": 3, "answered": 2, "accepted": 1, "lruHits": 1,
                       "typingThroughHits": 0, "cancelled": 0}  # fmt: skip
    hits = current["lruHits"] + current["typingThroughHits"]
    assert current["cacheHitRate"] == hits / current["answered"]
    assert current["latencyMsP95"] >= current["latencyMsP50"] > 0
    assert (current["state"], current["device"], current["decoder"]) == ("ready", "cpu", "onnx")
    assert current["fim"] is False and current["error"] is None


async def test_bad_setting_is_reported_and_the_old_value_kept(client):
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"nanopilot": {"temperature": "hot", "maxNewTokens": 20}}
        )
    )
    deadline = time.monotonic() + 10
    while not any("temperature" in m.message for m in client.messages):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    settings = (await status(client))["settings"]
    assert settings["temperature"] == 0.0
    assert settings["max_new_tokens"] == 20


async def test_bad_inputs_do_not_kill_the_server(client):
    open_document(client, ADD + "\n", "file:///work/bad.py")
    # An unknown document; positions past the end of a line and of the document.
    assert await inline(client, types.Position(0, 0), "file:///work/never-opened.py") == []
    await inline(client, types.Position(500, 3), "file:///work/bad.py")
    (item,) = await inline(client, types.Position(1, 999), "file:///work/bad.py")
    assert item.range.start == types.Position(1, 4)  # clamped to the line's end
    assert item.insert_text == "return a + b"
    # Malformed messages, sent as raw JSON-RPC: bad params, not JSON, unknown method, stray cancel.
    for body in BAD_MESSAGES:
        send_raw(client, body)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri="file:///nowhere", version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x")],
        )
    )
    # A 1 MB document.
    big = "x = 1\n" * 180_000 + ADD
    open_document(client, big, "file:///work/big.py")
    await inline(client, end_of(big), "file:///work/big.py")
    assert (await status(client))["state"] == "ready"


async def test_flood_of_requests_and_cancellations(client):
    uri = "file:///work/flood.py"
    open_document(client, ADD + "\n", uri)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri),
        position=types.Position(1, 4),
        context=types.InlineCompletionContext(
            trigger_kind=types.InlineCompletionTriggerKind.Automatic
        ),
    )
    before = await status(client)
    futures = []
    for number in range(30):
        msg_id = f"flood-{number}"
        futures.append(
            client.protocol.send_request_async(
                types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id
            )
        )
        if number % 2 == 0:
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert [item.insert_text for item in results[-1].items] == ["return a + b"]
    for number, result in enumerate(results):
        if isinstance(result, Exception):  # only a request the client cancelled fails
            assert number % 2 == 0 and "cancel" in str(result).lower(), result
        else:  # superseded (empty) or answered: never anything else
            assert [item.insert_text for item in result.items] in ([], ["return a + b"])
    after = await status(client)
    assert after["state"] == "ready"
    # Every request the client did not cancel reached the server (a cancelled one may not).
    assert 15 <= after["requests"] - before["requests"] <= 30


async def test_missing_model_stays_up_and_says_what_to_do(tmp_path):
    client = await start_server(tmp_path / "no-model", wait_ready=False)
    try:
        current = await wait_for_state(client, {"no model"})
        assert "training.finetune" in current["error"]
        assert any("training.finetune" in m.message for m in client.messages)
        open_document(client, ADD)
        assert await inline(client, end_of(ADD)) == []
    finally:
        await client.shutdown_session()


async def test_settings_from_workspace_configuration_and_a_model_switch(
    tiny_model_dir, tiny_fim_model_dir
):
    configuration = {"nanopilot": {"temperature": 0, "enable": False}}
    client = await start_server(tiny_model_dir, configuration=configuration, wait_ready=False)
    try:
        current = await wait_for_state(client, {"disabled"})
        assert current["settings"]["enable"] is False
        open_document(client, ADD)
        assert await inline(client, end_of(ADD)) == []
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"nanopilot": {"enable": True, "model": str(tiny_fim_model_dir)}}
            )
        )
        deadline = time.monotonic() + 120
        while not (await status(client))["fim"]:
            assert time.monotonic() < deadline, "the FIM model was never loaded"
            await asyncio.sleep(0.1)
        current = await wait_for_state(client, {"ready"})
        assert current["model"] == str(tiny_fim_model_dir)
        assert [item.insert_text for item in await inline(client, end_of(ADD))] == ["return a + b"]
    finally:
        await client.shutdown_session()


async def test_the_decoder_setting_reloads_the_model_with_that_decoder(tiny_model_dir):
    client = await start_server(tiny_model_dir, init_options=GREEDY)
    try:
        assert (await status(client))["decoder"] == "onnx"  # auto: the int8 step on the CPU
        open_document(client, ADD)
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"nanopilot": {"decoder": "lean"}})
        )
        deadline = time.monotonic() + 120
        while (await status(client))["decoder"] != "lean":
            assert time.monotonic() < deadline, "the lean decoder was never loaded"
            await asyncio.sleep(0.1)
        assert [item.insert_text for item in await inline(client, end_of(ADD))] == ["return a + b"]
    finally:
        await client.shutdown_session()


async def test_tcp_transport(tiny_model_dir):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "--tcp",
            "--port",
            str(port),
            "--model",
            str(tiny_model_dir),
        ]
    )
    client = make_test_lsp_client()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                await client.start_tcp("127.0.0.1", port)
                break
            except OSError:
                assert time.monotonic() < deadline, "the server never listened"
                await asyncio.sleep(0.2)
        await client.initialize_session(
            types.InitializeParams(capabilities=client_capabilities("visual-studio-code"))
        )
        assert (await wait_for_state(client, {"ready"}))["state"] == "ready"
        await client.shutdown_async(None)
    finally:
        server.terminate()
        server.wait(timeout=30)
