"""Property tests: random corruption of real element sets never yields
anything but satwatch's own error (or a rejection naming the record), and a
TLE never yields a silently wrong number.

The records are real: a spread of the 2023-10-13 full catalog (Space-Track
3LE) and their OMM renderings.  OMM carries no checksum, so a changed digit
in an OMM value is undetectable by any reader; for OMM the "no wrong number"
property is checked for corruptions by characters that cannot form a number.
"""
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satwatch.elements import parse_elements, parse_tle, write_omm
from satwatch.errors import ElementsError

SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
NUMERIC_FIELDS = ("norad_id", "epoch_ns", "mean_motion_rev_day", "eccentricity",
                  "inclination_deg", "raan_deg", "arg_perigee_deg", "mean_anomaly_deg",
                  "bstar_per_earth_radius", "ndot_rev_day2", "nddot_rev_day3",
                  "ephemeris_type", "element_set_no", "rev_at_epoch")


@pytest.fixture(scope="module")
def records(full_catalog_path):
    lines = full_catalog_path.read_text().splitlines()
    picks = []
    for i in range(0, len(lines) - 2, 3 * 131):     # ~200 records across the catalog
        picks.append("\n".join(lines[i:i + 3]) + "\n")
    return picks


def _numbers(es):
    return tuple(getattr(es, f) for f in NUMERIC_FIELDS)


@SETTINGS
@given(data=st.data())
def test_corrupted_tle_is_caught_or_harmless(records, data):
    text = data.draw(st.sampled_from(records))
    original = parse_tle(text)[0][0]
    lines = text.split("\n")
    which = data.draw(st.sampled_from([1, 2]))
    col = data.draw(st.integers(0, 68))
    char = data.draw(st.sampled_from(string.printable[:95]))
    line = lines[which]
    lines[which] = line[:col] + char + line[col + 1:]
    corrupted = "\n".join(lines)
    try:
        sets, rejections = parse_tle(corrupted, source="c.tle")
    except ElementsError:
        raise AssertionError("non-strict reading must report, not raise")
    assert len(sets) + len(rejections) >= 1      # nothing vanishes
    if sets:
        assert _numbers(sets[0]) == _numbers(original), (line, lines[which])
    else:
        assert rejections[0].source == "c.tle" and rejections[0].line in (1, 2, 3)


@SETTINGS
@given(data=st.data())
def test_truncated_or_reordered_tle_is_reported(records, data):
    text = "".join(data.draw(st.lists(st.sampled_from(records), min_size=2, max_size=4)))
    lines = text.rstrip("\n").split("\n")
    action = data.draw(st.sampled_from(["cut", "drop", "swap"]))
    k = data.draw(st.integers(0, len(lines) - 1))
    if action == "cut":
        lines[k] = lines[k][: data.draw(st.integers(0, max(0, len(lines[k]) - 1)))]
    elif action == "drop":
        del lines[k]
    else:
        j = min(k + 1, len(lines) - 1)
        lines[k], lines[j] = lines[j], lines[k]
    corrupted = "\n".join(lines) + "\n"
    sets, rejections = parse_tle(corrupted)
    n_records = text.count("\n1 ")
    if corrupted != text:
        # every damaged record is either rejected or (a cut name) still intact
        assert len(sets) + len(rejections) >= 1
        assert len(sets) <= n_records
    with pytest.raises(ElementsError) if rejections else _no_error():
        parse_tle(corrupted, strict=True)


class _no_error:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture(scope="module")
def omm_texts(records):
    sets = [parse_tle(r)[0][0] for r in records[:20]]
    return {fmt: (write_omm(sets, fmt), sets) for fmt in ("kvn", "xml", "json", "csv")}


@SETTINGS
@given(data=st.data(), fmt=st.sampled_from(["kvn", "xml", "json", "csv"]))
def test_corrupted_omm_gives_only_satwatch_errors(omm_texts, data, fmt):
    text, _ = omm_texts[fmt]
    pos = data.draw(st.integers(0, len(text) - 1))
    action = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate"]))
    char = data.draw(st.characters(codec="utf-8", exclude_categories=("Cs",)))
    if action == "replace":
        corrupted = text[:pos] + char + text[pos + 1:]
    elif action == "delete":
        corrupted = text[:pos] + text[pos + 1:]
    elif action == "insert":
        corrupted = text[:pos] + char + text[pos:]
    else:
        corrupted = text[:pos]
    try:
        parse_elements(corrupted, source=f"c.{fmt}", format=f"omm-{fmt}")
    except ElementsError as err:
        assert err.source == f"c.{fmt}"


@SETTINGS
@given(data=st.data(), fmt=st.sampled_from(["kvn", "xml", "json", "csv"]))
def test_omm_corruption_by_non_numeric_characters_never_changes_a_number(omm_texts, data, fmt):
    text, originals = omm_texts[fmt]
    pos = data.draw(st.integers(0, len(text) - 1))
    char = data.draw(st.sampled_from("xyzQWJK#@!;_"))
    corrupted = text[:pos] + char + text[pos + 1:]
    try:
        sets, _ = parse_elements(corrupted, format=f"omm-{fmt}")
    except ElementsError:
        return
    by_id = {es.norad_id: es for es in originals}
    for es in sets:
        assert es.norad_id in by_id
        assert _numbers(es) == _numbers(by_id[es.norad_id])
