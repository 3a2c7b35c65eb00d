"""UTC parsing and scales.  References: IERS Bulletin C (TAI-UTC = 37 s since
2017-01-01, 36 s from 2015-07-01), Skyfield's own interpolation of the same
finals2000A.all table for UT1-UTC and polar motion, and numpy's calendar."""
import datetime as dt

import numpy as np
import pytest

from satwatch.errors import TimeError
from satwatch.time import Time, earth_orientation, utc, utc_range


@pytest.mark.parametrize("text,iso", [
    ("2023-09-13T04:30:00Z", "2023-09-13T04:30:00.000Z"),
    ("2023-09-13 04:30", "2023-09-13T04:30:00.000Z"),
    ("2023-09-13", "2023-09-13T00:00:00.000Z"),
    ("2023-09-13T04:30:00.123456789Z", "2023-09-13T04:30:00.123Z"),
    ("2024-02-29T23:59:59.9996+00:00", "2024-03-01T00:00:00.000Z"),
])
def test_parse_iso(text, iso):
    assert utc(text).iso(3) == iso


@pytest.mark.parametrize("bad", ["2023-02-30", "yesterday", "2023-09-13T25:00:00Z",
                                 "2023-09-13T04:30:00+03:00"])
def test_bad_times_name_the_input(bad):
    with pytest.raises(TimeError, match="cannot read time"):
        utc(bad)


def test_utc_range_and_arithmetic():
    t = utc_range("2023-09-13T00:00:00Z", "2023-09-14T00:00:00Z", 60)
    assert len(t) == 1441 and t[-1].iso(0) == "2023-09-14T00:00:00Z"
    assert (t[10] - t[0]) == 600.0
    assert (t[0] + 86400.0) == t[-1]
    with pytest.raises(TimeError):
        utc_range("2023-09-14", "2023-09-13", 60)
    dts = t[:3].to_datetime()
    assert dts[1] == dt.datetime(2023, 9, 13, 0, 1, tzinfo=dt.timezone.utc)
    assert utc(dts[1]) == t[1]


def test_julian_dates_against_numpy_calendar():
    t = utc(["2000-01-01T12:00:00Z", "2023-09-13T06:00:00Z"])
    whole, frac = t.jd_utc()
    np.testing.assert_allclose(whole + frac, [2451545.0, 2460200.75])


def test_leap_seconds_bulletin_c():
    assert utc("2017-01-01T00:00:00Z").tai_minus_utc_s() == 37.0
    assert utc("2016-12-31T23:59:59Z").tai_minus_utc_s() == 36.0
    assert utc("2015-06-30T12:00:00Z").tai_minus_utc_s() == 35.0
    whole, frac = utc("2023-09-13T00:00:00Z").jd_tt()
    assert (frac * 86400.0) == pytest.approx(69.184, abs=1e-6)


def test_ut1_and_polar_motion_match_skyfield(skyfield_ts):
    times = utc_range("2016-12-30T00:00:00Z", "2017-01-03T00:00:00Z", 3 * 3600)  # leap second
    times = Time(np.concatenate([times.ns, utc_range("2023-09-10", "2023-09-16", 7777).ns]))
    t = skyfield_ts.from_datetimes(times.to_datetime())
    # 1 us of UT1 is 0.5 mm at the equator; Skyfield interpolates TT-UT1.
    np.testing.assert_allclose(times.dut1_s(), t.dut1, atol=1e-6)
    _, xp, yp = t.polar_motion_angles()
    x_rad, y_rad = times.polar_motion_rad()
    arcsec = np.pi / 648000
    np.testing.assert_allclose(x_rad / arcsec, xp, atol=1e-5)
    np.testing.assert_allclose(y_rad / arcsec, yp, atol=1e-5)


def test_iers_tables_cover_the_data_in_use():
    lo, hi = earth_orientation().span_mjd
    assert lo <= utc("1980-01-01").mjd_utc and hi >= utc("2026-08-31").mjd_utc
    assert "finals2000A" in earth_orientation().source
