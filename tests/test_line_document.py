"""server/line_document.py: open documents as lines, LSP positions in code units, edits."""

from __future__ import annotations

import random

import pytest
from lsprotocol import types

from server.line_document import Edit, LineDocument, split_lines
from server.positions import index_to_column
from server.project.documents import OpenDocument

TEXT = 'a = "😀"; b\r\nsecond\rthird\nlast'


def document(text: str, encoding: str = "utf-16") -> LineDocument:
    return LineDocument("file:///t.py", text, 1, "python", encoding)


def before(doc: LineDocument, line: int, column: int) -> str:
    return doc.split(line, column)[0]


def test_columns_count_the_agreed_code_units():
    line = 'a = "😀"; b'
    column_after_b = len(line.encode("utf-16-le")) // 2
    assert before(document(TEXT), 0, column_after_b) == line
    assert before(document(TEXT), 0, 5) == line[:5]  # before the emoji
    assert before(document(TEXT), 0, 7) == line[:6]  # after it: 2 units, 1 character
    assert before(document(TEXT, "utf-32"), 0, column_after_b) == line  # clamped
    assert before(document(TEXT, "utf-8"), 0, 9) == line[:6]  # the emoji is 4 bytes
    assert index_to_column(line, len(line)) == column_after_b


def test_every_line_break_counts_and_positions_are_clamped():
    doc = document(TEXT)
    assert doc.split(1, 0)[1].startswith("second")
    assert doc.split(2, 0)[1].startswith("third")
    assert doc.split(3, 2) == (TEXT[:-2], "st")
    assert before(doc, 1, 999) == TEXT[: TEXT.index("\rthird")]  # past the line's end
    assert doc.split(99, 0) == (TEXT, "")  # past the document's end
    assert document("").split(0, 3) == ("", "")
    assert split_lines("a\n") == ["a\n", ""]  # the cursor can stand after the last break
    assert doc.source == TEXT and "".join(doc.lines) == TEXT


def apply(text: str, start: int, end: int, new: str) -> str:
    return text[:start] + new + text[end:]


def position(text: str, offset: int) -> types.Position:
    lines = split_lines(text[:offset])
    return types.Position(len(lines) - 1, index_to_column(lines[-1], len(lines[-1])))


@pytest.mark.parametrize("seed", range(5))
def test_random_edits_give_the_text_the_string_edits_give(seed):
    """Typing, deleting and pasting, with \\r\\n, emoji and edits across lines: the document and
    the index's copy (which follows the edits' ranges) both end as the plain string does."""
    rng = random.Random(seed)
    text = "def f(x):\r\n    return '😀' + x\n\nclass A:\n    pass\n"
    doc = document(text)
    index_copy = OpenDocument("file:///t.py", text)
    pieces = ["a", "\n", "😀", "  ", "x = 1\ny = 2\n", "", "\r\n"]
    for _ in range(60):
        start = rng.randrange(len(text) + 1)
        end = min(len(text), start + rng.choice([0, 0, 1, 3, 12]))
        if text[start - 1 : start + 1] == "\r\n" or text[end - 1 : end + 1] == "\r\n":
            continue  # a position is never inside a line break
        new = rng.choice(pieces)
        span = types.Range(position(text, start), position(text, end))
        doc.apply_change(types.TextDocumentContentChangePartial(range=span, text=new))
        text = apply(text, start, end, new)
        assert doc.source == text
        for edit in doc.take_edits():
            index_copy.edit(edit.start, edit.end, edit.text)
        assert index_copy.text == text


def test_a_full_change_or_a_lone_cr_sends_the_index_the_whole_text_once():
    here = types.Range(types.Position(0, 1), types.Position(0, 1))
    doc = document("a\nb")
    doc.apply_change(types.TextDocumentContentChangeWholeDocument(text="x\ny"))
    assert doc.take_edits() is None and doc.source == "x\ny"
    doc.apply_change(types.TextDocumentContentChangePartial(range=here, text="!"))
    assert doc.take_edits() == [Edit((0, 1), (0, 1), "!")]  # in step again: ranges
    assert doc.take_edits() == []  # taken
    doc.apply_change(types.TextDocumentContentChangePartial(range=here, text="\r"))
    assert doc.take_edits() is None and doc.source == "x\r!\ny"
    doc.apply_change(types.TextDocumentContentChangePartial(range=here, text="?"))
    assert doc.take_edits() is None  # while a lone \r breaks a line
    gone = types.Range(types.Position(0, 1), types.Position(1, 0))
    doc.apply_change(types.TextDocumentContentChangePartial(range=gone, text=""))
    assert doc.take_edits() is None and doc.source == "x!\ny"
    doc.apply_change(types.TextDocumentContentChangePartial(range=here, text="-"))
    assert doc.take_edits() == [Edit((0, 1), (0, 1), "-")]
