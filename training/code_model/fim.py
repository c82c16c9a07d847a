"""Fill-in-the-middle (FIM) training examples: cut a gap out of a text, reorder it as PSM.

The token names and `fim_token_ids` are the server's (`server.fim`): the server must detect a FIM
model without importing training code. `training.finetune` adds the tokens when `--fim_rate > 0`.
"""

from __future__ import annotations

import random

from server.fim import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX


def to_psm(prefix: str, middle: str, suffix: str) -> str:
    """One FIM training example in prefix-suffix-middle order (the EOS is added when packing)."""
    return f"{FIM_PREFIX}{prefix}{FIM_SUFFIX}{suffix}{FIM_MIDDLE}{middle}"


FIM_MODES = ("line", "char")


def line_cut(text: str, rng: random.Random) -> tuple[int, int]:
    """A gap the editor asks to fill: from a cursor in a line to the end of that line or a few
    lines later. Half the cursors stand after the indentation (a statement start), half at a
    random character inside the line (mid-line)."""
    starts = [0, *(i + 1 for i, char in enumerate(text) if char == "\n" and i + 1 < len(text))]
    line_start = rng.choice(starts)
    line_end = text.find("\n", line_start)
    line_end = len(text) if line_end < 0 else line_end
    line = text[line_start:line_end]
    indent = len(line) - len(line.lstrip())
    if rng.random() < 0.5 or indent == len(line):
        cursor = line_start + indent
    else:
        cursor = rng.randrange(line_start + indent, line_end + 1)
    end = line_end
    for _ in range(rng.choice((0, 0, 1, 2, 4))):  # more lines now and then: a block
        next_end = text.find("\n", end + 1)
        end = len(text) if next_end < 0 else next_end
    return cursor, end


def char_cut(text: str, rng: random.Random) -> tuple[int, int]:
    """Two random characters (Bavarian et al. 2022, section 4)."""
    start, end = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    return start, end


def fim_transform(text: str, rng: random.Random, fim_rate: float, mode: str = "line") -> str:
    """With probability `fim_rate`, cut a gap out of `text` and reorder it as PSM.

    `line` cuts where an editor's cursor stands (`line_cut`), `char` at two random characters.
    """
    if rng.random() >= fim_rate or not text:
        return text
    start, end = line_cut(text, rng) if mode == "line" else char_cut(text, rng)
    return to_psm(text[:start], text[start:end], text[end:])
