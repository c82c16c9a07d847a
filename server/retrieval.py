"""Repository context for one request: windows of the user's code that resemble the code before
the cursor (issue 20), retrieved as the local model's training retrieved them.

Candidates are the chunks (server/snippets.py's `chunks_of`) of the documents the project index
lets a lookup read (`ProjectIndex.texts`: the open tabs and the workspace files, within the
`index` setting and the deny and ignore rules), and of the current document away from the cursor:
the chunks around it are in the prompt already, and the one holding the line being typed would
change with every keystroke. Each is scored by Jaccard similarity of its words to the QUERY_LINES
lines above the cursor's line. That query leaves the typed line out, so the context stays the
same while a line is typed and the key/value cache of the prompt (ours, or a remote server's)
stays reusable. Those below MIN_SIMILARITY are dropped (most retrievals do not help: Repoformer),
as are those whose every line is in the code just above the cursor; the rest come least similar
first, as in training, so the most similar sits nearest the code. Each engine then fills its own
budget from the end (`snippets.fit`).

The context in use is kept while the code above the cursor stays about the same: while a line
is typed (the query leaves the typed line out) and over the next few lines (a query of at least
STICKY_SIMILARITY to the one that chose it), until another document changes
(`ProjectIndex.revision`). A context that changed with every new line changed the start of the
prompt, so the model's key/value cache could not be reused: statement starts in a big workspace
took 80-120 ms instead of 20. When it is recomputed, chunks are cached per document text (a
changed document is rechunked from its first changed window), words per chunk text and scores
per query, and a query is scored against every chunk of a document at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from server.project import ProjectIndex
from server.snippets import (
    CHUNK_LINES,
    CHUNK_STRIDE,
    MIN_SIMILARITY,
    Chunk,
    Snippet,
    chunks_of,
    jaccard,
    new_lines_only,
    unchanged_chunks,
    words,
)

QUERY_LINES = 15  # lines above the cursor's line that retrieval compares with
# The current document's lines around the cursor whose chunks are left out (in the prompt
# already, or about to be typed); its chunks beyond them are context like any other file's.
NEAR_ABOVE = 40
NEAR_BELOW = 10
MAX_DOCUMENTS = 64  # documents searched per request: the current one, the tabs, the nearest files
MAX_SNIPPETS = 32  # candidates handed to the engine, which keeps what fits its budget
# A query this similar to the one that chose the context in use keeps that context (below).
STICKY_SIMILARITY = 0.6
_MAX_CACHED_WORDS = 100_000


@dataclass(frozen=True)
class Retrieved:
    """The context for a request and the current document's path (for its `# Path:` line)."""

    path: str | None = None
    snippets: tuple[Snippet, ...] = ()


def lines_before(prefix: str, count: int) -> str:
    """The `count` whole lines before the line the prefix ends in (that line left out)."""
    end = prefix.rfind("\n")
    start = end
    for _ in range(count):
        if start < 0:
            break
        start = prefix.rfind("\n", 0, start)
    return prefix[start + 1 : end + 1] if end >= 0 else ""


@dataclass
class _Document:
    """A document's chunks, their words as numbers (every chunk's, one after another, with the
    chunk each belongs to), and their scores for the last query (the same while a line is typed:
    only the current document, which changed, is scored again)."""

    text: str
    lines: list[str]
    chunks: list[Chunk]
    word_ids: np.ndarray
    owners: np.ndarray
    sizes: np.ndarray
    query: frozenset[str] | None = None
    scored: list[tuple[float, Chunk]] = field(default_factory=list)

    @classmethod
    def empty(cls) -> _Document:
        nothing = np.zeros(0, dtype=np.int64)
        return cls("", [], [], nothing, nothing, nothing)


class Retriever:
    """Context for requests, from what `index` holds; one per language server."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._documents: dict[str, _Document] = {}  # by path
        self._words: dict[str, frozenset[str]] = {}  # chunk text -> its words
        self._vocabulary: dict[str, int] = {}  # word -> its number
        self._last: tuple[tuple, frozenset[str], Retrieved] | None = None  # the context in use

    def retrieve(self, uri: str, prefix: str, scope: str) -> Retrieved:
        """The context for the cursor at the end of `prefix` in the open document `uri`."""
        query = words(lines_before(prefix, QUERY_LINES))
        key = (uri, scope, self.index.revision(excluding=uri))
        if self._last is not None:
            last_key, last_query, found = self._last
            if last_key == key and jaccard(query, last_query) >= STICKY_SIMILARITY:
                return found
        found = self._retrieve(uri, prefix, scope, prefix.count("\n"), query)
        self._last = key, query, found
        return found

    def _retrieve(
        self, uri: str, prefix: str, scope: str, line: int, query: frozenset[str]
    ) -> Retrieved:
        texts = self.index.texts(uri, scope, MAX_DOCUMENTS)
        if not texts:
            return Retrieved()
        if len(self._words) > _MAX_CACHED_WORDS or len(self._documents) > 4 * MAX_DOCUMENTS:
            self._words.clear()  # and the numbers, which every document's arrays hold
            self._vocabulary.clear()
            self._documents.clear()
        documents = [self._document(path, text) for path, text in texts]
        in_query = self._indicator(query)  # after the chunking, which may add words
        scored = [
            (score, chunk)
            for score, chunk in self._scored(documents[0], query, in_query)
            if chunk.start_line + CHUNK_LINES <= line - NEAR_ABOVE
            or chunk.start_line > line + NEAR_BELOW
        ]
        for document in documents[1:]:
            scored += self._scored(document, query, in_query)
        scored.sort(key=lambda pair: -pair[0])  # stable: documents in the index's order
        kept = [(score, Snippet(c.path, c.text)) for score, c in scored]
        near = lines_before(prefix, NEAR_ABOVE)
        new = set(new_lines_only([snippet for _, snippet in kept], near))
        best = [(score, snippet) for score, snippet in kept if snippet in new][:MAX_SNIPPETS]
        best.sort(key=lambda pair: pair[0])  # least similar first; stable, as in training
        return Retrieved(texts[0][0], tuple(snippet for _, snippet in best))

    def _indicator(self, query: frozenset[str]) -> np.ndarray:
        """1.0 at the number of each query word the documents hold, 0.0 elsewhere."""
        in_query = np.zeros(len(self._vocabulary))
        in_query[[self._vocabulary[w] for w in query if w in self._vocabulary]] = 1.0
        return in_query

    def _scored(
        self, document: _Document, query: frozenset[str], in_query: np.ndarray
    ) -> list[tuple[float, Chunk]]:
        """(similarity, chunk) of the document's chunks at MIN_SIMILARITY or more, in order.

        `snippets.jaccard` for every chunk at once: a new line's query is scored against
        thousands of chunks (a Python loop over them took 13 ms in a 50-tab workspace)."""
        if document.query != query:
            shared = np.bincount(
                document.owners, in_query[document.word_ids], minlength=len(document.chunks)
            )
            union = len(query) + document.sizes - shared
            similarity = np.divide(shared, union, out=np.zeros(len(shared)), where=union > 0)
            chosen = np.flatnonzero(similarity >= MIN_SIMILARITY)
            document.scored = [(float(similarity[i]), document.chunks[i]) for i in chosen]
            document.query = query
        return document.scored

    def _document(self, path: str, text: str) -> _Document:
        """The document's chunks, from the cache while its text is the same."""
        cached = self._documents.get(path)
        if cached is None or cached.text != text:
            cached = self._documents[path] = self._chunked(path, text, cached)
        return cached

    def _chunked(self, path: str, text: str, before: _Document | None) -> _Document:
        """The document's chunks; those of its unchanged first lines, and their word numbers,
        are taken from `before` (a new line at the end of a 10,000-line file rechunked and
        renumbered all of it: 20 ms)."""
        before = before or _Document.empty()
        lines = text.splitlines(keepends=True)
        kept = unchanged_chunks(before.chunks, before.lines, lines)
        start = before.chunks[kept - 1].start_line + CHUNK_STRIDE if kept else 0
        new = chunks_of(path, text, self._words_of, lines, start)
        numbers = self._vocabulary
        new_ids = [numbers.setdefault(w, len(numbers)) for chunk in new for w in chunk.words]
        new_sizes = [len(chunk.words) for chunk in new]
        sizes = np.concatenate([before.sizes[:kept], np.array(new_sizes, dtype=np.int64)])
        kept_ids = before.word_ids[: before.sizes[:kept].sum()]
        word_ids = np.concatenate([kept_ids, np.array(new_ids, dtype=np.int64)])
        owners = np.repeat(np.arange(len(sizes)), sizes)
        return _Document(text, lines, before.chunks[:kept] + new, word_ids, owners, sizes)

    def _words_of(self, text: str) -> frozenset[str]:
        found = self._words.get(text)
        if found is None:
            found = self._words[text] = words(text)
        return found
