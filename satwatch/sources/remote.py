"""Downloads: CelesTrak's GP API and Space-Track, through a local cache that
never asks for the same data more than once in two hours (CelesTrak updates
GP data about every two hours and asks clients not to poll faster)."""
from __future__ import annotations

import hashlib
import json
import time as _time
from pathlib import Path

import httpx

from ..errors import SourceError

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
        tmp = data.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(data)
        meta.write_text(json.dumps({"key": key, "fetched_at": self.clock(),
                                    "label": label or key, "path": str(data)}))
        return data

    def mark_latest_key(self, key: str, label: str):
        """Make the cached download of ``key`` the latest catalog (what
        commands use without --catalog): `satwatch update` does, whether the
        download was fresh or cached; other downloads (--catalog URL) do not."""
        self.mark_latest(self._paths(key)[0], label)

    def mark_latest(self, path: Path, label: str):
        (self.directory / "latest.json").write_text(json.dumps(
            {"path": str(path), "label": label, "fetched_at": self.clock()}))

    def latest(self) -> dict | None:
        p = self.directory / "latest.json"
        return json.loads(p.read_text()) if p.exists() else None


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
        import gzip
        try:
            text = gzip.decompress(resp.content).decode("utf-8-sig")
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise SourceError(f"{resp.url}: a gzip file that does not decompress to UTF-8 "
                              f"text ({exc.__class__.__name__})") from None
    if not text.strip() or text.strip().lower().startswith("no gp data found"):
        raise SourceError(f"{resp.url}: the server answered with no element sets "
                          f"({text.strip()[:80]!r})")
    return text


def fetch_url(url: str, *, cache: Cache | None = None, params=None,
              make_latest: bool = False) -> str:
    """The text at ``url``, through the cache; ``make_latest``: that download
    becomes the cache's latest catalog."""
    key = url + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")
    text = cache.get(key) if cache is not None else None
    if text is None:
        text = _get(url, params=params)
        if cache is not None:
            cache.put(key, text, label=key)
    if cache is not None and make_latest:
        cache.mark_latest_key(key, key)
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
            if make_latest:
                cache.mark_latest_key(key, "space-track gp")
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
    if cache is not None:
        cache.put(key, text, label="space-track gp")
        if make_latest:
            cache.mark_latest_key(key, "space-track gp")
    return text
