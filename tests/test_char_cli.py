"""`python -m training.alice`: real (tiny) training runs, resume, sampling, Ctrl-C, bad input."""

from __future__ import annotations

import functools
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from server.errors import run_cli
from tests.conftest import ALICE_TEXT, REPO_ROOT
from training.char_model import cli as alice
from training.char_model.checkpoint import load_checkpoint
from training.char_model.data import download_alice

TINY_MODEL = ["--block-size", "32", "--n-embd", "32", "--n-head", "2", "--n-layer", "2"]
TINY_RUN = [*TINY_MODEL, "--batch-size", "16", "--eval-iters", "4", "--max-minutes", "0"]


def run_alice(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Run the command in-process as its `__main__` does; return (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        run_cli(lambda: alice.main(list(args)))
    out, err = capsys.readouterr()
    return exited.value.code, out, err


def train_args(out: Path, max_iters: int, eval_interval: int, *extra: str) -> list[str]:
    return [
        "--text", str(ALICE_TEXT), "--out", str(out), *TINY_RUN,
        "--max-iters", str(max_iters), "--eval-interval", str(eval_interval), *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint from a few iterations: enough for the sample and bad-input tests."""
    out = tmp_path_factory.mktemp("quick")
    alice.main(train_args(out, 10, 5))
    return out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("trained")
    alice.main(train_args(out, 200, 100, "--lr", "3e-3"))
    return out


@pytest.mark.slow
def test_short_training_run_lowers_val_loss(trained_run: Path) -> None:
    metrics = json.loads((trained_run / "metrics.json").read_text())
    val = [point["loss"] for point in metrics["val_loss"]]
    assert [point["iter"] for point in metrics["val_loss"]] == [0, 100, 200]
    assert val[-1] < val[0] - 1.0  # from ~ln(71) = 4.26 to under 3.3
    assert metrics["best_val_loss"] == min(val)
    assert metrics["iterations"] == 200 and not metrics["interrupted"]
    assert metrics["tokens_per_s"] > 0 and metrics["params"] > 0
    assert (trained_run / "loss.png").read_bytes().startswith(b"\x89PNG")
    checkpoint = load_checkpoint(trained_run / "ckpt.pt", alice.CKPT_KEYS)
    assert checkpoint["iteration"] == metrics["best_iter"]
    assert checkpoint["config"]["n_embd"] == 32


@pytest.mark.slow
def test_sample_prints_prompt_and_continuation(trained_run: Path, capsys) -> None:
    args = ["sample", "--out", str(trained_run), "--prompt", "Alice", "--max-new-tokens", "40"]
    status, out, _ = run_alice(capsys, *args, "--top-k", "5", "--top-p", "0.9")
    assert status == 0
    assert out.startswith("Alice") and len(out) == len("Alice") + 40 + 1  # + print's newline
    assert run_alice(capsys, *args)[1] == run_alice(capsys, *args)[1]  # --seed fixes the text


@pytest.mark.slow
def test_resume_continues_from_the_saved_iteration(trained_run: Path, tmp_path: Path, capsys):
    out = tmp_path / "resumed"
    shutil.copytree(trained_run, out)
    saved = load_checkpoint(out / "ckpt.pt", alice.CKPT_KEYS)
    status, stdout, _ = run_alice(
        capsys, *train_args(out, saved["iteration"] + 50, 100, "--lr", "3e-3", "--resume")
    )
    assert status == 0
    assert f"resuming from iteration {saved['iteration']}" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    iters = [point["iter"] for point in metrics["val_loss"]]
    assert iters == [*saved["history"]["iters"], saved["iteration"] + 50]
    assert metrics["iterations"] == saved["iteration"] + 50


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_keeps_the_best_checkpoint(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "training.alice", *train_args(tmp_path, 10**6, 10)]
    stderr_path = tmp_path / "stderr.txt"  # a file: the progress bar could fill a pipe
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
        stdout = ""
        while "iter 10:" not in stdout:  # the first checkpoint after training began
            line = process.stdout.readline()
            assert line, f"training ended early: {stderr_path.read_text()}"
            stdout += line
        process.send_signal(signal.SIGINT)
        stdout += process.communicate(timeout=120)[0]
    assert process.returncode == 130, stderr_path.read_text()
    assert "Traceback" not in stderr_path.read_text()
    assert "best checkpoint is kept" in stdout
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["interrupted"] is True and metrics["iterations"] >= 10
    checkpoint = load_checkpoint(tmp_path / "ckpt.pt", alice.CKPT_KEYS)
    assert checkpoint["iteration"] == metrics["best_iter"]


def assert_one_line_error(status: int, err: str, expected: str) -> None:
    assert status == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        (None, [], "does not exist"),
        ("", [], "is empty"),
        (" \n\n ", [], "is empty"),
        ("Alice was beginning to get very tired. " * 5, [], "too few"),
        ("abc" * 1000, ["--n-embd", "30", "--n-head", "4"], "divisible by n_head"),
        ("abc" * 1000, ["--batch-size", "0"], "batch_size must be at least 1"),
        ("abc" * 1000, ["--lr", "-1"], "lr must be positive"),
    ],
)
def test_bad_training_input_is_one_line(tmp_path, capsys, text, options, expected) -> None:
    path = tmp_path / "text.txt"
    if text is not None:
        path.write_text(text)
    status, _, err = run_alice(
        capsys, "--text", str(path), "--out", str(tmp_path / "run"), *TINY_MODEL, *options
    )
    assert_one_line_error(status, err, expected)
    assert not (tmp_path / "run" / "ckpt.pt").exists()


def test_offline_without_text_says_to_pass_text(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    offline = functools.partial(download_alice, url="http://127.0.0.1:9/pg11.txt", timeout=1)
    monkeypatch.setattr(alice, "download_alice", offline)
    status, _, err = run_alice(capsys, "--out", str(tmp_path / "run"))
    assert_one_line_error(status, err, "pass --text")


def test_existing_checkpoint_is_never_overwritten_without_resume(quick_run, capsys) -> None:
    before = (quick_run / "ckpt.pt").read_bytes()
    status, _, err = run_alice(capsys, *train_args(quick_run, 10, 5))
    assert_one_line_error(status, err, "pass --resume")
    assert (quick_run / "ckpt.pt").read_bytes() == before


def test_resume_with_a_different_config_is_refused(quick_run, capsys) -> None:
    status, _, err = run_alice(capsys, *train_args(quick_run, 20, 5, "--resume", "--n-layer", "3"))
    assert_one_line_error(status, err, "n_layer=2 (now 3)")


def test_resume_without_a_checkpoint_is_refused(tmp_path, capsys) -> None:
    status, _, err = run_alice(capsys, *train_args(tmp_path, 20, 5, "--resume"))
    assert_one_line_error(status, err, "no checkpoint at")


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "no checkpoint at"), (b"not a checkpoint", "not a readable checkpoint")],
)
def test_sample_needs_a_good_checkpoint(tmp_path, capsys, content, expected) -> None:
    if content is not None:
        (tmp_path / "ckpt.pt").write_bytes(content)
    status, _, err = run_alice(capsys, "sample", "--out", str(tmp_path))
    assert_one_line_error(status, err, expected)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"weights": torch.zeros(2)}, "missing model"),
        ({**dict.fromkeys(alice.CKPT_KEYS, 0), "model": {}, "config": {}}, "does not fit"),
    ],
)
def test_sample_rejects_a_foreign_checkpoint(tmp_path, capsys, payload, expected) -> None:
    torch.save(payload, tmp_path / "ckpt.pt")
    status, _, err = run_alice(capsys, "sample", "--out", str(tmp_path))
    assert_one_line_error(status, err, expected)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--prompt", "Alice\u263a"], "--prompt: characters not in the vocabulary"),
        (["--temperature", "0"], "temperature must be > 0"),
        (["--top-p", "2"], "top_p must be in (0, 1]"),
        (["--max-new-tokens", "-1"], "--max-new-tokens"),
    ],
)
def test_bad_sampling_options_are_one_line(quick_run, capsys, options, expected) -> None:
    status, _, err = run_alice(capsys, "sample", "--out", str(quick_run), *options)
    assert_one_line_error(status, err, expected)
