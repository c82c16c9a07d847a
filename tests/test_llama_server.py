"""The remote engines against a real llama.cpp `llama-server` serving the shipped default model,
exported by `training.export_gguf`. Skipped without the binary (`bash scripts/build-llama-server`)
unless NANOPILOT_REQUIRE_E2E=1 (CI), where a missing binary fails."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import pytest_asyncio
import torch

from server.contract import Cancelled, CompletionRequest, GenerationSettings
from server.fim import fim_token_ids
from server.local.engine import CompletionEngine
from server.local.saved_model import load_saved_model
from server.remote.context import RepoContext
from server.remote.kinds import remote_engine
from server.remote.settings import EngineSettings
from server.snippets import Snippet
from tests.conftest import REPO_ROOT
from tests.llama_server import DEFAULT_MODEL, LlamaServer, require_binary
from tests.test_lsp import end_of, inline, open_document, start_server, status, wait_for_state
from training.code_model.export_gguf import export

pytestmark = pytest.mark.engine
ON_THE_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

SOURCE = (REPO_ROOT / "examples" / "inventory.py").read_text()
# Cursor spots in examples/inventory.py: the text before each marker's end is the prefix.
MARKERS = [
    "    return sum(",
    "    names = ",
    "        if item.",
    "            names.append(",
    "    return min(",
    "    items = ",
    "    with open(",
    "            name, price, quantity = ",
    "            items.append(",
    "class Item:\n    name: ",
]
PREFIXES = [SOURCE[: SOURCE.index(marker) + len(marker)] for marker in MARKERS]
# A prompt budget that both engines' prompts fit whole (the longest prefix is 308 tokens).
GREEDY = GenerationSettings(temperature=0.0, max_new_tokens=24, multiline="never",
                            context_tokens=400)  # fmt: skip
LOOPING_PREFIX = "def main():\n    # The list of the"  # the shipped model repeats " list of the"


def repeats_its_tail(kept: str, more: str) -> bool:
    """`more` is some tail of `kept` written again and again (a loop going on)."""
    return any(
        more == (kept[-size:] * (len(more) // size + 1))[: len(more)]
        for size in range(1, len(kept) + 1)
    )


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    binary = require_binary()
    folder = tmp_path_factory.mktemp("llama")
    gguf = export(DEFAULT_MODEL, folder / "default.gguf")
    server = LlamaServer(binary, gguf, folder / "llama-server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local_engine():
    return CompletionEngine.load(DEFAULT_MODEL, "cpu", decoder="lean")  # float32, as llama.cpp


@pytest_asyncio.fixture(loop_scope="module")
async def llamacpp(llama):
    engine = remote_engine(EngineSettings(kind="llamacpp", url=llama.url, timeout_ms=30_000))
    yield engine
    await engine.aclose()


def test_tokenisation_agrees(llama, local_engine):
    _, tokenizer = load_saved_model(DEFAULT_MODEL)
    texts = [*PREFIXES, "x = {'ä': 1}  # naïve café\n\tπ ≈ 3.14159\r\n", "    \n\n   ", "日本語"]
    for text in texts:
        theirs = httpx.post(f"{llama.url}/tokenize", json={"content": text}).json()["tokens"]
        assert theirs == tokenizer(text)["input_ids"], text


def test_greedy_tokens_equal_the_local_models(llama):
    """The export computes what the local model computes: same FIM prompt ids, same greedy ids."""
    model, tokenizer = load_saved_model(DEFAULT_MODEL)
    fim = fim_token_ids(tokenizer)
    for prefix in PREFIXES:
        ids = [fim.prefix, *tokenizer(prefix)["input_ids"], fim.suffix, fim.middle]
        with torch.no_grad():
            ours = model.generate(
                torch.tensor([ids]), max_new_tokens=16, do_sample=False, pad_token_id=0
            )[0, len(ids) :].tolist()
        answer = httpx.post(
            f"{llama.url}/completion",
            json={"prompt": ids, "n_predict": 16, "temperature": 0, "return_tokens": True},
            timeout=60,
        ).json()
        assert answer["tokens"] == ours, prefix.splitlines()[-1]


@ON_THE_MODULE_LOOP
async def test_served_completions_equal_the_local_engines(llamacpp, local_engine):
    """Through /completion (no suffix in the prompt) and the shared post-processing, the
    suggestion equals the local engine's on the same prompt, except where the local engine cut a
    loop (its loop detection reads token ids, which a remote engine does not send): there the
    remote suggestion goes on repeating what the local one ends with. The local engine also heals
    the prompt's last token, which llama.cpp cannot: how often that changes the suggestion is
    printed (and reported in docs/engines.md)."""
    healed_differs = []
    for prefix in PREFIXES:
        remote = await llamacpp.complete(CompletionRequest(prefix, "\n", GREEDY))
        assert remote.fault is None
        unhealed = local_engine.complete_sync(CompletionRequest(prefix, "\n", GREEDY), heal=False)
        if remote.text != unhealed.text and not remote.text:
            # The remote loop ran on until drop_babble hid it; the local one stopped in time.
            assert unhealed.text, prefix[-30:]
        elif remote.text != unhealed.text:  # a loop the local engine cut
            assert unhealed.text and remote.text.startswith(unhealed.text), prefix[-30:]
            more = remote.text[len(unhealed.text) :]
            assert repeats_its_tail(unhealed.text, more), (prefix[-30:], remote.text)
        healed = local_engine.complete_sync(CompletionRequest(prefix, "\n", GREEDY))
        if healed.text != remote.text:
            healed_differs.append((prefix.splitlines()[-1], healed.text, remote.text))
    print(
        f"\nwith token healing the local engine differs at {len(healed_differs)} of "
        f"{len(PREFIXES)} spots: {healed_differs}"
    )


@ON_THE_MODULE_LOOP
async def test_a_second_keystroke_reuses_the_servers_cache(llamacpp):
    prefix = PREFIXES[0]
    first = await llamacpp.complete(CompletionRequest(prefix, "", GREEDY))
    second = await llamacpp.complete(CompletionRequest(prefix + "i", "", GREEDY))
    assert first.prompt_tokens > 0
    assert second.reused_tokens >= first.prompt_tokens - 2


@ON_THE_MODULE_LOOP
async def test_repository_context_reaches_the_server_as_written(llamacpp):
    """The prompt llama-server receives with repository context is exactly the comment blocks
    and then the prefix: as many tokens as that text, and the same answer as that text sent as
    the prefix alone."""
    snippets = (
        Snippet("shop/pricing.py", "def discount(price, rate):\n    return price * rate\n"),
    )
    prefix = PREFIXES[0]
    written = RepoContext(snippets, "inventory.py").text(None)
    assert written.startswith("# Path: shop/pricing.py\n# def discount(price, rate):\n")
    request = CompletionRequest(prefix, "", GREEDY, snippets=snippets, path="inventory.py")
    served = await llamacpp.complete(request)
    _, tokenizer = load_saved_model(DEFAULT_MODEL)
    assert served.fault is None
    assert served.prompt_tokens == len(tokenizer(written + prefix)["input_ids"])
    plain = await llamacpp.complete(CompletionRequest(written + prefix, "", GREEDY))
    assert plain.text == served.text


@ON_THE_MODULE_LOOP
async def test_closing_the_stream_stops_generation(llama, llamacpp):
    long = GenerationSettings(temperature=0.0, max_new_tokens=400, multiline="always")
    events = 0

    def cancelled() -> bool:
        nonlocal events
        events += 1
        return events > 3

    with pytest.raises(Cancelled):
        await llamacpp.complete(CompletionRequest(LOOPING_PREFIX, "", long, cancelled=cancelled))
    for _ in range(50):
        slots = httpx.get(f"{llama.url}/slots").json()
        if not any(slot["is_processing"] for slot in slots):
            break
        await asyncio.sleep(0.1)
    assert not any(slot["is_processing"] for slot in slots)
    decoded = [slot["next_token"][0]["n_decoded"] for slot in slots if "next_token" in slot]
    assert decoded and max(decoded) < 400


@ON_THE_MODULE_LOOP
async def test_openai_path_against_llama_servers_v1_completions(llama, llamacpp):
    openai = remote_engine(
        EngineSettings(kind="openai", url=llama.url, fim_template="starcoder", timeout_ms=30_000)
    )
    fim = GenerationSettings(temperature=0.0, max_new_tokens=24, multiline="never", use_suffix=True)
    try:
        for prefix in PREFIXES[:4]:  # the starcoder template's prompt against /infill's
            via_openai = await openai.complete(CompletionRequest(prefix, "\n", fim))
            assert via_openai.fault is None
            assert (
                via_openai.text
                == (await llamacpp.complete(CompletionRequest(prefix, "\n", fim))).text
            )
    finally:
        await openai.aclose()


@ON_THE_MODULE_LOOP
async def test_editor_sees_the_same_ghost_text_and_survives_the_engine_dying(llama, local_engine):
    # The model alone on both sides (no copies, nothing held back: llama.cpp sends no
    # confidence), in float32 as llama.cpp computes it.
    greedy = {"temperature": 0, "multiline": "never", "index": "off", "filter": "eager",
              "decoder": "lean"}  # fmt: skip
    engine = {"kind": "llamacpp", "url": llama.url, "timeoutMs": 3000}
    local = await start_server(DEFAULT_MODEL, init_options={"nanopilot": greedy})
    remote = await start_server(
        DEFAULT_MODEL, init_options={"nanopilot": {**greedy, "engine": engine}}
    )
    try:
        text = next(  # a spot where token healing (which llama.cpp lacks) changes nothing
            prefix
            for prefix in PREFIXES
            if local_engine.complete_sync(CompletionRequest(prefix, "\n", GREEDY)).text
            == local_engine.complete_sync(CompletionRequest(prefix, "\n", GREEDY), heal=False).text
        )
        for client in (local, remote):
            open_document(client, text + "\n")
        ours = [item.insert_text for item in await inline(local, end_of(text))]
        theirs = [item.insert_text for item in await inline(remote, end_of(text))]
        assert theirs == ours and theirs
        assert (await status(remote))["engine"] == "llamacpp"

        llama.stop()
        others = [prefix for prefix in PREFIXES if prefix != text][:3]  # nothing cached there
        for index, prefix in enumerate(others):
            uri = f"file:///work/dead_{index}.py"
            open_document(remote, prefix + "\n", uri)
            assert await inline(remote, end_of(prefix), uri) == []
        report = await status(remote)
        assert report["state"] == "engine unreachable" and report["error"]
        unreachable = [m for m in remote.messages if "unreachable" in m.message]
        assert len(unreachable) == 1  # one message, not one per keystroke

        llama.start()
        uri = "file:///work/dead_0.py"
        items = await inline(remote, end_of(others[0]), uri)
        assert items and items[0].insert_text
        await wait_for_state(remote, {"ready"}, timeout=10)
    finally:
        if llama.process is None:
            llama.start()
        await local.shutdown_session()
        await remote.shutdown_session()
