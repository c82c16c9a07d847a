"""The code models the server runs: corpus, fine-tuning, evaluation and generation.

sources.py + corpus.py (Python files -> train/test), packing.py + fim.py (training blocks),
scratch.py + base_model.py (the model to start from), args.py + finetune.py + run_clock.py +
time_budget.py + outputs.py (`python -m training.finetune`), line_completion.py + evaluate.py
(`python -m training.evaluate`), generate.py (`python -m training.generate`), export_gguf.py
(`python -m training.export_gguf`, a model for llama.cpp's remote engine), hub.py.
"""
