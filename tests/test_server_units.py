"""Pure parts of the server: positions, settings, answer caches, statistics."""

from __future__ import annotations

from server.answer_cache import AnswerCache, TypingThrough
from server.generation import GenerationSettings
from server.positions import index_to_column, offset_at
from server.postprocess.context import EditContext
from server.settings import ServerSettings, apply_settings, generation_settings, wants_multiline
from server.stats import ServerStats, percentile

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


def test_settings_accept_nested_and_flat_forms():
    nested, problems = apply_settings(ServerSettings(), {"nanopilot": {"topP": 0.5}})
    flat, _ = apply_settings(ServerSettings(), {"maxNewTokens": 10, "multiline": "never"})
    assert problems == []
    assert nested.top_p == 0.5
    assert (flat.max_new_tokens, flat.multiline) == (10, "never")
    assert apply_settings(ServerSettings(), None) == (ServerSettings(), [])


def test_bad_setting_keeps_the_old_value_and_applies_the_rest():
    current = ServerSettings(temperature=0.3)
    raw = {"temperature": "hot", "maxNewTokens": True, "device": "tpu", "enable": False}
    updated, problems = apply_settings(current, raw)
    assert updated.temperature == 0.3
    assert updated.max_new_tokens == current.max_new_tokens
    assert updated.device == "auto"
    assert updated.enable is False
    assert len(problems) == 3
    assert "nanopilot.temperature" in problems[0] and "keeping 0.3" in problems[0]


def test_multiline_modes():
    blank_line = EditContext("def f():\n    ", "\n")
    opener = EditContext("def f():", "\n")
    mid_line = EditContext("x = f(", ")\n")
    end_of_statement = EditContext("x = 1", "\n")
    assert wants_multiline("auto", blank_line) and wants_multiline("auto", opener)
    assert not wants_multiline("auto", mid_line)
    assert not wants_multiline("auto", end_of_statement)
    assert wants_multiline("always", end_of_statement)
    assert not wants_multiline("always", mid_line)
    assert not wants_multiline("never", blank_line)
    settings = generation_settings(ServerSettings(temperature=0.0), "def f():", "")
    assert settings == GenerationSettings(0.0, 0.95, 48, True, 1024, use_suffix=False)


def test_use_suffix_setting_reaches_generation():
    updated, problems = apply_settings(ServerSettings(), {"useSuffix": True})
    assert problems == [] and updated.use_suffix is True
    assert generation_settings(updated, "x = ", "\n").use_suffix is True
    _, problems = apply_settings(updated, {"useSuffix": "yes"})
    assert problems == ["nanopilot.useSuffix = 'yes' must be true or false; keeping True"]


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


def test_stats_summary():
    stats = ServerStats()
    for value in range(1, 101):
        stats.record(float(value))
    stats.lru_hits, stats.typing_hits = 10, 15
    summary = stats.summary()
    assert summary["latencyMsP50"] == 50.0
    assert summary["latencyMsP95"] == 95.0
    assert summary["cacheHitRate"] == 0.25
    assert percentile([], 0.5) is None
