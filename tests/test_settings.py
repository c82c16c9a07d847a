"""server/settings.py: validation per value; the line mode decided per request (context.py); the
`nanopilot.engine` object (server/remote/settings.py)."""

from __future__ import annotations

import pytest

from server.contract import GenerationSettings
from server.postprocess.context import EditContext, wants_multiline
from server.remote.settings import EngineSettings, parse_engine
from server.settings import ServerSettings, apply_settings


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


def test_the_decoder_setting_is_one_of_the_decoders():
    chosen, problems = apply_settings(ServerSettings(), {"decoder": "onnx"})
    assert chosen.decoder == "onnx" and problems == []
    kept, problems = apply_settings(chosen, {"decoder": "fast"})
    assert kept.decoder == "onnx"
    assert problems == ["nanopilot.decoder = 'fast' must be one of auto, lean, onnx, huggingface; "
                        "keeping 'onnx'"]  # fmt: skip


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
    settings = ServerSettings(temperature=0.0).generation
    assert settings == GenerationSettings(0.0, 0.95, 48, "auto", None, use_suffix=False)
    assert EditContext.for_request("def f():", "", settings.multiline).multiline is True


def test_use_suffix_setting_reaches_generation():
    updated, problems = apply_settings(ServerSettings(), {"useSuffix": True})
    assert problems == [] and updated.use_suffix is True
    assert updated.generation.use_suffix is True
    _, problems = apply_settings(updated, {"useSuffix": "yes"})
    assert problems == ["nanopilot.useSuffix = 'yes' must be true or false; keeping True"]


def test_engine_setting_is_parsed_and_checked():
    engine = parse_engine(
        {
            "kind": "openai",
            "url": "http://gpu:8000/",
            "model": "m",
            "apiKeyEnv": "MY_KEY",
            "fimTemplate": "qwen2.5-coder",
            "timeoutMs": 2000,
        }
    )
    expected = EngineSettings("openai", "http://gpu:8000", "m", "MY_KEY", "qwen2.5-coder", 2000)
    assert engine == expected
    assert EngineSettings(kind="ollama").base_url == "http://127.0.0.1:11434"
    for bad, says in [
        ({"kind": "tgi"}, "kind must be one of"),
        ({"url": "gpu:8000"}, "url must look like"),
        ({"apiKeyEnv": "sk-123 secret"}, "not the key"),
        ({"fimTemplate": "<PRE>{suffix}"}, "{prefix}"),
        ({"timeoutMs": 5}, "timeoutMs"),
        ({"kinds": "local"}, "unknown key 'kinds'"),
        ("llamacpp", "must be an object"),
    ]:
        with pytest.raises(ValueError, match=says):
            parse_engine(bad)


def test_a_bad_engine_setting_is_reported_and_the_previous_kept():
    current = ServerSettings(engine=EngineSettings(kind="llamacpp"))
    updated, problems = apply_settings(current, {"nanopilot": {"engine": {"kind": "x"}}})
    assert updated.engine.kind == "llamacpp"
    assert len(problems) == 1 and problems[0].startswith("nanopilot.engine = ")


def test_the_generation_defaults_are_the_served_ones():
    """One set of defaults: an engine built with GenerationSettings() runs what users get."""
    assert ServerSettings().generation == GenerationSettings()
    assert GenerationSettings().multiline == "auto" and GenerationSettings().use_suffix is False


def test_context_settings_reach_generation_and_are_checked():
    updated, problems = apply_settings(ServerSettings(), {"context": False, "contextShare": 0.2})
    assert problems == [] and updated.context is False and updated.generation.context_share == 0.2
    _, problems = apply_settings(updated, {"contextShare": 0.95, "context": "no"})
    assert problems == [
        "nanopilot.contextShare = 0.95 must be from 0.0 to 0.9; keeping 0.2",
        "nanopilot.context = 'no' must be true or false; keeping False",
    ]
