"""Review of the manoeuvre detector (issue 5): edge cases that make it
report burns that are not there, or lose one that is.

Outside references:
- Malligyong-1 (58400), 440 element sets, "smooth decay, no burns in this
  span" (../shared/data/README.md): any manoeuvre reported on it is false.
  A 2 km step injected into it (closed form: its epoch is the first set
  after it) is a burn that must be found.
- A closed-form decay in an exponential atmosphere (dh/dt = -c exp(-h/H),
  solved: h(t) = H ln(exp(h0/H) - c t)) with 10 m of white noise: drag
  only, no burn, down to re-entry.
- The documented floors (docs/maneuvers.md steps 4 and 6: the single-gap
  jump test uses "the same floors" as the trend test, including "half the
  decay expected across a long gap"), with the decay rate taken by brute
  force (Theil-Sen over the whole history), not from the detector.
- Jason-1's benchmark history (../shared/data/maneuvers/tle, Shorten et
  al.) with one set removed: what a NaN (missing) element of that set
  should give.
"""
from __future__ import annotations

import numpy as np
import pytest
from test_maneuvers import _arrays, _n_from_a

from satwatch.elements import parse_elements
from satwatch.maneuvers import DetectorSettings, detect_maneuvers, semi_major_axis_km

NS_PER_DAY = 86_400 * 10**9
EARTH_RADIUS_KM = 6378.135
STEP_KM = 2.0                   # ~200 times the set-to-set scatter of a here
# Half the decay across a gap (docs step 4, DetectorSettings.drag_fraction).
GAP_DRAG_FRACTION = 0.5
GAP_DAYS = 20.0                 # a tracking outage; gaps this long count as "long"
# Closed-form decay: scale height, start and end heights, time to the end.
SCALE_HEIGHT_KM = 40.0
H0_KM, H_END_KM, DECAY_DAYS = 350.0, 120.0, 90.0
NOISE_KM = 0.01                 # a LEO TLE's mean a scatters by ~10 m (docs)
LAST_HEIGHT_KM = 170.0          # histories stop here (sets end at re-entry)


@pytest.mark.parametrize("offset", [-3, 0])
def test_nan_mean_motion_does_not_hide_a_step(quiet, offset):
    """One element set with a NaN mean motion in the six sets up to a 2 km
    step: the step is still a manoeuvre (or the NaN is a clear error), not
    silently nothing.  Before the fix: 0 detections, and the NaN set was
    not in outlier_epochs_ns either (it is now)."""
    arr = {k: v.copy() for k, v in quiet.items()}
    j = 300
    a = semi_major_axis_km(arr["mean_motion_rev_day"])
    arr["mean_motion_rev_day"][j:] = _n_from_a(a[j:] + STEP_KM)
    arr["mean_motion_rev_day"][j + offset] = np.nan
    try:
        found = detect_maneuvers(**arr)
    except (ValueError, ArithmeticError) as exc:      # a clear error is acceptable
        assert "mean_motion" in str(exc)
        return
    step_epoch = arr["epoch_ns"][j + 1 if offset == 0 else j]
    hit = (found.window_start_ns <= step_epoch) & (found.window_end_ns >= step_epoch)
    assert hit.sum() == 1 and found.kind[hit][0] == "in-track", found.rows()


def test_long_data_gap_is_not_a_single_gap_jump(quiet):
    """A 20-day outage cut out of a burn-free history: a detection that only
    the single-gap jump test makes (absent with z_jump=0) across the gap
    must exceed half the decay across it, as docs step 6 says ("the same
    floors").  Before the fix the jump test's floor was three days of decay
    only (satwatch/maneuvers.py, floor_j), and it reported 60-200 m "burns"
    across the gap at 11 of 24 positions."""
    ep = quiet["epoch_ns"]
    t = (ep - ep[0]) / NS_PER_DAY
    a = semi_major_axis_km(quiet["mean_motion_rev_day"])
    i, k = np.triu_indices(len(t), 1)
    far = t[k] - t[i] > 1.0
    rate = abs(np.median((a[k] - a[i])[far] / (t[k] - t[i])[far]))   # Theil-Sen
    bad = []
    for start in np.arange(10.0, t[-1] - GAP_DAYS - 10.0, 5.0):
        cut = (t >= start) & (t < start + GAP_DAYS)
        arr = {key: v[~cut] for key, v in quiet.items()}
        found = detect_maneuvers(**arr)
        without = set(detect_maneuvers(**arr, settings=DetectorSettings(z_jump=0.0))
                      .epoch_ns.tolist())
        ts = (arr["epoch_ns"] - ep[0]) / NS_PER_DAY
        for j in range(len(found)):
            if int(found.epoch_ns[j]) in without:
                continue
            g = int(np.searchsorted(arr["epoch_ns"], found.epoch_ns[j])) - 1
            gap = ts[g + 1] - ts[g]
            if gap >= GAP_DAYS and abs(found.delta_a_km[j]) < GAP_DRAG_FRACTION * gap * rate:
                bad.append((start, round(gap, 1), round(float(found.delta_a_km[j]), 3)))
    assert not bad, bad


@pytest.mark.parametrize("seed", [2, 3])
def test_decay_to_reentry_is_not_a_burn(seed):
    """Drag alone down to re-entry (closed form, exponential atmosphere):
    no manoeuvre.  Before the fix the single-gap jump test reported an in-track
    burn of -12 to -18 km in the last day (its trend rate is the median over
    21 gaps, far behind an accelerating decay)."""
    rng = np.random.default_rng(seed)
    h_scale = SCALE_HEIGHT_KM
    c = (np.exp(H0_KM / h_scale) - np.exp(H_END_KM / h_scale)) / DECAY_DAYS
    t = np.cumsum(rng.uniform(0.3, 1.2, 400))
    t = t[t < DECAY_DAYS]
    h = h_scale * np.log(np.exp(H0_KM / h_scale) - c * t)
    t, h = t[h > LAST_HEIGHT_KM], h[h > LAST_HEIGHT_KM]
    n = len(t)
    a = EARTH_RADIUS_KM + h + rng.normal(0.0, NOISE_KM, n)
    found = detect_maneuvers((t * NS_PER_DAY).astype(np.int64), _n_from_a(a),
                             np.full(n, 1e-4), np.full(n, 51.6), (100.0 - 5.0 * t) % 360.0)
    assert len(found) == 0, found.rows()


@pytest.mark.parametrize("index", [100, 900, 1700, 2500])
def test_nan_mean_anomaly_is_a_missing_set_not_a_veto(reference_data, index):
    """One set of Jason-1's benchmark history with a NaN mean anomaly: the
    detections are those of the history without that set (or the NaN is a
    clear error).  Before the fix the NaN along-track residual poisoned the
    41-set rolling median / MAD of _along_support, the support became 0
    there and the along-track check vetoed 1-2 nearby detections."""
    d = reference_data / "maneuvers" / "tle"
    sets, _ = parse_elements((d / "Jason-1.tle").read_text())
    arr = _arrays(sets)
    with_nan = {k: v.copy() for k, v in arr.items()}
    with_nan["mean_anomaly_deg"][index] = np.nan
    without = {k: np.delete(v, index) for k, v in arr.items()}
    try:
        found = detect_maneuvers(**with_nan)
    except (ValueError, ArithmeticError) as exc:      # a clear error is acceptable
        assert "mean_anomaly" in str(exc)
        return
    expected = detect_maneuvers(**without)
    assert sorted(found.epoch_ns.tolist()) == sorted(expected.epoch_ns.tolist())


def test_history_columns_are_accepted_and_typos_refused():
    """The store's history arrays (every element column) go straight in;
    a misspelt keyword is an error, not a silently disabled check."""
    from satwatch.store import schema
    n = 40
    t = np.arange(n, dtype=np.int64) * NS_PER_DAY
    typical = {"mean_motion_rev_day": 15.5, "eccentricity": 0.001, "inclination_deg": 51.6,
               "raan_deg": 100.0, "arg_perigee_deg": 90.0, "mean_anomaly_deg": 10.0,
               "bstar_per_earth_radius": 1e-4, "ndot_rev_day2": 1e-5, "nddot_rev_day3": 0.0}
    cols = {c: np.full(n, typical[c]) for c in schema.ELEMENT_COLUMNS}
    detect_maneuvers(t, **cols)
    with pytest.raises(TypeError, match="argp_deg"):
        detect_maneuvers(t, cols["mean_motion_rev_day"], cols["eccentricity"],
                         cols["inclination_deg"], cols["raan_deg"], argp_deg=cols["eccentricity"])
