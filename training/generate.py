"""`python -m training.generate`: sample a continuation from a trained code model.

The command lives in `training/code_model/generate.py`; this module keeps the name users type.
"""

from server.errors import run_cli
from training.code_model.generate import main

if __name__ == "__main__":
    run_cli(main)
