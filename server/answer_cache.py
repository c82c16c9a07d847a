"""Answers without the model: a small LRU of recent answers, and typing-through.

Typing-through: while the user types exactly the characters the shown suggestion begins with,
the rest of that suggestion is still right; answer it at once instead of asking the model again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from server.contract import GenerationSettings


class AnswerCache:
    """Least recently used answers, keyed by the text around the cursor and the settings."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._answers: OrderedDict[tuple, str] = OrderedDict()

    @staticmethod
    def _key(prefix: str, suffix: str, settings: GenerationSettings) -> tuple:
        # Hashes, not the texts: a 1 MB document must not be kept 256 times.
        return (len(prefix), hash(prefix), hash(suffix), settings)

    def get(self, prefix: str, suffix: str, settings: GenerationSettings) -> str | None:
        key = self._key(prefix, suffix, settings)
        if key not in self._answers:
            return None
        self._answers.move_to_end(key)
        return self._answers[key]

    def put(self, prefix: str, suffix: str, settings: GenerationSettings, answer: str) -> None:
        self._answers[self._key(prefix, suffix, settings)] = answer
        self._answers.move_to_end(self._key(prefix, suffix, settings))
        while len(self._answers) > self._size:
            self._answers.popitem(last=False)


@dataclass(frozen=True)
class _Shown:
    prefix: str
    suffix: str
    suggestion: str


class TypingThrough:
    """The last suggestion shown in each document."""

    def __init__(self) -> None:
        self._shown: dict[str, _Shown] = {}

    def remember(self, uri: str, prefix: str, suffix: str, suggestion: str) -> None:
        if suggestion:
            self._shown[uri] = _Shown(prefix, suffix, suggestion)

    def forget(self, uri: str) -> None:
        self._shown.pop(uri, None)

    def rest(self, uri: str, prefix: str, suffix: str) -> str | None:
        """The rest of the shown suggestion if the user has typed its beginning, else None."""
        shown = self._shown.get(uri)
        if shown is None or suffix != shown.suffix or len(prefix) < len(shown.prefix):
            return None
        if not prefix.startswith(shown.prefix):
            return None
        typed = prefix[len(shown.prefix) :]
        if typed and len(typed) < len(shown.suggestion) and shown.suggestion.startswith(typed):
            return shown.suggestion[len(typed) :]
        return None
