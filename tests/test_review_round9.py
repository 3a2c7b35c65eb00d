"""Review round 9: findings on ae68d2a / b430899 / 39321f7 (watch pass rules:
g_is_concave, the hull screen) and 9ad8d28 (serve --sites).

Each test is a real failure on the reviewed code, marked xfail(strict=True);
the reference of each is named in its docstring.
"""
from __future__ import annotations

import datetime

import numpy as np
import pytest
from typer.testing import CliRunner

from satwatch.time import NS_PER_S, Time, utc

NOAA20 = 43013                      # NOAA 20, i = 98.7 deg: its track turns at 81.3 N
WINDOW_START = "2023-10-13T00:00:00Z"
WINDOW_S = 3 * 3600                 # holds the first northern apex (~5,216 s in)
BF_STEP_S = 1
WATCH_STEP_S = 30.0


def _runs(inside):
    """(first, last) inside sample of each run of True."""
    padded = np.r_[False, inside, False].astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1))


@pytest.fixture(scope="module")
def noaa20_track(full_catalog):
    """NOAA 20's sub-satellite point every second by Skyfield (its own
    python-sgp4 + TEME -> ITRS -> WGS-84 chain, independent of satwatch)."""
    from skyfield.api import EarthSatellite, load, wgs84
    cat = full_catalog.select([NOAA20])
    es = next(iter(cat))
    line1, line2 = es.source_text.strip().splitlines()[-2:]
    t0 = int(utc(WINDOW_START).ns)
    times = Time(t0 + np.arange(0, WINDOW_S + 1, BF_STEP_S, dtype=np.int64) * NS_PER_S)
    ts = load.timescale(builtin=True)
    sky_t = ts.from_datetimes([x.replace(tzinfo=datetime.timezone.utc)
                               for x in times.to_datetime()])
    sp = wgs84.subpoint_of(EarthSatellite(line1, line2, ts=ts).at(sky_t))
    return cat, t0, sp.latitude.degrees, sp.longitude.degrees


@pytest.mark.parametrize("top_below_apex_deg", [0.03, 0.01])
def test_convex_box_under_the_track_apex_against_brute_force(noaa20_track,
                                                             top_below_apex_deg):
    """A convex lon/lat box, 20 deg of longitude x ~1 deg of latitude (about
    330 x 110 km at 81 N), whose top edge lies just below NOAA 20's highest
    latitude: the track enters it from below, leaves through the top, turns,
    comes back in and leaves again below -- two passes.  Reference: Skyfield
    sub-satellite points every second, inside/outside by plain lon/lat bounds
    (the rule's polygon has straight edges in degrees); each run of inside
    seconds must be one alert.  On the reviewed code: the 0.03 deg box gives
    one alert for two runs (5191-5203 s and 5229-5241 s; the second is
    lost), the 0.01 deg box one alert 5190-5241 s spanning the 14 s outside."""
    from satwatch.watch import Rule, Update, evaluate
    cat, t0, lat, lon = noaa20_track
    k = int(np.argmax(lat))
    phi, lam = float(lat[k]), float(lon[k])
    assert 80.0 < phi < 82.5 and -150.0 < lam < 150.0        # the apex, away from +-180 deg
    lo_lat, hi_lat = phi - 1.0, phi - top_below_apex_deg
    lo_lon, hi_lon = lam - 10.0, lam + 10.0
    ring = ((lo_lon, lo_lat), (hi_lon, lo_lat), (hi_lon, hi_lat), (lo_lon, hi_lat),
            (lo_lon, lo_lat))
    inside = (lat >= lo_lat) & (lat <= hi_lat) & (lon >= lo_lon) & (lon <= hi_lon)
    found = _runs(inside)
    assert len(found) >= 2                   # the two passes around the apex
    rule = Rule(id=91, kind="pass", norad_ids=(NOAA20,), polygon_lon_lat_deg=ring)
    alerts = evaluate([rule], Update(catalog=cat, window_start_ns=t0,
                                     window_end_ns=t0 + WINDOW_S * NS_PER_S,
                                     step_s=WATCH_STEP_S))
    mine = sorted(((utc(a.details["enter"]).ns - t0) / NS_PER_S,
                   (utc(a.details["leave"]).ns - t0) / NS_PER_S) for a in alerts)
    assert len(mine) == len(found), (mine, found)
    for (enter, leave), (a, b) in zip(mine, found):
        assert a - BF_STEP_S - 0.1 <= enter <= a + 0.1
        assert b - 0.1 <= leave <= b + BF_STEP_S + 0.1


SITES_CSV = """code,name,lat_deg,lon_deg,alt_m,kind,country
TUMANGANG,Tumangang-Khasan rail crossing,42.4253,130.6222,10,other,KP
"""
# WGS-84 flattening; geocentric latitude = atan((1 - f)^2 tan(geodetic)), the
# lowest inclination a direct ascent reaches (closed form: cos i = cos(lat)
# sin(azimuth), smallest at azimuth 90 deg)
WGS84_F = 1.0 / 298.257223563
REACH_TOL_DEG = 1e-6


def _serve_get(tmp_path, path, catalog=None):
    from satwatch.cli import app
    (tmp_path / "sites.csv").write_text(SITES_CSV)
    args = ["serve", "--db", f"sqlite:///{tmp_path / 'r.sqlite'}", "--get", path,
            "--sites", str(tmp_path / "sites.csv")]
    if catalog is not None:
        args += ["--catalog", str(catalog)]
    env = {"SATWATCH_DATA_DIR": str(tmp_path / "data"),
           "SATWATCH_CACHE_DIR": str(tmp_path / "cache"), "SATWATCH_API_TOKENS": ""}
    return CliRunner().invoke(app, args, env=env)


def test_reach_route_finds_a_user_site(tmp_path):
    """docs/service.md: the --sites file's sites are 'found by code in every
    {code} route'.  Reference: the closed-form lowest direct-ascent
    inclination of the sites file's own latitude (42.4253 N geodetic)."""
    import json
    res = _serve_get(tmp_path, "/api/v1/sites/TUMANGANG/reach")
    assert res.exit_code == 0, res.output
    body = json.loads(res.output.strip().splitlines()[-1])
    geocentric = np.degrees(np.arctan((1 - WGS84_F) ** 2 * np.tan(np.radians(42.4253))))
    assert abs(body["inclination_min_deg"] - geocentric) < REACH_TOL_DEG


def test_launch_identify_finds_a_user_site(tmp_path, full_catalog_path):
    """The same site code, given to /launches/identify over a one-object
    catalog (the ISS, from ../shared/data).  Reference: the sites file
    itself -- the answer must name the user's site."""
    import json
    lines = full_catalog_path.read_text().splitlines()
    i = next(i for i in range(1, len(lines), 3) if lines[i][2:7].strip() == "25544")
    (tmp_path / "iss.tle").write_text("\n".join(lines[i - 1:i + 2]) + "\n")
    res = _serve_get(tmp_path, "/api/v1/launches/identify?site=TUMANGANG"
                               "&time=2023-10-12T00:00:00Z", catalog=tmp_path / "iss.tle")
    assert res.exit_code == 0, res.output
    body = json.loads(res.output.strip().splitlines()[-1])
    assert "TUMANGANG" in body["site"].upper(), body


def test_zero_area_polygon_is_a_clear_error(full_catalog):
    """Reference: the shoelace formula -- the ring (0,0) (1,0) (2,0) (0,0)
    encloses area 0, so by Rule's own message it is not a valid target;
    the refusal must be a WatchError (at construction or evaluation), the
    one error the service and CLI turn into one clear line."""
    from satwatch.watch import Rule, Update, WatchError, evaluate
    ring = ((0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (0.0, 0.0))
    x, y = np.array(ring).T
    assert 0.5 * abs(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])) == 0.0
    cat = full_catalog.select([25544])
    t0 = int(utc(WINDOW_START).ns)
    with pytest.raises(WatchError):
        rule = Rule(id=92, kind="pass", norad_ids=(25544,), polygon_lon_lat_deg=ring)
        evaluate([rule], Update(catalog=cat, window_start_ns=t0,
                                window_end_ns=t0 + 3600 * NS_PER_S, step_s=WATCH_STEP_S))
