"""nanopilot training: SimpleGPT on Alice (`char_model`) and code models for the server
(`code_model`), with a few helpers both use (atomic writes, plots, CPU features).

Dependencies point one way: training imports what it shares with the server (errors, devices, FIM
token names, the saved-model loader, top-p filtering) from `server`, never the reverse. Importing
`server` first also sets the OpenMP wait policy before torch loads (see `server/__init__.py`).
"""

import server  # noqa: F401  (first: sets the OpenMP wait policy before torch loads)
