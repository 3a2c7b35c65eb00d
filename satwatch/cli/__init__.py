"""The ``satwatch`` command line: a thin face over the core.

Each command module defines ``register(app)``; add new modules to COMMANDS.
"""
from __future__ import annotations

import importlib
import inspect

import typer

app = typer.Typer(name="satwatch", no_args_is_help=True, add_completion=False,
                  help="Space-domain awareness and launch monitoring: element sets, passes, "
                       "access, conjunctions, manoeuvres, launches.")

COMMANDS = ["core", "service", "store", "conjunctions", "launch", "passes"]

for _name in COMMANDS:
    importlib.import_module(f"{__name__}.{_name}").register(app)


def _reflow(text: str) -> str:
    """A docstring as help text: the lines of each paragraph joined (Rich
    keeps a docstring's line breaks, which cut sentences in half in
    'satwatch --help'); blank lines still separate paragraphs."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _reflow_help(typer_app: typer.Typer):
    for info in typer_app.registered_commands:
        text = info.help or (info.callback.__doc__ if info.callback else None)
        if text:
            info.help = _reflow(text)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _reflow_help(group.typer_instance)


_reflow_help(app)


def main():
    app()
