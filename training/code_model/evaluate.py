"""Score code models as the editor sees them: whole held-out files, the rest of the line to type.

    python -m training.evaluate --model models/default
    python -m training.evaluate --model runs/previous models/default --json runs/evaluation.json

Cases (`training.code_model.line_completion`) are cut from the whole files of the held-out split
(held out by package, see `training.corpus`) at two cursor kinds: a statement start and mid-line.
Each is completed through the completion server's own engine (`server.local.engine`'s
`CompletionEngine`): the same prompt building from the whole file before the cursor, token
healing, stopping and post-processing the editor gets, decoded greedily, with the server's
default settings (the suffix in the prompt only with `--use_suffix`). The first line of each
suggestion is compared with the true rest of the line: exact match (%) and edit similarity
(0-100), each with its standard error. A constant baseline (the most frequent line of the training
files at that cursor kind) is in the same table. Perplexity is per token of the model's own
tokenizer; bits per character compare models with different tokenizers.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm import tqdm
from transformers import AutoTokenizer

from server.contract import CompletionRequest, GenerationSettings
from server.errors import UserError
from server.local.engine import CompletionEngine
from server.local.options import DECODERS
from server.local.saved_model import load_saved_model
from training.atomic import write_json
from training.code_model.corpus import (
    SPLITS,
    Corpus,
    CorpusOptions,
    SourceFile,
    add_corpus_arguments,
    load_corpus,
)
from training.code_model.line_completion import (
    CURSOR_KINDS,
    LineCase,
    Scores,
    build_cases,
    constant_baseline,
)
from training.code_model.line_completion import first_line as first_line_of
from training.code_model.sources import STDLIB_GROUP_PREFIX

BASELINE_FILES = 300  # training files (a seeded sample) the constant baseline is chosen from
BASELINE_CASES = 5000
COPY_TEST_LINES = 3  # the copy test's snippet: the target line and this many lines either side
COPY_TEST_PATH = "retrieved.py"  # the path its snippet is shown with
CASE_PATH = "module.py"  # the path the case's own file is shown with after the snippet
SNIPPET_MARGIN_TOKENS = 8  # tokens may merge where the snippet meets the prefix


def completion_scores(
    model_dir: Path, cases: dict[str, list[LineCase]], args: argparse.Namespace
) -> dict:
    """Scores of the engine's greedy first lines for each cursor kind."""
    engine = CompletionEngine.load(model_dir, device=args.device, decoder=args.decoder)
    settings = GenerationSettings(
        temperature=0.0,
        top_p=1.0,
        max_new_tokens=args.max_new_tokens,
        context_tokens=args.context_tokens,
        multiline="never",
        use_suffix=engine.is_fim and args.use_suffix,
        comments_at_line_start=args.comments,
    )

    result: dict = {"fim_prompt": settings.use_suffix, "comments": args.comments,
                    "decoder": engine.decoder}  # fmt: skip
    for kind, kind_cases in cases.items():
        started = time.perf_counter()
        predictions = complete_cases(engine, kind_cases, settings, f"{model_dir.name} {kind}")
        result[kind] = asdict(Scores.of(predictions, kind_cases))
        result[kind]["seconds_per_case"] = (time.perf_counter() - started) / len(kind_cases)
        result[kind]["predictions"] = [
            {"target": c.target, "prediction": p}
            for c, p in zip(kind_cases, predictions, strict=True)
        ]
    if args.copy_test:
        result["copy_test"] = copy_test_scores(engine, model_dir, cases, settings)
    return result


def complete_cases(
    engine: CompletionEngine,
    cases: list[LineCase],
    settings: GenerationSettings,
    desc: str,
    prompt_prefix: Callable[[LineCase], str] = lambda case: case.prefix,
) -> list[str]:
    """The engine's first line for each case, the prompt built from `prompt_prefix(case)`."""
    return [
        first_line_of(
            engine.complete_sync(CompletionRequest(prompt_prefix(case), case.suffix, settings)).text
        )
        for case in tqdm(cases, desc=desc, unit="case", leave=False, disable=None)
    ]


def neighbourhood(case: LineCase) -> str:
    """The case's whole line and COPY_TEST_LINES lines either side of it, from the file."""
    lines = (case.prefix + case.target + case.suffix).split("\n")
    line = case.prefix.count("\n")
    return "\n".join(lines[max(line - COPY_TEST_LINES, 0) : line + COPY_TEST_LINES + 1]) + "\n"


def copy_test_scores(
    engine: CompletionEngine,
    model_dir: Path,
    cases: dict[str, list[LineCase]],
    settings: GenerationSettings,
) -> dict:
    """Issue 20's copy test: the same cases with the answer's neighbourhood as a retrieved
    snippet before the prompt. The engine keeps a prompt's last tokens, so the file's prefix is
    cut to leave the snippet room in the budget: it ends up about a window before the cursor."""
    from server.snippets import Snippet, format_context  # the server's context format

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    budget = engine.prompt_budget(settings) - SNIPPET_MARGIN_TOKENS

    def with_snippet(case: LineCase) -> str:
        snippet = format_context([Snippet(COPY_TEST_PATH, neighbourhood(case))], CASE_PATH)
        room = budget - len(tokenizer(snippet)["input_ids"])
        ids = tokenizer(case.prefix, verbose=False)["input_ids"]
        return snippet + (tokenizer.decode(ids[-room:]) if room > 0 else "")

    result = {}
    for kind, kind_cases in cases.items():
        desc = f"{model_dir.name} {kind} + snippet"
        predictions = complete_cases(engine, kind_cases, settings, desc, with_snippet)
        result[kind] = asdict(Scores.of(predictions, kind_cases))
    return result


def perplexity_scores(model_dir: Path, sources: list[str], max_files: int) -> dict:
    """Mean next-token loss over the first context window of each held-out file (plain text)."""
    model, tokenizer = load_saved_model(model_dir)
    context = model.config.max_position_embeddings
    total_loss = total_tokens = total_chars = 0.0
    with torch.no_grad():
        for source in sources[:max_files]:
            ids = tokenizer(source, truncation=True, max_length=context - 1)["input_ids"]
            ids = torch.tensor([[tokenizer.eos_token_id, *ids]])
            predicted = ids.shape[1] - 1  # the first token is only context
            total_loss += model(input_ids=ids, labels=ids).loss.item() * predicted
            total_tokens += predicted
            total_chars += len(tokenizer.decode(ids[0, 1:], skip_special_tokens=True))
    loss = total_loss / total_tokens
    return {
        "test_loss": loss,
        "perplexity": math.exp(loss),
        "bits_per_char": total_loss / math.log(2) / total_chars,
        "perplexity_tokens": int(total_tokens),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def baseline_row(train_sources: list[str], cases: dict[str, list[LineCase]], seed: int) -> dict:
    """The best constant: each kind's most frequent line in the training files, on the cases."""
    row: dict = {"model": "constant baseline", "parameters": 0, "fim_prompt": False}
    for kind, kind_cases in cases.items():
        constant = constant_baseline(build_cases(train_sources, BASELINE_CASES, kind, seed))
        row[kind] = asdict(Scores.of([constant] * len(kind_cases), kind_cases))
        row[kind]["constant"] = constant
    return row


def is_stdlib(group: str) -> bool:
    return group.startswith(STDLIB_GROUP_PREFIX)


def cell(scores: dict, key: str) -> str:
    return f"{scores[key]:.1f} ± {scores[key + '_se']:.1f}"


def format_table(results: list[dict]) -> str:
    """A Markdown table: one row per model, EM and ES with their standard errors per kind."""

    kinds = [kind for kind in CURSOR_KINDS if kind in results[0]]
    header = ["model", "params", "FIM prompt", "ppl", "bits/char"]
    for kind in kinds:
        header += [f"{kind} EM %", f"{kind} ES"]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        ppl = f"{r['perplexity']:.2f}" if "perplexity" in r else "–"
        bits = f"{r['bits_per_char']:.3f}" if "bits_per_char" in r else "–"
        cells = [Path(r["model"]).name or r["model"], f"{r['parameters'] / 1e6:.2f}M",
                 "yes" if r["fim_prompt"] else "no", ppl, bits]  # fmt: skip
        for kind in kinds:
            cells += [cell(r[kind], "exact_match"), cell(r[kind], "edit_similarity")]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def format_copy_test(results: list[dict]) -> str:
    """A Markdown table: ES without and with the answer's neighbourhood in the prompt."""
    rows = ["| model | cursor | ES without snippet | ES with snippet | change |", "|---" * 5 + "|"]
    for r in results:
        for kind, scores in r.get("copy_test", {}).items():
            without, with_snippet = r[kind], scores
            change = with_snippet["edit_similarity"] - without["edit_similarity"]
            cells = [Path(r["model"]).name, kind, cell(without, "edit_similarity"),
                     cell(with_snippet, "edit_similarity"), f"{change:+.1f}"]  # fmt: skip
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", required=True, type=Path, help="model directories")
    add_corpus_arguments(parser)
    parser.add_argument(
        "--split", default="test", choices=SPLITS, help="split to score (train: memorisation)"
    )
    parser.add_argument("--cases", type=int, default=400, help="cases per cursor kind")
    parser.add_argument(
        "--kinds", nargs="+", default=list(CURSOR_KINDS), choices=CURSOR_KINDS, help="cursors"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed that picks the cases")
    parser.add_argument("--max_new_tokens", type=int, default=48)
    parser.add_argument(
        "--context_tokens",
        type=int,
        help="prompt budget, as the server's contextTokens setting (default: the server's, 256)",
    )
    parser.add_argument("--perplexity_files", type=int, default=100, help="files scored for ppl")
    parser.add_argument("--use_suffix", action="store_true", help="FIM prompt with the suffix")
    parser.add_argument(
        "--comments", action="store_true", help="allow comments at a line start (server: off)"
    )
    parser.add_argument(
        "--all_groups",
        action="store_true",
        help="also cut cases from held-out standard-library modules (the shipped model's first "
        "stage trained on the whole standard library, so by default they are left out)",
    )
    parser.add_argument(
        "--groups",
        nargs="+",
        help="only these held-out groups (packages), e.g. matplotlib requests: the set the model "
        "card measured, whatever else is installed (default: every held-out group)",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument(
        "--decoder",
        default="auto",
        choices=DECODERS,
        help="what runs the model, as the server's setting (server/local/decoders.py)",
    )
    parser.add_argument(
        "--copy_test",
        action="store_true",
        help="also score every case with its own line and 3 lines either side given as a "
        "retrieved snippet before the prompt (server.snippets' format): can the model copy?",
    )
    parser.add_argument("--json", type=Path, default=Path("runs/evaluation.json"))
    return parser.parse_args(argv)


def held_out_files(args: argparse.Namespace) -> tuple[Corpus, list[SourceFile]]:
    """The corpus and the files of `args.split` that cases are cut from (`args.groups` only)."""
    corpus = load_corpus(args.data, CorpusOptions(unit="file"))
    held_out = [
        f
        for f in corpus.files[args.split]
        if (args.all_groups or not is_stdlib(f.group))
        and (args.groups is None or f.group in args.groups)
    ]
    if args.groups and not held_out:
        available = sorted({f.group for f in corpus.files[args.split]})
        raise UserError(f"none of {', '.join(args.groups)} is in the {args.split} split; it has: "
                        f"{', '.join(available)}")  # fmt: skip
    return corpus, held_out


def editor_cases(
    args: argparse.Namespace,
) -> tuple[dict[str, list[LineCase]], list[str], list[str]]:
    """(cases per cursor kind, held-out file texts, a seeded sample of training file texts)."""
    corpus, held_out = held_out_files(args)
    sources = [file.text for file in held_out]
    cases = {kind: build_cases(sources, args.cases, kind, args.seed) for kind in args.kinds}
    if not all(cases.values()):
        raise UserError(f"the {args.split} split has no function bodies to cut cases from")
    counts = ", ".join(f"{len(c)} {kind}" for kind, c in cases.items())
    groups = sorted({file.group for file in held_out})
    print(f"cases: {counts} from {len(sources)} {args.split} files of {', '.join(groups)}")
    train_sources = [file.text for file in corpus.files["train"]]
    train_sample = random.Random(args.seed).sample(
        train_sources, min(BASELINE_FILES, len(train_sources))
    )
    args.summary = {"data": corpus.summary.source, "split": args.split, "seed": args.seed,
                    "groups": groups}  # fmt: skip
    return cases, sources, train_sample


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cases, sources, train_sample = editor_cases(args)
    results = [baseline_row(train_sample, cases, args.seed)]
    for model_dir in args.model:
        result = {"model": str(model_dir)}
        result |= perplexity_scores(model_dir, sources, args.perplexity_files)
        result |= completion_scores(model_dir, cases, args)
        results.append(result)
    print(format_table(results))
    if args.copy_test:
        print(format_copy_test(results[1:]))
    write_json(args.json, {**args.summary, "results": results})
    print(f"wrote {args.json}")
