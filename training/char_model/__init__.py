"""SimpleGPT, a character-level model trained on Alice in Wonderland (`python -m training.alice`).

model.py (SimpleGPT), tokenizer.py (characters <-> ids), data.py (the Alice text and its split),
trainer.py (the training loop), checkpoint.py + interrupt.py (safe saves), cli.py (the command).
"""
