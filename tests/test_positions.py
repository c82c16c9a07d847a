"""server/positions.py: LSP positions to string offsets."""

from __future__ import annotations

from server.positions import index_to_column, offset_at

TEXT = 'a = "😀"; b\r\nsecond\rthird\nlast'


def test_offsets_count_utf16_code_units():
    line = 'a = "😀"; b'
    column_after_b = len(line.encode("utf-16-le")) // 2
    assert offset_at(TEXT, 0, column_after_b) == len(line)
    assert offset_at(TEXT, 0, 5) == 5  # before the emoji
    assert offset_at(TEXT, 0, 7) == 6  # after it: 2 units, 1 character
    assert offset_at(TEXT, 0, column_after_b, "utf-32") == len(line)  # clamped
    assert offset_at(TEXT, 0, 9, "utf-8") == 6  # the emoji is 4 bytes
    assert index_to_column(line, len(line)) == column_after_b


def test_offsets_handle_every_line_break_and_clamp():
    assert TEXT[offset_at(TEXT, 1, 0) :].startswith("second")
    assert TEXT[offset_at(TEXT, 2, 0) :].startswith("third")
    assert TEXT[offset_at(TEXT, 3, 2) :] == "st"
    assert offset_at(TEXT, 1, 999) == TEXT.index("\rthird")  # past the line's end
    assert offset_at(TEXT, 99, 0) == len(TEXT)  # past the document's end
    assert offset_at(TEXT, -1, -5) == 0
    assert offset_at("", 0, 3) == 0
