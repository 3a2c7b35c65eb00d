"""Reviewer's failing tests for the store's history-aware propagation and
the footprint polygons (tracks.py).  Outside references: brute-force nearest
epoch (min |t - epoch| over all sets), the closed-form footprint radius
acos(R / (R + h)) and the spherical law of cosines, RFC 7946 section 3.1.9
(longitudes within [-180, 180], geometries crossing the antimeridian split)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from satwatch.elements import parse_elements
from satwatch.store import open_store
from satwatch.store.history import propagate_history
from satwatch.time import Time
from satwatch.tracks import footprint_geometry

NS_PER_DAY = 86400 * 10**9


def test_propagate_history_uses_the_nearest_set_even_outside_the_margin(reference_data,
                                                                       tmp_path):
    """Two ISS sets A and B about 73 days apart; times [A + 31 d, B].  The set
    nearest A + 31 d is A (31 d away), not B (about 42 d away), but
    propagate_history reads only sets within margin_days (30) of the span of
    the times, so A is never seen and B is used for both times."""
    text = (reference_data / "history" / "iss_25544_2020-2024.tle").read_text()
    sets, _ = parse_elements(text, source="iss")
    sets = sorted(sets, key=lambda s: s.epoch_ns)
    a = sets[0]
    b = next(s for s in sets if s.epoch_ns - a.epoch_ns > 71 * NS_PER_DAY)
    store = open_store(f"sqlite:///{tmp_path}/h.db")
    store.ingest_catalog([a, b])
    t_ns = np.array([a.epoch_ns + 31 * NS_PER_DAY, b.epoch_ns], dtype=np.int64)
    # brute force over the stored sets: the outside reference
    epochs = np.array([a.epoch_ns, b.epoch_ns], dtype=np.int64)
    expected = epochs[np.argmin(np.abs(t_ns[:, None] - epochs[None, :]), axis=1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, used = propagate_history(store, 25544, Time(t_ns))
    store.close()
    assert list(used) == list(expected)


def _central_angle_deg(lat1, lon1, lat2, lon2):
    p1, p2, dl = map(math.radians, (lat1, lat2, lon2 - lon1))
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def test_footprint_over_the_pole_contains_the_pole_region():
    """Sub-satellite point 85 N 0 E at 800 km: the horizon circle has a radius
    of acos(R/(R+h)) ~ 27 deg, so it covers the North Pole and (0 E, 88 N)
    (3 deg away) and (180 E, 88 N) (7 deg away across the pole).  The ring
    alone, unwrapped around the centre longitude, bounds a polygon that
    excludes all of them (it never closes along the pole): the GeoJSON
    geometry (footprint_geometry) must close it there."""
    shapely = pytest.importorskip("shapely.geometry")
    r_km, h_km = 6371.0088, 800.0
    radius_deg = math.degrees(math.acos(r_km / (r_km + h_km)))
    poly = shapely.shape(footprint_geometry(85.0, 0.0, h_km))
    assert poly.is_valid
    for lon, lat in [(0.0, 88.0), (90.0, 88.0), (-90.0, 88.0), (179.0, 88.0)]:
        assert _central_angle_deg(85.0, 0.0, lat, lon) < radius_deg - 5.0   # well inside
        assert poly.contains(shapely.Point(lon, lat)), (lon, lat)


def test_footprint_near_the_antimeridian_stays_within_plus_minus_180():
    """RFC 7946 3.1.9: GeoJSON longitudes must lie in [-180, 180] and a
    geometry crossing the antimeridian must be split.  A footprint centred at
    0 N 179 E (800 km) reaches ~27 deg east, i.e. 206 E in the ring."""
    shapely = pytest.importorskip("shapely.geometry")
    geom = footprint_geometry(0.0, 179.0, 800.0)
    lons = [x for x, _ in shapely.shape(geom).exterior.coords] if geom["type"] == "Polygon" \
        else [x for part in shapely.shape(geom).geoms for x, _ in part.exterior.coords]
    assert max(lons) <= 180.0 and min(lons) >= -180.0, (min(lons), max(lons))
    assert geom["type"] == "MultiPolygon"                 # split at the antimeridian
    # and it still covers points on both sides (27 deg radius around 179 E)
    whole = shapely.shape(geom)
    assert whole.contains(shapely.Point(-170.0, 0.0)) and whole.contains(shapely.Point(170.0, 0.0))


def _sample_3le(reference_data, start, stop):
    lines = (reference_data / "catalogs" / "active-2023-08-22.txt").read_text().splitlines()
    return "\n".join(lines[start:stop]) + "\n"


def test_directory_source_reads_gzipped_element_files(reference_data, tmp_path):
    """A directory holding a.tle (10 sets) and b.tle.gz (10 other sets): a
    single .gz file loads (loading._read decompresses it), but the directory
    walk filters on Path.suffix ('.gz' is not in ELEMENT_SUFFIXES), so the
    gzipped file is skipped without a word and 10 objects are missing."""
    import gzip

    from satwatch import load_catalog
    (tmp_path / "a.tle").write_text(_sample_3le(reference_data, 0, 30))
    (tmp_path / "b.tle.gz").write_bytes(gzip.compress(
        _sample_3le(reference_data, 30, 60).encode()))
    single = load_catalog(tmp_path / "b.tle.gz")
    assert len(single) == 10                       # brute force: 30 lines of 3LE
    assert len(load_catalog(tmp_path)) == 20


def test_url_source_reads_a_gzipped_file(reference_data, tmp_path, http_server):
    """The same gzipped 3LE file served by a real loopback HTTP server (as a
    static file: Content-Type application/gzip, no Content-Encoding) must give
    the same catalog as the local file; fetch_url decodes the bytes as text
    and every record is rejected."""
    import gzip

    from satwatch import load_catalog
    (tmp_path / "b.tle.gz").write_bytes(gzip.compress(
        _sample_3le(reference_data, 30, 60).encode()))
    local = load_catalog(tmp_path / "b.tle.gz")
    remote = load_catalog(f"{http_server.url}/b.tle.gz")
    assert sorted(remote.norad_ids) == sorted(local.norad_ids) and len(remote) == 10


def test_update_from_cache_makes_that_group_the_latest_catalog(reference_data, tmp_path,
                                                               http_server, monkeypatch):
    """`update --group stations`, `update --group active`, then `update --group
    stations` again within the 2-hour window: the third call is answered from
    the cache, but Cache.get does not mark it latest, so the command (and
    later commands without --catalog, and `ingest latest`) use the ACTIVE
    catalog.  Served by a real loopback HTTP server; the expected counts are
    those of the served files (brute force: 3 lines per object)."""
    import json

    from typer.testing import CliRunner

    from satwatch.cli import app
    groups = {"stations": _sample_3le(reference_data, 0, 9),      # 3 objects
              "active": _sample_3le(reference_data, 9, 60)}       # 17 objects

    def route(path):
        group = path.split("GROUP=")[1].split("&")[0]
        return 200, groups[group].encode(), "text/plain"

    http_server.routes["/gp.php"] = route
    monkeypatch.setenv("SATWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SATWATCH_CELESTRAK_URL", f"{http_server.url}/gp.php")
    runner = CliRunner()
    objects = []
    for group in ("stations", "active", "stations"):
        res = runner.invoke(app, ["update", "--group", group, "--format", "json"])
        assert res.exit_code == 0, res.output
        objects.append(json.loads(res.output[res.output.index("{"):])["objects"])
    assert objects == [3, 17, 3]
