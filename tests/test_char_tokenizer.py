from __future__ import annotations

from pathlib import Path

import pytest

from training.char_model.data import read_text
from training.char_model.tokenizer import CharTokenizer


def test_round_trip_on_alice(alice_text_path: Path) -> None:
    text = read_text(alice_text_path)
    tokenizer = CharTokenizer.from_text(text)
    ids = tokenizer.encode(text)
    assert len(ids) == len(text)
    assert tokenizer.decode(ids) == text
    assert tokenizer.vocab_size == len(set(text))
    assert max(ids) == tokenizer.vocab_size - 1


def test_vocabulary_is_sorted_and_survives_a_save() -> None:
    tokenizer = CharTokenizer.from_text("hello world")
    assert tokenizer.to_list() == sorted(set("hello world"))
    restored = CharTokenizer(tokenizer.to_list())
    assert restored.encode("world") == tokenizer.encode("world")


def test_unknown_characters_are_named() -> None:
    with pytest.raises(ValueError, match="'xz'"):
        CharTokenizer.from_text("abc").encode("axbz")


@pytest.mark.parametrize("chars", [[], ["a", "a"], ["ab"]])
def test_bad_vocabularies_are_rejected(chars: list[str]) -> None:
    with pytest.raises(ValueError):
        CharTokenizer(chars)
