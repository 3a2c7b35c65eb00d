"""Every catalog in ../shared/data/catalogs loads with no rejected record, and
TLE -> OMM -> TLE round trips are lossless on all of them."""
import pytest

import satwatch
from satwatch.elements import parse_elements, write_omm, write_tle

CATALOGS = {  # file: objects it holds (counts from ../shared/data/README.md)
    "full-3le-2023-10-13.txt": 26140,
    "active-2023-08-22.txt": 8405,
    "active-2023-11-19.txt": 8854,
    "active-2026-03-19.txt": 14710,
    "full-3le-2019-03-blank-padded-ids.txt": 17892,
}


@pytest.mark.parametrize("name,count", CATALOGS.items())
def test_catalog_loads_without_rejections(reference_data, name, count):
    catalog = satwatch.load_catalog(reference_data / "catalogs" / name)
    assert catalog.rejections == []
    assert len(catalog) == count
    assert len(set(catalog.norad_ids.tolist())) == count


@pytest.mark.parametrize("name", CATALOGS)
def test_tle_omm_tle_round_trip_is_lossless(reference_data, name):
    text = (reference_data / "catalogs" / name).read_text()
    sets, _ = parse_elements(text)
    for fmt in ("json", "kvn", "xml", "csv"):
        omm_sets, rejected = parse_elements(write_omm(sets, fmt))
        assert rejected == [] and omm_sets == sets, fmt
    # and back to TLE lines that read as the same numbers
    for original in sets[:: max(1, len(sets) // 2000)]:
        l1, l2 = write_tle(original)
        again = parse_elements(f"{l1}\n{l2}\n")[0][0]
        assert _same_numbers(again, original)


def _same_numbers(a, b):
    from dataclasses import fields
    for f in fields(a):
        if f.compare and f.name != "name":
            assert getattr(a, f.name) == getattr(b, f.name), f.name
    return True


def test_malligyong_and_iss_histories_load(reference_data):
    iss = satwatch.load_catalog(reference_data / "history" / "iss_25544_2020-2024.tle",
                                keep_history=True)
    assert iss.rejections == [] and len(iss) == 9571
    kms = satwatch.load_catalog(reference_data / "history" /
                                "malligyong1_58400_2026-03_to_2026-08.tle", keep_history=True)
    assert kms.rejections == [] and len(kms) == 440
    assert set(kms.norad_ids.tolist()) == {58400}


def test_truly_corrupt_line_in_the_topex_history_is_reported(reference_data):
    # ../shared/data/maneuvers/tle/TOPEX.tle line 35 carries B* '+0153801',
    # which has no exponent: a genuinely corrupt field, reported by line.
    cat = satwatch.load_catalog(reference_data / "maneuvers" / "tle" / "TOPEX.tle",
                                keep_history=True)
    assert [(r.line, r.field) for r in cat.rejections] == [(35, "BSTAR")]


def test_a_catalog_that_has_propagated_still_pickles(reference_data):
    """sgp4's Satrec objects do not pickle; a catalog that built them (and
    the pass search's constants) pickles without them (as Dask and process
    pools need) and propagates to the same states after the round trip."""
    import pickle

    import numpy as np

    from satwatch.passes import find_passes
    from satwatch.sites import find_site
    from satwatch.time import utc
    cat = satwatch.load_catalog(
        reference_data / "catalogs" / "full-3le-2023-10-13.txt").select([25544, 20580, 44713])
    t0 = utc("2023-10-13T00:00:00Z")
    before = find_passes(cat, find_site("VOSTOCHNY"), t0, t0 + 86400.0, 10.0)
    states = cat.propagate(t0 + np.arange(0.0, 3600.0, 600.0))
    back = pickle.loads(pickle.dumps(cat))
    assert back.element_sets == cat.element_sets
    again = back.propagate(t0 + np.arange(0.0, 3600.0, 600.0))
    np.testing.assert_array_equal(again.r_teme_km, states.r_teme_km)
    after = find_passes(back, find_site("VOSTOCHNY"), t0, t0 + 86400.0, 10.0)
    np.testing.assert_array_equal(after.rise_ns, before.rise_ns)
    assert len(before) > 5


@pytest.mark.parametrize("norad_id, regime", [
    # Meridian 4 and Molniya 3-20: Russian communications satellites in
    # Molniya orbits (12 h, ~63 deg; Gunter's Space Page, Russian MoD); ESA's
    # Space Environment Report classes such orbits MGO, apart from GTO.
    (37398, "HEO"), (13875, "HEO"),
    # A CZ-3A stage of a Beidou IGSO launch (55 deg), in its transfer orbit: GTO.
    (41435, "GTO"),
])
def test_molniya_orbits_are_heo_not_gto(full_catalog, norad_id, regime):
    from satwatch.catalog import regime_of
    es = full_catalog[norad_id]
    assert 600 < es.period_min < 1000 and es.eccentricity > 0.6 and es.perigee_alt_km < 2000
    assert regime_of(es) == regime


def test_breeze_m_transfer_stages_are_gto(full_catalog):
    """Every Breeze-M stage or tank in a low-perigee e > 0.6 orbit of 10-17 h
    is a Proton's GTO leftover (46-51 deg from Baikonur; one tank at 59.4 deg
    with its apogee at GEO height): GTO, not a Molniya orbit."""
    from satwatch.catalog import regime_of
    stages = [es for es in full_catalog if es.name.startswith("BREEZE-M")
              and 600 < es.period_min < 1000 and es.eccentricity > 0.6
              and es.perigee_alt_km < 2000]
    assert len(stages) >= 5
    assert {regime_of(es) for es in stages} == {"GTO"}
