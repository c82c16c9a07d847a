"""`python -m training.alice`: train SimpleGPT on Alice, or sample from a checkpoint.

The command lives in `training/char_model/cli.py`; this module keeps the name users type.
"""

from server.errors import run_cli
from training.char_model.cli import main

if __name__ == "__main__":
    run_cli(main)
