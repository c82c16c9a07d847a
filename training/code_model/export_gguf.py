"""`python -m training.export_gguf --model DIR --out model.gguf`: a saved model for llama.cpp.

Writes a GGUF file that `llama-server` (and anything built on llama.cpp) loads, so a model trained
here can be served by a remote engine. The pipeline's models are GPT-2 (`transformers`' GPT2
classes with a byte-level BPE tokenizer): the tensors are renamed to llama.cpp's GPT-2 names,
the Conv1D weights transposed to (out, in), and the tokenizer written as a "gpt2" BPE vocabulary
with its merges and llama.cpp's "gpt-2" pre-tokenizer (the GPT-2 split regex). The FIM token ids
go into the metadata, so `/infill` builds the same `<fim_prefix>…<fim_suffix>…<fim_middle>`
prompt the local engine does. Weights are written as float32: these models are small, and the
export then computes what the local engine computes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from server.errors import UserError, run_cli
from server.fim import FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX
from server.local.saved_model import load_saved_model

# HF GPT-2 parameter name (after "transformer.") -> llama.cpp tensor name ("{i}": layer).
LAYER_TENSORS = {
    "ln_1.weight": "attn_norm.weight",
    "ln_1.bias": "attn_norm.bias",
    "attn.c_attn.weight": "attn_qkv.weight",
    "attn.c_attn.bias": "attn_qkv.bias",
    "attn.c_proj.weight": "attn_output.weight",
    "attn.c_proj.bias": "attn_output.bias",
    "ln_2.weight": "ffn_norm.weight",
    "ln_2.bias": "ffn_norm.bias",
    "mlp.c_fc.weight": "ffn_up.weight",
    "mlp.c_fc.bias": "ffn_up.bias",
    "mlp.c_proj.weight": "ffn_down.weight",
    "mlp.c_proj.bias": "ffn_down.bias",
}
MODEL_TENSORS = {
    "wte.weight": "token_embd.weight",
    "wpe.weight": "position_embd.weight",
    "ln_f.weight": "output_norm.weight",
    "ln_f.bias": "output_norm.bias",
}
FIM_KEYS = {FIM_PREFIX: "fim_pre", FIM_SUFFIX: "fim_suf", FIM_MIDDLE: "fim_mid"}


def gguf_tensors(state: dict, n_layer: int, tied: bool) -> dict[str, np.ndarray]:
    """llama.cpp's GPT-2 tensors from a GPT2LMHeadModel state dict, as float32 arrays."""
    tensors: dict[str, np.ndarray] = {}
    for name, target in MODEL_TENSORS.items():
        tensors[target] = state[f"transformer.{name}"]
    for i in range(n_layer):
        for name, target in LAYER_TENSORS.items():
            weight = state[f"transformer.h.{i}.{name}"]
            # GPT-2's Conv1D stores (in, out); ggml wants (out, in) like nn.Linear.
            tensors[f"blk.{i}.{target}"] = weight.T if weight.ndim == 2 else weight
    if not tied:
        tensors["output.weight"] = state["lm_head.weight"]
    return {name: np.ascontiguousarray(t.float().numpy()) for name, t in tensors.items()}


def vocabulary(tokenizer_json: dict, n_vocab: int) -> tuple[list[str], list[int], list[str]]:
    """(token strings by id, their GGUF token types, merges "a b") for a byte-level BPE."""
    import gguf

    model = tokenizer_json["model"]
    if model.get("type") != "BPE":
        raise UserError(f"the tokenizer is {model.get('type')}, not byte-level BPE (GPT-2)")
    by_id = {token_id: token for token, token_id in model["vocab"].items()}
    special = {added["id"] for added in tokenizer_json.get("added_tokens", []) if added["special"]}
    for added in tokenizer_json.get("added_tokens", []):
        by_id[added["id"]] = added["content"]
    tokens, types = [], []
    for token_id in range(n_vocab):
        if token_id not in by_id:  # embedding rows beyond the tokenizer (padding)
            tokens.append(f"[PAD{token_id}]")
            types.append(gguf.TokenType.UNUSED)
        else:
            tokens.append(by_id[token_id])
            types.append(gguf.TokenType.CONTROL if token_id in special else gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    return tokens, [int(t) for t in types], merges


def export(model_dir: Path, out: Path) -> Path:
    """Write `out` from the saved model in `model_dir`; UserError for a model it cannot export."""
    import gguf

    model, tokenizer = load_saved_model(model_dir, "cpu")
    config = model.config
    if config.model_type != "gpt2":
        raise UserError(f"{model_dir} holds a {config.model_type} model; only GPT-2 exports")
    tokenizer_file = model_dir / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise UserError(f"{model_dir} has no tokenizer.json (a fast tokenizer is needed)")
    n_vocab = model.get_input_embeddings().weight.shape[0]
    tied = bool(getattr(config, "tie_word_embeddings", True))
    tensors = gguf_tensors(model.state_dict(), config.n_layer, tied)
    tokens, token_types, merges = vocabulary(json.loads(tokenizer_file.read_text()), n_vocab)
    ids = {token: token_id for token_id, token in enumerate(tokens)}

    writer = gguf.GGUFWriter(str(out), "gpt2")
    writer.add_name(model_dir.resolve().name)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(config.n_positions)
    writer.add_embedding_length(config.n_embd)
    writer.add_feed_forward_length(config.n_inner or 4 * config.n_embd)
    writer.add_block_count(config.n_layer)
    writer.add_head_count(config.n_head)
    writer.add_layer_norm_eps(config.layer_norm_epsilon)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")  # llama.cpp's name for the GPT-2 regex
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges(merges)
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    writer.add_bos_token_id(tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos)
    writer.add_eos_token_id(eos)
    writer.add_add_bos_token(False)  # the local engine never prepends one either
    for token, key in FIM_KEYS.items():
        if token in ids:
            writer.add_uint32(f"tokenizer.ggml.{key}_token_id", ids[token])
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training.export_gguf",
        description="Export a saved GPT-2 model directory to GGUF for llama.cpp (llama-server).",
    )
    parser.add_argument("--model", type=Path, required=True, help="saved model directory")
    parser.add_argument("--out", type=Path, required=True, help="the .gguf file to write")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.out.parent.is_dir():
        raise UserError(f"cannot write {args.out}: {args.out.parent} is not a directory")
    export(args.model, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    run_cli(main)
