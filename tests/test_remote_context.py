"""Repository context in remote engines' prompts: the exact text each API receives, in the
model's convention (file separators where the FIM template names them, else comment blocks),
within its share of the budget and without what the prefix already holds."""

from __future__ import annotations

import dataclasses

import pytest

from server.contract import CompletionRequest, GenerationSettings
from server.remote.context import RepoContext
from server.remote.engine import CHARS_PER_TOKEN, trim
from server.remote.fim_templates import NAMED
from server.remote.kinds import remote_engine
from server.remote.settings import EngineSettings
from server.snippets import Snippet
from tests.fake_engine import FakeEngine, Reply, sse
from tests.test_remote_engines import llama_tokens

PREFIX = "def add(a, b):\n    "
SUFFIX = "\n\nprint(add(1, 2))\n"
SNIPPETS = (
    Snippet("pkg/far.py", "def square(x):\n\n    return x * x\n"),
    Snippet("pkg/near.py", "def subtract(a, b):\n    return a - b\n"),
)
GREEDY = GenerationSettings(temperature=0.0, max_new_tokens=16, multiline="never", use_suffix=True)
COMMENTS = (
    "# Path: pkg/far.py\n# def square(x):\n#\n#     return x * x\n"
    "# Path: pkg/near.py\n# def subtract(a, b):\n#     return a - b\n"
    "# Path: pkg/this.py\n"
)


def request(settings: GenerationSettings = GREEDY, snippets=SNIPPETS, path="pkg/this.py"):
    return CompletionRequest(PREFIX, SUFFIX, settings, snippets=snippets, path=path)


@pytest.fixture
def fake():
    with FakeEngine() as engine:
        engine.reply = lambda path, body: (
            Reply(404)
            if path == "/props"
            else Reply(lines=sse({"response": "return a + b", "done": True}))
            if path == "/api/generate"
            else Reply(lines=llama_tokens("return a + b", "\n"))
        )
        yield engine


async def prompt_of(fake: FakeEngine, kind: str, completion_request=None, **fields) -> dict:
    engine = remote_engine(EngineSettings(kind=kind, url=fake.url, timeout_ms=5000, **fields))
    try:
        await engine.complete(completion_request or request())
    finally:
        await engine.aclose()
    return fake.seen[-1].body


def test_comment_blocks_use_the_languages_line_comment():
    context = RepoContext(SNIPPETS[1:], "src/main.rs")
    assert context.text(None) == (
        "// Path: pkg/near.py\n// def subtract(a, b):\n//     return a - b\n// Path: src/main.rs\n"
    )
    assert RepoContext((), "a.py").text(None) == ""


async def test_llamacpp_infill_gets_comment_blocks_at_the_start_of_the_prefix(fake):
    body = await prompt_of(fake, "llamacpp")
    assert body["input_prefix"] == COMMENTS + PREFIX
    assert body["input_suffix"] == SUFFIX and body["input_extra"] == []


async def test_a_template_with_a_file_separator_writes_files(fake):
    body = await prompt_of(fake, "llamacpp", fim_template="qwen2.5-coder")
    assert body["prompt"] == (
        "<|file_sep|>pkg/far.py\ndef square(x):\n\n    return x * x\n"
        "<|file_sep|>pkg/near.py\ndef subtract(a, b):\n    return a - b\n"
        "<|file_sep|>pkg/this.py\n"
        f"<|fim_prefix|>{PREFIX}<|fim_suffix|>{SUFFIX}<|fim_middle|>"
    )
    body = await prompt_of(fake, "openai", fim_template="starcoder2")
    assert body["prompt"].startswith("<file_sep>pkg/far.py\ndef square(x):\n")
    tail = f"<file_sep>pkg/this.py\n<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"
    assert body["prompt"].endswith(tail)


async def test_without_a_file_separator_the_comments_go_inside_the_fim_prefix(fake):
    body = await prompt_of(fake, "openai")  # starcoder: StarCoder 1 has no <file_sep>
    assert body["prompt"] == f"<fim_prefix>{COMMENTS}{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"
    body = await prompt_of(fake, "ollama", model="m", fim_template="none")
    assert body["prompt"] == COMMENTS + PREFIX


async def test_no_snippets_no_context(fake):
    body = await prompt_of(fake, "llamacpp", request(snippets=()))
    assert body["input_prefix"] == PREFIX


def test_the_context_takes_its_share_and_the_prefix_the_rest():
    settings = dataclasses.replace(GREEDY, context_tokens=40)  # 120 characters
    long_prefix = "".join(f"x_{n} = {n}\n" for n in range(100))
    near = Snippet("b.py", "y = 1\n" * 9)  # 54 characters: fits 0.5 of 120
    far = Snippet("a.py", "z = 2\n" * 2)
    prefix, _, context = trim(
        CompletionRequest(long_prefix, "", settings, snippets=(far, near), path="c.py")
    )
    assert context.snippets == (near,)  # the most similar first; then nothing more fits
    written = context.text(None)
    assert len(written) + len(prefix) <= 40 * CHARS_PER_TOKEN and long_prefix.endswith(prefix)
    none = dataclasses.replace(settings, context_share=0.0)
    prefix, _, context = trim(CompletionRequest(long_prefix, "", none, snippets=(near,)))
    assert context.snippets == () and len(prefix) > 90


def test_snippets_already_in_the_prefix_are_dropped():
    inside = Snippet("copy.py", "def add(a, b):\n")
    _, _, context = trim(CompletionRequest(PREFIX, "", GREEDY, snippets=(inside, *SNIPPETS)))
    assert context.snippets == SNIPPETS


def test_templates_render_the_context_their_way():
    context = RepoContext(SNIPPETS[1:], "x.py")
    block = "<|file_sep|>pkg/near.py\ndef subtract(a, b):\n    return a - b\n<|file_sep|>x.py\n"
    assert NAMED["qwen2.5-coder"].render("P", "", context) == block + "P"
    comments = context.text(None)
    assert NAMED["codellama"].render("P", "S", context) == f"<PRE> {comments}P <SUF>S <MID>"
