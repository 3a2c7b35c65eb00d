"""CDM (CCSDS 508.0-B-1 KVN) writer: mandatory keywords, order, units, values.

Reference: CCSDS 508.0-B-1 "Conjunction Data Message", Blue Book, June 2013,
tables 3-1 to 3-4 (the mandatory keywords below are typed from them).
"""
from __future__ import annotations

import numpy as np
import pytest

from satwatch.cdm import cdm_filename, read_kvn, write_cdm
from satwatch.collision_probability import conjunction_probability
from satwatch.conjunctions import Conjunctions, to_rtn
from satwatch.elements import parse_elements
from satwatch.propagation import satrec
from satwatch.time import utc

HEADER = ["CCSDS_CDM_VERS", "CREATION_DATE", "ORIGINATOR", "MESSAGE_ID"]
RELATIVE = ["TCA", "MISS_DISTANCE"]
OBJECT_META = ["OBJECT", "OBJECT_DESIGNATOR", "CATALOG_NAME", "OBJECT_NAME",
               "INTERNATIONAL_DESIGNATOR", "EPHEMERIS_NAME", "COVARIANCE_METHOD",
               "MANEUVERABLE", "REF_FRAME"]
OBJECT_DATA = ["X", "Y", "Z", "X_DOT", "Y_DOT", "Z_DOT", "CR_R", "CT_R", "CT_T", "CN_R",
               "CN_T", "CN_N", "CRDOT_R", "CRDOT_T", "CRDOT_N", "CRDOT_RDOT", "CTDOT_R",
               "CTDOT_T", "CTDOT_N", "CTDOT_RDOT", "CTDOT_TDOT", "CNDOT_R", "CNDOT_T",
               "CNDOT_N", "CNDOT_RDOT", "CNDOT_TDOT", "CNDOT_NDOT"]

# ISS (ZARYA) and STARLINK-1007, verbatim from the 2023-10-13 full catalog
# (../shared/data/catalogs/full-3le-2023-10-13.txt).
TLES = """0 ISS (ZARYA)
1 25544U 98067A   23282.71486326  .00020100  00000-0  35938-3 0  9998
2 25544  51.6410 121.2575 0005123  92.3190 358.8196 15.49983917419557
0 STARLINK-1007
1 44713U 19074A   23282.44495839  .00025481  00000-0  17231-2 0  9999
2 44713  53.0532 187.1706 0001092 102.3037 257.8074 15.06406156215776
"""


@pytest.fixture(scope="module")
def event():
    sets, rejections = parse_elements(TLES, source="test")
    assert not rejections
    t = utc("2023-10-13T12:00:00Z")
    jd, fr = t.jd_utc()
    states = []
    for es in sets:
        e, r, v = satrec(es).sgp4(float(jd), float(fr))
        assert e == 0
        states.append((np.array(r), np.array(v)))
    (r1, v1), (r2, v2) = states
    col = lambda a: a[:, None]  # noqa: E731
    rtn = to_rtn(r1[None], v1[None], (r2 - r1)[None])[0]
    conj = Conjunctions(
        norad_id_1=np.array([25544]), norad_id_2=np.array([44713]), index_1=np.array([0]),
        index_2=np.array([1]), tca=t + np.array([0.0]),
        miss_km=np.array([np.linalg.norm(r2 - r1)]),
        relative_speed_km_s=np.array([np.linalg.norm(v2 - v1)]), miss_rtn_km=col(rtn),
        r1_teme_km=col(r1), v1_teme_km_s=col(v1), r2_teme_km=col(r2), v2_teme_km_s=col(v2),
        age_1_days=np.array([(t.ns - sets[0].epoch_ns) / 86400e9]),
        age_2_days=np.array([(t.ns - sets[1].epoch_ns) / 86400e9]),
        threshold_km=5.0, start=utc("2023-10-13T00:00:00Z"), end=utc("2023-10-14T00:00:00Z"),
        stats={}, failed={})
    objects = {es.norad_id: {"name": es.name, "intl_designator": es.intl_designator}
               for es in sets}
    return conj, objects


def test_mandatory_keywords_in_order(event):
    conj, objects = event
    text = write_cdm(conj, 0, creation=utc("2023-10-13T06:00:00Z"), objects=objects,
                     pc=conjunction_probability(conj))
    keys = [ln.split("=")[0].strip() for ln in text.splitlines()
            if ln.strip() and not ln.startswith("COMMENT")]
    assert keys[:4] == HEADER
    for k in RELATIVE:
        assert k in keys
    assert keys.index("TCA") < keys.index("MISS_DISTANCE") < keys.index("OBJECT")
    first = keys.index("OBJECT")
    second = keys.index("OBJECT", first + 1)
    for block in (keys[first:second], keys[second:]):
        want = OBJECT_META + OBJECT_DATA
        assert [k for k in block if k in want] == want


def test_values_units_and_assumptions(event):
    conj, objects = event
    pc = conjunction_probability(conj)
    text = write_cdm(conj, 0, creation=utc("2023-10-13T06:00:00Z"), objects=objects, pc=pc)
    kv = read_kvn(text)
    assert kv["CCSDS_CDM_VERS"] == ["1.0"]
    assert kv["TCA"] == ["2023-10-13T12:00:00.000"]
    assert float(kv["MISS_DISTANCE"][0]) == pytest.approx(conj.miss_km[0] * 1000, abs=1e-3)
    assert "MISS_DISTANCE" in text and "[m]" in text.split("MISS_DISTANCE")[1].split("\n")[0]
    rel = np.array([float(kv[f"RELATIVE_POSITION_{c}"][0]) for c in "RTN"])
    assert np.linalg.norm(rel) == pytest.approx(conj.miss_km[0] * 1000, abs=1e-2)
    # a rotation to ITRF keeps the geocentric distance (closed form)
    for k, r in ((0, conj.r1_teme_km[:, 0]), (1, conj.r2_teme_km[:, 0])):
        xyz = np.array([float(kv[c][k]) for c in "XYZ"])
        assert np.linalg.norm(xyz) == pytest.approx(np.linalg.norm(r), abs=1e-5)
    assert kv["OBJECT_DESIGNATOR"] == ["25544", "44713"]
    assert kv["INTERNATIONAL_DESIGNATOR"][0] == objects[25544]["intl_designator"]
    assert kv["COLLISION_PROBABILITY_METHOD"] == ["FOSTER-1992"]
    assert float(kv["COLLISION_PROBABILITY"][0]) == pytest.approx(pc.pc[0], rel=1e-6)
    assert "ASSUMED" in text and "hard-body radius" in text
    assert float(kv["CR_R"][0]) > 0 and float(kv["CT_R"][0]) == 0.0


def test_filename_is_unique_per_event(event):
    conj, _ = event
    assert cdm_filename(conj, 0) == "cdm_25544_44713_20231013T120000000Z.kvn"
