"""The ``satwatch`` command line: a thin face over the core.

Each command module defines ``register(app)``; add new modules to COMMANDS.
"""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(name="satwatch", no_args_is_help=True, add_completion=False,
                  help="Space-domain awareness and launch monitoring: element sets, passes, "
                       "access, conjunctions, manoeuvres, launches.")

COMMANDS = ["core", "service", "store", "conjunctions", "launch", "passes"]

for _name in COMMANDS:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def main():
    app()
