"""Whole-catalog propagation: the array call equals a loop of scalar sgp4
calls (python-sgp4's Satrec.twoline2rv + sgp4, the reference
implementation), errors are data, stale element sets warn."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import Satrec

import satwatch
from satwatch.errors import StaleElementsWarning


@pytest.fixture(scope="module")
def sample(full_catalog):
    return satwatch.Catalog(list(full_catalog)[::260])     # ~100 objects of all kinds


@settings(max_examples=30, deadline=None)
@given(offsets=st.lists(st.floats(-3 * 86400, 3 * 86400, allow_nan=False), min_size=1,
                        max_size=8))
def test_array_call_equals_loop_of_scalar_calls(sample, offsets):
    base = satwatch.Time(int(np.median(sample.epochs.ns)))
    times = base + np.array(offsets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleElementsWarning)
        states = sample.propagate(times)
    assert states.r_teme_km.shape == (3, len(sample), len(offsets))
    jd, fr = times.jd_utc()
    for i, es in enumerate(sample):
        lines = es.source_text.strip().splitlines()[-2:]
        sat = Satrec.twoline2rv(*lines)
        for k in range(len(offsets)):
            e, r, v = sat.sgp4(jd[k], fr[k])
            assert states.error[i, k] == e
            if e == 0:
                assert np.abs(np.array(r) - states.r_teme_km[:, i, k]).max() < 1e-9
                assert np.abs(np.array(v) - states.v_teme_km_s[:, i, k]).max() < 1e-12
            else:
                assert np.isnan(states.r_teme_km[:, i, k]).all()
                assert np.isnan(states.v_teme_km_s[:, i, k]).all()


def test_decayed_objects_are_data_not_exceptions(full_catalog):
    # Objects of the 2023-10-13 catalog propagated a year later: many LEO
    # objects have decayed in SGP4 (code 6) or diverged (codes 1-4).
    times = satwatch.utc_range("2024-10-13T00:00:00Z", "2024-10-13T01:00:00Z", 1800)
    sample = satwatch.Catalog(list(full_catalog)[::50])
    with pytest.warns(StaleElementsWarning, match="days from their epoch"):
        states = sample.propagate(times)
    bad = states.error != 0
    assert bad.any() and (~bad).any()
    assert np.isnan(states.r_teme_km[:, bad]).all()
    geo = states.geodetic()
    assert np.isnan(geo.lat_deg[bad]).all() and np.isfinite(geo.lat_deg[~bad]).all()
    assert set(np.unique(states.error[bad])) <= set(satwatch.SGP4_ERRORS) - {0}


def test_no_warning_near_epoch(sample):
    times = satwatch.Time(int(np.median(sample.epochs.ns)))
    recent = sample.filter(predicate=lambda es: abs(es.epoch_ns - times.ns) < 10 * 86400e9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleElementsWarning)
        recent.propagate(times)


def test_geodetic_shapes_follow_inputs(sample):
    times = satwatch.utc_range("2023-10-10T00:00:00Z", "2023-10-10T00:04:00Z", 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleElementsWarning)
        geo = sample.propagate(times).geodetic()
    assert geo.lat_deg.shape == geo.lon_deg.shape == geo.alt_km.shape == (len(sample), 5)


def test_catalog_lookup_and_filters(full_catalog):
    iss = full_catalog[25544]
    assert iss.name == "ISS (ZARYA)" and full_catalog["iss (zarya)"] is iss
    assert full_catalog["25544"] is iss
    starlink = full_catalog.filter(name="STARLINK*")
    assert len(starlink) > 4000 and all(es.name.startswith("STARLINK") for es in starlink)
    geo = full_catalog.filter(regime="GEO")
    assert all(1300 < es.period_min < 1580 for es in geo)
    with pytest.raises(satwatch.CatalogError, match="99999999"):
        full_catalog[99999999]
    assert len(full_catalog.select(["25544", "STARLINK-1007", "KMS 3-2"])) == 3


def test_front_door_exports_every_analysis():
    import importlib
    from satwatch import api
    for name, module in api._LAZY.items():
        target = "analyze" if name == "analyze_event" else name
        assert getattr(satwatch, name) is getattr(importlib.import_module(f"satwatch.{module}"),
                                                  target)
    with pytest.raises(AttributeError):
        satwatch.no_such_thing
