"""llama.cpp's `llama-server`: `/infill` for a model with FIM tokens, else `/completion`.

Without a suffix the prefix alone goes to `/completion`, as the local engine's prompt (see
fim_templates.py).

`/infill` takes the prefix and suffix as text and builds the FIM prompt with the model's own
tokens; repository context goes at the start of its prefix, as comments (context.py). A prompt
longer than a slot's context is refused, so the text is cut to fit it. A model without FIM tokens
answers 501, and from then on this wire sends `/completion` with the prompt (a template's, if
`fimTemplate` is set, else the prefix alone). `cache_prompt` and a fixed slot per
language server (one per editor connection) let consecutive keystrokes reuse the server's
key/value cache, as the local engine reuses its own.
"""

from __future__ import annotations

import os

import httpx

from server.contract import GenerationSettings
from server.prompt_budget import FIM_TOKENS, cut_prefix, room, suffix_share
from server.remote.context import RepoContext
from server.remote.engine import Piece, Request
from server.remote.fim_templates import NAMED, FimTemplate, parse_template
from server.remote.http import EngineFault
from server.remote.settings import EngineSettings

# Text shorter than this many characters per token of a slot's context surely fits it (longer
# text is measured): a prompt cut too long is refused by the server.
SAFE_CHARS_PER_TOKEN = 2


class LlamaCppWire:
    def __init__(self, settings: EngineSettings) -> None:
        self._template: FimTemplate | None = (
            parse_template(settings.fim_template) if settings.fim_template else None
        )
        self._timeout_ms = settings.timeout_ms
        # Learnt from /props on first use: this process's slot (the pid modulo the server's
        # slot count; -1: the server picks) and a slot's context in tokens (0: unknown).
        self._slot: int | None = None
        self._slot_context = 0

    async def _learn_props(self, client: httpx.AsyncClient) -> None:
        try:
            response = await client.get("/props")
            props = response.json() if response.is_success else {}
            slots = int(props.get("total_slots", 0))
            context = int(props.get("default_generation_settings", {}).get("n_ctx", 0))
        except (httpx.HTTPError, ValueError, AttributeError, TypeError):
            slots, context = 0, 0
        self._slot = os.getpid() % slots if slots > 0 else -1
        self._slot_context = context

    async def _fit(
        self,
        client: httpx.AsyncClient,
        prefix: str,
        suffix: str,
        settings: GenerationSettings,
        written: str,
    ) -> tuple[str, str]:
        """Prefix and suffix cut to fit a slot's context with room for the new tokens, next to
        the `written` context. Text that may not fit is measured with the server's /tokenize
        (one more round trip, only then)."""
        slot_room = room(self._slot_context, settings, FIM_TOKENS)
        safe_chars = slot_room * SAFE_CHARS_PER_TOKEN
        total = len(written) + len(prefix) + len(suffix)
        if not self._slot_context or total <= safe_chars:
            return prefix, suffix
        suffix = suffix[: suffix_share(safe_chars, cap=None)]
        response = await client.post("/tokenize", json={"content": written + suffix + prefix})
        tokens = len(response.json().get("tokens", [])) if response.is_success else 0
        if 0 < tokens <= slot_room:
            return prefix, suffix
        total = len(written) + len(prefix) + len(suffix)
        chars_per_token = total / tokens if tokens else SAFE_CHARS_PER_TOKEN
        max_chars = int(max(slot_room, 16) * chars_per_token * 0.9)  # 10 % spare: tokens vary
        return cut_prefix(prefix, max(max_chars - len(suffix) - len(written), 0)), suffix

    async def request(
        self,
        client: httpx.AsyncClient,
        prefix: str,
        suffix: str,
        settings: GenerationSettings,
        context: RepoContext,
    ) -> Request:
        if self._slot is None:
            await self._learn_props(client)
        template = self._template or NAMED["none"]
        written = context.text(template.file_sep)
        prefix, suffix = await self._fit(client, prefix, suffix, settings, written)
        body = {
            "n_predict": settings.max_new_tokens,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "top_k": 0,  # our sampler: temperature and top_p only
            "min_p": 0.0,
            "stream": True,
            "cache_prompt": True,
            "id_slot": self._slot,
            "t_max_predict_ms": self._timeout_ms,
            "timings_per_token": True,  # every event carries the cache counts
        }
        if self._template is None and suffix:
            body.update(input_prefix=written + prefix, input_suffix=suffix, input_extra=[])
            return Request("/infill", body, "sse")
        body.update(prompt=template.render(prefix, suffix, context), stop=list(template.stop))
        return Request("/completion", body, "sse")

    def piece(self, event: dict) -> Piece:
        timings = event.get("timings") or {}
        content = event.get("content", "")
        if not isinstance(content, str):
            raise EngineFault("malformed answer: content is not text")
        return Piece(
            text=content,
            done=bool(event.get("stop")),
            prompt_tokens=event.get("tokens_evaluated"),
            reused_tokens=timings.get("cache_n"),
        )

    def retry_after(self, fault: EngineFault) -> bool:
        """A model without FIM tokens refuses /infill (501): use /completion from now on."""
        if self._template is None and str(fault).startswith("HTTP 501"):
            self._template = NAMED["none"]
            return True
        return False
