"""The in-process model: prompt, token healing, the token loop over a decoder, and loading.

`engine.CompletionEngine` is the local implementation of server/contract.py's `Engine`. The
path of one request, top to bottom: engine.py -> prompt.py (with healing.py and
server/prompt_budget.py) -> token_loop.py over a decoder (decoders.py: lean_gpt2.py,
onnx_gpt2.py or kv_cache.py) -> server/contract.py's `finish` (server/postprocess/).

Importing this package loads nothing heavy; its modules import torch.
"""
