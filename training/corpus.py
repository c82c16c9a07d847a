"""`python -m training.corpus`: build and summarise the Python training corpus.

The command lives in `training/code_model/corpus.py`; this module keeps the name users type.
"""

from server.errors import run_cli
from training.code_model.corpus import main

if __name__ == "__main__":
    run_cli(main)
