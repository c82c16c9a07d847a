"""`python -m training.evaluate`: score code models as the editor sees them.

The command lives in `training/code_model/evaluate.py`; this module keeps the name users type.
"""

from server.errors import run_cli
from training.code_model.evaluate import main

if __name__ == "__main__":
    run_cli(main)
