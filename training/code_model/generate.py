"""Try a trained code model by hand: sample a continuation of a prompt.

    python -m training.generate --model models/default "def fib(n):"
    python -m training.generate --model models/default "def area(r):\\n    return " \\
        --suffix "\\n\\nprint(area(2))"      # fill in the middle (FIM models)

This is plain `model.generate` with sampling; the completion server adds prompt building, token
healing and stopping rules on top (`server/local/engine.py`).
"""

from __future__ import annotations

import argparse

import torch

from server.errors import UserError
from server.fim import fim_token_ids
from server.local.saved_model import load_saved_model
from training.code_model.fim import to_psm


def generate_code(
    model,
    tokenizer,
    prompt: str,
    temperature: float = 0.7,
    top_p: float = 0.95,
    max_new_tokens: int = 64,
) -> str:
    """The text `model` writes after `prompt` (sampled; greedy when temperature is 0)."""
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p}
    with torch.no_grad():
        output = model.generate(
            **inputs,
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            **(sampling if temperature > 0 else {"do_sample": False}),
        )
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


def unescape(text: str) -> str:
    """Let a shell argument say \\n and \\t."""
    return text.replace("\\n", "\n").replace("\\t", "\t")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prompt", help="code to continue (\\n and \\t are understood)")
    parser.add_argument("--model", required=True, help="directory saved by training.finetune")
    parser.add_argument("--suffix", help="code after the gap, for fill-in-the-middle models")
    parser.add_argument("--temperature", type=float, default=0.7, help="0 for greedy")
    parser.add_argument("--top_p", type=float, default=0.95)
    parser.add_argument("--max_new_tokens", type=int, default=64)
    parser.add_argument("--samples", type=int, default=1, help="how many continuations")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    model, tokenizer = load_saved_model(args.model)
    prompt = unescape(args.prompt)
    if args.suffix is not None:
        if fim_token_ids(tokenizer) is None:
            raise UserError(f"--suffix: {args.model} was not trained for fill-in-the-middle")
        prompt = to_psm(prompt, "", unescape(args.suffix))
    torch.manual_seed(args.seed)
    for index in range(args.samples):
        text = generate_code(
            model, tokenizer, prompt, args.temperature, args.top_p, args.max_new_tokens
        )
        if args.samples > 1:
            print(f"--- sample {index + 1}")
        print(unescape(args.prompt) + text if args.suffix is None else text)
