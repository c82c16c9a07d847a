"""The fill-in-the-middle transform: PSM order, round trip, rate."""

from __future__ import annotations

import random

from server.fim import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from training.code_model.fim import fim_transform, to_psm

TEXT = "def add(a, b):\n    total = a + b\n    return total\n"


def undo_psm(example: str) -> str:
    """The original text back from `<fim_prefix>P<fim_suffix>S<fim_middle>M`."""
    assert example.startswith(FIM_PREFIX)
    prefix, _, rest = example.removeprefix(FIM_PREFIX).partition(FIM_SUFFIX)
    suffix, _, middle = rest.partition(FIM_MIDDLE)
    return prefix + middle + suffix


def test_psm_order():
    assert to_psm("P", "M", "S") == f"{FIM_PREFIX}P{FIM_SUFFIX}S{FIM_MIDDLE}M"


def test_fim_transform_round_trips_to_the_original_text():
    rng = random.Random(0)
    for _ in range(200):
        example = fim_transform(TEXT, rng, fim_rate=1.0, mode="char")
        assert example != TEXT
        assert undo_psm(example) == TEXT


def test_line_cuts_start_where_a_cursor_stands_and_end_at_a_line_end():
    rng = random.Random(2)
    for _ in range(200):
        example = fim_transform(TEXT, rng, fim_rate=1.0, mode="line")
        assert undo_psm(example) == TEXT
        prefix = example.removeprefix(FIM_PREFIX).partition(FIM_SUFFIX)[0]
        middle = example.partition(FIM_MIDDLE)[2]
        suffix = example.partition(FIM_SUFFIX)[2].partition(FIM_MIDDLE)[0]
        assert suffix == "" or suffix.startswith("\n")  # the gap ends at a line end
        assert middle == "" or not prefix.endswith(" " * 5)  # never inside the indentation


def test_fim_rate_zero_leaves_text_alone_and_half_transforms_about_half():
    rng = random.Random(1)
    assert all(fim_transform(TEXT, rng, 0.0) == TEXT for _ in range(100))
    transformed = sum(fim_transform(TEXT, rng, 0.5) != TEXT for _ in range(1000))
    assert 400 < transformed < 600
