"""nanopilot language server: ghost-text code completion over LSP from a small local model.

Importing this package sets `OMP_WAIT_POLICY=PASSIVE` (unless already set). OpenMP threads that
spin while they wait for each other make every torch op several times slower when the cores are
shared with other work (13x measured for a tiny model on 2 busy cores); sleeping threads avoid
that. libgomp reads the variable once, when torch loads, so this package is imported first: by
`python -m server`, by the `training` package (which imports the server's shared helpers) and by
the tests' conftest.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
