"""`python -m training.finetune`: train or fine-tune a code model for the server.

The command lives in `training/code_model/finetune.py`; this module keeps the name users type.
"""

from server.errors import run_cli
from training.code_model.finetune import main

if __name__ == "__main__":
    run_cli(main)
