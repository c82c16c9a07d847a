"""What a post-processing rule may look at: the text around the cursor, and the line mode."""

from __future__ import annotations

from dataclasses import dataclass


def indentation(line: str) -> int:
    """The width of a line's leading whitespace (a tab counts as one column, as Python's own)."""
    return len(line) - len(line.lstrip(" \t"))


@dataclass(frozen=True)
class EditContext:
    """The document around the cursor. `multiline` False means: a single line of suggestion."""

    prefix: str
    suffix: str
    multiline: bool = False

    @property
    def line_prefix(self) -> str:
        """The cursor's line up to the cursor."""
        return self.prefix[self.prefix.rfind("\n") + 1 :]

    @property
    def rest_of_line(self) -> str:
        """The cursor's line after the cursor (what ends up after the suggestion's last line)."""
        end = self.suffix.find("\n")
        return self.suffix if end < 0 else self.suffix[:end]

    @property
    def following_lines(self) -> list[str]:
        """The lines below the cursor's line."""
        end = self.suffix.find("\n")
        return [] if end < 0 else self.suffix[end + 1 :].split("\n")

    @property
    def opens_block(self) -> bool:
        """The cursor's line ends a block opener such as `def f():` (the cursor at its end)."""
        return self.line_prefix.rstrip().endswith(":") and not self.rest_of_line.strip()

    @property
    def block_indent(self) -> int:
        """The indentation of the cursor's block: lines of the suggestion indented less leave it."""
        line = self.line_prefix
        base = len(line) if not line.strip() else indentation(line)
        return base + 1 if self.opens_block else base
