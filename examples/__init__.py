"""Example source files, as the package `nanopilot_examples` (mapped onto examples/ like
`nanopilot_models`), so that `python -m server.demo` has its example wherever it is installed."""

from importlib.resources import files
from pathlib import Path

INVENTORY = Path(str(files(__name__).joinpath("inventory.py")))
