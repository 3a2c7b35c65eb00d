"""Review tests for launch/missile analysis (satwatch.zones, satwatch.ballistic).

Each test compares with an outside reference (shapely/pyproj on the raw
GeoJSON data in ../shared/data, or closed forms) and fails on the bug it
names.
"""
import json

import numpy as np
import pytest

# The boundary is densified to 0.01 deg (~1 km) in the brute-force reference,
# and satwatch densifies to 0.05 deg; 5 km covers both discretisations.
BOUNDARY_TOL_KM = 5.0


def _fiji_reference_km(path, lat, lon):
    """Brute force: the raw Global Fishing Watch Fiji EEZ, whose two parts
    are split at +-180 deg in the file, is put on 0..360 deg longitudes and
    merged (shapely), its real boundary densified and the nearest vertex
    found on WGS-84 with pyproj.Geod."""
    import shapely
    from pyproj import Geod
    from shapely.geometry import shape
    doc = json.loads(path.read_text())
    feats = doc if isinstance(doc, list) else doc["features"]
    geom = [f for f in feats if f["properties"].get("name") == "Fiji"][0]["geometry"]
    shifted = shapely.transform(shape(geom),
                                lambda xy: np.column_stack([xy[:, 0] % 360.0, xy[:, 1]]))
    merged = shifted.buffer(0)
    xy = shapely.get_coordinates(shapely.segmentize(merged.boundary, 0.01))
    n = len(xy)
    _, _, d = Geod(ellps="WGS84").inv(np.full(n, lon % 360.0), np.full(n, lat),
                                      xy[:, 0], xy[:, 1])
    return float(d.min()) / 1000.0


@pytest.mark.parametrize("lon", [179.95, -179.95])
def test_eez_boundary_distance_ignores_the_antimeridian_cut(reference_data, lon):
    """A point in Fiji's EEZ 5 km from the antimeridian is ~270 km from the
    real edge of that EEZ; the cut that zones.ring_geometry/the source file
    makes at +-180 deg is not a boundary (fails now: 5.3 km is reported)."""
    from satwatch.zones import ZoneSet, parse_zones
    path = reference_data / "geo" / "gfw_ocean_areas_eezs_simplified.json"
    zs = ZoneSet(parse_zones(path.read_text(), str(path)))
    i = zs.names.index("Fiji")
    lat = -17.0
    assert i in zs.containing(lat, lon)[0]
    expected = _fiji_reference_km(path, lat, lon)
    assert expected > 100.0            # sanity of the reference itself
    got, _ = zs.boundary_distance_km(lat, lon, i)
    assert abs(got - expected) < BOUNDARY_TOL_KM, (got, expected)


# --------------------------------------------------------------------------
# reported-event files: data silently dropped (house rule: nothing silently
# dropped; bad input is an error naming the field).  Reference: the file's
# own contents.

_HEADER = "event_id,date,time,site,range_km,apogee_km,bearing_deg,outcome\n"
_ROW = "a1,2023-09-13,02:51,sunan,650,50,74,success\n"


def test_csv_with_utf8_bom_keeps_its_event_id(tmp_path):
    """Excel's "CSV UTF-8" starts with a byte-order mark; read_events_file
    reads utf-8 (not utf-8-sig), so the first column is named
    '\\ufeffevent_id', is ignored, and the event gets a made-up id
    '2023-09-13-2' instead of 'a1' (fails now)."""
    from satwatch.reported_events import read_events_file
    p = tmp_path / "events.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (_HEADER + _ROW).encode())
    (e,) = read_events_file(p)
    assert e.event_id == "a1"


def test_csv_unknown_column_is_not_silently_ignored():
    """A misspelt column ('apogee_kms') is ignored and the apogee becomes
    'unknown' without a word (fails now): expected an EventsError naming the
    column, or the value kept."""
    from satwatch.reported_events import EventsError, parse_events_csv
    text = _HEADER.replace("apogee_km", "apogee_kms") + _ROW
    try:
        (e,) = parse_events_csv(text, "typo.csv")
    except EventsError as exc:
        assert "apogee_kms" in str(exc)
        return
    assert e.apogee_km == 50.0


def test_csv_date_column_with_a_full_timestamp_keeps_the_time():
    """date '2023-09-13T02:51:00Z' with an empty time column: _date_time
    keeps text[:10] and files the event at 12:00 +- 12 h with
    'time_unknown', dropping the 02:51 (fails now)."""
    from satwatch.reported_events import EventsError, parse_events_csv
    from satwatch.time import utc
    text = _HEADER + "a1,2023-09-13T02:51:00Z,,sunan,650,50,74,success\n"
    try:
        (e,) = parse_events_csv(text, "dt.csv")
    except EventsError:
        return                                   # a clear refusal is fine too
    assert "time_unknown" not in e.flags
    assert abs(e.time_utc_ns - int(utc("2023-09-13T02:51:00Z").ns)) <= 60 * 10**9
