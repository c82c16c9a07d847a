"""Character-level tokenizer: every distinct character of the training text is one token.

The vocabulary is saved inside the checkpoint (`to_list`, then `CharTokenizer(chars)`), so a
model is always decoded with the characters it was trained on.
"""

from __future__ import annotations

from collections.abc import Iterable


class CharTokenizer:
    def __init__(self, chars: Iterable[str]) -> None:
        self.chars: list[str] = list(chars)
        if not self.chars:
            raise ValueError("a character vocabulary needs at least one character")
        if any(len(c) != 1 for c in self.chars) or len(set(self.chars)) != len(self.chars):
            raise ValueError("a character vocabulary must be distinct single characters")
        self._ids = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The vocabulary of `text`: its distinct characters, sorted."""
        return cls(sorted(set(text)))

    def to_list(self) -> list[str]:
        return list(self.chars)

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        unknown = sorted(set(text) - self._ids.keys())
        if unknown:
            raise ValueError(f"characters not in the vocabulary: {''.join(unknown)!r}")
        return [self._ids[c] for c in text]

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.chars[i] for i in ids)
