"""The project index: every open document and the workspace's files, for longest-match lookup.

`ProjectIndex.lookup` takes the lexer tokens before the cursor and finds the places (in the
current function, the file, the other open tabs, the workspace) whose preceding tokens match the
longest suffix of them, at least `min_tokens` long. What followed each place, up to the end of its
line, is a copy candidate: "what followed last time". Measured on held-out code (issue 19), such a
candidate beats the 5M model whenever the match is 4 tokens or more.

How it is fast: every document keeps its tokens' 64-bit keys packed in one byte string, so the
places that share the query's last few tokens are found with `bytes.find` (memory speed, no
Python loop over tokens). If a short pattern has too many places, the pattern doubles (a longer
match can only be among them); each place found is then extended backwards by bisection over
byte slices. Only the longest few places are turned into text.

Threading: every public method takes one lock; the workspace scan reads and lexes files on its own
thread outside that lock and takes it only to insert a finished document, so a request waits at
most for one insert (and for Python's GIL switch interval while the scan thread runs).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from server.project.documents import FileDocument, OpenDocument
from server.project.ignore import IGNORE_FILES, is_denied
from server.project.languages import language_of, path_of
from server.project.lexer import KEY_BYTES, pack_keys, split_partial
from server.project.matching import (
    Candidate,
    Place,
    continuation,
    enclosing_function,
    find_places,
    indent_of,
    rank_places,
    with_lines,
)
from server.project.workspace import FileEvent, ScanLimits, WorkspaceScanner

SETTINGS = ("off", "file", "tabs", "workspace")  # the `scope` setting: how far lookup reaches


@dataclass(frozen=True)
class IndexLimits:
    """Bounds on the index; the workspace scan has its own (`ScanLimits`)."""

    min_tokens: int = 4  # shorter matches are not proposed
    max_query_tokens: int = 64  # a longer match is reported as this long
    max_places_per_document: int = 16  # more places: the pattern grows until fewer match
    max_places: int = 48  # places turned into text per lookup, longest first
    max_open_documents: int = 500
    max_document_chars: int = 4_000_000  # a bigger open document is not indexed
    max_workspace_memory: int = 96 * 2**20  # estimated bytes for all workspace files
    # Tokens searched per lookup, over all documents: workspace files nearest to the current
    # document (by folder) first. Keeps a lookup near 1 ms per million tokens at most.
    max_search_tokens: int = 1_000_000


class ProjectIndex:
    """Open documents and workspace files, tokenised for longest-match lookup.

    Call from the LSP server: `open`, `change` (full text) or `edit` (a range), `close` on
    the text document notifications,
    `add_workspace` on initialize, `refresh` on save and `workspace/didChangeWatchedFiles`,
    `lookup` per completion request, `describe` for the status command.
    """

    def __init__(
        self,
        limits: IndexLimits | None = None,
        scan_limits: ScanLimits | None = None,
        scan_thread: bool = True,
    ) -> None:
        """`scan_thread`: scan workspaces on a thread of the index's own; False to scan only
        when the server calls `work()`."""
        self.limits = limits or IndexLimits()
        self.scan_thread = scan_thread
        self._pending: deque[tuple[str, object]] = deque()  # jobs for `work()`
        self._current: Iterator[FileEvent] | None = None
        self.scan_limits = scan_limits or ScanLimits()
        self._lock = threading.RLock()
        self._open: dict[str, OpenDocument] = {}
        self._open_paths: dict[str, str] = {}  # URI -> real path, for the open workspace files
        self._ignored_open: set[str] = set()  # open, but ignored: their own file scope only
        self._denied_open: set[str] = set()  # open, on the deny list: not indexed at all
        self._files: dict[str, FileDocument] = {}  # workspace files by URI
        self._file_memory: dict[str, int] = {}
        self._files_version = 0  # bumped on every workspace change, for `_nearest`'s cache
        self._nearest_cache: dict[str, tuple[int, list[str]]] = {}
        self._open_changes: Counter[str] = Counter()  # opens, edits and closes per open document
        self._scanners: list[WorkspaceScanner] = []
        self._skipped: Counter[str] = Counter()  # the index's own skips (open documents, memory)
        self._jobs: queue.Queue[tuple[str, object]] = queue.Queue()
        self._busy = 0
        self._worker: threading.Thread | None = None
        self._stopped = False
        self.last_lookup: dict | None = None
        self._searched = (0, 0, 0)  # documents, tokens searched and files left out, last lookup

    # -- open documents ---------------------------------------------------------------------

    def open(self, uri: str, text: str, language: str | None = None) -> None:
        """A document was opened (`textDocument/didOpen`)."""
        with self._lock:
            self.close(uri)
            self._open_changes[uri] += 1
            path = path_of(uri)
            if path is not None and self._denied(path):
                self._denied_open.add(uri)
                self._skipped["denied (open)"] += 1
                return
            if len(text) > self.limits.max_document_chars:
                self._skipped["huge (open)"] += 1
                return
            if len(self._open) >= self.limits.max_open_documents:
                self._skipped["over the open-document limit"] += 1
                return
            if path is not None and self._ignored(path):
                self._ignored_open.add(uri)
            if path is not None:
                self._open_paths[uri] = os.path.realpath(path)
            self._open[uri] = OpenDocument(uri, text, language or language_of(uri))

    def change(self, uri: str, text: str) -> None:
        """A document's full new text (`textDocument/didChange`): relexes the changed lines."""
        with self._lock:
            self._open_changes[uri] += 1
            document = self._open.get(uri)
            if document is None:
                if uri not in self._denied_open:
                    self.open(uri, text)
                return
            if len(text) > self.limits.max_document_chars:
                self.close(uri)
                self._skipped["huge (open)"] += 1
                return
            document.update(text)

    def edit(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """One incremental change (`didChange` with a range): cheaper than `change`.

        `start`, `end`: (line, column) with columns in code points (convert from the client's
        position encoding first).
        """
        with self._lock:
            self._open_changes[uri] += 1
            document = self._open.get(uri)
            if document is not None:
                document.edit(start, end, text)

    def close(self, uri: str) -> None:
        """A document was closed (`textDocument/didClose`)."""
        with self._lock:
            self._open_changes[uri] += 1
            self._open.pop(uri, None)
            self._open_paths.pop(uri, None)
            self._ignored_open.discard(uri)
            self._denied_open.discard(uri)

    def _denied(self, path: Path) -> bool:
        if is_denied(path):
            return True
        try:
            return is_denied(os.path.realpath(path))
        except OSError:
            return True

    def _ignored(self, path: Path) -> bool:
        for scanner in self._scanners:
            relative = scanner.relative(path)
            if relative is not None:
                parts = relative.split("/")
                for depth in range(len(parts)):
                    scanner.ignore.load_folder("/".join(parts[:depth]))
                if scanner.ignore.is_ignored(relative):
                    return True
        return False

    # -- the workspace ----------------------------------------------------------------------

    def add_workspace(
        self, root: str | os.PathLike[str], extensions: Iterable[str], background: bool = True
    ) -> None:
        """Scan a workspace folder for files with these endings (the documents' languages).

        In the background unless `background` is False (then it returns when done). Adding a
        folder again with more endings widens its scan (only the new files are read).
        """
        with self._lock:
            real = os.path.realpath(root)
            scanner = next((s for s in self._scanners if str(s.real_root) == real), None)
            if scanner is not None:  # another language in the same folder: one scan, more files
                more = {e.lower() for e in extensions}
                scanner.extensions = tuple(sorted({*scanner.extensions, *more}))
            else:
                scanner = WorkspaceScanner(root, extensions, self.scan_limits)
                self._scanners.append(scanner)
            for uri in list(self._open):  # rules now known for documents opened before
                path = path_of(uri)
                if path is not None and self._ignored(path):
                    self._ignored_open.add(uri)
        self._submit(("scan", scanner), background)

    def refresh(self, paths: Iterable[str | os.PathLike[str]], background: bool = True) -> None:
        """Files were saved, created, changed or deleted: re-check just these paths."""
        for path in paths:
            self._submit(("refresh", path), background)

    def rescan(self, background: bool = True) -> None:
        """Walk every workspace again, reading only files whose time or size changed."""
        for scanner in list(self._scanners):
            self._submit(("scan", scanner), background)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until the background work is done (for tests and evaluation); True if it is."""
        deadline = time.monotonic() + timeout
        while True:
            if self._jobs.empty() and not self._busy:
                return not (self._pending or self._current)  # `work()` is the caller's to call
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop the background thread after the file it is reading."""
        self._stopped = True
        self._jobs.put(("stop", None))

    def _submit(self, job: tuple[str, object], background: bool) -> None:
        if not background:
            self._run(job)
            return
        with self._lock:
            if not self.scan_thread:
                self._pending.append(job)
                return
            self._busy += 1  # counted before it is queued, so wait_idle cannot miss it
            self._jobs.put(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._work, name="nanopilot-project-index", daemon=True
                )
                self._worker.start()

    def _work(self) -> None:
        while not self._stopped:
            job = self._jobs.get()
            try:
                if job[0] != "stop":
                    self._run(job, pause=True)
            except Exception:  # noqa: BLE001 - a scan must never take the server down
                self._skipped["scan error"] += 1
            finally:
                with self._lock:
                    self._busy -= job[0] != "stop"

    def work(self, seconds: float = 0.005) -> bool:
        """Do queued workspace work on the caller's thread for about `seconds`.

        For a server that scans in its idle moments instead of on a thread
        (`ProjectIndex(scan_thread=False)`), so a scan never shares the interpreter with a
        request. One file is the unit: a big one may overrun `seconds`. True if work is left.
        """
        deadline = time.monotonic() + seconds
        while True:  # at least one file per call
            if self._current is None:
                if not self._pending:
                    return False
                self._current = self._events(self._pending.popleft())
            try:
                event = next(self._current, None)
                if event is None:
                    self._current = None
                    continue  # finishing a job is not a step
                self._apply(event)
            except Exception:  # noqa: BLE001 - a scan must never take the server down
                self._skipped["scan error"] += 1
                self._current = None
            if time.monotonic() >= deadline:
                return bool(self._pending or self._current)

    def _run(self, job: tuple[str, object], pause: bool = False) -> None:
        for event in self._events(job):
            if self._stopped:
                return
            self._apply(event)
            if pause:
                time.sleep(0)  # let a request thread have the interpreter

    def _events(self, job: tuple[str, object]) -> Iterator[FileEvent]:
        kind, what = job
        if kind == "scan":
            assert isinstance(what, WorkspaceScanner)
            yield from what.scan()
        elif kind == "refresh":
            for scanner in list(self._scanners):
                if scanner.relative(what) is not None:  # type: ignore[arg-type]
                    yield from scanner.refresh(what)  # type: ignore[arg-type]
            if Path(what).name in IGNORE_FILES:  # type: ignore[arg-type]
                with self._lock:  # the rules changed: which open documents they hide, too
                    self._ignored_open = {
                        uri
                        for uri in self._open
                        if (path := path_of(uri)) is not None and self._ignored(path)
                    }

    def _apply(self, event: FileEvent) -> None:
        """Put one scanned file into the index (lexed outside the lock), or drop it."""
        uri = event.path.as_uri()
        document = None
        if event.text is not None:
            document = FileDocument(uri, event.text, language_of(event.relative))
            document.path = event.real
        with self._lock:
            self._files_version += 1
            self._files.pop(uri, None)
            self._file_memory.pop(uri, None)
            if document is not None:
                size = document.memory_estimate()
                if sum(self._file_memory.values()) + size > self.limits.max_workspace_memory:
                    self._skipped["over the memory limit"] += 1
                else:
                    self._files[uri] = document
                    self._file_memory[uri] = size

    # -- lookup -----------------------------------------------------------------------------

    def lookup(
        self,
        uri: str,
        line: int,
        character: int,
        scope: str = "workspace",
        extra_lines: int = 0,
        max_candidates: int = 5,
    ) -> list[Candidate]:
        """Copy candidates for the cursor at (line, character) of an open document, best first.

        Best: longest match, then nearest scope, then most places agreeing. `scope` is the
        setting (SETTINGS): "off", "file", "tabs" or "workspace". `extra_lines`: whole lines
        to add after the rest of the line. Empty when the document is not open, is denied, or
        nothing matches at least `min_tokens` tokens.
        """
        if scope not in SETTINGS:
            raise ValueError(f"scope must be one of {SETTINGS}, not {scope!r}")
        with self._lock:
            document = self._open.get(uri)
            if scope == "off" or document is None or not 0 <= line < len(document.lines):
                self.last_lookup = {"uri": uri, "line": line, "candidates": []}
                return []
            candidates = self._lookup(document, line, character, scope, extra_lines)
            candidates = candidates[:max_candidates]
            documents, tokens, left_out = self._searched
            self.last_lookup = {
                "uri": uri,
                "line": line,
                "character": character,
                "scope": scope,
                "documents_searched": documents,
                "tokens_searched": tokens,
                "files_left_out": left_out,
                "candidates": [asdict(c) for c in candidates],
            }
            return candidates

    def _lookup(
        self, document: OpenDocument, line: int, character: int, scope: str, extra_lines: int
    ) -> list[Candidate]:
        limits = self.limits
        self._searched = (0, 0, 0)
        prefix = document.lines[line][:character]
        texts, ends, partial = split_partial(prefix)
        # The query: the keys of the lines above (enough of them), then the line prefix's.
        chunks: list[bytes] = []
        have = len(texts)
        above = -1  # the last non-blank line above: its NEWLINE ends the query if nothing else
        for i in range(line - 1, max(-1, line - 4 * limits.max_query_tokens), -1):
            if have >= limits.max_query_tokens:
                break
            keys = document.keys[i]
            if keys:
                above = i if above < 0 else above
                chunks.append(keys)
                have += len(keys) // KEY_BYTES
        chunks.reverse()
        chunks.append(pack_keys(texts, newline=False))
        query = b"".join(chunks)[-limits.max_query_tokens * KEY_BYTES :]
        least = max(1, limits.min_tokens - bool(partial))
        if len(query) // KEY_BYTES < least:
            return []
        if texts:
            own = (line, ends[-1])
            typed_space = prefix[ends[-1] : len(prefix) - len(partial)]
        else:
            if above < 0:
                return []
            own = (above, len(document.lines[above]))
            typed_space = prefix[: len(prefix) - len(partial)]
        # At a statement start: how the user's indentation steps from the line above.
        indent_step = None if texts else len(typed_space) - indent_of(document.lines[above])

        sources: list[tuple[object, int]] = [(document, 1)]
        if scope in ("tabs", "workspace"):
            sources += [
                (d, 2)
                for u, d in self._open.items()
                if d is not document and u not in self._ignored_open and _same(d, document)
            ]
        searched = sum(len(d.flat) for d, _ in sources) // KEY_BYTES  # type: ignore[attr-defined]
        left_out = 0
        if scope == "workspace":
            open_paths = set(self._open_paths.values())  # the buffer is newer than the file
            language = document.language
            files = self._files
            nearest = self._nearest(document.uri)
            for number, uri in enumerate(nearest):
                file = files[uri]
                if file.language is not None and language is not None and file.language != language:
                    continue
                if uri in self._open or file.path in open_paths:
                    continue
                searched += file.token_count
                if searched > limits.max_search_tokens:  # the rest are farther: left out
                    searched -= file.token_count
                    left_out = len(nearest) - number
                    break
                sources.append((file, 3))
        self._searched = (len(sources), searched, left_out)
        cursor_line = document.lines[line]
        indent = indent_of(cursor_line) if cursor_line.strip() else character
        function = enclosing_function(document.lines, line, indent)

        def resolve(number: int, end: int, length: int) -> Place | None:
            """The place's text and where it lies, or None if nothing fits after it."""
            source, rank = sources[number]
            site_line, column, lines = source.site(end // KEY_BYTES - 1)  # type: ignore[attr-defined]
            found = continuation(lines, column, typed_space, partial, indent_step)
            if found is None or not found[0]:
                return None
            text, skipped, space = found
            if extra_lines:
                text = with_lines(text, lines, extra_lines, space, cursor_line[:indent])
            where = site_line + skipped
            if source is document and function and function[0] <= where < function[1]:
                rank = 0
            tokens = min(length, limits.max_query_tokens) + bool(partial)
            distance = abs(where - line) if source is document else 0
            return Place(tokens, rank, distance, source.uri, where, text)  # type: ignore[attr-defined]

        # Sources come nearest first. A place both shorter and farther than a usable one already
        # found is dominated, never proposed: farther sources are searched with a longer
        # pattern, which is also faster (fewer places, longer skips).
        hits: list[tuple[int, int, int, int]] = []
        resolved: dict[tuple[int, int], Place | None] = {}
        best = [0, 0, 0, 0]  # longest usable match per source rank
        for number, (source, rank) in enumerate(sources):
            nearer = best[1] if rank == 2 else max(best[1], best[2]) if rank == 3 else 0
            places = find_places(
                source.flat,  # type: ignore[attr-defined]
                query,
                max(least, min(nearer, len(query) // KEY_BYTES)),
                limits.max_places_per_document,
            )
            places.sort(key=lambda place: -place[1])
            for end, length in places:
                if source is document and document.site(end // KEY_BYTES - 1)[:2] == own:
                    continue  # the cursor's own place
                hits.append((-length, rank, number, end))
                if length > best[rank]:  # usable? (the longest first, until one is)
                    resolved[number, end] = place = resolve(number, end, length)
                    if place is not None:
                        best[rank] = length
        hits.sort()
        places_found: list[Place] = []
        for minus_length, _, number, end in hits[: limits.max_places]:
            if (number, end) not in resolved:
                resolved[number, end] = resolve(number, end, -minus_length)
            place = resolved[number, end]
            if place is not None:
                places_found.append(place)
        return rank_places(places_found)

    def _nearest(self, uri: str) -> list[str]:
        """Workspace files by nearness to `uri`: most leading folders in common first."""
        folder = uri.rsplit("/", 1)[0]
        cached = self._nearest_cache.get(folder)
        if cached is not None and cached[0] == self._files_version:
            return cached[1]
        parts = folder.split("/")

        def shared(other: str) -> int:
            count = 0
            for a, b in zip(parts, other.split("/")[:-1]):  # noqa: B905 - lengths differ
                if a != b:
                    break
                count += 1
            return -count

        order = sorted(self._files, key=lambda u: (shared(u), u))
        if len(self._nearest_cache) > 16:
            self._nearest_cache.clear()
        self._nearest_cache[folder] = (self._files_version, order)
        return order

    # -- status -----------------------------------------------------------------------------

    def describe(self) -> dict:
        """What the index holds and skipped, for the status command."""
        with self._lock:
            skipped: Counter[str] = Counter(self._skipped)
            for scanner in self._scanners:
                skipped.update(scanner.skipped)
            open_memory = sum(d.memory_estimate() for d in self._open.values())
            return {
                "open_documents": len(self._open),
                "workspace_files": len(self._files),
                "workspaces": [str(s.root) for s in self._scanners],
                "tokens": sum(d.token_count for d in self._open.values())
                + sum(d.token_count for d in self._files.values()),
                "memory_bytes": open_memory + sum(self._file_memory.values()),
                "scanning": bool(self._busy or self._pending or self._current),
                "skipped": dict(sorted(skipped.items())),
                "last_lookup": self.last_lookup,
            }

    # -- repository context -----------------------------------------------------------------

    def revision(self, excluding: str) -> int:
        """A number that changes whenever a document other than `excluding` does: what a
        cache of results from the other documents is keyed by."""
        with self._lock:
            others = self._open_changes.total() - self._open_changes[excluding]
            return self._files_version + others

    def texts(self, uri: str, scope: str = "workspace", limit: int = 64) -> list[tuple[str, str]]:
        """(path, text) of the documents a lookup in `uri` may read under `scope` (the setting),
        for repository context (server/retrieval.py): `uri`'s own first, then the other open
        tabs, then the workspace files nearest to it, at most `limit`. The path is relative to
        its workspace folder (the file name outside one). Empty when `uri` is not open."""
        with self._lock:
            document = self._open.get(uri)
            if scope == "off" or document is None:
                return []
            found: list[tuple[str, object]] = [(uri, document)]
            if scope in ("tabs", "workspace"):
                found += [
                    (u, d)
                    for u, d in self._open.items()
                    if d is not document and u not in self._ignored_open and _same(d, document)
                ]
            if scope == "workspace":
                open_paths = set(self._open_paths.values())
                for file_uri in self._nearest(uri):
                    if len(found) >= limit:
                        break
                    file = self._files[file_uri]
                    if file_uri not in self._open and file.path not in open_paths:
                        found += [(file_uri, file)] if _same(file, document) else []
            texts = []
            for found_uri, source in found[:limit]:
                path = path_of(found_uri)
                relative = next(
                    (r for s in self._scanners if path and (r := s.relative(path))), None
                )
                name = relative or (path.name if path else found_uri)
                texts.append((name, source.text))  # type: ignore[attr-defined]
            return texts


def _same(other: object, document: OpenDocument) -> bool:
    """Same language as the current document (or either unknown)."""
    language = getattr(other, "language", None)
    return language is None or document.language is None or language == document.language
