"""Command-line options from config dataclasses: one `--kebab-case` option per field.

The dataclass is the one list of settings (type, default, help in the field's metadata, checks in
`__post_init__`); the command line is derived from it, as `HfArgumentParser` derives
`training.finetune`'s. Options default to None when a preset fills in what is not given.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any


def add_dataclass_options(
    group: argparse._ActionsContainer,
    cls: type,
    *,
    skip: tuple[str, ...] = (),
    preset: bool = False,
) -> None:
    """Add an option for each field of `cls` (except `skip`). With `preset`, every default is
    None so that `given` tells the options typed from the ones left to the preset."""
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        kind = hints[field.name]
        options: dict[str, Any] = {
            "default": None if preset else field.default,
            "help": field.metadata.get("help"),
        }
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        else:
            options["type"] = next(
                t for t in typing.get_args(kind) or (kind,) if t is not type(None)
            )
            if "choices" in field.metadata:
                options["choices"] = field.metadata["choices"]
        group.add_argument("--" + field.name.replace("_", "-"), **options)


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The options of `cls`'s fields that were given on the command line (not None)."""
    values = {field.name: getattr(args, field.name, None) for field in dataclasses.fields(cls)}
    return {name: value for name, value in values.items() if value is not None}


def from_args(args: argparse.Namespace, cls: type, **extra: Any) -> Any:
    """An instance of `cls` from the parsed options (its `__post_init__` checks them)."""
    names = {field.name for field in dataclasses.fields(cls)} - set(extra)
    return cls(**{name: getattr(args, name) for name in names}, **extra)
