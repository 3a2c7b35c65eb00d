"""History-aware propagation: each time uses the element set nearest in epoch.

References: brute-force nearest search (a Python min over the list), and
python-sgp4's own ``Satrec.twoline2rv`` on the chosen set's verbatim TLE
lines (an independent initialisation from the text, not satwatch's
``satrec``).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sgp4.api import Satrec

from satwatch.elements import parse_elements
from satwatch.store import nearest_index, open_store, propagate_history, propagate_sets_nearest
from satwatch.time import Time, utc, utc_range

# Same SGP4 on the same elements: differences are float rounding only
# (twoline2rv parses the text, satwatch initialises from parsed fields).
SAME_SGP4_KM = 1e-6


@given(st.lists(st.integers(-10**15, 10**15), min_size=1, max_size=40, unique=True),
       st.lists(st.integers(-2 * 10**15, 2 * 10**15), min_size=1, max_size=40))
@settings(max_examples=200, deadline=None)
def test_nearest_index_equals_brute_force(epochs, times):
    epochs = np.sort(np.array(epochs, dtype=np.int64))
    times = np.array(times, dtype=np.int64)
    got = nearest_index(epochs, times)
    for t, i in zip(times, got):
        best = min(range(len(epochs)), key=lambda j: (abs(int(epochs[j]) - int(t)), j))
        assert abs(int(epochs[i]) - int(t)) == abs(int(epochs[best]) - int(t))
        assert i == best          # ties go to the earlier epoch


@pytest.fixture(scope="module")
def iss_sets(reference_data):
    text = (reference_data / "history" / "iss_25544_2020-2024.tle").read_text()
    lines = text.splitlines()
    keep = []
    for l1, l2 in zip(lines[0::2], lines[1::2]):
        if l1[18:23] >= "23250" and l1[18:23] <= "23280":     # Sept-Oct 2023
            keep += [l1, l2]
    sets, rej = parse_elements("\n".join(keep) + "\n")
    assert not rej and len(sets) > 50
    return sets


def _reference_states(sets, times):
    """Independent: choose by brute force, initialise with twoline2rv."""
    r = np.empty((3, len(times)))
    used = []
    for k, t in enumerate(times.ns):
        es = min(sets, key=lambda s: (abs(s.epoch_ns - int(t)), s.epoch_ns))
        l1, l2 = es.source_text.splitlines()[-2:]
        sat = Satrec.twoline2rv(l1, l2)
        jd, fr = Time(int(t)).jd_utc()
        err, rr, _ = sat.sgp4(float(jd), float(fr))
        assert err == 0
        r[:, k] = rr
        used.append(es.epoch_ns)
    return r, np.array(used)


def test_propagation_uses_the_set_nearest_in_epoch(iss_sets):
    times = utc_range("2023-09-12T00:00:00Z", "2023-09-15T00:00:00Z", 1800.0)
    states, used = propagate_sets_nearest(iss_sets, times)
    ref_r, ref_used = _reference_states(iss_sets, times)
    assert states.r_teme_km.shape == (3, 1, len(times))
    np.testing.assert_array_equal(used, ref_used)
    np.testing.assert_allclose(states.r_teme_km[:, 0, :], ref_r, atol=SAME_SGP4_KM, rtol=0)
    assert len(np.unique(used)) > 5        # several sets took part over three days


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_propagate_history_from_the_store(backend, iss_sets, tmp_path, request):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'h.db'}"
    else:
        url = request.getfixturevalue("fresh_pg_url")
    store = open_store(url)
    store.ingest_catalog(iss_sets)
    times = utc(["2023-09-13T04:30:00Z", "2023-09-20T12:00:00Z", "2023-10-01T00:00:00Z"])
    states, used = propagate_history(store, 25544, times)
    ref_r, ref_used = _reference_states(iss_sets, times)
    np.testing.assert_array_equal(used, ref_used)
    np.testing.assert_allclose(states.r_teme_km[:, 0, :], ref_r, atol=SAME_SGP4_KM, rtol=0)
    store.close()




def test_far_from_any_epoch_warns(iss_sets):
    from satwatch.errors import StaleElementsWarning
    with pytest.warns(StaleElementsWarning, match="days from"):
        propagate_sets_nearest(iss_sets, utc(["2024-06-01T00:00:00Z"]))
