"""The language server: LSP messages in, suggestions from the engine out.

Handlers stay thin: documents come from pygls' workspace (incremental sync), positions are
converted by positions.py, settings by settings.py, serving by completion_service.py and the
engine by model_host.py; the engine itself is only server/contract.py's `Engine`. Everything a
handler may meet (unknown document, position past the end, no model yet) ends in an empty
answer, never an exception.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from server.choice import THRESHOLDS, ChoiceLog, ChoosingEngine
from server.completion_service import CompletionService
from server.contract import Engine
from server.errors import UserError
from server.line_document import LineDocument
from server.lsp_protocol import NanopilotProtocol
from server.model_host import ModelHost
from server.positions import index_to_column
from server.postprocess.context import line_prefix
from server.project import ProjectIndex, extensions_for
from server.project.languages import path_of
from server.retrieval import Retriever
from server.settings import SECTION, ServerSettings, apply_settings
from server.stats import ServerStats

logger = logging.getLogger(__name__)

STATUS_COMMAND = "nanopilot.status"
LAST_CONTEXT_COMMAND = "nanopilot.lastContext"
STATUS_NOTIFICATION = "nanopilot/status"
ACCEPTED_COMMAND = "nanopilot.accepted"
CLIENT_REPLY_SECONDS = 5.0
WORD_BEFORE_CURSOR = re.compile(r"[A-Za-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class Cursor:
    uri: str
    prefix: str
    suffix: str
    position: types.Position  # clamped into the document

    @property
    def line_prefix(self) -> str:
        return line_prefix(self.prefix)


def version() -> str:
    """nanopilot's installed version; "unknown" in a checkout that was never installed."""
    try:
        return metadata.version("nanopilot")
    except metadata.PackageNotFoundError:
        return "unknown"


class NanopilotServer(LanguageServer):
    def __init__(self, default_model: Path, settings: ServerSettings) -> None:
        super().__init__("nanopilot", version(), protocol_cls=NanopilotProtocol)
        self.default_model = default_model
        self.settings = settings
        self.stats = ServerStats()
        self.host = ModelHost(on_health=self._engine_health)
        self.service = CompletionService(self.stats)
        self.index = ProjectIndex()  # the copy engine's view of the open documents and workspace
        self.retriever = Retriever(self.index)  # repository context, from the same view
        self.workspace_roots: list[str] = []
        self._watched_languages: set[str] = set()  # whose files the workspace scan reads
        self.choices = ChoiceLog()
        self._tasks: set[asyncio.Task] = set()

    # --- messages to the user -------------------------------------------------------------

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        logger.log(logging.WARNING if kind <= types.MessageType.Warning else logging.INFO, message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        logger.info(message)
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    # --- settings and the model -----------------------------------------------------------

    @property
    def model_dir(self) -> Path:
        return Path(self.settings.model) if self.settings.model else self.default_model

    def update_settings(self, raw: Any, *, reload: bool) -> None:
        before = self.settings
        self.settings, problems = apply_settings(before, raw)
        for problem in problems:
            self.show(f"nanopilot: {problem}")
        if self.settings != before:
            self.log(f"settings: {dataclasses.asdict(self.settings)}")
            self.service.clear()
        if self.settings.index == "workspace" != before.index:  # documents opened meanwhile
            for document in list(self.workspace.text_documents.values()):
                self.watch_workspace(document.language_id or "python")
        what_loads = ("model", "device", "decoder", "engine")
        changed_model = any(getattr(self.settings, k) != getattr(before, k) for k in what_loads)
        if reload and changed_model:
            self.start_loading()

    async def pull_configuration(self) -> None:
        """Ask the client for the `nanopilot` section (if it supports workspace/configuration)."""
        workspace = self.client_capabilities.workspace
        if not (workspace and workspace.configuration):
            return
        params = types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])
        try:
            result = await asyncio.wait_for(
                self.workspace_configuration_async(params), CLIENT_REPLY_SECONDS
            )
        except Exception as err:  # a client that cannot answer keeps the settings we have
            logger.warning("workspace/configuration failed: %s", err)
            return
        if result:
            self.update_settings(result[0], reload=True)

    def start_loading(self) -> None:
        task = asyncio.ensure_future(self._load(self.model_dir, self.settings))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _progress_token(self) -> str | None:
        window = self.client_capabilities.window
        if not (window and window.work_done_progress):
            return None
        token = f"nanopilot-load-{uuid.uuid4()}"
        try:
            await asyncio.wait_for(
                self.work_done_progress.create_async(token), CLIENT_REPLY_SECONDS
            )
        except Exception as err:
            logger.warning("window/workDoneProgress/create failed: %s", err)
            return None
        return token

    async def _load(self, model_dir: Path, settings: ServerSettings) -> None:
        token = await self._progress_token()
        if token:
            begin = types.WorkDoneProgressBegin(title="nanopilot", message=f"loading {model_dir}")
            self.work_done_progress.begin(token, begin)
        self.log(f"loading model {model_dir} ({settings.device}, decoder {settings.decoder})")
        try:
            engine = await self.host.load(
                model_dir, settings.device, settings.engine, settings.decoder
            )
        except UserError as err:
            self.show(f"nanopilot: {err}", types.MessageType.Error)
            outcome = "no model: completions are off"
        else:
            outcome = self._loaded(model_dir, engine)
        if token:
            self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=outcome))

    def _loaded(self, model_dir: Path, engine: Engine | None) -> str:
        """What the load came to, for the progress report (and the log, with its source)."""
        if engine is None:
            outcome, source = f"{model_dir} was replaced by a newer model setting", model_dir
        else:
            self.service.clear()
            info = engine.describe()
            outcome, source = info.ready, info.source
        self.log(f"{outcome}: {source}")
        return outcome

    def _engine_health(self, engine: Engine, fault: str | None) -> None:
        """One message when the engine stops answering, a log line when it is back; the status
        report goes to the client too (`nanopilot/status`, for its status bar)."""
        if engine is not self.host.engine:
            return
        self.protocol.notify(STATUS_NOTIFICATION, self.status())
        name = engine.describe().name
        if fault is None:
            self.log(f"{name} answers again")
        else:
            self.show(
                f"nanopilot: {name} unreachable ({fault}); suggestions are empty until it answers"
            )

    # --- requests --------------------------------------------------------------------------

    def cursor(self, uri: str, position: types.Position) -> Cursor | None:
        """The text around `position` in an open document; None for an unknown document."""
        documents = self.workspace.text_documents
        document = documents.get(uri) or documents.get(unquote(uri))
        if document is None:
            return None
        if not isinstance(document, LineDocument):  # one pygls made (a notebook's cell)
            document = self.protocol.line_document(
                document.uri, document.source, document.version, document.language_id
            )
        before, after = document.split(position.line, position.character)
        # The model saw "\n" line breaks; a CRLF document is served the same way.
        prefix = before.replace("\r\n", "\n")
        suffix = after.replace("\r\n", "\n")
        typed = line_prefix(prefix)
        line = min(position.line, document.line_count() - 1)
        clamped = types.Position(line, index_to_column(typed, len(typed), document.encoding))
        return Cursor(uri, prefix, suffix, clamped)

    async def suggestion(
        self, uri: str, position: types.Position
    ) -> tuple[Cursor, str, str] | None:
        """The cursor, the suggestion and who wrote it."""
        self.stats.requests += 1  # every request, answered or not: the one place it is counted
        if not self.settings.enable:
            return None
        cursor = self.cursor(uri, position)
        if cursor is None:
            return None
        answer = await self.service.suggest(
            self.engine_for(uri), uri, cursor.prefix, cursor.suffix, self.settings
        )
        return (cursor, answer.text, answer.source) if answer and answer.text else None

    def engine_for(self, uri: str) -> ChoosingEngine:
        """The copy candidates and the engine, if it serves this document's language (the local
        model answers in the languages it was trained on, a remote engine in any)."""
        engine = self.host.engine
        if engine is not None:
            languages = engine.describe().languages
            if languages is not None and self.language_of(uri) not in languages:
                engine = None
        return ChoosingEngine(
            self.index,
            engine,
            self.settings.index,
            THRESHOLDS[self.settings.filter],
            self.choices,
            self.retriever if self.settings.context else None,
        )

    def language_of(self, uri: str) -> str:
        document = self.workspace.text_documents.get(uri)
        return (document.language_id if document else None) or "python"

    def watch_workspace(self, language: str) -> None:
        """Scan the workspace folders for this language's files (once per language: later
        changes come through didSave and watched-file events, never a whole new walk)."""
        if self.settings.index != "workspace" or language in self._watched_languages:
            return
        self._watched_languages.add(language)
        extensions = extensions_for(language)  # none known: only the open documents count
        for root in self.workspace_roots if extensions else ():
            self.index.add_workspace(root, extensions)

    def status(self) -> dict:
        info = self.host.engine.describe() if self.host.engine else None
        if not self.settings.enable:
            state = "disabled"
        elif self.host.loading is not None:
            state = "loading"
        elif info is None:
            state = "no model" if self.host.error else "starting"
        elif info.fault is not None:
            state = "engine unreachable"
        else:
            state = "ready"
        return {
            "state": state,
            "model": info.source if info else str(self.model_dir),
            "device": info.device if info else None,
            "decoder": info.decoder if info else None,
            "fim": info.fim if info else None,
            "error": self.host.error or (info.fault if info else None),
            "engine": self.settings.engine.kind,
            "settings": dataclasses.asdict(self.settings),
            "index": self.index.describe(),
            **self.stats.summary(),
        }


def accepted(source: str) -> types.Command:
    """The command an accepted item runs; its argument says which source wrote the item."""
    return types.Command(
        title="nanopilot: suggestion accepted",
        command=ACCEPTED_COMMAND,
        arguments=[{"source": source}],
    )


def completion_item(cursor: Cursor, text: str, source: str) -> types.CompletionItem:
    """A classic completion item: replaces the word before the cursor with word + suggestion, so
    that clients filtering by the typed word keep it."""
    word = WORD_BEFORE_CURSOR.search(cursor.line_prefix).group()
    end = cursor.position
    start = types.Position(end.line, end.character - len(word))  # ASCII: 1 unit per character
    new_text = word + text
    label = next((line.strip() for line in new_text.split("\n") if line.strip()), new_text)
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Text,
        detail="nanopilot",
        documentation=new_text,
        filter_text=new_text,
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(range=types.Range(start, end), new_text=new_text),
        command=accepted(source),
    )


def build_server(default_model: Path, settings: ServerSettings | None = None) -> NanopilotServer:
    server = NanopilotServer(default_model, settings or ServerSettings())

    @server.feature(types.INITIALIZE)
    def initialize(ls: NanopilotServer, params: types.InitializeParams) -> None:
        ls.update_settings(params.initialization_options, reload=False)
        folders = [folder.uri for folder in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        ls.workspace_roots = [str(path) for uri in folders if (path := path_of(uri))]

    @server.feature(types.INITIALIZED)
    async def initialized(ls: NanopilotServer, params: types.InitializedParams) -> None:
        await ls.pull_configuration()
        if ls.host.loading is None and ls.host.engine is None:
            ls.start_loading()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(
        ls: NanopilotServer, params: types.DidChangeConfigurationParams
    ) -> None:
        if isinstance(params.settings, dict) and params.settings:
            ls.update_settings(params.settings, reload=True)
        else:  # the LSP 3.17 way: the notification only says "ask me"
            await ls.pull_configuration()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: NanopilotServer, params: types.DidOpenTextDocumentParams) -> None:
        document = params.text_document
        ls.index.open(document.uri, document.text, document.language_id)
        ls.watch_workspace(document.language_id)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: NanopilotServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        document = ls.workspace.text_documents.get(uri)
        if not isinstance(document, LineDocument):
            return
        edits = document.take_edits()  # pygls applied them first
        if edits is None:
            ls.index.change(uri, document.source)
        for edit in edits or ():
            ls.index.edit(uri, edit.start, edit.end, edit.text)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: NanopilotServer, params: types.DidSaveTextDocumentParams) -> None:
        if path := path_of(params.text_document.uri):
            ls.index.refresh([path])

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(
        ls: NanopilotServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        ls.index.refresh([path for change in params.changes if (path := path_of(change.uri))])

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: NanopilotServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.service.forget(params.text_document.uri)
        ls.index.close(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: NanopilotServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        found = await ls.suggestion(params.text_document.uri, params.position)
        if found is None:
            return types.InlineCompletionList(items=[])
        cursor, text, source = found
        here = types.Range(cursor.position, cursor.position)
        item = types.InlineCompletionItem(insert_text=text, range=here, command=accepted(source))
        return types.InlineCompletionList(items=[item])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())
    async def completion(
        ls: NanopilotServer, params: types.CompletionParams
    ) -> types.CompletionList:
        found = await ls.suggestion(params.text_document.uri, params.position)
        if found is None:
            return types.CompletionList(is_incomplete=True, items=[])
        cursor, text, source = found
        items = [completion_item(cursor, text, source)]
        return types.CompletionList(is_incomplete=True, items=items)

    @server.command(STATUS_COMMAND)
    def status(ls: NanopilotServer, *args: Any) -> dict:
        return ls.status()

    @server.command(LAST_CONTEXT_COMMAND)
    def last_context(ls: NanopilotServer, *args: Any) -> dict:
        """What the last fresh suggestion was made from: the source that won, the copy
        candidate and where its text came from, the repository context the engine was given
        (each snippet's path and first line), the model's confidence."""
        return ls.choices.last

    @server.command(ACCEPTED_COMMAND)
    def on_accepted(ls: NanopilotServer, *args: Any) -> None:
        ls.stats.accepted += 1

    return server
