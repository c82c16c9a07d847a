"""Training examples that carry repository context, as the server will serve it.

A 5M-parameter model trained on single files never learned to look back at code placed earlier
in its prompt (issue 20: the very target line 250 tokens back left ES unchanged). These examples
teach it: before a window of a file come snippets retrieved from the same package (sibling
modules) and from the same file outside the window, in `server.snippets.format_context`'s format.

Retrieval ranks candidate chunks by Jaccard similarity of their words to the window, keeps those
above a threshold (most retrievals do not help: Repoformer), and places the most similar last,
nearest the code. Now and then one chunk comes from inside the window itself (the "copy test" of
`training.evaluate`): the plainest lesson that what is in the context may be typed next.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import PurePosixPath

from server.fim import FIM_PREFIX
from server.snippets import (
    CHUNK_LINES,
    MIN_SIMILARITY,
    Chunk,
    Snippet,
    chunks_of,
    fit,
    format_context,
    jaccard,
    words,
)
from training.code_model.sources import SourceFile

SIBLINGS = 4  # other modules of the package looked at per window (the tabs an editor has open)


def folder_of(file: SourceFile) -> str:
    return str(PurePosixPath(file.name).parent)


class RepoContext:
    """Retrieves context for windows of the files of one split, grouped by package."""

    def __init__(
        self,
        files: Sequence[SourceFile],
        max_chars: int,
        self_copy_rate: float = 0.25,
    ) -> None:
        self.max_chars = max_chars
        self.self_copy_rate = self_copy_rate
        self.by_text = {file.text: file for file in files}
        self.by_name = {file.name: file for file in files}
        self.groups: dict[str, list[SourceFile]] = defaultdict(list)
        self.folders: dict[tuple[str, str], list[SourceFile]] = defaultdict(list)
        for file in files:
            self.groups[file.group or file.name].append(file)
            self.folders[(file.group or file.name, folder_of(file))].append(file)
        self._chunks = lru_cache(maxsize=4096)(self._chunk_file)

    def _chunk_file(self, name: str) -> list[Chunk]:
        file = self.by_name[name]
        return chunks_of(file.name, file.text)

    def siblings(self, file: SourceFile, rng: random.Random) -> list[SourceFile]:
        """Up to SIBLINGS other files of the package, those of the same folder first (sampled:
        a package may hold thousands of files, and this runs for every window)."""
        group = file.group or file.name
        near = [other for other in self.folders[(group, folder_of(file))] if other is not file]
        chosen = rng.sample(near, min(SIBLINGS, len(near)))
        others = self.groups[group]
        for _ in range(4 * SIBLINGS):  # a few draws from the package fill the rest
            if len(chosen) >= SIBLINGS or len(others) <= len(chosen) + 1:
                break
            other = others[rng.randrange(len(others))]
            if other is not file and other not in chosen:
                chosen.append(other)
        return chosen

    def snippets(self, file: SourceFile, start: int, end: int, rng: random.Random) -> list[Snippet]:
        """Context for the window `file.text[start:end]`, least similar first."""
        window = file.text[start:end]
        window_words = words(window)
        first_line = file.text.count("\n", 0, start)
        last_line = first_line + window.count("\n")
        candidates = [
            chunk
            for chunk in self._chunks(file.name)
            if chunk.start_line + CHUNK_LINES <= first_line or chunk.start_line > last_line
        ]
        for sibling in self.siblings(file, rng):
            candidates += self._chunks(sibling.name)
        scored = [(jaccard(window_words, chunk.words), chunk) for chunk in candidates]
        similar = [
            chunk
            for similarity, chunk in sorted(scored, key=lambda pair: pair[0])
            if similarity >= MIN_SIMILARITY
        ]  # least similar first, as `fit` takes them
        chosen: list[Snippet] = []
        budget = self.max_chars
        if rng.random() < self.self_copy_rate:
            inside = chunks_of(file.name, window)
            if inside:
                chunk = rng.choice(inside)
                chosen.append(Snippet(file.name, chunk.text))
                budget -= len(chunk.text)
        chosen += fit([Snippet(chunk.path, chunk.text) for chunk in similar], budget)
        return sorted(chosen, key=lambda snippet: jaccard(window_words, words(snippet.text)))

    def example(self, document: str, start: int, end: int, piece: str, rng: random.Random) -> str:
        """`piece` (the window `document[start:end]`, maybe FIM-reordered) with context before it.

        Documents not in the split's files (functions, records) come back unchanged.
        """
        file = self.by_text.get(document)
        if file is None:
            return piece
        context = format_context(self.snippets(file, start, end, rng), file.name)
        if piece.startswith(FIM_PREFIX):  # the context belongs to the prefix, as in the server
            return FIM_PREFIX + context + piece[len(FIM_PREFIX) :]
        return context + piece
