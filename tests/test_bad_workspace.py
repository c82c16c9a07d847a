"""benchmarks/bad_workspace.py: the server survives a hostile workspace and leaks nothing from it.

Behaviour only (timings and memory are the benchmark's to report, on quiet cores).
"""

from __future__ import annotations

import importlib.util
import json
import sys

from tests.conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    "bad_workspace", REPO_ROOT / "benchmarks" / "bad_workspace.py"
)
bad_workspace = importlib.util.module_from_spec(spec)
sys.modules["bad_workspace"] = bad_workspace  # dataclasses look their module up there
spec.loader.exec_module(bad_workspace)


def test_probe_document_ends_each_probe_at_return():
    text, probes = bad_workspace.probe_document(["huge"])
    lines = text.split("\n")
    assert [p.kind for p in probes] == [bad_workspace.FILE, bad_workspace.GOOD, "huge"]
    for spot in probes:
        assert lines[spot.line][: spot.column] == "    return "
        assert lines[spot.line - 1] == f"def probe_{spot.kind}():"


def test_bad_workspace_survives_and_leaks_nothing(tmp_path, tiny_model_dir, capsys):
    out_json = tmp_path / "bad.json"
    bad_workspace.main(["--model", str(tiny_model_dir), "--files", "300", "--huge_mb", "2",
                        "--threads", "1", "--json", str(out_json)])  # fmt: skip
    assert "| check" in capsys.readouterr().out
    figures = json.loads(out_json.read_text())
    assert figures["leaks"] == [] or (
        figures["readable_anyway"] and figures["leaks"] == ["unreadable"]
    )
    assert figures["unanswered"] == [] and figures["requests"] > len(bad_workspace.LEAK_KINDS)
    assert figures["alive"]
    assert figures["first_suggestion_s"] is not None  # the file's own probe, copied
    assert figures["workspace_suggestion_s"] is not None  # good files indexed despite the rest
    assert figures["index"]["workspace_files"] >= 300  # the good files, whatever else is there
    assert {row["check"] for row in figures["checks"]} >= {"no crash", "every request answered"}
