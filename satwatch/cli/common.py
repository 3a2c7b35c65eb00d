"""Options and helpers shared by the commands: where the catalog comes from,
where the cache lives, how times are read."""
from __future__ import annotations

import os
from pathlib import Path

import typer

from ..catalog import Catalog
from ..errors import SatwatchError, SourceError
from ..sources import Cache, load_catalog
from ..time import Time, utc

CATALOG_HELP = ("Catalog source: a file, a directory, a URL, or - for standard input. "
                "Default: the last 'satwatch update'.")
CatalogOption = typer.Option(None, "--catalog", "-c", help=CATALOG_HELP)


def cache_dir() -> Path:
    env = os.environ.get("SATWATCH_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_cache_dir("satwatch"))


def data_dir() -> Path:
    env = os.environ.get("SATWATCH_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_data_dir("satwatch"))


def get_cache() -> Cache:
    return Cache(cache_dir())


def resolve_catalog(source: str | None, *, strict: bool = False) -> Catalog:
    """The catalog named by ``--catalog``, else the last update's (with a
    spinner on a terminal: a whole catalog takes about a second)."""
    from .output import spinner
    with spinner(f"reading catalog {source or '(last update)'}"):
        return _resolve_catalog(source, strict=strict)


def _resolve_catalog(source: str | None, *, strict: bool = False) -> Catalog:
    if source is None:
        latest = get_cache().latest()
        if latest is None:
            raise SourceError("no catalog yet: run 'satwatch update' (needs the network) or "
                              "pass --catalog FILE")
        catalog = load_catalog(latest["path"], strict=strict)
        catalog.source = latest.get("label") or latest["path"]
        return catalog
    return load_catalog(source, strict=strict, cache=get_cache())


def latest_download() -> tuple[str, str] | None:
    """The last 'satwatch update' as ``(cache file, label)``: the label (the
    request's URL) is what element sets read from it are named by, not the
    cache's file name."""
    latest = get_cache().latest()
    if latest is None:
        return None
    return latest["path"], latest.get("label") or latest["path"]


def worker_count(workers: int | None) -> int:
    """``--workers``, or every CPU core: the interface reads the machine, the
    core takes a number."""
    n_proc = workers if workers is not None else (os.cpu_count() or 1)
    if n_proc < 1:
        raise SatwatchError(f"--workers {n_proc}: give 1 or more")
    return n_proc


def parse_time(text: str | None, default_now: bool = True) -> Time:
    """``--at``/``--start`` values: ISO-8601 UTC, or ``now`` (the only place
    the clock is read)."""
    if text is None or text.lower() == "now":
        import time as _t
        return Time(int(_t.time() * 1e9))
    return utc(text)


def one_line(message: str) -> str:
    """A message on one line: the text a server answered (an HTML error
    page) or a list joined with newlines would otherwise spill over many."""
    return " ".join(str(message).split())


def fail(message: str, code: int = 2):
    typer.secho(f"error: {one_line(message)}", fg="red", err=True)
    raise typer.Exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings (StaleElementsWarning, ...) as one line on stderr, like the
    errors: not Python's 'path/to/module.py:92: Category: ...' plus the source
    line that raised it, which says nothing to the person at the terminal."""
    typer.secho(f"warning: {one_line(message)}", fg="yellow", err=True)


def run_guarded(fn):
    """Run a command body, turning satwatch's errors into a one-line message
    and its warnings into one-line notes."""
    import warnings
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return fn()
        except SatwatchError as exc:
            fail(str(exc))
