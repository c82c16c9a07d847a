"""The package list, which pyproject.toml cannot express: the packages found under training/ and
server/, plus `nanopilot_models` and `nanopilot_examples`, which pyproject.toml's package-dir maps
onto models/ and examples/ (setuptools' automatic discovery never looks at mapped folders)."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["training*", "server*"]),
        "nanopilot_models",
        "nanopilot_examples",
    ]
)
