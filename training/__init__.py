"""nanopilot training: SimpleGPT from scratch, and fine-tuning causal LMs on Python code."""
