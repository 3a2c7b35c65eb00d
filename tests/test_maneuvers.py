"""Manoeuvre, decay, new and stale objects.

Outside references:
- Operator-announced manoeuvre times from the benchmark of Shorten et al.,
  "Wide-scale Monitoring of Satellite Lifetimes: Pitfalls and a Benchmark
  Dataset" (../shared/data/maneuvers/labels/*.yaml; TLEs in tle/).  Scored
  here with this file's own greedy matcher, not satwatch's.
- ISS semi-major-axis jumps derived independently from the A_KM column of
  ../shared/data/history/iss_25544_2020-2024_gp_clean.csv (rule below).
- The operators' velocity increments in the benchmark's raw/ files (delta-v
  and in-track/cross-track type of each manoeuvre).
- SGP4 itself (the sgp4 package, Vallado's implementation): the along-track
  residual of each element set against the one before it, propagated to its
  epoch, from TEME positions and velocities.
- Malligyong-1 (58400), March-August 2026: a smooth decay with no burns
  (../shared/data/README.md), as a real quiet history; steps injected into
  it are checked against the closed forms dv = v da / (2a) (vis-viva, small
  tangential burn) and dv = v di (small plane change at the node).
"""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import yaml
from conftest import HISTORY_FIELDS, history_arrays

from satwatch.elements import parse_elements
from satwatch.maneuvers import (STALE_AFTER_DAYS, along_track_residual_km, decay_status,
                                detect_maneuvers, new_objects, semi_major_axis_km, stale_objects)

NS_PER_DAY = 86_400 * 10**9
MU_KM3_S2 = 398600.8
FIELDS = HISTORY_FIELDS

# Benchmark subset (a LEO altimeter with drag, a LEO with tiny burns, a GEO):
# floors well above chance and a margin below what the detector reaches
# (benchmarks/maneuvers.py prints the full table).
SUBSET = ("Sentinel-3A", "CryoSat-2", "Fengyun-2H")
MATCH_DAYS = 1.5          # the rule of docs/maneuvers.md
MIN_RECALL = 0.75
MIN_PRECISION = 0.80
# ISS requirement of the issue.
ISS_MIN_RECALL = 0.90
ISS_MAX_FALSE_ALARMS_PER_DAY = 1 / 60
ISS_JUMP_KM = 0.5
ISS_MATCH_DAYS = 1.0
ISS_REAL_CHANGE_KM = 0.25
# An injected step is recovered to this fraction (the fit noise of a TLE's
# mean a in LEO is ~10 m against the 2 km step).
STEP_RTOL = 0.1


_arrays = history_arrays


def _greedy_match(windows, labels, tol_days):
    """Each label (in time order) takes the first free detection whose epoch
    window, widened by tol_days, contains it.  Returns true positives."""
    used = set()
    tp = 0
    tol = tol_days * NS_PER_DAY
    for t in sorted(labels):
        for j, (a, b) in enumerate(windows):
            if j not in used and a - tol <= t <= b + tol:
                used.add(j)
                tp += 1
                break
    return tp


@pytest.fixture(scope="module")
def maneuver_data(reference_data):
    return reference_data / "maneuvers"


def _labels(path):
    doc = yaml.safe_load(path.read_text())
    return np.array(sorted(np.datetime64(str(t).replace(" ", "T"), "ns").astype(np.int64)
                           for t in doc["manoeuvre_timestamps"]))


def _score(maneuver_data, name, along_track=True):
    """(matched labels, scored detections, labels) for one benchmark satellite,
    by the rule of docs/maneuvers.md."""
    sets, _ = parse_elements((maneuver_data / "tle" / f"{name}.tle").read_text())
    arr = _arrays(sets)
    if not along_track:
        arr = {k: v for k, v in arr.items() if k in FIELDS[:5]}
    labels = _labels(maneuver_data / "labels" / f"manoeuvres_{name}.yaml")
    labels = labels[(labels >= arr["epoch_ns"][0]) & (labels <= arr["epoch_ns"][-1])]
    found = detect_maneuvers(**arr)
    # Only detections where the operator list is complete are scored.
    keep = ((found.window_end_ns >= labels[0] - MATCH_DAYS * NS_PER_DAY)
            & (found.window_start_ns <= labels[-1] + MATCH_DAYS * NS_PER_DAY))
    windows = list(zip(found.window_start_ns[keep], found.window_end_ns[keep]))
    return _greedy_match(windows, labels, MATCH_DAYS), len(windows), len(labels)


def test_benchmark_subset_recall_and_precision(maneuver_data):
    tp = fp = fn = 0
    for name in SUBSET:
        hits, n_windows, n_labels = _score(maneuver_data, name)
        tp += hits
        fp += n_windows - hits
        fn += n_labels - hits
    recall, precision = tp / (tp + fn), tp / (tp + fp)
    assert recall >= MIN_RECALL, (recall, precision)
    assert precision >= MIN_PRECISION, (recall, precision)


# Jason-1 and TOPEX (1,336 km): burns of a few metres in a, the size of the
# TLE's own wander.  Requiring weak in-track changes to show along the orbit
# too must remove a good share of the false alarms against the operators'
# list while keeping the true detections.
ALONG_FP_RATIO = 0.75
ALONG_TP_LOSS = 2


def test_along_track_check_removes_false_alarms(maneuver_data):
    counts = {}
    for with_along in (False, True):
        tp = fp = 0
        for name in ("Jason-1", "TOPEX"):
            hits, n_windows, _ = _score(maneuver_data, name, along_track=with_along)
            tp += hits
            fp += n_windows - hits
        counts[with_along] = (tp, fp)
    (tp0, fp0), (tp1, fp1) = counts[False], counts[True]
    assert fp1 <= ALONG_FP_RATIO * fp0, counts
    assert tp1 >= tp0 - ALONG_TP_LOSS, counts


# The operators' own velocity increments (raw/*.txt of the benchmark, IDS/CNES
# manoeuvre-history lines: per burn a time, its duration, then increments read
# as radial, along-track, cross-track in m/s).  An along-track burn of dv
# changes a by 2 a dv / v, which the TLEs show within their noise: the
# median estimate must agree to DV_MEDIAN_RTOL.
DV_SATELLITES = {"CryoSat-2": "cs2man.txt", "Sentinel-3A": "s3aman.txt"}
DV_MEDIAN_RTOL = 0.2
MIN_TYPE_RIGHT = 0.8


def _operator_burns(path):
    burns = []
    for line in path.read_text().splitlines():
        f = line.split()
        if len(f) < 26:
            continue
        year, doy, hh, mm = (int(x) for x in f[1:5])
        t = (np.datetime64(f"{year}-01-01T00:00", "ns") + np.timedelta64(doy - 1, "D")
             + np.timedelta64(hh, "h") + np.timedelta64(mm, "m")).astype(np.int64)
        along = sum(abs(float(f[11 + 15 * b + 7])) for b in range(int(f[10])))
        cross = sum(abs(float(f[11 + 15 * b + 8])) for b in range(int(f[10])))
        burns.append((int(t), along, cross))
    return burns


def test_delta_v_and_type_against_operator_values(maneuver_data):
    for name, raw in DV_SATELLITES.items():
        sets, _ = parse_elements((maneuver_data / "tle" / f"{name}.tle").read_text())
        arr = _arrays(sets)
        found = detect_maneuvers(**arr)
        burns = [b for b in _operator_burns(maneuver_data / "raw" / raw)
                 if arr["epoch_ns"][0] <= b[0] <= arr["epoch_ns"][-1]]
        used, ratios, right = set(), [], []
        tol = MATCH_DAYS * NS_PER_DAY
        for t, along, cross in burns:
            for j in range(len(found)):
                if j not in used and found.window_start_ns[j] - tol <= t <= \
                        found.window_end_ns[j] + tol:
                    used.add(j)
                    ratios.append(found.delta_v_m_s[j] / math.hypot(along, cross))
                    right.append(found.kind[j] == ("in-track" if along >= cross
                                                   else "cross-track"))
                    break
        assert len(ratios) > 30, name
        assert np.median(ratios) == pytest.approx(1.0, rel=DV_MEDIAN_RTOL), name
        assert np.mean(right) >= MIN_TYPE_RIGHT, name


# The detector's along-track residuals use SGP4's secular rates only (no
# periodic terms, TLE ndot for drag instead of B*): against SGP4 itself they
# carry an offset (removed by the detector's rolling median) and differ by
# the periodic terms, a few hundred metres at 1,300 km (Jason-3, TOPEX).
ALONG_SAMPLE = slice(1000, 1060)
ALONG_TOL_KM = 0.5
ALONG_MIN_CORRELATION = 0.9


@pytest.mark.parametrize("name", ["Jason-3", "TOPEX"])
def test_along_track_residual_against_sgp4(maneuver_data, name):
    from satwatch.propagation import satrec
    sets, _ = parse_elements((maneuver_data / "tle" / f"{name}.tle").read_text())
    sets = sorted(sets, key=lambda s: s.epoch_ns)[ALONG_SAMPLE]
    ref = []
    for s0, s1 in zip(sets[:-1], sets[1:]):
        p0, p1 = satrec(s0), satrec(s1)
        e0, r0, _ = p0.sgp4(p1.jdsatepoch, p1.jdsatepochF)
        e1, r1, v1 = p1.sgp4(p1.jdsatepoch, p1.jdsatepochF)
        assert e0 == 0 and e1 == 0
        r1, v1 = np.array(r1), np.array(v1)
        along = np.cross(np.cross(r1, v1), r1)
        ref.append(np.dot(r1 - np.array(r0), along / np.linalg.norm(along)))
    arr = _arrays(sets)
    t = (arr["epoch_ns"] - arr["epoch_ns"][0]) / NS_PER_DAY
    ours = along_track_residual_km(t, arr["mean_motion_rev_day"], arr["eccentricity"],
                                   np.radians(arr["inclination_deg"]),
                                   np.radians(arr["arg_perigee_deg"]),
                                   np.radians(arr["mean_anomaly_deg"]), arr["ndot_rev_day2"])
    diff = ours - np.array(ref)
    assert np.max(np.abs(diff - np.median(diff))) < ALONG_TOL_KM
    assert np.corrcoef(ours, ref)[0, 1] > ALONG_MIN_CORRELATION


def _iss_reference_jumps(csv_path, threshold_km):
    """Independent reference from the A_KM column: a jump is where the
    median of the three sets after a gap differs by more than
    ``threshold_km`` from the median of the three sets up to it, and the
    gap's own step is at least half that (a single bad set cannot make one);
    jumps closer than a day are one manoeuvre.  Returns the jump times
    (mid-gap) and the span in days."""
    rows = list(csv.DictReader(csv_path.open()))
    t = np.array([np.datetime64(r["EPOCH"].split("+")[0].replace(" ", "T"), "ns")
                  .astype(np.int64) for r in rows])
    a = np.array([float(r["A_KM"]) for r in rows])
    order = np.argsort(t)
    t, a = t[order], a[order]
    jumps = []
    for g in range(2, len(a) - 3):
        if abs(np.median(a[g + 1:g + 4]) - np.median(a[g - 2:g + 1])) > threshold_km \
                and abs(a[g + 1] - a[g]) > threshold_km / 2:
            mid = (t[g] + t[g + 1]) // 2
            if not jumps or mid - jumps[-1] > NS_PER_DAY:
                jumps.append(mid)
    return np.array(jumps), (t[-1] - t[0]) / NS_PER_DAY


def test_iss_reboosts_detected_with_few_false_alarms(reference_data):
    hist = reference_data / "history"
    csv_path = hist / "iss_25544_2020-2024_gp_clean.csv"
    jumps, span_days = _iss_reference_jumps(csv_path, ISS_JUMP_KM)
    assert len(jumps) > 40          # "about 60 reboosts" (../shared/data/README.md)
    sets, _ = parse_elements((hist / "iss_25544_2020-2024.tle").read_text())
    found = detect_maneuvers(**_arrays(sets), norad_id=25544)
    in_track = found.kind == "in-track"
    windows = list(zip(found.window_start_ns[in_track], found.window_end_ns[in_track]))
    hits = _greedy_match(windows, jumps, ISS_MATCH_DAYS)
    assert hits / len(jumps) >= ISS_MIN_RECALL
    # A false alarm is a detection (either type) matched one-to-one to no
    # real change of the orbit, taken as a reference jump above
    # ISS_REAL_CHANGE_KM (smaller reboosts and debris avoidance burns of
    # 0.25-0.5 km are real manoeuvres, not false alarms; a TLE's a scatters
    # by ~0.01 km set to set).
    changes, _ = _iss_reference_jumps(csv_path, ISS_REAL_CHANGE_KM)
    all_windows = list(zip(found.window_start_ns, found.window_end_ns))
    false_alarms = len(all_windows) - _greedy_match(all_windows, changes, ISS_MATCH_DAYS)
    assert false_alarms <= span_days * ISS_MAX_FALSE_ALARMS_PER_DAY, false_alarms


def test_quiet_decay_has_no_manoeuvre(quiet):
    assert len(detect_maneuvers(**quiet)) == 0


def _n_from_a(a_km):
    return np.sqrt(MU_KM3_S2 / a_km ** 3) * 86400 / (2 * np.pi)


def test_injected_in_track_step_and_delta_v(quiet):
    arr = {k: v.copy() for k, v in quiet.items()}
    j = len(arr["epoch_ns"]) // 2
    da_km = 2.0
    a = semi_major_axis_km(arr["mean_motion_rev_day"])
    arr["mean_motion_rev_day"][j:] = _n_from_a(a[j:] + da_km)
    found = detect_maneuvers(**arr)
    assert len(found) == 1 and found.kind[0] == "in-track"
    assert found.window_start_ns[0] == arr["epoch_ns"][j - 1]
    assert found.window_end_ns[0] == arr["epoch_ns"][j]
    v = math.sqrt(MU_KM3_S2 / a[j])
    expected_m_s = v * da_km / (2 * a[j]) * 1000
    assert found.delta_v_m_s[0] == pytest.approx(expected_m_s, rel=STEP_RTOL)
    assert found.delta_a_km[0] == pytest.approx(da_km, rel=STEP_RTOL)


def test_injected_plane_change_is_cross_track(quiet):
    arr = {k: v.copy() for k, v in quiet.items()}
    j = len(arr["epoch_ns"]) // 3
    di_deg = 0.05
    arr["inclination_deg"][j:] += di_deg
    found = detect_maneuvers(**arr)
    assert len(found) == 1 and found.kind[0] == "cross-track"
    a = semi_major_axis_km(arr["mean_motion_rev_day"][j])
    expected_m_s = math.sqrt(MU_KM3_S2 / a) * math.radians(di_deg) * 1000
    assert found.delta_v_m_s[0] == pytest.approx(expected_m_s, rel=0.15)


def test_outlier_set_is_flagged_not_counted(quiet):
    arr = {k: v.copy() for k, v in quiet.items()}
    j = 200
    a = semi_major_axis_km(arr["mean_motion_rev_day"][j])
    arr["mean_motion_rev_day"][j] = _n_from_a(a + 5.0)     # one bad set, 5 km off
    arr["inclination_deg"][j + 40] += 0.3                   # another, out of plane
    found = detect_maneuvers(**arr)
    assert len(found) == 0
    assert {arr["epoch_ns"][j], arr["epoch_ns"][j + 40]} <= set(found.outlier_epochs_ns)


def test_decay_rate_and_reentry(quiet, full_catalog):
    st = decay_status(quiet["epoch_ns"], quiet["mean_motion_rev_day"], quiet["eccentricity"])
    # Reference: the mean decay over the whole five months (end points);
    # the recent rate may differ with solar activity, within a factor 3.
    a = semi_major_axis_km(quiet["mean_motion_rev_day"])
    mean_rate = (a[-1] - a[0]) / ((quiet["epoch_ns"][-1] - quiet["epoch_ns"][0]) / NS_PER_DAY)
    assert mean_rate < 0 and mean_rate / 3 > st.decay_rate_km_day > mean_rate * 3
    assert st.status == "stable" and st.perigee_alt_km > 400
    # In the 2023-10-13 catalog, every low orbit (apogee under 1,000 km) with
    # its perigee below 180 km (from the TLE: a (1 - e) - 6378.135) is
    # re-entering or gone.  Not eccentric ones: COSMOS 1783 (16993, perigee
    # 170 km, apogee 6,169 km) has flown since 1986.
    at = int(full_catalog.epochs.ns.max())
    low = [es for es in full_catalog if es.perigee_alt_km < 180 and es.apogee_alt_km < 1000]
    assert low
    for es in low[:50]:
        st = decay_status([es.epoch_ns], [es.mean_motion_rev_day], [es.eccentricity],
                          norad_id=es.norad_id, at_ns=at)
        assert st.status in ("reentering", "reentered?")


def test_new_and_stale_objects_by_brute_force():
    rng = np.random.default_rng(5)
    first = rng.integers(0, 100, 50) * NS_PER_DAY
    since = 60 * NS_PER_DAY
    assert (new_objects(np.arange(50), first, since) == (first >= since)).all()
    regimes = rng.choice(list(STALE_AFTER_DAYS), 50)
    last = rng.integers(0, 100, 50) * NS_PER_DAY
    age, stale = stale_objects(last, regimes, 100 * NS_PER_DAY)
    for k in range(50):
        assert age[k] == 100 - last[k] / NS_PER_DAY
        assert stale[k] == (age[k] > STALE_AFTER_DAYS[regimes[k]])
