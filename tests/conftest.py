"""Shared fixtures: the reference data folder, a PostgreSQL URL when one runs,
and a loopback HTTP server that serves recorded files."""
from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from satwatch.store.scratch import scratch_pg_database  # noqa: F401  (tests import it from here)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DATA = Path(os.environ.get("SATWATCH_REFERENCE_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def reference_data() -> Path:
    """``../shared/data`` (or $SATWATCH_REFERENCE_DATA); skips where it is missing."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip(f"reference data folder {REFERENCE_DATA} is missing "
                    "(set SATWATCH_REFERENCE_DATA)")
    return REFERENCE_DATA


@pytest.fixture(scope="session")
def full_catalog_path(reference_data) -> Path:
    return reference_data / "catalogs" / "full-3le-2023-10-13.txt"


@pytest.fixture(scope="session")
def full_catalog(full_catalog_path):
    import satwatch
    return satwatch.load_catalog(full_catalog_path)


# An element history as arrays, as Store.history_arrays() gives them (the last
# three fields feed the manoeuvre detector's along-track check).
HISTORY_FIELDS = ("epoch_ns", "mean_motion_rev_day", "eccentricity", "inclination_deg",
                  "raan_deg", "arg_perigee_deg", "mean_anomaly_deg", "ndot_rev_day2")


def catalog_records(catalog_path, norad_ids=(), first: int = 0) -> list[str]:
    """Lines of a 3LE catalog file (name, line 1, line 2 per record), verbatim
    and in file order: its first ``first`` records and those of ``norad_ids``."""
    lines = Path(catalog_path).read_text().splitlines()
    wanted = {str(n) for n in norad_ids}
    out = []
    for k, i in enumerate(range(0, len(lines) - 2, 3)):
        if k < first or lines[i + 1][2:7].strip() in wanted:
            out += lines[i:i + 3]
    return out


def history_arrays(sets) -> dict:
    """Element sets, sorted by epoch, as ``{field: array}`` (HISTORY_FIELDS)."""
    import numpy as np
    sets = sorted(sets, key=lambda s: s.epoch_ns)
    return {k: np.array([getattr(s, k) for s in sets]) for k in HISTORY_FIELDS}


@pytest.fixture(scope="module")
def quiet(reference_data):
    """Malligyong-1's burn-free history (../shared/data/README.md) as arrays."""
    from satwatch.elements import parse_elements
    text = (reference_data / "history" / "malligyong1_58400_2026-03_to_2026-08.tle").read_text()
    sets, rej = parse_elements(text)
    assert not rej
    return history_arrays(sets)


@pytest.fixture(scope="session")
def iss_hst_geo(full_catalog) -> dict:
    """Element sets of the 2023-10-13 full catalog: the ISS (25544) and HST
    (20580), both LEO (~15 rev/day), and the first geostationary object (mean
    motion within 0.5 % of one sidereal day's 1.0027 rev/day, e < 0.001)."""
    iss, = full_catalog.find("25544")
    hst, = full_catalog.find("20580")
    geo = next(es for es in full_catalog
               if abs(es.mean_motion_rev_day - 1.0027) < 0.005 and es.eccentricity < 0.001)
    assert iss.mean_motion_rev_day > 15 and hst.mean_motion_rev_day > 14
    return {"iss": iss, "hst": hst, "geo": geo}


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL server URL (scripts/test.sh starts one); skips without."""
    url = os.environ.get("SATWATCH_TEST_PG_URL")
    if not url:
        pytest.skip("no PostgreSQL: SATWATCH_TEST_PG_URL is not set (scripts/test.sh sets it)")
    return url


@pytest.fixture
def fresh_pg_url(pg_url):
    """A new, empty PostgreSQL database, dropped afterwards."""
    with scratch_pg_database(pg_url) as url:
        yield url


class _RecordingHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path.split("?")[0])
        if route is None:
            return super().do_GET()
        status, body, ctype = route(self.path)
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET


@pytest.fixture
def http_server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving ``tmp_path`` and any routes
    added to ``server.routes[path] = fn(path) -> (status, body, content_type)``.
    ``server.requests`` records every request path."""
    handler = functools.partial(_RecordingHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.routes, server.requests = {}, []
    server.root = tmp_path
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def skyfield_ts(tmp_path_factory):
    """A Skyfield timescale on the same IERS finals2000A.all table that
    satwatch ships (astropy-iers-data), with polar motion installed, so that
    comparisons isolate the algorithms from the Earth-orientation data."""
    import shutil
    from importlib import resources

    import astropy_iers_data
    from skyfield.api import Loader
    from skyfield.data import iers
    folder = tmp_path_factory.mktemp("skyfield")
    shutil.copy(str(resources.files(astropy_iers_data) / "data" / "finals2000A.all"),
                folder / "finals2000A.all")
    load = Loader(str(folder), verbose=False)
    ts = load.timescale(builtin=False)
    with load.open("finals2000A.all") as f:
        iers.install_polar_motion_table(ts, iers.parse_x_y_dut1_from_finals_all(f))
    return ts


def start_satwatch_serve(args, env, *, timeout_s: float = 60.0):
    """Start ``satwatch serve ARGS`` on a free loopback port in a subprocess
    and wait until /api/v1/health answers; returns ``(process, url)``."""
    import socket
    import subprocess
    import sys
    import time

    import httpx
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from satwatch.cli import main; main()", "serve",
         "--host", "127.0.0.1", "--port", str(port), *map(str, args)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url + "/api/v1/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("satwatch serve did not start: " + (proc.stdout.read() or ""))
        time.sleep(0.2)


# -- shared by several test modules -----------------------------------------------

# Debian's chromium, driven by Playwright (tests/test_page.py, the page reviews)
CHROMIUM = os.environ.get("SATWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """One chromium per test module."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def user_dirs(tmp_path, monkeypatch):
    """A user with no SATWATCH_DB: the defaults of the data directory apply."""
    monkeypatch.delenv("SATWATCH_DB", raising=False)
    monkeypatch.setenv("SATWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SATWATCH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def skyfield_pef_km(es, t):
    """Earth-fixed positions (km) of an element set at Skyfield times ``t``,
    from Skyfield's SGP4 and its GMST-82 (the path of its find_events; polar
    motion, ~10 m, left out)."""
    import numpy as np
    from skyfield.api import EarthSatellite
    from skyfield.sgp4lib import theta_GMST1982
    l1, l2 = es.source_text.splitlines()[-2:]
    sat = EarthSatellite(l1, l2, es.name, t.ts)
    r, _, _ = sat._position_and_velocity_TEME_km(t)
    theta, _ = theta_GMST1982(t.whole, t.ut1_fraction)
    c, s = np.cos(theta), np.sin(theta)
    return np.array([c * r[0] + s * r[1], -s * r[0] + c * r[1], r[2]])


def constructed_set(norad_id, n_rev_day, ecc, incl, raan, argp, mean_anomaly, *, epoch,
                    prefix="T"):
    """An element set built from mean elements (no drag) at ``epoch``."""
    from satwatch.elements import ElementSet
    from satwatch.time import utc
    return ElementSet(norad_id=norad_id, epoch_ns=int(utc(epoch).ns),
                      mean_motion_rev_day=n_rev_day, eccentricity=ecc, inclination_deg=incl,
                      raan_deg=raan, arg_perigee_deg=argp, mean_anomaly_deg=mean_anomaly,
                      bstar_per_earth_radius=0.0, ndot_rev_day2=0.0, nddot_rev_day3=0.0,
                      name=f"{prefix}-{norad_id}")


def skyfield_elevation_deg(es, site, ts, t_ns):
    """Skyfield's elevation (deg; EarthSatellite on the element set's own
    TLE lines, ``wgs84.latlon(site)`` altaz) of ``es`` at UTC ns ``t_ns``,
    and python-sgp4's error code there (Vallado's SGP4, ``sgp4_array``)."""
    import numpy as np
    from sgp4.api import Satrec
    from skyfield.api import EarthSatellite, wgs84
    from satwatch.time import NS_PER_DAY, Time
    t_ns = np.asarray(t_ns, dtype=np.int64)
    l1, l2 = es.source_text.splitlines()[-2:]
    days, rem = np.divmod(t_ns, NS_PER_DAY)
    err, _, _ = Satrec.twoline2rv(l1, l2).sgp4_array((days + 2440587.5).astype(float),
                                                     rem / NS_PER_DAY)
    topos = wgs84.latlon(site.lat_deg, site.lon_deg, elevation_m=site.alt_m)
    alt = (EarthSatellite(l1, l2, es.name, ts) - topos).at(
        ts.from_datetimes(Time(t_ns).to_datetime())).altaz()[0].degrees
    return alt, err


def skyfield_peak(es, site, ts, lo_ns, hi_ns, step_s):
    """(time ns, elevation deg) of the highest Skyfield sample (every
    ``step_s`` in [lo, hi]) where python-sgp4 reports no error."""
    import numpy as np
    from satwatch.time import NS_PER_S
    tt = np.arange(int(lo_ns), int(hi_ns) + 1, int(step_s * NS_PER_S))
    alt, err = skyfield_elevation_deg(es, site, ts, tt)
    alt = np.where(err == 0, alt, np.nan)
    k = int(np.nanargmax(alt))
    return int(tt[k]), float(alt[k])


def events_off_skyfield(p, sites, es, ts, mask_deg, tol_s, sgp4_errors=False, since_ns=None):
    """``(checked, bad)``: the complete rises and sets of passes ``p`` (over
    ``sites``; those from ``since_ns`` on) whose Skyfield elevation
    ``tol_s`` before and after is not below, then above the mask (a rise)
    or above, then below it (a set).  ``sgp4_errors``: a sample where
    python-sgp4 gives an error code counts as not above."""
    from satwatch.time import NS_PER_S, Time
    bad, checked = [], 0
    for i in range(len(p)):
        for t_ns, partial, rising in ((p.rise_ns[i], p.rise_partial[i], True),
                                      (p.set_ns[i], p.set_partial[i], False)):
            if partial or (since_ns is not None and t_ns < since_ns):
                continue
            tol = int(tol_s * NS_PER_S)
            alt, err = skyfield_elevation_deg(es, sites[p.site[i]], ts, [t_ns - tol, t_ns + tol])
            above = alt > mask_deg
            below = alt < mask_deg
            if sgp4_errors:
                above = above & (err == 0)
                below = ~above
            ok = (below[0] and above[1]) if rising else (above[0] and below[1])
            checked += 1
            if not ok:
                bad.append((int(p.site[i]), Time(int(t_ns)).iso(1), rising, tuple(alt)))
    return checked, bad


def knot_and_grid_error_km(catalog, monkeypatch, start, days):
    """For the one object of ``catalog``: ``{knots: (km, ok)}``, the largest
    distance of the pass engine's grid states (knotted, and the full grid:
    KNOT_MIN_ECCENTRICITY patched to 2) to python-sgp4 at every grid sample
    and midpoint of the engine's own step, over the samples python-sgp4
    propagates, and the fraction of those samples."""
    import numpy as np
    from sgp4.api import Satrec
    import satwatch.passes as P
    from satwatch.events import _grid
    from satwatch.time import NS_PER_DAY, NS_PER_S, utc
    es = list(catalog)[0]
    t0 = int(utc(start).ns)
    t1 = t0 + int(days * 86400) * NS_PER_S
    out = {}
    for knots in (True, False):
        if not knots:
            monkeypatch.setattr(P, "KNOT_MIN_ECCENTRICITY", 2.0)
        eph = P.catalog_ephemeris(catalog)
        grid = _grid(t0, t1, int(eph.step_s[0] * NS_PER_S))
        eph.grid_states(np.array([0]), grid)
        probe = np.sort(np.r_[grid, (grid[:-1] + grid[1:]) // 2])
        r, _ = eph.states(np.array([0]), probe[None, :])
        d, rem = np.divmod(probe, NS_PER_DAY)
        l1, l2 = es.source_text.splitlines()[-2:]
        err, r_ex, _ = Satrec.twoline2rv(l1, l2).sgp4_array(d + 2440587.5, rem / NS_PER_DAY)
        ok = err == 0
        out[knots] = (float(np.nanmax(np.linalg.norm(r[:, 0, :].T - r_ex, axis=1)[ok])),
                      float(ok.mean()))
    return out
