"""Remote engines against a scripted fake HTTP engine: request shapes, streaming, stop rule,
cancellation, every kind of fault, one message per outage, recovery; FIM templates and API keys.
The `nanopilot.engine` setting itself is checked in tests/test_settings.py."""

from __future__ import annotations

import dataclasses
import json
import os
import socket

import pytest

from server.contract import Cancelled, CompletionRequest, GenerationSettings
from server.errors import UserError
from server.remote.fim_templates import NAMED, parse_template
from server.remote.kinds import remote_engine
from server.remote.settings import EngineSettings
from tests.fake_engine import FakeEngine, Reply, sse

PREFIX = "def add(a, b):\n    "
GREEDY = GenerationSettings(temperature=0.0, max_new_tokens=16, multiline="never", use_suffix=True)


def llama_tokens(*texts: str, cache_n: int = 0, prompt_n: int = 7) -> list[str]:
    """llama-server's /infill stream: one event per token, then the final `stop` event."""
    timings = {"cache_n": cache_n, "prompt_n": prompt_n - cache_n}
    events = [
        {"content": text, "stop": False, "tokens_evaluated": prompt_n, "timings": timings}
        for text in texts
    ]
    return sse(*events, {"content": "", "stop": True, "tokens_evaluated": prompt_n})


@pytest.fixture
def fake():
    with FakeEngine() as engine:
        yield engine


def engine_for(fake: FakeEngine, kind: str, **fields):
    return remote_engine(EngineSettings(kind=kind, url=fake.url, **fields))


# --- templates and keys ---------------------------------------------------------------------------


def test_fim_templates_keep_the_code_as_is():
    code = "d = {prefix}\n"  # braces in the code itself are not placeholders
    rendered = NAMED["starcoder"].render(code, "}")
    assert rendered == "<fim_prefix>d = {prefix}\n<fim_suffix>}<fim_middle>"
    assert NAMED["codestral"].render("P", "S") == "[SUFFIX]S[PREFIX]P"
    assert NAMED["codellama"].render("P", "S") == "<PRE> P <SUF>S <MID>"
    assert parse_template("<s>{prefix}|{suffix}|").render("a", "b") == "<s>a|b|"
    assert NAMED["starcoder"].render("P", "") == "P"  # no suffix: a plain continuation


def test_the_api_key_comes_from_the_named_variable(monkeypatch):
    monkeypatch.delenv("NANOPILOT_TEST_KEY", raising=False)
    with pytest.raises(UserError, match="NANOPILOT_TEST_KEY is not set"):
        remote_engine(EngineSettings(kind="openai", api_key_env="NANOPILOT_TEST_KEY"))


# --- llama.cpp ----------------------------------------------------------------------------------


async def test_llamacpp_infill_streams_and_stops_at_the_end_of_the_line(fake):
    fake.reply = lambda path, body: (
        Reply(content_type="application/json", lines=[json.dumps({"total_slots": 4})])
        if path == "/props"
        else Reply(lines=llama_tokens("return", " a", " +", " b", "\n", "\n", "def", " f"))
    )
    engine = engine_for(fake, "llamacpp", timeout_ms=5000)
    completion = await engine.complete(CompletionRequest(PREFIX, "\n\nprint(1)\n", GREEDY))
    await engine.aclose()
    assert completion.text == "return a + b"
    assert completion.prompt_tokens == 7 and completion.fault is None
    props, infill = fake.seen
    assert infill.path == "/infill"
    assert infill.body["input_prefix"] == PREFIX
    assert infill.body["input_suffix"] == "\n\nprint(1)\n"
    assert infill.body["id_slot"] == os.getpid() % 4
    assert infill.body["cache_prompt"] is True and infill.body["stream"] is True
    assert infill.body["n_predict"] == 16 and infill.body["t_max_predict_ms"] == 5000
    assert infill.ended().hung_up  # the stop rule fired: the stream was closed, not read to the end


async def test_llamacpp_without_fim_tokens_falls_back_to_completion(fake):
    def reply(path, body):
        if path == "/infill":
            return Reply(501, ['{"error": {"code": 501, "message": "infill: not supported"}}'])
        return Reply(lines=llama_tokens("return a", "\n"))

    fake.reply = reply
    engine = engine_for(fake, "llamacpp")
    for _ in range(2):
        assert (
            await engine.complete(CompletionRequest(PREFIX, "x = 1\n", GREEDY))
        ).text == "return a"
    await engine.aclose()
    paths = [seen.path for seen in fake.seen]
    assert paths == ["/props", "/infill", "/completion", "/completion"]
    assert fake.seen[2].body["prompt"] == PREFIX


async def test_llamacpp_without_a_suffix_continues_the_prefix(fake):
    """No suffix in the prompt: `/completion` with the prefix alone, as the local engine's prompt
    (an `/infill` with an empty suffix would tell the model that the file ends at the cursor)."""
    fake.reply = lambda path, body: Reply(lines=llama_tokens("return a", "\n"))
    engine = engine_for(fake, "llamacpp")
    prefix_only = dataclasses.replace(GREEDY, use_suffix=False)
    assert (
        await engine.complete(CompletionRequest(PREFIX, "x = 1\n", prefix_only))
    ).text == "return a"
    assert (await engine.complete(CompletionRequest(PREFIX, "", GREEDY))).text == "return a"
    await engine.aclose()
    assert [seen.path for seen in fake.seen] == ["/props", "/completion", "/completion"]
    assert fake.seen[1].body["prompt"] == PREFIX


async def test_cancelling_closes_the_stream(fake):
    fake.reply = lambda path, body: Reply(lines=llama_tokens(*["x"] * 50))
    engine = engine_for(fake, "llamacpp")

    def cancelled() -> bool:  # superseded once the answer has started to stream
        return bool(fake.seen) and fake.seen[-1].written >= 4

    with pytest.raises(Cancelled):
        await engine.complete(CompletionRequest(PREFIX, "", GREEDY, cancelled=cancelled))
    await engine.aclose()
    assert fake.seen[-1].ended().hung_up
    assert not engine.health.unreachable  # a cancellation is not a fault


# --- OpenAI-compatible and Ollama ---------------------------------------------------------------


async def test_openai_completions_request_and_stream(fake, monkeypatch):
    monkeypatch.setenv("NANOPILOT_TEST_KEY", "sk-secret")
    fake.reply = lambda path, body: Reply(
        lines=sse(
            {"choices": [{"text": "return a", "index": 0, "finish_reason": None}]},
            {
                "choices": [{"text": " + b", "index": 0, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9},
            },
            "[DONE]",
        )
    )
    engine = engine_for(
        fake,
        "openai",
        model="coder",
        api_key_env="NANOPILOT_TEST_KEY",
        fim_template="qwen2.5-coder",
    )
    completion = await engine.complete(CompletionRequest(PREFIX, "\nx = 1\n", GREEDY))
    await engine.aclose()
    assert completion.text == "return a + b" and completion.prompt_tokens == 9
    (seen,) = fake.seen
    assert seen.path == "/v1/completions"
    assert seen.headers["Authorization"] == "Bearer sk-secret"
    assert seen.body["prompt"] == f"<|fim_prefix|>{PREFIX}<|fim_suffix|>\nx = 1\n<|fim_middle|>"
    assert seen.body["model"] == "coder" and seen.body["max_tokens"] == 16
    assert "suffix" not in seen.body and "<|endoftext|>" in seen.body["stop"]


# Ollama's /api/generate answer in its documented NDJSON shape (no Ollama runs here).
OLLAMA_MODEL = "qwen2.5-coder:1.5b"
OLLAMA_TRANSCRIPT = [
    json.dumps({"model": OLLAMA_MODEL, "created_at": "2026-11-25T02:00:00Z", **event})
    for event in [
        {"response": "return", "done": False},
        {"response": " a + b", "done": False},
        {
            "response": "",
            "done": True,
            "done_reason": "stop",
            "total_duration": 81000000,
            "prompt_eval_count": 21,
            "eval_count": 3,
        },
    ]
]


async def test_ollama_generate_raw(fake):
    fake.reply = lambda path, body: Reply(lines=OLLAMA_TRANSCRIPT, content_type="x-ndjson")
    engine = engine_for(fake, "ollama", model=OLLAMA_MODEL, fim_template="qwen2.5-coder")
    prefix_only = dataclasses.replace(GREEDY, use_suffix=False)
    completion = await engine.complete(CompletionRequest(PREFIX, "x = 1\n", prefix_only))
    await engine.aclose()
    assert completion.text == "return a + b" and completion.prompt_tokens == 21
    (seen,) = fake.seen
    assert seen.path == "/api/generate"
    assert seen.body["raw"] is True and seen.body["stream"] is True
    assert seen.body["model"] == OLLAMA_MODEL
    assert seen.body["prompt"] == PREFIX  # no suffix in the prompt: a plain continuation
    assert seen.body["options"]["num_predict"] == 16
    assert "<|fim_prefix|>" in seen.body["options"]["stop"]


# --- faults -------------------------------------------------------------------------------------

FAULTS = {
    "http 500": Reply(500, ["upstream exploded"], content_type="text/plain"),
    "malformed json": Reply(lines=['data: {"content": "ret']),
    "truncated stream": Reply(lines=llama_tokens("return", " a")[:2]),
    "content not text": Reply(lines=sse({"content": 5, "stop": False})),
    "hang mid-stream": Reply(lines=llama_tokens("return", " a", " +"), hang_after=2),
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_faults_give_an_empty_answer_one_message_and_recovery(fake, fault):
    broken = True
    fake.reply = lambda path, body: (
        Reply(404)
        if path == "/props"
        else FAULTS[fault]
        if broken
        else Reply(lines=llama_tokens("return a", "\n"))
    )
    engine = engine_for(fake, "llamacpp", timeout_ms=500)
    changes: list[str | None] = []
    engine.health.on_change = changes.append
    for _ in range(3):
        completion = await engine.complete(CompletionRequest(PREFIX, "", GREEDY))
        assert completion.text == "" and completion.fault
    assert engine.health.unreachable and engine.health.faults == 3
    broken = False
    assert (await engine.complete(CompletionRequest(PREFIX, "", GREEDY))).text == "return a"
    await engine.aclose()
    assert not engine.health.unreachable
    assert len(changes) == 2 and changes[0] and changes[1] is None  # one outage, one recovery


async def test_a_refused_connection_is_a_fault():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = remote_engine(EngineSettings(kind="ollama", url=f"http://127.0.0.1:{port}"))
    completion = await engine.complete(CompletionRequest(PREFIX, "", GREEDY))
    await engine.aclose()
    assert completion.text == "" and "cannot connect" in completion.fault


async def test_a_request_superseded_while_the_engine_hangs_ends_at_once(fake):
    fake.reply = lambda path, body: Reply(lines=llama_tokens("return"), hang_after=0)
    engine = engine_for(fake, "llamacpp", timeout_ms=600_000)
    calls = 0

    def superseded() -> bool:  # a newer request arrives while nothing has come back
        nonlocal calls
        calls += 1
        return calls > 5

    with pytest.raises(Cancelled):  # not a 10-minute timeout, not a fault
        await engine.complete(CompletionRequest(PREFIX, "", GREEDY, cancelled=superseded))
    await engine.aclose()
    assert not engine.health.unreachable


async def test_llamacpp_prompt_is_cut_to_fit_a_slots_context(fake):
    props = {"total_slots": 1, "default_generation_settings": {"n_ctx": 64}}

    def reply(path: str, body: dict) -> Reply:
        if path == "/props":
            return Reply(content_type="application/json", lines=[json.dumps(props)])
        if path == "/tokenize":  # this fake tokenizer: 3 characters a token
            tokens = list(range(len(body["content"]) // 3))
            return Reply(content_type="application/json", lines=[json.dumps({"tokens": tokens})])
        return Reply(lines=llama_tokens("x", "\n"))

    fake.reply = reply
    engine = engine_for(fake, "llamacpp")
    short = "x = 1\n" + PREFIX  # fits without asking /tokenize
    long_file = "".join(f"line_{number} = {number}\n" for number in range(500)) + PREFIX
    await engine.complete(CompletionRequest(short, "\n", GREEDY))
    await engine.complete(CompletionRequest(long_file, "\n", GREEDY))
    await engine.aclose()
    paths = [seen.path for seen in fake.seen]
    assert paths == ["/props", "/infill", "/tokenize", "/infill"]
    assert fake.seen[1].body["input_prefix"] == short
    sent = fake.seen[-1].body["input_prefix"]
    assert long_file.endswith(sent) and sent.endswith(PREFIX)
    assert len(sent) <= (64 - GREEDY.max_new_tokens - 3) * 3  # fits at 3 characters a token
    assert sent.startswith("line_")  # cut at a line start


async def test_a_remote_engine_cannot_score_copy_candidates(fake):
    fake.reply = lambda path, body: Reply(lines=llama_tokens("return a", "\n"))
    engine = engine_for(fake, "llamacpp")
    request = CompletionRequest(PREFIX, "", GREEDY, candidates=("return a + b",))
    completion = await engine.complete(request)
    await engine.aclose()
    assert completion.text == "return a" and completion.candidate_scores is None
