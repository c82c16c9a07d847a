"""training/code_model/export_gguf.py (`python -m training.export_gguf`): what llama.cpp needs is
in the file (llama-server itself loads it in tests/test_llama_server.py)."""

from __future__ import annotations

import gguf
import numpy as np
import pytest

from server.errors import UserError
from server.local.saved_model import load_saved_model
from training.code_model.export_gguf import export, main


def field(reader: gguf.GGUFReader, key: str):
    return reader.fields[key].contents()


def test_export_writes_gpt2_tensors_tokenizer_and_fim_ids(tmp_path, tiny_fim_model_dir):
    out = export(tiny_fim_model_dir, tmp_path / "tiny.gguf")
    model, tokenizer = load_saved_model(tiny_fim_model_dir)
    config = model.config
    reader = gguf.GGUFReader(out)
    assert field(reader, "general.architecture") == "gpt2"
    assert field(reader, "gpt2.block_count") == config.n_layer
    assert field(reader, "tokenizer.ggml.model") == "gpt2"
    assert field(reader, "tokenizer.ggml.pre") == "gpt-2"
    vocab = tokenizer.get_vocab()
    for key, token in [("pre", "<fim_prefix>"), ("suf", "<fim_suffix>"), ("mid", "<fim_middle>")]:
        assert field(reader, f"tokenizer.ggml.fim_{key}_token_id") == vocab[token]
    tokens = field(reader, "tokenizer.ggml.tokens")
    assert tokens[vocab["<fim_middle>"]] == "<fim_middle>"
    assert len(tokens) == model.get_input_embeddings().weight.shape[0]

    tensors = {tensor.name: tensor for tensor in reader.tensors}
    assert "output.weight" not in tensors  # tied to token_embd, as llama.cpp's GPT-2 allows
    state = model.state_dict()
    qkv = tensors["blk.0.attn_qkv.weight"]
    # GPT-2's Conv1D (in, out) is stored as ggml's (out rows of in): numpy sees (out, in).
    expected = state["transformer.h.0.attn.c_attn.weight"].T.numpy()
    assert np.array_equal(np.asarray(qkv.data).reshape(expected.shape), expected)
    assert len(tensors) == 4 + 12 * config.n_layer


def test_export_refuses_what_it_cannot_export(tmp_path):
    with pytest.raises(UserError, match="no config.json"):
        main(["--model", str(tmp_path), "--out", str(tmp_path / "x.gguf")])
    with pytest.raises(UserError, match="not a directory"):
        main(["--model", str(tmp_path), "--out", str(tmp_path / "nowhere" / "x.gguf")])
