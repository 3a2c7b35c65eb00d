"""Review round 13 (core: time, frames, propagation, catalog, sun, sites, the
catalog and where commands): each finding against an outside reference."""
import numpy as np
import pytest

from satwatch.time import utc, utc_range

# -- UT1-UTC before the IERS finals2000A table (1973-01-02) ---------------------

# UTC is kept within 0.9 s of UT1 since 1972-01-01 (ITU-R TF.460-6, sec. 2.2).
UTC_MAX_DUT1_S = 0.9
# Skyfield's built-in Earth-rotation data (its own delta T series, not the
# finals table) and IERS 20 C04 differ by up to ~0.08 s in 1972.
SKYFIELD_C04_DUT1_TOLERANCE_S = 0.1
# C04 is sampled at 0h UTC: at those instants only float rounding is left.
C04_DUT1_TOLERANCE_S = 1e-6
C04_POLAR_TOLERANCE_ARCSEC = 1e-6
# 0.1 s of UT1 moves a LEO state ~50 m in ITRS (7,000 km x 7.29e-5 rad/s x 0.1 s).
SKYFIELD_ITRS_TOLERANCE_KM = 0.05


def _c04_rows():
    """IERS EOP 20 C04 (eopc04.1962-now, as shipped in astropy-iers-data):
    MJD -> (x arcsec, y arcsec, UT1-UTC s), read here independently."""
    from importlib import resources

    import astropy_iers_data
    text = (resources.files(astropy_iers_data) / "data" / "eopc04.1962-now").read_text()
    rows = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        rows[float(f[4])] = (float(f[5]), float(f[6]), float(f[7]))
    return rows


def test_ut1_minus_utc_before_1973_is_iers_c04():
    days = utc_range("1972-01-01T00:00:00Z", "1973-01-01T00:00:00Z", 86400.0)
    dut1 = days.dut1_s()
    assert np.all(np.abs(dut1) <= UTC_MAX_DUT1_S), dut1[np.abs(dut1) > UTC_MAX_DUT1_S]
    from skyfield.api import load
    ts = load.timescale(builtin=True)
    sky = ts.from_datetimes(days.to_datetime()).dut1
    np.testing.assert_allclose(dut1, sky, atol=SKYFIELD_C04_DUT1_TOLERANCE_S)
    # and the tabulated values themselves, 1962-1972, at 0h UTC of each date
    rows = _c04_rows()
    dates = utc(["1962-06-01", "1965-06-01", "1968-02-15", "1971-12-31", "1972-03-01",
                 "1972-06-30", "1972-07-02", "1972-12-30"])
    want = np.array([rows[m] for m in dates.mjd_utc])
    np.testing.assert_allclose(dates.dut1_s(), want[:, 2], atol=C04_DUT1_TOLERANCE_S)
    x_rad, y_rad = dates.polar_motion_rad()
    arcsec = np.pi / 648000
    np.testing.assert_allclose(x_rad / arcsec, want[:, 0], atol=C04_POLAR_TOLERANCE_ARCSEC)
    np.testing.assert_allclose(y_rad / arcsec, want[:, 1], atol=C04_POLAR_TOLERANCE_ARCSEC)


def test_teme_to_itrs_in_1972_matches_skyfield():
    from skyfield.api import load
    from skyfield.sgp4lib import TEME
    from satwatch.frames import teme_to_itrs
    ts = load.timescale(builtin=True)
    times = utc(["1972-03-01T06:00:00Z", "1972-05-20T18:30:00Z", "1972-10-01T00:00:00Z"])
    r_teme_km = np.array([[6878.0, 0.0, 0.0], [0.0, 6878.0, 0.0], [4000.0, 4000.0, 3000.0]]).T
    r_itrs_km, _ = teme_to_itrs(r_teme_km, None, times, polar_motion=False)
    from skyfield.framelib import itrs
    for k in range(3):
        t = ts.from_datetime(times[k].to_datetime())
        # TEME -> ITRS as Skyfield does it (GMST82 from its own UT1, no polar motion
        # installed in the built-in timescale)
        r_gcrs = TEME.rotation_at(t).T @ r_teme_km[:, k]
        r_sky = itrs.rotation_at(t) @ r_gcrs
        assert np.abs(r_itrs_km[:, k] - r_sky).max() < SKYFIELD_ITRS_TOLERANCE_KM


# -- site files: a value that cannot be read is a SiteError naming the field ---

@pytest.mark.parametrize("fmt,text", [
    ("yaml", 'sites:\n  Sohae: "39.66N, 124.7E"\n'),
    ("toml", '[sites]\nSohae = "39.66N 124.7E"\n'),
    ("json", '{"sites": {"Sohae": "north of Pyongyang"}}'),
])
def test_site_text_that_is_not_lat_lon_names_the_field(tmp_path, fmt, text):
    from satwatch.sites import SiteError
    from satwatch.sources.files import load_sites
    path = tmp_path / f"my_sites.{fmt}"
    path.write_text(text)
    with pytest.raises(SiteError, match="sites.Sohae") as info:
        load_sites(path)
    assert info.value.field == "sites.Sohae" and str(path) in str(info.value)


@pytest.mark.parametrize("features", ['[5]', '["Sohae"]',
                                      '[{"type": "Feature", "properties": "Sohae", '
                                      '"geometry": {"type": "Point", "coordinates": [124.7, 39.66]}}]',
                                      '[{"type": "Feature", "geometry": {"type": "Point", '
                                      '"coordinates": 5}}]'])
def test_geojson_feature_that_is_not_an_object_names_the_field(tmp_path, features):
    from satwatch.sites import SiteError
    from satwatch.sources.files import load_sites
    path = tmp_path / "my_sites.geojson"
    path.write_text('{"type": "FeatureCollection", "features": %s}' % features)
    with pytest.raises(SiteError, match=r"features\[0\]") as info:
        load_sites(path)
    assert str(path) in str(info.value)


# -- where: a state no orbit of the element set can reach is a failure ----------

# Margin over the element set's mean apogee: SGP4's short-period terms and drag
# move a LEO state by tens of km, never by thousands.
APOGEE_MARGIN_KM = 1000.0
MU_WGS72_KM3_S2 = 398600.8          # SGP4's own constants (Hoots & Roehrich 1980)
EARTH_RADIUS_WGS72_KM = 6378.135


def test_where_refuses_a_state_far_above_the_element_sets_apogee(reference_data, tmp_path):
    """NUSAT-11 CORA (46829, epoch 2023-10-07, ~500 km LEO) a year after its
    epoch: python-sgp4 answers, without an error code, a state 10,814 km from
    the Earth's centre.  Reference: the element set's mean apogee radius
    a (1 + e), a from its mean motion by Kepler's third law (WGS-72 mu), is
    under 7,000 km; no SGP4 state of it can be thousands of km higher.  The
    code 7 of propagation.UNPHYSICAL_STATE (and its text in where's
    error_text) is what passes and conjunctions give such states."""
    import json

    from sgp4.api import Satrec, jday
    from typer.testing import CliRunner

    from satwatch.cli import app
    lines = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("1 46829"))
    path = tmp_path / "nusat11.tle"
    path.write_text("\n".join(lines[i - 1:i + 2]) + "\n")
    sat = Satrec.twoline2rv(lines[i], lines[i + 1])
    err, r_km, _ = sat.sgp4(*jday(2024, 10, 13, 0, 0, 0.0))
    n_rad_s = sat.no_kozai / 60.0
    apogee_km = (MU_WGS72_KM3_S2 / n_rad_s ** 2) ** (1 / 3) * (1 + sat.ecco)
    assert err == 0 and np.linalg.norm(r_km) > apogee_km + APOGEE_MARGIN_KM  # the premise
    out = CliRunner().invoke(app, ["where", "46829", "--at", "2024-10-13T00:00:00Z",
                                   "--catalog", str(path), "--format", "json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.stdout)[0]
    shown_above_apogee = (row["alt_km"] is not None and np.isfinite(row["alt_km"]) and
                          row["alt_km"] + EARTH_RADIUS_WGS72_KM > apogee_km + APOGEE_MARGIN_KM)
    assert not shown_above_apogee, row
    assert row["error"] == 7 and "Earth orbiter" in row["error_text"]


# -- utc_range: a step that is not a finite number of nanoseconds --------------

@pytest.mark.parametrize("step", ["inf", "1e-12"])
def test_utc_range_refuses_a_step_that_is_not_a_finite_number_of_ns(reference_data, step):
    """Time holds int64 ns: a step that rounds to 0 ns or is infinite has no
    sample grid.  'satwatch track --step 1e-12' wrote an empty track whose
    step_s was null, '--step inf' ended in OverflowError's traceback."""
    from typer.testing import CliRunner

    from satwatch.cli import app
    from satwatch.errors import TimeError
    with pytest.raises(TimeError, match="step_s"):
        utc_range("2023-11-19T00:00:00Z", "2023-11-19T01:00:00Z", float(step))
    out = CliRunner().invoke(app, ["track", "25544", "--step", step, "--start",
                                   "2023-11-19T00:00:00Z", "--catalog",
                                   str(reference_data / "catalogs" / "active-2023-11-19.txt")])
    assert out.exit_code == 2 and "step_s" in out.output and "Traceback" not in out.output


# -- site files written with a UTF-8 byte-order mark ----------------------------

@pytest.mark.parametrize("fmt,text", [
    ("csv", "name,lat_deg,lon_deg\nSohae,39.66,124.705\n"),
    ("geojson", '{"type": "Feature", "properties": {"name": "Sohae"}, '
                '"geometry": {"type": "Point", "coordinates": [124.705, 39.66]}}'),
    ("json", '{"sites": {"Sohae": "39.66,124.705"}}'),
    ("toml", '[sites]\nSohae = "39.66,124.705"\n'),
])
def test_site_file_with_a_byte_order_mark_is_read(tmp_path, fmt, text):
    """Excel's "CSV UTF-8" and Windows Notepad write a BOM (U+FEFF) first;
    RFC 8259 sec. 8.1 lets JSON readers ignore it, Python reads it away with
    'utf-8-sig', and satwatch's element-set parser already does.  Expected:
    the same site as without the BOM (the coordinates in the text)."""
    from satwatch.sources.files import load_sites
    path = tmp_path / f"my_sites.{fmt}"
    path.write_text(text, encoding="utf-8-sig")
    (site,) = load_sites(path)
    assert site.name == "Sohae" and (site.lat_deg, site.lon_deg) == (39.66, 124.705)


# -- a site name given twice in a YAML/JSON mapping -----------------------------

@pytest.mark.parametrize("fmt,text", [
    ("yaml", "sites:\n  Sohae: '39.66,124.70'\n  Sohae: '40.85,129.66'\n"),
    ("json", '{"sites": {"Sohae": "39.66,124.70", "Sohae": "40.85,129.66"}}'),
])
def test_a_site_name_given_twice_in_a_mapping_is_refused(tmp_path, fmt, text):
    """YAML 1.2.2 sec. 3.2.1.1 ("the content of a mapping node is an unordered
    set of key/value node pairs, with the restriction that each of the keys
    is unique") and RFC 8259 sec. 4 (names SHOULD be unique); TOML refuses a
    repeated key itself, and satwatch's list form of the same file refuses a
    repeated name.  PyYAML and json keep the last value: the first site was lost."""
    from satwatch.sites import SiteError
    from satwatch.sources.files import load_sites
    path = tmp_path / f"my_sites.{fmt}"
    path.write_text(text)
    with pytest.raises(SiteError, match="Sohae") as info:
        load_sites(path)
    assert str(path) in str(info.value)
