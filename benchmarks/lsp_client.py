"""Driving the real language server over stdio as an editor does: shared by the benchmarks.

`python -m server` is started with `pygls`' client, initialised with the `nanopilot` settings
(and a workspace folder, when given), and asked for inline completions; `relative` names result
paths as they are committed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from server.errors import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
STATUS_COMMAND = "nanopilot.status"


def position_of(text: str) -> tuple[int, int]:
    """The LSP position (UTF-16) at the end of `text`."""
    line = text.count("\n")
    last = text[text.rfind("\n") + 1 :]
    return line, len(last.encode("utf-16-le")) // 2


async def server_status(client: LanguageClient) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=STATUS_COMMAND)
    )


async def wait_until_ready(client: LanguageClient, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = await server_status(client)
        if status["state"] == "ready":
            return status
        if status["state"] == "no model" or time.monotonic() > deadline:
            raise UserError(f"the server has no model: {status['error']}")
        await asyncio.sleep(0.1)


async def start_server(
    model_dir: Path, threads: int, settings: dict, workspace: Path | None = None
) -> LanguageClient:
    """A started, initialised server with its model loaded; `workspace` is its one folder."""
    client = LanguageClient("nanopilot-benchmark", "1")

    @client.feature(types.WINDOW_LOG_MESSAGE)
    def log_message(params: types.LogMessageParams) -> None:
        """The server's warnings (a setting it does not take, say) matter; its info lines not."""
        if params.type <= types.MessageType.Warning:
            print(f"server: {params.message}", file=sys.stderr)

    await client.start_io(
        sys.executable, "-m", "server", "--model", str(model_dir), "--threads", str(threads)
    )  # fmt: skip
    folders = None
    if workspace is not None:
        folders = [types.WorkspaceFolder(workspace.resolve().as_uri(), workspace.name)]
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=folders[0].uri if folders else None,
            workspace_folders=folders,
            initialization_options={"nanopilot": settings},
        )
    )
    client.initialized(types.InitializedParams())
    await wait_until_ready(client)
    return client


def server_pid(client: LanguageClient) -> int:
    """The started server's process id (pygls keeps its subprocess in `_server`), to read its
    memory from /proc."""
    return client._server.pid


def server_running(client: LanguageClient) -> bool:
    return client._server is not None and client._server.returncode is None


async def stop_server(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


async def inline_completion(
    client: LanguageClient, uri: str, line: int, column: int
) -> types.InlineCompletionList | list[types.InlineCompletionItem] | None:
    """The server's answer to an automatic inline completion request at (line, column)."""
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, column),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )


def relative(path: Path) -> str:
    """`path` relative to the repository when it is inside it (results are committed)."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(path)
