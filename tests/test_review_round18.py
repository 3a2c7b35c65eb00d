"""Review round 18: revisit statistics of imaging access and launch windows.

Outside references:
- Access windows: a brute-force scan every second of Skyfield's SGP4
  positions (EarthSatellite, TEME) turned Earth-fixed with Skyfield's GMST-82
  (theta_GMST1982, as tests/test_access.py does), the target on the WGS-84
  ellipsoid from ``skyfield.api.wgs84``, its elevation from the geodetic up
  vector, and the off-nadir angle at the satellite between -r and the target,
  computed here.  Objects and element sets: the Space-Track snapshot
  ../shared/data/catalogs/full-3le-2023-10-13.txt.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import satwatch
from satwatch.access import find_access
from satwatch.sites import Site
from conftest import skyfield_pef_km
from satwatch.time import NS_PER_S, utc

skyfield_api = pytest.importorskip("skyfield.api")

# The brute force samples every second: a window edge is known to half a
# second, plus the engine's 1 s event accuracy.
BRUTE_TOL_S = 1.5
MAX_OFF_NADIR_DEG = 30.0




def _brute_windows(r_sat_km, lat_deg, lon_deg, t0_s):
    """(starts, ends, runs): the crossings (s since 1970) into and out of
    elevation >= 0 and off-nadir <= MAX_OFF_NADIR_DEG on a 1 s timeline
    starting at ``t0_s``, and its number of runs in access (those cut by
    the timeline's ends included)."""
    from skyfield.api import wgs84
    to_target = wgs84.latlon(lat_deg, lon_deg).itrs_xyz.km[:, None] - r_sat_km
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    cos_nadir = ((-r_sat_km) * to_target).sum(0) / (np.linalg.norm(to_target, axis=0)
                                                    * np.linalg.norm(r_sat_km, axis=0))
    ok = (up @ (-to_target) >= 0) & (cos_nadir >= np.cos(np.radians(MAX_OFF_NADIR_DEG)))
    k = np.flatnonzero(ok[1:] != ok[:-1])
    runs = int(ok[0]) + int((ok[1:] & ~ok[:-1]).sum())
    return t0_s + k[ok[k + 1]] + 0.5, t0_s + k[~ok[k + 1]] + 0.5, runs


# Highly eccentric objects whose perigee passes near a target give access
# windows of about a minute (found by a 2 s brute-force scan of 40 objects
# with e > 0.5 against 81 targets over 2023-10-12): SL-12 R/B(AUX MOTOR)
# 19169 at 14:29:08 UTC over 15 N 42.5 E (70 s, 4.9 deg from nadir at best,
# 500 km up) and BREEZE-M DEB 34250 at 01:05:56 UTC over 0 N 42.5 W (74 s).
HEO_CASES = [(19169, 15.0, 42.5), (34250, 0.0, -42.5)]


@pytest.mark.parametrize("norad_id,lat_deg,lon_deg", HEO_CASES)
def test_perigee_access_windows_of_eccentric_orbits_are_found(full_catalog, norad_id,
                                                              lat_deg, lon_deg):
    warnings.simplefilter("ignore")
    t0 = utc("2023-10-12T00:00:00Z")
    es, = [e for e in full_catalog.select([str(norad_id)])]
    cat = satwatch.Catalog.from_element_sets([es])
    acc = find_access(cat, [Site("t", lat_deg, lon_deg)], t0, t0 + 86400.0,
                      max_off_nadir_deg=MAX_OFF_NADIR_DEG)
    ts = skyfield_api.load.timescale(builtin=True)
    a = ts.from_datetime(t0.to_datetime())
    tt = ts.tt_jd(a.tt + np.arange(0.0, 86401.0, 1.0) / 86400.0)
    starts, ends, runs = _brute_windows(skyfield_pef_km(es, tt), lat_deg, lon_deg,
                                  t0.ns / NS_PER_S)
    s = np.sort(acc.start_ns[~acc.start_partial] / NS_PER_S)
    e = np.sort(acc.end_ns[~acc.end_partial] / NS_PER_S)
    assert len(starts) >= 2 and min(ends - starts) < 120.0     # a short perigee window
    assert len(s) == len(starts) and len(e) == len(ends)
    assert np.abs(s - starts).max() < BRUTE_TOL_S
    assert np.abs(e - ends).max() < BRUTE_TOL_S
    # the revisit statistics see every window, those cut by the span's edges too
    assert acc.revisit[0]["windows"] == runs


# Sohae (39.66 N) reaches a 97.4-deg plane by direct ascent (closed form:
# |lat_c| <= i <= 180 - |lat_c|, Vallado sec. 6.4.1), so every real RAAN has
# two windows a day there: an empty table for a RAAN that is no number
# answers a question nobody asked.  House rule: bad input is one clear line
# naming the option.
@pytest.mark.parametrize("raan", ["nan", "inf"])
def test_cli_launch_windows_raan_that_is_no_number_is_one_error_line(raan):
    from typer.testing import CliRunner

    from satwatch.cli import app
    res = CliRunner().invoke(app, ["launch", "windows", "SOHAE", "--raan", raan,
                                   "--inclination", "97.4", "--start", "2023-11-21T00:00:00Z",
                                   "--days", "1"])
    assert res.exit_code != 0
    assert "--raan" in res.output and len(res.output.strip().splitlines()) == 1


# STARLINK-1033 (44738, snapshot of 2023-10-13) decays during 2023-10-08:
# python-sgp4 itself answers error code 1 from about 16:57 UTC on (checked
# here every 10 s); the ISS (25544), NOAA 20 (43013) and SENTINEL-2A (40697)
# propagate cleanly all day (four objects: two workers get two each).  Revisit
# statistics that count the 19 hours after the decay as a gap must say so.
FAIL_SCAN_STEP_S = 10.0


@pytest.mark.parametrize("workers", [1, 2])
def test_access_reports_the_objects_that_failed_over_the_span(full_catalog, tmp_path,
                                                              workers):
    from sgp4.api import Satrec
    from typer.testing import CliRunner

    from satwatch.cli import app
    warnings.simplefilter("ignore")
    t0 = utc("2023-10-08T12:00:00Z")
    sets = list(full_catalog.select(["25544", "43013", "40697", "44738"]))
    codes = {}
    for k, es in enumerate(sets):
        sat = Satrec.twoline2rv(*es.source_text.splitlines()[-2:])
        t = t0 + np.arange(0.0, 86400.0 + 1, FAIL_SCAN_STEP_S)
        whole, frac = t.jd_utc()
        err, _, _ = sat.sgp4_array(np.asarray(whole, float), np.asarray(frac, float))
        if (err != 0).any():
            codes[k] = int(err[np.flatnonzero(err)[0]])
    assert [sets[k].norad_id for k in codes] == [44738]
    cat = satwatch.Catalog.from_element_sets(sets)
    acc = find_access(cat, [Site("t", -52.9, 138.1)], t0, t0 + 86400.0, min_elevation_deg=0.0,
                      workers=workers)
    assert acc.failed == codes
    path = tmp_path / "four.tle"
    path.write_text("".join(es.source_text.rstrip("\n") + "\n" for es in sets),
                    encoding="utf-8")
    res = CliRunner().invoke(app, ["access", "--min-elevation", "0", "--catalog", str(path),
                                   "--start", "2023-10-08T12:00:00Z", "--hours", "24",
                                   "--workers", "1", "--format", "json", "--", "-52.9,138.1"])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.stderr.splitlines() if "could not be propagated" in ln]
    assert len(lines) == 1 and "44738" in lines[0], res.stderr


# OV1-2 (1613, i = 144.2 deg, snapshot of 2023-10-13) is retrograde: from
# Sohae (39.66 N) direct ascent reaches |lat_c| <= i <= 180 - |lat_c| (Vallado
# sec. 6.4.1), so 144.2 deg lies ABOVE the range, not below the latitude.
# Geocentric latitude from tan(lat_c) = (1 - e^2) tan(lat), WGS-84 e^2.
WGS84_E2 = 6.69437999014e-3


def test_identify_reason_for_a_retrograde_plane_out_of_reach(full_catalog):
    from satwatch import launches as L
    from satwatch.sites import find_site
    warnings.simplefilter("ignore")
    site = find_site("SOHAE")
    es, = full_catalog.select(["1613"])
    lat_c = np.degrees(np.arctan((1 - WGS84_E2) * np.tan(np.radians(site.lat_deg))))
    assert es.inclination_deg > 180.0 - lat_c            # out of reach, above the range
    cand, = L.identify(satwatch.Catalog.from_element_sets([es]), site,
                       utc("2023-10-10T00:00:00Z"))
    assert not np.isfinite(cand.plane_time_offset_s)
    why = cand.reasons[0]
    assert "below" not in why
    assert f"{lat_c:.2f}..{180.0 - lat_c:.2f} deg" in why, why


def test_service_names_the_objects_that_failed_over_the_span(full_catalog):
    """The REST API answers passes and access with the objects SGP4 could
    not propagate (as the CLI does on standard error): STARLINK-1033 decays
    during 2023-10-08 (python-sgp4 error code 1 from about 16:57 UTC,
    checked every 10 s); the ISS propagates cleanly all day.  Without it a
    decayed object's missing passes and its day-long access gap look real."""
    from fastapi.testclient import TestClient
    from sgp4.api import Satrec

    from satwatch.web import Settings, create_app
    warnings.simplefilter("ignore")
    t0 = utc("2023-10-08T12:00:00Z")
    sets = list(full_catalog.select(["25544", "44738"]))
    codes = {}
    for es in sets:
        sat = Satrec.twoline2rv(*es.source_text.splitlines()[-2:])
        whole, frac = (t0 + np.arange(0.0, 86400.0 + 1, FAIL_SCAN_STEP_S)).jd_utc()
        err, _, _ = sat.sgp4_array(np.asarray(whole, float), np.asarray(frac, float))
        if (err != 0).any():
            codes[es.norad_id] = int(err[np.flatnonzero(err)[0]])
    assert list(codes) == [44738]
    app = create_app(Settings(catalog=satwatch.Catalog.from_element_sets(sets),
                              clock_ns=lambda: int(t0.ns)))
    with TestClient(app) as client:
        passes = client.get("/api/v1/sites/VOSTOCHNY/passes",
                            params={"ids": "25544,44738", "hours": 24}).json()
        acc = client.get("/api/v1/sites/VOSTOCHNY/access",
                         params={"ids": "25544,44738", "min_elevation_deg": 0.0,
                                 "hours": 24}).json()
    for body in (passes, acc):
        assert [(f["norad_id"], f["error_code"]) for f in body["failed"]] == list(codes.items())
        assert all(f["error"] for f in body["failed"])
