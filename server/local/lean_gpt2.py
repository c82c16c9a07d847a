"""A lean GPT-2 forward pass for the CPU, with a pre-allocated key/value cache.

The model is small (a 4 x 256 default: ~11 MFLOP a token), so on a CPU a token's cost is
overhead, not arithmetic: the Hugging Face forward builds a cache object, masks, position ids
and output records around each call, which costs milliseconds per token. This module runs the
same weights with plain tensor operations, nanoGPT-style, and keeps keys and values in one
tensor sized for the model's whole context, so a new token writes into it in place and dropping
the end of the cache (after the user edits) is only a shorter length.

`LeanKVCache` is one of the decoders (decoders.py), the default for GPT-2 models on the CPU.
Greedy output is the same token for token as the Hugging Face forward's (tests/test_lean_gpt2.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from server.local.kv_cache import common_prefix_length


@dataclass(frozen=True)
class Block:
    ln_1: tuple[torch.Tensor, torch.Tensor]
    qkv: tuple[torch.Tensor, torch.Tensor]  # (d, 3d) weight as Conv1D stores it, bias
    proj: tuple[torch.Tensor, torch.Tensor]
    ln_2: tuple[torch.Tensor, torch.Tensor]
    fc: tuple[torch.Tensor, torch.Tensor]
    fc_proj: tuple[torch.Tensor, torch.Tensor]


def supports(model: torch.nn.Module, device: torch.device) -> bool:
    """A plain GPT-2 (the pipeline's models, distilgpt2) on the CPU, with the default options."""
    config = getattr(model, "config", None)
    return (
        device.type == "cpu"
        and getattr(config, "model_type", None) == "gpt2"
        and getattr(config, "activation_function", None) in ("gelu_new", "gelu_pytorch_tanh")
        and getattr(config, "scale_attn_weights", False)
        and not getattr(config, "scale_attn_by_inverse_layer_idx", True)
        and not getattr(config, "reorder_and_upcast_attn", True)
        and hasattr(model, "transformer")
    )


def _pair(module: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    return module.weight.detach().float().contiguous(), module.bias.detach().float().contiguous()


class LeanGPT2:
    """GPT-2's forward pass over float32 copies of a model's weights."""

    def __init__(self, model: torch.nn.Module) -> None:
        config = model.config
        transformer = model.transformer
        self.n_head = config.n_head
        self.head_dim = config.n_embd // config.n_head
        self.context = config.n_positions
        self.eps = config.layer_norm_epsilon
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.wte = transformer.wte.weight.detach().float().contiguous()
        self.wpe = transformer.wpe.weight.detach().float().contiguous()
        # (d, vocab), contiguous: x @ lm_head_t reads it ~2x faster than a transposed view
        # of the (vocab, d) weight (measured: 0.77 vs 1.71 ms a token out of cache).
        self.lm_head_t = model.get_output_embeddings().weight.detach().float().T.contiguous()
        self.ln_f = _pair(transformer.ln_f)
        self.blocks = [
            Block(
                ln_1=_pair(h.ln_1),
                qkv=_pair(h.attn.c_attn),
                proj=_pair(h.attn.c_proj),
                ln_2=_pair(h.ln_2),
                fc=_pair(h.mlp.c_fc),
                fc_proj=_pair(h.mlp.c_proj),
            )
            for h in transformer.h
        ]
        shape = (len(self.blocks), 2, self.n_head, self.context, self.head_dim)
        self.kv = torch.zeros(shape)  # [layer, key/value, head, position, dim]

    def _no_bias(self, end: int) -> torch.Tensor:
        return torch.empty(self.n_head, 1, end)

    def layer_norm(self, x: torch.Tensor, weight_bias: tuple[torch.Tensor, torch.Tensor]):
        return F.layer_norm(x, x.shape[-1:], *weight_bias, self.eps)

    def _attention(self, layer: int, block: Block, x: torch.Tensor, start: int) -> torch.Tensor:
        count = x.shape[0]
        end = start + count
        qkv = torch.addmm(block.qkv[1], x, block.qkv[0])  # (T, 3d)
        q, k, v = qkv.view(count, 3, self.n_head, self.head_dim).permute(1, 2, 0, 3)
        cache = self.kv[layer]
        cache[0, :, start:end] = k
        cache[1, :, start:end] = v
        keys, values = cache[0, :, :end], cache[1, :, :end]
        if count == 1:  # one new token sees every position: two small matmuls, no mask
            scores = torch.baddbmm(  # (head, 1, positions), scaled as GPT-2 scales them
                self._no_bias(end), q, keys.transpose(1, 2), beta=0.0, alpha=self.scale
            )
            attended = torch.bmm(torch.softmax(scores, dim=-1), values)  # (head, 1, dim)
        else:  # a prompt: PyTorch's fused kernel; query i (position start + i) sees 0..start + i
            mask = None if start == 0 else torch.ones(count, end, dtype=torch.bool).tril(start)
            attended = F.scaled_dot_product_attention(  # 4-d: the flash kernel, not the math one
                q[None], keys[None], values[None], mask, is_causal=start == 0, scale=self.scale
            )[0]
        merged = attended.transpose(0, 1).reshape(count, -1)
        return torch.addmm(block.proj[1], merged, block.proj[0])

    def check_room(self, end: int) -> None:
        """A ValueError when positions up to `end` do not fit in the model's context."""
        if end > self.context:
            raise ValueError(f"{end} positions exceed the model's context of {self.context}")

    @torch.inference_mode()
    def forward(self, ids: list[int], start: int, every: bool = False) -> torch.Tensor:
        """Run `ids` at positions start.. (the cache holds 0..start-1); the last one's logits, or
        with `every` each one's (len(ids), vocab), to score a text in one pass."""
        end = start + len(ids)
        self.check_room(end)
        x = self.wte[torch.tensor(ids)] + self.wpe[start:end]
        for layer, block in enumerate(self.blocks):
            x = x + self._attention(layer, block, self.layer_norm(x, block.ln_1), start)
            hidden = F.gelu(
                torch.addmm(block.fc[1], self.layer_norm(x, block.ln_2), block.fc[0]),
                approximate="tanh",
            )
            x = x + torch.addmm(block.fc_proj[1], hidden, block.fc_proj[0])
        logits = self.layer_norm(x if every else x[-1:], self.ln_f) @ self.lm_head_t
        return logits if every else logits[0]


class LeanKVCache:
    """`PrefixKVCache`'s interface over `LeanGPT2`: the cache is the first `len(ids)` positions
    of the pre-allocated tensor, so cropping it is only a shorter `ids`."""

    name = "lean"

    def __init__(self, model: torch.nn.Module) -> None:
        self._lean = LeanGPT2(model)
        self.ids: list[int] = []

    def reset(self) -> None:
        self.ids = []

    def prefill(self, prompt: list[int]) -> tuple[torch.Tensor, int]:
        """Run the prompt, reusing what is cached. Returns the next-token logits and how many
        prompt tokens were reused."""
        reused = min(common_prefix_length(self.ids, prompt), len(prompt) - 1)
        self.ids = self.ids[:reused]
        return self._run(prompt[reused:]), reused

    def step(self, token: int) -> torch.Tensor:
        """Run one more token; the logits for the one after it."""
        return self._run([token])

    def extend(self, ids: list[int]) -> torch.Tensor:
        """Run `ids` after the cache in one float32 pass; the logits after each (len(ids), vocab):
        what scoring a text costs (server/local/scoring.py)."""
        return self._run(ids, every=True)

    def _run(self, ids: list[int], every: bool = False) -> torch.Tensor:
        try:
            logits = self._lean.forward(ids, start=len(self.ids), every=every)
        except BaseException:
            self.reset()  # the cache may be half written
            raise
        self.ids.extend(ids)
        return logits
