"""An int8 GPT-2 decoder on ONNX Runtime: the optional fast path (the `decoder` setting: onnx).

Why: on a CPU a token's cost is the weights' trip through memory. The 4 x 256 default model is
22 MB in float32, more than this kind of machine keeps in cache, so each token waits on DRAM
(lean_gpt2.py: ~4 ms a token). Stored as int8 the matrices are a quarter of that and stay in
cache (~1.2 ms a token, docs/benchmarks.md).

How: the lean model's forward pass (the same weights) is exported once with `torch.onnx` as one
step, "these new tokens at this position, given the cache", quantised to int8 matrices
(`quantize_dynamic`) and kept in the user's cache directory, keyed by the weights' hash. The
key/value cache is ours: one float32 buffer sized for the whole context, which the step reads
in place (one input per layer and kind, never concatenated or copied) and to which the new
tokens' keys and values are written after each run. Cropping is a shorter length, as in
lean_gpt2.py. Past positions beyond the current length are masked, so stale values never count.

`OnnxKVCache` is one of the decoders (decoders.py). The step gives every new position's logits, so
scoring a short text (`extend`, server/local/scoring.py) is one int8 run too (lean's float32
pass took 4-9 ms for a copy's few tokens). Its tokens are close to the float32 ones,
not identical: the quality table in docs/benchmarks.md compares them. It is what `auto` runs
where it applies; onnxruntime runs it, onnx and onnxscript export it (all installed with
nanopilot).
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from server.errors import UserError
from server.local.lean_gpt2 import LeanGPT2, LeanKVCache

EXPORT_VERSION = "2"  # part of the cache key: bump when the exported graph changes
# Longer runs (prompts at a fresh spot) go through lean_gpt2's float32 forward: for a 480-token
# prompt its flash attention beats this graph, which attends to the whole buffer (measured: 88
# vs 100 ms on 1 thread, 48 vs 61 on 2). Keystrokes and generated tokens take the int8 step.
LEAN_PROMPT_TOKENS = 32
INSTALL_HINT = "the onnx decoder needs ONNX Runtime: pip install onnxruntime onnx onnxscript"


class DecoderStep(torch.nn.Module):
    """One step of GPT-2 over a fixed-size key/value buffer, written for export.

    Inputs: ids (k,), start (): the position of ids[0], then the cache: for each layer, keys and
    values (head, context, dim). Outputs: each id's logits (k, vocab), the new keys and values
    (layer, head, k, dim)."""

    def __init__(self, lean: LeanGPT2) -> None:
        super().__init__()
        self.lean = lean

    def forward(self, ids, start, cache: list[torch.Tensor]):
        lean = self.lean
        count = ids.shape[0]
        x = lean.wte[ids] + lean.wpe[start + torch.arange(count)]
        context = cache[0].shape[1]
        # One additive mask for every layer: a cached position counts if it is before `start`,
        # a new one if it is not after the query (the causal triangle).
        visible = torch.cat(
            [
                (torch.arange(context) < start)[None, :].expand(count, context),
                torch.arange(count)[None, :] <= torch.arange(count)[:, None],
            ],
            dim=-1,
        )
        mask = torch.zeros(visible.shape).masked_fill(~visible, float("-inf"))
        new_keys, new_values = [], []
        for layer, block in enumerate(lean.blocks):
            h = lean.layer_norm(x, block.ln_1)
            qkv = h @ block.qkv[0] + block.qkv[1]
            q, k, v = qkv.view(count, 3, lean.n_head, lean.head_dim).permute(1, 2, 0, 3)
            past_keys, past_values = cache[2 * layer], cache[2 * layer + 1]
            q = q * lean.scale
            scores = torch.cat([q @ past_keys.transpose(1, 2), q @ k.transpose(1, 2)], dim=-1)
            weights = torch.softmax(scores + mask, dim=-1)
            attended = weights[..., :context] @ past_values + weights[..., context:] @ v
            x = x + attended.transpose(0, 1).reshape(count, -1) @ block.proj[0] + block.proj[1]
            h = lean.layer_norm(x, block.ln_2)
            h = F.gelu(h @ block.fc[0] + block.fc[1], approximate="tanh")
            x = x + h @ block.fc_proj[0] + block.fc_proj[1]
            new_keys.append(k)
            new_values.append(v)
        logits = lean.layer_norm(x, lean.ln_f) @ lean.lm_head_t
        return logits, torch.stack(new_keys), torch.stack(new_values)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nanopilot" / "onnx"


def weights_key(model: torch.nn.Module) -> str:
    """A hash of the weights and the export version: a retrained model gets a new export."""
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def export_int8(lean: LeanGPT2, target: Path) -> None:
    """Export the step to ONNX and quantise its matrices to int8, written atomically.

    `quantize_dynamic`: int8 weights (one scale per matrix) and int8 activations (one scale per
    call). Measured on the shipped model, same run: 1.00 ms a token, against 1.57 for weight-only
    8-bit blocks (MatMulNBits) and 3.34 for the float32 graph. Written under names of this
    process's own, then renamed: two servers exporting at once do not mix their files."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as err:
        raise UserError(INSTALL_HINT) from err
    target.parent.mkdir(parents=True, exist_ok=True)
    float_path = target.with_suffix(f".{os.getpid()}.float32.onnx")
    cache_shape = (lean.n_head, lean.context, lean.head_dim)
    example = (torch.tensor([1, 2]), torch.tensor(3))
    cache = [torch.zeros(cache_shape) for _ in range(2 * len(lean.blocks))]
    new = torch.export.Dim("new_tokens", min=1, max=lean.context)
    names = [f"cache_{layer}_{kind}" for layer in range(len(lean.blocks)) for kind in "kv"]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on its own internals
            torch.onnx.export(
                DecoderStep(lean).eval(),
                (*example, cache),
                float_path,
                dynamo=True,
                input_names=["ids", "start", *names],
                output_names=["logits", "new_keys", "new_values"],
                dynamic_shapes=({0: new}, None, [None] * len(cache)),
                external_data=False,
                verbose=False,
            )
    except ImportError as err:  # onnx or onnxscript missing
        raise UserError(f"{INSTALL_HINT} ({err})") from err
    partial = target.with_suffix(f".{os.getpid()}.partial.onnx")
    logging.disable(logging.WARNING)  # its advice to pre-process is for image models
    try:
        quantize_dynamic(float_path, partial, weight_type=QuantType.QInt8)
    finally:
        logging.disable(logging.NOTSET)
    partial.replace(target)
    float_path.unlink()


class OnnxKVCache(LeanKVCache):
    """A `LeanKVCache` whose short runs (keystrokes, generated tokens) take the exported int8
    step; prompts over LEAN_PROMPT_TOKENS take lean's float32 pass into the same buffer."""

    name = "onnx"

    def __init__(self, model: torch.nn.Module) -> None:
        try:
            import onnxruntime
        except ImportError as err:
            raise UserError(INSTALL_HINT) from err
        super().__init__(model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # the server's --threads
        options.inter_op_num_threads = 1
        # Idle worker threads would spin after each step and take the core from the float32
        # prompt pass (measured: a 480-token prompt on 2 threads, 103 ms spinning vs 48 ms).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # warnings about unused initialisers are not the user's
        path = cache_dir() / f"gpt2-{weights_key(model)}-int8.onnx"
        if not path.is_file():
            export_int8(self._lean, path)
        try:
            self._session = onnxruntime.InferenceSession(str(path), options)
        except Exception:  # a damaged file in the cache (a full disk, a crash): export again
            export_int8(self._lean, path)
            self._session = onnxruntime.InferenceSession(str(path), options)
        # The lean model's buffer, [layer, key/value, head, position, dim], seen from numpy:
        # both paths write the same memory, and each [layer, kind] slice is contiguous.
        self._kv = self._lean.kv.numpy()
        self._cache_feeds = {
            f"cache_{layer}_{kind}": self._kv[layer, index]
            for layer in range(len(self._lean.blocks))
            for index, kind in enumerate("kv")
        }

    def _run(self, ids: list[int], every: bool = False) -> torch.Tensor:
        if len(ids) > LEAN_PROMPT_TOKENS:
            return super()._run(ids, every)
        start, end = len(self.ids), len(self.ids) + len(ids)
        self._lean.check_room(end)
        logits, keys, values = self._session.run(
            None,
            {
                "ids": np.asarray(ids, dtype=np.int64),
                "start": np.asarray(start, dtype=np.int64),
                **self._cache_feeds,
            },
        )
        self._kv[:, 0, :, start:end] = keys
        self._kv[:, 1, :, start:end] = values
        self.ids.extend(ids)
        return torch.from_numpy(logits if every else logits[-1])
