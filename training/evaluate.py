"""Score code models on the held-out test split: perplexity and CodeXGLUE-style line completion.

    python -m training.evaluate --model models/default
    python -m training.evaluate --model runs/quick runs/default --json runs/evaluation.json

Completions go through the completion server's own engine (`server.engine.CompletionEngine`):
the same prompt building, token healing (the cursor sits after indentation, halfway through a
newline+indent token), FIM prompt for FIM models, stopping and post-processing that the editor
gets, decoded greedily. The first line of each suggestion is compared with the true line:
exact match (%) and edit similarity (0-100). Perplexity is per token of the model's own
tokenizer; bits per character compare models with different tokenizers.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import torch
from tqdm import tqdm

from training.atomic import write_json
from training.corpus import SPLITS, CorpusOptions, add_corpus_arguments, load_corpus
from training.errors import UserError, run_cli
from training.line_completion import (
    LineCase,
    build_cases,
    edit_similarity,
    exact_match,
    first_line,
)
from training.saved_model import load_saved_model


def completion_scores(
    model_dir: Path, cases: list[LineCase], max_new_tokens: int, use_suffix: bool, device: str
) -> dict:
    """Exact match and edit similarity of the engine's greedy first lines over `cases`."""
    from server.engine import CompletionEngine, GenerationSettings

    engine = CompletionEngine.load(model_dir, device=device)
    with_suffix = engine.is_fim and use_suffix
    settings = GenerationSettings(
        temperature=0.0,
        top_p=1.0,
        max_new_tokens=max_new_tokens,
        multiline=False,
        use_suffix=with_suffix,
    )
    matches, similarities, examples = 0, [], []
    started = time.perf_counter()
    for case in tqdm(cases, desc=f"line completion {model_dir.name}", unit="case", leave=False):
        prediction = first_line(engine.complete(case.prefix, case.suffix, settings))
        matches += exact_match(prediction, case.target)
        similarities.append(edit_similarity(prediction, case.target))
        if len(examples) < 8:
            examples.append({"target": case.target, "prediction": prediction})
    return {
        "fim_prompt": with_suffix,
        "cases": len(cases),
        "exact_match": 100.0 * matches / len(cases),
        "edit_similarity": sum(similarities) / len(cases),
        "seconds_per_case": (time.perf_counter() - started) / len(cases),
        "examples": examples,
    }


def perplexity_scores(model_dir: Path, functions: list[str], max_functions: int) -> dict:
    """Mean next-token loss over whole functions, each scored alone (plain text, no FIM)."""
    model, tokenizer = load_saved_model(model_dir)
    context = model.config.max_position_embeddings
    total_loss = total_tokens = total_chars = 0.0
    with torch.no_grad():
        for function in functions[:max_functions]:
            ids = tokenizer(function, truncation=True, max_length=context - 1)["input_ids"]
            ids = torch.tensor([[tokenizer.eos_token_id, *ids, tokenizer.eos_token_id]])
            ids = ids[:, :context]  # a long function is scored on its first `context` tokens
            predicted = ids.shape[1] - 1  # the first token is only context
            total_loss += model(input_ids=ids, labels=ids).loss.item() * predicted
            total_tokens += predicted
            total_chars += len(tokenizer.decode(ids[0, 1:], skip_special_tokens=True)) + 1
    loss = total_loss / total_tokens
    return {
        "test_loss": loss,
        "perplexity": math.exp(loss),
        "bits_per_char": total_loss / math.log(2) / total_chars,
        "perplexity_tokens": int(total_tokens),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def evaluate_model(model_dir: Path, functions: list[str], cases: list[LineCase], args) -> dict:
    result = {"model": str(model_dir)}
    result |= perplexity_scores(model_dir, functions, args.perplexity_functions)
    result |= completion_scores(
        model_dir, cases, args.max_new_tokens, not args.without_suffix, args.device
    )
    return result


def format_table(results: list[dict]) -> str:
    header = (
        f"{'model':<32} {'params':>7} {'FIM':>4} {'ppl':>7} {'bits/ch':>7} {'EM %':>6} {'ES':>6}"
    )
    rows = [
        f"{Path(r['model']).name or r['model']:<32} {r['parameters'] / 1e6:>6.2f}M "
        f"{'yes' if r['fim_prompt'] else 'no':>4} {r['perplexity']:>7.2f} "
        f"{r['bits_per_char']:>7.3f} {r['exact_match']:>6.1f} {r['edit_similarity']:>6.1f}"
        for r in results
    ]
    return "\n".join([header, "-" * len(header), *rows])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="+", required=True, type=Path, help="model directories")
    add_corpus_arguments(parser)
    parser.add_argument(
        "--split", default="test", choices=SPLITS, help="split to score (train: memorisation)"
    )
    parser.add_argument("--cases", type=int, default=300, help="line-completion cases")
    parser.add_argument("--seed", type=int, default=0, help="seed that picks the cases")
    parser.add_argument("--max_new_tokens", type=int, default=48)
    parser.add_argument(
        "--perplexity_functions", type=int, default=300, help="functions scored for perplexity"
    )
    parser.add_argument(
        "--min_lines", type=int, default=CorpusOptions.min_lines, help="shortest function used"
    )
    parser.add_argument("--without_suffix", action="store_true", help="no suffix for FIM models")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    parser.add_argument("--json", type=Path, default=Path("runs/evaluation.json"))
    args = parser.parse_args(argv)
    corpus = load_corpus(args.data, CorpusOptions(min_lines=args.min_lines))
    functions = corpus.splits[args.split]
    cases = build_cases(functions, args.cases, args.seed)
    if not cases:
        raise UserError(f"the {args.split} split has no function bodies to cut cases from")
    print(f"{len(cases)} line-completion cases from {len(functions)} {args.split} functions")
    results = [evaluate_model(model_dir, functions, cases, args) for model_dir in args.model]
    print(format_table(results))
    summary = {"data": corpus.summary.source, "split": args.split, "seed": args.seed}
    write_json(args.json, {**summary, "results": results})
    print(f"wrote {args.json}")


if __name__ == "__main__":
    run_cli(main)
