"""server/answer_cache.py: the LRU of answers and typing-through."""

from __future__ import annotations

from server.answer_cache import AnswerCache, TypingThrough
from server.contract import GenerationSettings


def test_answer_cache_is_lru():
    cache = AnswerCache(size=2)
    settings = GenerationSettings()
    cache.put("a", "", settings, "1")
    cache.put("b", "", settings, "2")
    assert cache.get("a", "", settings) == "1"  # now most recent
    cache.put("c", "", settings, "3")
    assert cache.get("b", "", settings) is None
    assert cache.get("a", "", settings) == "1"
    assert cache.get("a", "", GenerationSettings(temperature=0.5)) is None


def test_typing_through_answers_the_rest_of_the_shown_suggestion():
    typing = TypingThrough()
    typing.remember("u", "x = ", "\n", "foo(1)")
    assert typing.rest("u", "x = fo", "\n") == "o(1)"
    assert typing.rest("u", "x = fa", "\n") is None  # typed something else
    assert typing.rest("u", "x = foo(1)", "\n") is None  # typed all of it
    assert typing.rest("u", "x = fo", "other") is None  # the text after changed
    assert typing.rest("other", "x = fo", "\n") is None
    typing.forget("u")
    assert typing.rest("u", "x = fo", "\n") is None
