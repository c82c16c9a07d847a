"""The multi-GPU command, proven on the CPU: torchrun with two processes (gloo) trains and saves a
model that loads again, so the command users run on a GPU cluster is known to work.
`--standalone` gives the rendezvous a free port (a static `--master_port 0` hangs in the store)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.test_code_finetune import TINY_RUN, local_base_model  # noqa: F401 (a fixture)


@pytest.mark.slow
def test_torchrun_two_processes_train_and_save_a_loadable_model(tmp_path, local_base_model):  # noqa: F811
    out = tmp_path / "ddp"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "training.finetune", "--base_model", str(local_base_model),
        "--output_dir", str(out), "--fim_rate", "0", *TINY_RUN,
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert model.config.n_layer == 2 and len(tokenizer) > 0
    assert "saved" in result.stdout
