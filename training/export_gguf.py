"""`python -m training.export_gguf`: a saved GPT-2 model as GGUF for llama.cpp (llama-server).

The command lives in `training/code_model/export_gguf.py`; this module keeps the name users type.
"""

from server.errors import run_cli
from training.code_model.export_gguf import main

if __name__ == "__main__":
    run_cli(main)
