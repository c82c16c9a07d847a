"""The models that ship with nanopilot, as the package `nanopilot_models`.

pyproject.toml maps this package onto the checkout's models/ folder: a wheel carries the files as
package data and an editable install reads them in place, one copy either way. They are found with
importlib.resources, so the server finds its default model wherever it is installed.
"""

from importlib.resources import files
from pathlib import Path

# An installed regular package's resources are plain files, so the Traversable is a real path.
DEFAULT_MODEL = Path(str(files(__name__).joinpath("default")))
