"""Turn a catalog source (path, directory, URL, open stream, ``-``) into a Catalog."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..catalog import Catalog
from ..elements import parse_elements
from ..errors import SourceError

ELEMENT_SUFFIXES = {".txt", ".tle", ".3le", ".2le", ".json", ".xml", ".csv", ".kvn", ".omm"}


def read_source_texts(source, *, cache=None,
                      format: str | None = None) -> list[tuple[str, str]]:
    """``[(name, text), ...]`` for a path, directory, URL, stream or ``-``
    (``format``: how a download is checked before it is cached, see
    :func:`satwatch.sources.remote.fetch_url`)."""
    if hasattr(source, "read"):
        return [(getattr(source, "name", "<stream>"), source.read())]
    text_source = str(source)
    if text_source == "-":
        return [("<stdin>", sys.stdin.read())]
    if text_source.startswith(("http://", "https://")):
        from .remote import fetch_url
        return [(text_source, fetch_url(text_source, cache=cache, format=format))]
    path = Path(os.path.expanduser(text_source))
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _element_file(p))
        if not files:
            raise SourceError(f"{path}: no element files ({', '.join(sorted(ELEMENT_SUFFIXES))}, "
                              "also gzipped) in this directory")
        return [(str(p), _read(p)) for p in files]
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory (give a file, a directory, a "
                          "URL, or - for standard input)")
    return [(str(path), _read(path))]


def _element_file(path: Path) -> bool:
    """An element file by its suffix, also gzipped (``a.tle.gz``)."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in ELEMENT_SUFFIXES


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read ({exc.strerror})") from None
    return decode_text(data, str(path), gzipped=path.suffix.lower() == ".gz")


def decode_text(data: bytes, where: str, *, gzipped: bool = False) -> str:
    """The UTF-8 text in ``data`` (a file's or a download's bytes), gunzipped
    first when ``gzipped`` or when it starts with gzip's magic bytes.  A
    damaged gzip stream or bytes that are not UTF-8 raise one
    :class:`SourceError` naming ``where`` (the file or URL) and the fault."""
    gzipped = gzipped or data[:2] == b"\x1f\x8b"
    if gzipped:
        import gzip
        import zlib
        try:
            data = gzip.decompress(data)
        except EOFError:
            raise SourceError(f"{where}: a gzip file cut short (its compressed data ends "
                              "early: an interrupted copy or download?)") from None
        except gzip.BadGzipFile as exc:
            raise SourceError(f"{where}: not readable as gzip ({exc})") from None
        except (OSError, zlib.error) as exc:
            raise SourceError(f"{where}: a damaged gzip file ({exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        what = "a gzip file that does not decompress to UTF-8 text" if gzipped else \
            "not UTF-8 text"
        raise SourceError(f"{where}: {what} (byte {exc.start})") from None


def load_catalog(source, *, strict: bool = False, keep_history: bool = False,
                 cache=None, format: str | None = None) -> Catalog:
    """Read a catalog from a path, directory, URL, open text stream or ``-``.

    Every good record is kept; every rejected one is listed in
    ``catalog.rejections`` with its file, line and reason (``strict=True``
    raises at the first).  Where an object appears several times the newest
    element set is kept, unless ``keep_history``.
    """
    sets, rejections, names = [], [], []
    for name, text in read_source_texts(source, cache=cache, format=format):
        s, r = parse_elements(text, source=name, strict=strict, format=format)
        sets.extend(s)
        rejections.extend(r)
        names.append(name)
    label = names[0] if len(names) == 1 else f"{source} ({len(names)} files)"
    return Catalog.from_element_sets(sets, rejections, source=label, keep_history=keep_history)
