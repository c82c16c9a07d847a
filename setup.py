"""The package list, which pyproject.toml cannot express: the packages found under training/ and
server/ (with their subpackages, e.g. training.char_model and training.code_model), plus
`nanopilot_models` and `nanopilot_examples`, which pyproject.toml's package-dir maps onto models/
and examples/ (setuptools' automatic discovery never looks at mapped folders).

`build_py` starts from an empty build/lib: setuptools otherwise keeps the copies of modules that
were moved or deleted since the last build in the checkout, and the wheel would ship them."""

import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


class FreshBuildPy(build_py):
    def run(self) -> None:
        if not getattr(self, "editable_mode", False):
            shutil.rmtree(self.build_lib, ignore_errors=True)
        super().run()


setup(
    packages=[
        *find_packages(include=["training*", "server*"]),
        "nanopilot_models",
        "nanopilot_examples",
    ],
    cmdclass={"build_py": FreshBuildPy},
)
