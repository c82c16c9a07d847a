"""nanopilot language server: ghost-text code completion over LSP from a small local model."""

import training  # noqa: F401  (sets the OpenMP wait policy before torch loads; see there)
