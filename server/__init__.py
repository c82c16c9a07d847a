"""nanopilot language server: ghost-text code completion over LSP from a small local model."""
