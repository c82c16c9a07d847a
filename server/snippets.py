"""Code from the user's other files, written into a prompt the way the local model was trained.

A context-trained model (`training.finetune --repo_context`) saw, before each window of a file,
a few retrieved snippets, each under a `# Path:` comment line, then the path of the file itself:

    # Path: pkg/other.py
    <snippet lines, verbatim>
    # Path: pkg/this.py
    <the file's own text up to the cursor>

The server writes exactly this before the prefix of a model whose config says it was trained for
it (`CONTEXT_FORMAT`), so training and serving agree byte for byte; a model without it gets no
context. The snippets stay verbatim (not commented out) so the model copies them token for token.
Torch-free: the server's prompt builder and the training data both import it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# The value a context-trained model carries in its config as `repo_context`.
CONTEXT_FORMAT = "path-comments-v1"

# Retrieval, the same in training (training/code_model/repo_context.py) and in the server
# (server/retrieval.py): windows of CHUNK_LINES lines every CHUNK_STRIDE lines, kept when their
# Jaccard similarity to the code is at least MIN_SIMILARITY.
CHUNK_LINES = 10  # a snippet: about a statement block
CHUNK_STRIDE = 5
MIN_SIMILARITY = 0.15

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")


@dataclass(frozen=True)
class Snippet:
    """A few lines of another file (or of the same file, away from the cursor)."""

    path: str
    text: str


@dataclass(frozen=True)
class Chunk:
    path: str
    start_line: int
    text: str
    words: frozenset[str]


def chunks_of(
    path: str,
    text: str,
    words_of: Callable[[str], frozenset[str]] | None = None,
    lines: Sequence[str] | None = None,
    start: int = 0,
) -> list[Chunk]:
    """Overlapping windows of CHUNK_LINES lines; nearly empty ones are left out. `words_of`
    (default `words`) lets the server reuse the words of chunks it has seen before; `lines`
    (`text` split with their ends) and `start` (a multiple of CHUNK_STRIDE) let it rechunk a
    document from its first changed window on."""
    words_of = words_of or words
    lines = text.splitlines(keepends=True) if lines is None else lines
    chunks = []
    for first in range(start, max(1, len(lines) - CHUNK_STRIDE), CHUNK_STRIDE):
        window = lines[first : first + CHUNK_LINES]
        if sum(1 for line in window if line.strip()) >= 3:
            piece = "".join(window)
            chunks.append(Chunk(path, first, piece, words_of(piece)))
    return chunks


def unchanged_chunks(chunks: list[Chunk], old: Sequence[str], new: Sequence[str]) -> int:
    """How many of `chunks` (of the lines `old`) lie wholly in the lines that `new` starts with
    too; `chunks_of(..., start=...)` goes on from the next window."""
    same = common_lines(old, new)
    return next((n for n, c in enumerate(chunks) if c.start_line + CHUNK_LINES > same), len(chunks))


def common_lines(old: Sequence[str], new: Sequence[str]) -> int:
    """The number of leading lines two documents share (list comparisons: C speed)."""
    low, high = 0, min(len(old), len(new))
    while low < high:
        middle = (low + high + 1) // 2
        if old[low:middle] == new[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def fit(snippets: Sequence[Snippet], max_chars: int) -> tuple[Snippet, ...]:
    """The snippets (least similar first) that fill `max_chars`, as training fills its budget:
    the most similar first, each that still fits, until the budget is spent; order kept."""
    kept: list[Snippet] = []
    budget = max_chars
    for snippet in reversed(snippets):
        if budget <= 0:
            break
        if len(snippet.text) <= budget:
            kept.append(snippet)
            budget -= len(snippet.text)
    return tuple(reversed(kept))


def new_lines_only(snippets: Sequence[Snippet], text: str) -> tuple[Snippet, ...]:
    """The snippets with a line that `text` lacks (whitespace aside): a snippet whose every line
    is already in the prompt tells the model nothing and only takes room."""
    seen = {line.strip() for line in text.split("\n")}
    return tuple(
        snippet
        for snippet in snippets
        if any(line.strip() not in seen for line in snippet.text.split("\n"))
    )


def format_context(snippets: Sequence[Snippet], current_path: str) -> str:
    """The text placed before the file's own prefix; "" when there is nothing to show."""
    if not snippets:
        return ""
    blocks = [f"# Path: {snippet.path}\n{snippet.text.rstrip(chr(10))}\n" for snippet in snippets]
    return "".join(blocks) + f"# Path: {current_path}\n"


def words(text: str) -> frozenset[str]:
    """The identifiers and numbers of `text`: what retrieval compares."""
    return frozenset(_WORD.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Shared words over all words (Copilot's and RepoCoder's similarity for snippets). The union's
    size is counted, not built: the server scores thousands of chunks per request."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)
