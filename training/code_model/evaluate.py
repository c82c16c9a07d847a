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
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm import tqdm

from server.contract import CompletionRequest, GenerationSettings
from server.errors import UserError
from server.local.engine import CompletionEngine
from server.local.options import DECODERS
from server.local.saved_model import load_saved_model
from training.atomic import write_json
from training.code_model.corpus import SPLITS, CorpusOptions, add_corpus_arguments, load_corpus
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

    def suggestion(case: LineCase) -> str:
        return engine.complete_sync(CompletionRequest(case.prefix, case.suffix, settings)).text

    result: dict = {"fim_prompt": settings.use_suffix, "comments": args.comments,
                    "decoder": engine.decoder}  # fmt: skip
    for kind, kind_cases in cases.items():
        started = time.perf_counter()
        predictions = [
            first_line_of(suggestion(case))
            for case in tqdm(
                kind_cases, desc=f"{model_dir.name} {kind}", unit="case", leave=False, disable=None
            )
        ]
        result[kind] = asdict(Scores.of(predictions, kind_cases))
        result[kind]["seconds_per_case"] = (time.perf_counter() - started) / len(kind_cases)
        result[kind]["predictions"] = [
            {"target": c.target, "prediction": p}
            for c, p in zip(kind_cases, predictions, strict=True)
        ]
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


def format_table(results: list[dict]) -> str:
    """A Markdown table: one row per model, EM and ES with their standard errors per kind."""

    def cell(scores: dict, key: str) -> str:
        return f"{scores[key]:.1f} ± {scores[key + '_se']:.1f}"

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
    parser.add_argument("--json", type=Path, default=Path("runs/evaluation.json"))
    return parser.parse_args(argv)


def editor_cases(
    args: argparse.Namespace,
) -> tuple[dict[str, list[LineCase]], list[str], list[str]]:
    """(cases per cursor kind, held-out file texts, a seeded sample of training file texts)."""
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
    write_json(args.json, {**args.summary, "results": results})
    print(f"wrote {args.json}")
