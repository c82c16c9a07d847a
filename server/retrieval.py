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

While a line is typed nothing that retrieval reads changes: the query leaves the line out, the
current document's chunks near the cursor are left out, and the other documents are not being
edited. So the answer is kept for the line and given again until the cursor's line, the query or
another document changes (`ProjectIndex.revision`). Otherwise chunks are cached per document
text, words per chunk text and scores per query: a new line rechunks and rescores only the
current document, and reads the words of only the chunks it changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.project import ProjectIndex
from server.snippets import (
    CHUNK_LINES,
    MIN_SIMILARITY,
    Chunk,
    Snippet,
    chunks_of,
    jaccard,
    new_lines_only,
    words,
)

QUERY_LINES = 15  # lines above the cursor's line that retrieval compares with
# The current document's lines around the cursor whose chunks are left out (in the prompt
# already, or about to be typed); its chunks beyond them are context like any other file's.
NEAR_ABOVE = 40
NEAR_BELOW = 10
MAX_DOCUMENTS = 64  # documents searched per request: the current one, the tabs, the nearest files
MAX_SNIPPETS = 32  # candidates handed to the engine, which keeps what fits its budget
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
    """A document's chunks, and their scores for the last query (the same while a line is
    typed: only the current document, which changed, is scored again)."""

    text: str
    chunks: list[Chunk]
    query: frozenset[str] = frozenset()
    scored: list[tuple[float, Chunk]] = field(default_factory=list)


class Retriever:
    """Context for requests, from what `index` holds; one per language server."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self._documents: dict[str, _Document] = {}  # by path
        self._words: dict[str, frozenset[str]] = {}  # chunk text -> its words
        self._last: tuple[tuple, Retrieved] | None = None  # the answer for the line being typed

    def retrieve(self, uri: str, prefix: str, scope: str) -> Retrieved:
        """The context for the cursor at the end of `prefix` in the open document `uri`."""
        line = prefix.count("\n")
        query_text = lines_before(prefix, QUERY_LINES)
        key = (uri, scope, line, query_text, self.index.revision(excluding=uri))
        if self._last is None or self._last[0] != key:
            self._last = key, self._retrieve(uri, prefix, scope, line, words(query_text))
        return self._last[1]

    def _retrieve(
        self, uri: str, prefix: str, scope: str, line: int, query: frozenset[str]
    ) -> Retrieved:
        texts = self.index.texts(uri, scope, MAX_DOCUMENTS)
        if not texts:
            return Retrieved()
        scored = [
            (score, chunk)
            for score, chunk in self._scored(*texts[0], query)
            if chunk.start_line + CHUNK_LINES <= line - NEAR_ABOVE
            or chunk.start_line > line + NEAR_BELOW
        ]
        for path, text in texts[1:]:
            scored += self._scored(path, text, query)
        scored.sort(key=lambda pair: -pair[0])  # stable: documents in the index's order
        kept = [(score, Snippet(c.path, c.text)) for score, c in scored]
        near = lines_before(prefix, NEAR_ABOVE)
        new = set(new_lines_only([snippet for _, snippet in kept], near))
        best = [(score, snippet) for score, snippet in kept if snippet in new][:MAX_SNIPPETS]
        best.sort(key=lambda pair: pair[0])  # least similar first; stable, as in training
        return Retrieved(texts[0][0], tuple(snippet for _, snippet in best))

    def _scored(self, path: str, text: str, query: frozenset[str]) -> list[tuple[float, Chunk]]:
        """(similarity, chunk) of the document's chunks at MIN_SIMILARITY or more, in order."""
        cached = self._documents.get(path)
        if cached is not None and cached.text == text:
            if cached.query == query:
                return cached.scored
        else:
            if len(self._words) > _MAX_CACHED_WORDS:
                self._words.clear()
            if len(self._documents) > 4 * MAX_DOCUMENTS:
                self._documents.clear()
            cached = self._documents[path] = _Document(text, chunks_of(path, text, self._words_of))
        size = len(query)
        cached.query = query
        cached.scored = [
            (score, chunk)
            for chunk in cached.chunks
            # |A∩B| / |A∪B| <= min / max of the sizes: rules out some chunks without a set operation
            if size * MIN_SIMILARITY <= len(chunk.words) <= size / MIN_SIMILARITY
            and (score := jaccard(query, chunk.words)) >= MIN_SIMILARITY
        ]
        return cached.scored

    def _words_of(self, text: str) -> frozenset[str]:
        found = self._words.get(text)
        if found is None:
            found = self._words[text] = words(text)
        return found
