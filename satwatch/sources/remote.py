"""Downloads: CelesTrak's GP API and Space-Track, through a local cache that
never asks for the same data more than once in two hours (CelesTrak updates
GP data about every two hours and asks clients not to poll faster).

Only a download that reads as at least one element set enters the cache or
becomes the latest catalog: a server in trouble that answers 200 with a web
page or a text message (a quota notice) is an error naming the URL, the last
good catalog stays, and the next request asks the server again."""
from __future__ import annotations

import hashlib
import json
import os
import re
import time as _time
from pathlib import Path

import httpx

from ..elements import parse_elements
from ..errors import ElementsError, SourceError
from .loading import decode_text

CELESTRAK_GP_URL = "https://celestrak.org/NORAD/elements/gp.php"
SPACETRACK_URL = "https://www.space-track.org"
MIN_REFETCH_S = 2 * 3600
USER_AGENT = "satwatch (+https://github.com/satwatch/satwatch)"


class Cache:
    """A directory of downloaded responses with their fetch times.

    ``clock`` is injectable so tests can step time instead of sleeping.
    """

    def __init__(self, directory, clock=_time.time, min_refetch_s: float = MIN_REFETCH_S):
        self.directory = Path(directory)
        self.clock = clock
        self.min_refetch_s = min_refetch_s

    def _paths(self, key: str):
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        return self.directory / f"{digest}.data", self.directory / f"{digest}.meta.json"

    def get(self, key: str, *, max_age_s: float | None = None):
        data, meta = self._paths(key)
        if not (data.exists() and meta.exists()):
            return None
        info = json.loads(meta.read_text())
        age = self.clock() - info["fetched_at"]
        if age > (self.min_refetch_s if max_age_s is None else max_age_s):
            return None
        return data.read_text()

    def put(self, key: str, text: str, *, label: str | None = None) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        data, meta = self._paths(key)
        _write_atomic(data, text)
        _write_atomic(meta, json.dumps({"key": key, "fetched_at": self.clock(),
                                        "label": label or key, "path": str(data)}))
        return data

    def mark_latest_key(self, key: str, label: str):
        """Make the cached download of ``key`` the latest catalog (what
        commands use without --catalog): `satwatch update` does, whether the
        download was fresh or cached; other downloads (--catalog URL) do not."""
        self.mark_latest(self._paths(key)[0], label)

    def mark_latest(self, path: Path, label: str):
        _write_atomic(self.directory / "latest.json", json.dumps(
            {"path": str(path), "label": label, "fetched_at": self.clock()}))

    def latest(self) -> dict | None:
        p = self.directory / "latest.json"
        return json.loads(p.read_text()) if p.exists() else None


def _write_atomic(path: Path, text: str):
    """Write ``text`` to a temporary file beside ``path``, then rename it over
    ``path``: a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


_HTML_START = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]",
                         re.IGNORECASE | re.DOTALL)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _opening(text: str, limit: int = 80) -> str:
    """The first non-blank line of ``text``, shortened to ``limit`` characters."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _refuse_web_page(text: str, url, content_type: str = ""):
    """A web page (HTML: a maintenance page, a captive portal, a login form)
    where element sets were asked for is an error naming the URL and the
    page's title."""
    head = text.lstrip("\ufeff")[:4096]
    if not (_HTML_START.match(head) or ("html" in content_type.lower()
                                        and "<html" in head.lower())):
        return
    title = _HTML_TITLE.search(text[:65536])
    if title:
        from html import unescape
        title = f" titled {_opening(unescape(re.sub(r'<[^>]+>', ' ', title.group(1))))!r}"
    raise SourceError(f"{url}: the server sent a web page (HTML){title or ''} instead of element "
                      "sets; nothing was cached (try again later, or pass --catalog with a "
                      "local file)")


def check_element_sets(text: str, where: str, *, format: str | None = None) -> int:
    """How many element sets ``text`` (a download from ``where``) holds;
    :class:`SourceError` naming ``where`` if none at all (a web page, a
    server's message, a file of some other kind)."""
    _refuse_web_page(text, where)
    try:
        sets, rejections = parse_elements(text, source=where, format=format)
    except ElementsError as exc:
        sets, why = [], exc.reason
    else:
        why = rejections[0].reason if rejections else "no records"
    if not sets:
        raise SourceError(f"{where}: no element set found in the download, which begins "
                          f"{_opening(text)!r} ({_opening(why, 100)}); nothing was cached")
    return len(sets)


def _get(url: str, *, params=None, client: httpx.Client | None = None, timeout_s=60.0) -> str:
    try:
        if client is not None:
            resp = client.get(url, params=params)
        else:
            resp = httpx.get(url, params=params, timeout=timeout_s, follow_redirects=True,
                             headers={"User-Agent": USER_AGENT})
    except httpx.HTTPError as exc:
        raise SourceError(f"{url}: download failed ({exc.__class__.__name__}: {exc}); check the "
                          "network, or pass --catalog with a local file") from None
    if resp.status_code != 200:
        raise SourceError(f"{resp.url}: HTTP {resp.status_code} {resp.reason_phrase}: "
                          f"{resp.text[:200].strip()}")
    text = resp.text
    if resp.content[:2] == b"\x1f\x8b":              # a gzipped file (not transfer-encoded)
        text = decode_text(resp.content, str(resp.url), gzipped=True)
    _refuse_web_page(text, resp.url, resp.headers.get("content-type", ""))
    if not text.strip() or text.strip().lower().startswith("no gp data found"):
        raise SourceError(f"{resp.url}: the server answered with no element sets "
                          f"({text.strip()[:80]!r})")
    return text


def _keep(cache: Cache | None, key: str, text: str | None, *, label: str, make_latest: bool,
          format: str | None = None):
    """Put a fresh download (``text``; None for one the cache answered) into
    the cache, once it reads as element sets, and make it the latest catalog
    if asked."""
    if cache is None:
        return
    if text is not None:
        check_element_sets(text, key, format=format)
        cache.put(key, text, label=label)
    if make_latest:
        cache.mark_latest_key(key, label)


def fetch_url(url: str, *, cache: Cache | None = None, params=None,
              make_latest: bool = False, format: str | None = None) -> str:
    """The text at ``url``, through the cache; ``make_latest``: that download
    becomes the cache's latest catalog.  A fresh download enters the cache
    only if it reads as at least one element set (in ``format``, else the
    format found in it); otherwise :class:`SourceError` naming the URL, and
    the cache and its latest catalog stay as they were.  Without a cache the
    text is returned unchecked (but never a web page)."""
    key = url + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")
    hit = cache.get(key) if cache is not None else None
    text = hit if hit is not None else _get(url, params=params)
    _keep(cache, key, None if hit is not None else text, label=key, make_latest=make_latest,
          format=format)
    return text


def fetch_celestrak(group: str = "active", *, format: str = "tle", cache: Cache | None = None,
                    base_url: str = CELESTRAK_GP_URL, make_latest: bool = False) -> str:
    """One CelesTrak GP group (``active``, ``stations``, ``starlink``, ...) in
    ``tle`` (3LE), ``json``, ``xml``, ``kvn`` or ``csv``."""
    return fetch_url(base_url, cache=cache, params={"GROUP": group, "FORMAT": format},
                     make_latest=make_latest)


def fetch_spacetrack(identity: str, password: str, *, query: str | None = None,
                     cache: Cache | None = None, base_url: str = SPACETRACK_URL,
                     make_latest: bool = False) -> str:
    """The current GP catalog (3LE) from Space-Track, logging in with an account."""
    query = query or ("/basicspacedata/query/class/gp/decay_date/null-val/epoch/%3Enow-30/"
                      "orderby/norad_cat_id/format/3le")
    key = base_url + query
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            _keep(cache, key, None, label="space-track gp", make_latest=make_latest)
            return hit
    with httpx.Client(base_url=base_url, timeout=120.0, follow_redirects=True,
                      headers={"User-Agent": USER_AGENT}) as client:
        try:
            login = client.post("/ajaxauth/login",
                                data={"identity": identity, "password": password})
        except httpx.HTTPError as exc:
            raise SourceError(f"{base_url}: login failed ({exc})") from None
        if login.status_code != 200 or "failed" in login.text.lower():
            raise SourceError(f"{base_url}: Space-Track refused the login for {identity!r} "
                              f"(HTTP {login.status_code}); check SPACETRACK_USER and "
                              "SPACETRACK_PASSWORD")
        text = _get(query, client=client)
    _keep(cache, key, text, label="space-track gp", make_latest=make_latest)
    return text
