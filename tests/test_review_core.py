"""Review of the core (time, elements, catalog): failing tests for real bugs.

Each test compares with an outside reference or a closed form:
- regimes: closed form (Kepler's third law; satwatch's own regime table puts
  e < 0.25 and period > 1580 min in "other", and summary() counts it there);
- ISO formatting: the decimal expansion of an exactly known instant;
- OMM epochs: the input text itself (CCSDS 502.0-B-3 allows any number of
  fractional-second digits; the reader keeps nanoseconds, the writer must
  not silently drop them);
- BOM: the same bytes without the BOM, as read by the same reader
  (detect_format already skips a BOM, so the readers are meant to see one).
"""
import dataclasses

import pytest

from satwatch.catalog import Catalog, regime_of
from satwatch.elements import ElementSet, parse_elements, write_omm
from satwatch.time import utc


def _element_set(norad_id=1, mean_motion=0.5, ecc=0.01, epoch_ns=1_694_606_400_000_000_000):
    return ElementSet(norad_id=norad_id, epoch_ns=epoch_ns, mean_motion_rev_day=mean_motion,
                      eccentricity=ecc, inclination_deg=1.0, raan_deg=0.0,
                      arg_perigee_deg=0.0, mean_anomaly_deg=0.0,
                      bstar_per_earth_radius=0.0, ndot_rev_day2=0.0, nddot_rev_day3=0.0,
                      name="FAR AWAY", intl_designator="2020-001A")


def test_filter_regime_other_finds_the_objects_summary_counts():
    # 0.5 rev/day: period 2880 min > 1580 min, e = 0.01 -> "other" (closed form)
    far = _element_set()
    leo = _element_set(norad_id=2, mean_motion=15.5)
    cat = Catalog([far, leo])
    assert regime_of(far) == "other"
    assert cat.summary()["regimes"]["other"] == 1
    # catalog.py filter(): compares regime_of(es) with regime.upper() == "OTHER"
    assert [es.norad_id for es in cat.filter(regime="other")] == [1]


@pytest.mark.parametrize("digits", [1, 2, 4, 5, 7, 8])
def test_iso_gives_the_number_of_decimals_asked(digits):
    # Time.iso docstring: "digits decimals of seconds (0..9)"; the instant is
    # exactly 0.123456789 s past the minute, so the text is its truncation/rounding.
    t = utc("2023-01-01T00:00:00.123456789Z")
    text = t.iso(digits)
    frac = text.split(".")[1].rstrip("Z")
    assert len(frac) == digits, text
    assert frac == str(round(0.123456789, digits))[2:].ljust(digits, "0")


@pytest.mark.parametrize("fmt", ["json", "kvn", "xml", "csv"])
def test_omm_write_read_keeps_nanosecond_epoch(fmt):
    # An OMM epoch with 9 fractional digits is read exactly (reader keeps ns);
    # writing it back must not truncate it to microseconds in silence.
    text = ('[{"NORAD_CAT_ID": 1, "EPOCH": "2023-09-13T12:00:00.123456789", '
            '"MEAN_MOTION": 15.5, "ECCENTRICITY": 0.001, "INCLINATION": 51.6, '
            '"RA_OF_ASC_NODE": 10.0, "ARG_OF_PERICENTER": 20.0, "MEAN_ANOMALY": 30.0, '
            '"BSTAR": 0.0001, "MEAN_MOTION_DOT": 0.0, "MEAN_MOTION_DDOT": 0.0}]')
    (es,), rej = parse_elements(text)
    assert not rej
    assert es.epoch_ns % 1_000_000_000 == 123_456_789
    (back,), rej = parse_elements(write_omm([es], fmt))
    assert not rej
    assert back.epoch_ns == es.epoch_ns


@pytest.mark.parametrize("fmt", ["csv", "kvn", "json"])
def test_parse_elements_accepts_a_byte_order_mark(fmt):
    # A text stream opened as "utf-8" (load_catalog(stream) -> source.read())
    # keeps a spreadsheet's BOM; detect_format skips it, the readers must too.
    es = dataclasses.replace(_element_set(mean_motion=15.5), name="ISS (ZARYA)")
    text = write_omm([es], fmt)
    plain, rej = parse_elements(text)
    assert plain == [es] and not rej
    with_bom, rej = parse_elements("\ufeff" + text)
    assert with_bom == plain and not rej
