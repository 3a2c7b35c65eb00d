"""Element-set formats: TLE, 3LE, Alpha-5, blank-padded ids, CCSDS OMM (KVN,
XML, JSON, CSV) as CelesTrak and Space-Track serve them, and the writers.

Provenance: the ISS record is CelesTrak's 2023-11-19 'active' 3LE (in
../shared/data/catalogs); the OMM texts below are that same record in the
layouts CelesTrak's GP API documents (celestrak.org/NORAD/documentation/
gp-data-formats.php) and Space-Track's gp class returns (all values as
strings, extra keys).  Alpha-5: Space-Track's documentation ("A0000" is
100000, letters I and O are not used, "Z9999" is 339999).
"""
import json
import re

import pytest

import satwatch
from satwatch.elements import (alpha5_to_int, int_to_alpha5, parse_elements, parse_tle,
                               write_omm, write_tle, write_tle_text)
from satwatch.errors import ElementsError

ISS_3LE = """ISS (ZARYA)
1 25544U 98067A   23323.90881700  .00011741  00000+0  21752-3 0  9999
2 25544  51.6432 277.2343 0001014 327.9325  69.0480 15.49449436425948
"""
ISS_FIELDS = {"norad_id": 25544, "name": "ISS (ZARYA)", "intl_designator": "1998-067A",
              "mean_motion_rev_day": 15.49449436, "eccentricity": 0.0001014,
              "inclination_deg": 51.6432, "raan_deg": 277.2343, "arg_perigee_deg": 327.9325,
              "mean_anomaly_deg": 69.048, "bstar_per_earth_radius": 0.21752e-3,
              "ndot_rev_day2": 0.00011741, "nddot_rev_day3": 0.0, "element_set_no": 999,
              "rev_at_epoch": 42594}
ISS_EPOCH = "2023-11-19T21:48:41.789Z"   # day 323.90881700 of 2023

CELESTRAK_JSON = """[{"OBJECT_NAME":"ISS (ZARYA)","OBJECT_ID":"1998-067A",
"EPOCH":"2023-11-19T21:48:41.788800","MEAN_MOTION":15.49449436,"ECCENTRICITY":0.0001014,
"INCLINATION":51.6432,"RA_OF_ASC_NODE":277.2343,"ARG_OF_PERICENTER":327.9325,
"MEAN_ANOMALY":69.048,"EPHEMERIS_TYPE":0,"CLASSIFICATION_TYPE":"U","NORAD_CAT_ID":25544,
"ELEMENT_SET_NO":999,"REV_AT_EPOCH":42594,"BSTAR":0.00021752,"MEAN_MOTION_DOT":0.00011741,
"MEAN_MOTION_DDOT":0}]"""

SPACETRACK_JSON = """[{"CCSDS_OMM_VERS":"2.0","COMMENT":"GENERATED VIA SPACE-TRACK.ORG API",
"CREATION_DATE":"2023-11-19T14:06:11","ORIGINATOR":"18 SPCS","OBJECT_NAME":"ISS (ZARYA)",
"OBJECT_ID":"1998-067A","CENTER_NAME":"EARTH","REF_FRAME":"TEME","TIME_SYSTEM":"UTC",
"MEAN_ELEMENT_THEORY":"SGP4","EPOCH":"2023-11-19T21:48:41.788800","MEAN_MOTION":"15.49449436",
"ECCENTRICITY":"0.00010140","INCLINATION":"51.6432","RA_OF_ASC_NODE":"277.2343",
"ARG_OF_PERICENTER":"327.9325","MEAN_ANOMALY":"69.0480","EPHEMERIS_TYPE":"0",
"CLASSIFICATION_TYPE":"U","NORAD_CAT_ID":"25544","ELEMENT_SET_NO":"999","REV_AT_EPOCH":"42594",
"BSTAR":"0.00021752000000","MEAN_MOTION_DOT":"0.00011741","MEAN_MOTION_DDOT":"0.0000000000000",
"SEMIMAJOR_AXIS":"6795.976","PERIOD":"92.904","APOAPSIS":"418.634","PERIAPSIS":"417.048",
"OBJECT_TYPE":"PAYLOAD","RCS_SIZE":"LARGE","COUNTRY_CODE":"ISS","LAUNCH_DATE":"1998-11-20",
"SITE":"TTMTR","DECAY_DATE":null,"FILE":"4099420","GP_ID":"247520530",
"TLE_LINE0":"0 ISS (ZARYA)",
"TLE_LINE1":"1 25544U 98067A   23323.90881700  .00011741  00000-0  21752-3 0  9998",
"TLE_LINE2":"2 25544  51.6432 277.2343 0001014 327.9325  69.0480 15.49449436425948"}]"""

CELESTRAK_XML = """<?xml version="1.0" encoding="UTF-8"?>
<ndm xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://sanaregistry.org/r/ndmxml_unqualified/ndmxml-2.0.0-master-2.0.xsd">
<omm id="CCSDS_OMM_VERS" version="2.0">
<header><CREATION_DATE/><ORIGINATOR/></header><body><segment><metadata><OBJECT_NAME>ISS (ZARYA)</OBJECT_NAME><OBJECT_ID>1998-067A</OBJECT_ID><CENTER_NAME>EARTH</CENTER_NAME><REF_FRAME>TEME</REF_FRAME><TIME_SYSTEM>UTC</TIME_SYSTEM><MEAN_ELEMENT_THEORY>SGP4</MEAN_ELEMENT_THEORY></metadata><data><meanElements><EPOCH>2023-11-19T21:48:41.788800</EPOCH><MEAN_MOTION>15.49449436</MEAN_MOTION><ECCENTRICITY>.0001014</ECCENTRICITY><INCLINATION>51.6432</INCLINATION><RA_OF_ASC_NODE>277.2343</RA_OF_ASC_NODE><ARG_OF_PERICENTER>327.9325</ARG_OF_PERICENTER><MEAN_ANOMALY>69.0480</MEAN_ANOMALY></meanElements><tleParameters><EPHEMERIS_TYPE>0</EPHEMERIS_TYPE><CLASSIFICATION_TYPE>U</CLASSIFICATION_TYPE><NORAD_CAT_ID>25544</NORAD_CAT_ID><ELEMENT_SET_NO>999</ELEMENT_SET_NO><REV_AT_EPOCH>42594</REV_AT_EPOCH><BSTAR>.21752E-3</BSTAR><MEAN_MOTION_DOT>.11741E-3</MEAN_MOTION_DOT><MEAN_MOTION_DDOT>0</MEAN_MOTION_DDOT></tleParameters></data></segment></body></omm>
</ndm>
"""

# Space-Track's gp class as KVN: "MEAN_ELEMENT_THEORY = SGP4", CCSDS units in
# brackets.
SPACETRACK_KVN = """CCSDS_OMM_VERS = 2.0
COMMENT  GENERATED VIA SPACE-TRACK.ORG API
CREATION_DATE = 2023-11-19T14:06:11
ORIGINATOR = 18 SPCS
OBJECT_NAME = ISS (ZARYA)
OBJECT_ID = 1998-067A
CENTER_NAME = EARTH
REF_FRAME = TEME
TIME_SYSTEM = UTC
MEAN_ELEMENT_THEORY = SGP4
EPOCH = 2023-11-19T21:48:41.788800
MEAN_MOTION = 15.49449436 [rev/day]
ECCENTRICITY = .0001014
INCLINATION = 51.6432 [deg]
RA_OF_ASC_NODE = 277.2343 [deg]
ARG_OF_PERICENTER = 327.9325 [deg]
MEAN_ANOMALY = 69.0480 [deg]
EPHEMERIS_TYPE = 0
CLASSIFICATION_TYPE = U
NORAD_CAT_ID = 25544
ELEMENT_SET_NO = 999
REV_AT_EPOCH = 42594
BSTAR = .21752E-3 [1/ER]
MEAN_MOTION_DOT = .11741E-3 [rev/day**2]
MEAN_MOTION_DDOT = 0 [rev/day**3]
"""

# The same record as CelesTrak's GP API writes KVN (FORMAT=kvn): no comment,
# blank CREATION_DATE and ORIGINATOR, no units, and "MEAN_ELEMENT_THEORY =
# SGP/SGP4" (as in CCSDS 502.0's OMM example).
CELESTRAK_KVN = re.sub(r" \[[^\]]*\]", "", SPACETRACK_KVN).replace(
    "COMMENT  GENERATED VIA SPACE-TRACK.ORG API\n", "").replace(
    "CREATION_DATE = 2023-11-19T14:06:11", "CREATION_DATE =").replace(
    "ORIGINATOR = 18 SPCS", "ORIGINATOR =").replace(
    "MEAN_ELEMENT_THEORY = SGP4", "MEAN_ELEMENT_THEORY = SGP/SGP4")

CELESTRAK_CSV = """OBJECT_NAME,OBJECT_ID,EPOCH,MEAN_MOTION,ECCENTRICITY,INCLINATION,RA_OF_ASC_NODE,ARG_OF_PERICENTER,MEAN_ANOMALY,EPHEMERIS_TYPE,CLASSIFICATION_TYPE,NORAD_CAT_ID,ELEMENT_SET_NO,REV_AT_EPOCH,BSTAR,MEAN_MOTION_DOT,MEAN_MOTION_DDOT
ISS (ZARYA),1998-067A,2023-11-19T21:48:41.788800,15.49449436,.0001014,51.6432,277.2343,327.9325,69.0480,0,U,25544,999,42594,.21752E-3,.11741E-3,0
"""


def _check_iss(es):
    for key, want in ISS_FIELDS.items():
        assert getattr(es, key) == pytest.approx(want, rel=1e-12, abs=0), key
    assert es.epoch.iso(3) == ISS_EPOCH


@pytest.mark.parametrize("text,fmt", [
    (ISS_3LE, "tle"), ("0 " + ISS_3LE, "tle"), (ISS_3LE.split("\n", 1)[1], "tle"),
    (CELESTRAK_JSON, "omm-json"), (SPACETRACK_JSON, "omm-json"), (CELESTRAK_XML, "omm-xml"),
    (SPACETRACK_KVN, "omm-kvn"), (CELESTRAK_KVN, "omm-kvn"), (CELESTRAK_CSV, "omm-csv")])
def test_every_format_gives_the_same_element_set(text, fmt):
    from satwatch.elements import detect_format
    assert detect_format(text) == fmt
    sets, rejections = parse_elements(text, source="iss")
    assert rejections == [] and len(sets) == 1
    es = sets[0]
    expected = dict(ISS_FIELDS)
    if text.startswith("1 "):
        expected["name"] = ""
    for key, want in expected.items():
        assert getattr(es, key) == pytest.approx(want, rel=1e-12, abs=0), key
    assert es.epoch.iso(3) == ISS_EPOCH
    assert es.source_text.strip() != ""


def test_omm_and_tle_propagate_identically():
    tle = parse_elements(ISS_3LE)[0][0]
    omm = parse_elements(SPACETRACK_JSON)[0][0]
    t = satwatch.utc_range("2023-11-19T12:00:00Z", "2023-11-20T12:00:00Z", 3600)
    a = satwatch.Catalog([tle]).propagate(t).r_teme_km
    b = satwatch.Catalog([omm]).propagate(t).r_teme_km
    # OMM epochs carry microseconds, the TLE 1e-8 day: < 1 us apart -> < 8 mm
    assert abs(a - b).max() < 1e-5


@pytest.mark.parametrize("text,number", [("A0000", 100000), ("A0001", 100001),
                                         ("H9999", 179999), ("J0000", 180000),
                                         ("N9999", 229999), ("P0000", 230000),
                                         ("Z9999", 339999), ("00005", 5), ("    5", 5)])
def test_alpha5(text, number):
    assert alpha5_to_int(text) == number
    if text.strip().isdigit():
        assert int_to_alpha5(number) == f"{number:05d}"
    else:
        assert int_to_alpha5(number) == text


@pytest.mark.parametrize("bad", ["I0000", "O1234", "A000", "AB123", "-0001"])
def test_alpha5_rejects_letters_that_are_not_used(bad):
    with pytest.raises(ValueError):
        alpha5_to_int(bad)


def test_alpha5_tle_round_trip():
    es = parse_elements(ISS_3LE)[0][0]
    from dataclasses import replace
    big = replace(es, norad_id=270_001)
    l1, l2 = write_tle(big)
    assert l1[2:7] == "T0001" == l2[2:7]
    back = parse_tle(f"{l1}\n{l2}\n")[0][0]
    assert back.norad_id == 270_001


def test_nine_digit_catalog_numbers_in_omm_and_tle_refusal():
    text = CELESTRAK_JSON.replace('"NORAD_CAT_ID":25544', '"NORAD_CAT_ID":800123456')
    es = parse_elements(text)[0][0]
    assert es.norad_id == 800123456
    with pytest.raises(ElementsError, match="NORAD_CAT_ID"):
        write_tle(es)
    six = parse_elements(CELESTRAK_CSV.replace(",25544,", ",270001,"))[0][0]
    assert six.norad_id == 270001
    again = parse_elements(write_omm([es], "xml"))[0][0]
    assert again == es


def test_blank_padded_ids():
    text = ("0 VANGUARD 1\n"
            "1     5U 58002B   19078.66404675 -.00000160 +00000-0 -18194-3 0  9998\n"
            "2     5 034.2430 192.1354 1845120 101.4954 279.7521 10.84774727155756\n")
    es = parse_elements(text)[0][0]
    assert (es.norad_id, es.name, es.inclination_deg) == (5, "VANGUARD 1", 34.243)


def test_writers_take_numpy_integers():
    import numpy as np
    from dataclasses import replace
    es = parse_elements(ISS_3LE)[0][0]
    twin = replace(es, epoch_ns=np.int64(es.epoch_ns), norad_id=np.int64(es.norad_id))
    assert write_tle(twin) == write_tle(es)
    assert parse_elements(write_omm([twin], "json"))[0] == [es]


def test_tle_writer_refuses_what_it_cannot_carry():
    from dataclasses import replace
    es = parse_elements(ISS_3LE)[0][0]
    with pytest.raises(ElementsError, match="ECCENTRICITY.*lossy"):
        write_tle(replace(es, eccentricity=0.00010144321))
    assert write_tle(replace(es, eccentricity=0.00010144321), lossy=True)[1][26:33] == "0001014"
    with pytest.raises(ElementsError, match="EPOCH"):
        write_tle(replace(es, epoch_ns=es.epoch_ns + 123))
    with pytest.raises(ElementsError, match="1957..2056"):
        write_tle(replace(es, epoch_ns=satwatch.utc("2060-01-01").ns.item()))


LINE1 = "1 25544U 98067A   23323.90881700  .00011741  00000+0  21752-3 0  9999"
LINE2 = "2 25544  51.6432 277.2343 0001014 327.9325  69.0480 15.49449436425948"


@pytest.mark.parametrize("lines,line,field", [
    ([LINE1[:-1] + "1", LINE2], 1, "checksum"),
    ([LINE1, LINE2[:40]], 2, "length"),
    ([LINE2, LINE1], 1, "line number"),
    ([LINE1[:20] + "x" + LINE1[21:], LINE2], 1, None),
    ([LINE1, LINE2.replace("25544", "25545", 1)], 2, None),
])
def test_bad_tle_names_file_line_and_field(lines, line, field):
    text = "ISS\n" + "\n".join(lines) + "\n"
    sets, rejections = parse_tle(text, source="iss.tle")
    assert sets == [] and len(rejections) >= 1
    r = rejections[0]
    assert r.source == "iss.tle" and r.line == line + 1
    if field:
        assert r.field == field
    assert "iss.tle" in str(r) and f"line {line + 1}" in str(r)
    with pytest.raises(ElementsError) as info:
        parse_tle(text, source="iss.tle", strict=True)
    assert info.value.line == line + 1


def test_catalog_keeps_good_records_and_reports_every_bad_one():
    good = ISS_3LE
    bad = good.replace("9999\n", "9991\n")
    text = good + bad + "LONELY NAME\n" + good.replace("25544", "25545")
    sets, rejections = parse_tle(text, source="mixed.txt")
    assert [s.norad_id for s in sets] == [25544]
    assert [r.line for r in rejections] == [5, 7, 9]
    assert {r.field for r in rejections} >= {"checksum", "OBJECT_NAME"}


@pytest.mark.parametrize("text,field", [
    (CELESTRAK_JSON.replace('"MEAN_MOTION":15.49449436', '"MEAN_MOTION":"fast"'), "[0].MEAN_MOTION"),
    (CELESTRAK_JSON.replace('"ECCENTRICITY":0.0001014', '"ECCENTRICITY":1.5'), "[0].ECCENTRICITY"),
    (CELESTRAK_JSON.replace('"EPOCH":"2023-11-19T21:48:41.788800",', ''), "[0].EPOCH"),
    (SPACETRACK_KVN.replace("INCLINATION = 51.6432", "INCLINATION = 251.6432"), "INCLINATION"),
    (CELESTRAK_CSV.replace(",25544,", ",2x544,"), "NORAD_CAT_ID"),
    (CELESTRAK_XML.replace("<BSTAR>.21752E-3</BSTAR>", "<BSTAR>abc</BSTAR>"), "BSTAR"),
    (SPACETRACK_KVN.replace("MEAN_ELEMENT_THEORY = SGP4", "MEAN_ELEMENT_THEORY = SGP4-XP"),
     "MEAN_ELEMENT_THEORY"),
    (CELESTRAK_KVN.replace("SGP/SGP4", "DSST"), "MEAN_ELEMENT_THEORY"),
    # CCSDS 502.0-B-3 units: angles in deg, BSTAR in 1/ER; others are refused
    (SPACETRACK_KVN.replace("51.6432 [deg]", "0.901346 [rad]"), "INCLINATION"),
    (CELESTRAK_XML.replace("<BSTAR>", '<BSTAR units="1/m">'), "BSTAR"),
    # day-of-year epoch past the end of a 365-day year
    (SPACETRACK_KVN.replace("EPOCH = 2023-11-19T", "EPOCH = 2023-366T"), "EPOCH"),
])
def test_bad_omm_names_the_field(text, field):
    sets, rejections = parse_elements(text, source="gp")
    assert sets == [] and len(rejections) == 1
    assert rejections[0].field == field
    with pytest.raises(ElementsError, match=field.replace("[", r"\[").replace("]", r"\]")):
        parse_elements(text, source="gp", strict=True)


def test_omm_line_numbers():
    kvn = SPACETRACK_KVN + "\n" + SPACETRACK_KVN.replace("INCLINATION = 51.6432", "INCLINATION = x")
    sets, rejections = parse_elements(kvn, source="two.kvn")
    assert len(sets) == 1 and rejections[0].line == SPACETRACK_KVN.count("\n") + 2
    csv_text = CELESTRAK_CSV + CELESTRAK_CSV.splitlines()[1].replace("51.6432", "x") + "\n"
    sets, rejections = parse_elements(csv_text, source="two.csv")
    assert len(sets) == 1 and rejections[0].line == 3
    bad_xml = CELESTRAK_XML.replace("</ndm>", "<omm>")
    with pytest.raises(ElementsError, match="line"):
        parse_elements(bad_xml, source="x.xml", strict=True)


def test_omm_csv_stray_carriage_return_is_a_rejection_not_a_crash():
    """Found by the Hypothesis corruption test: a lone carriage return inside
    a CSV cell made the csv module raise its own error.  It now ends that row,
    which is rejected with its line; the other rows are kept."""
    first, row = CELESTRAK_CSV.splitlines()[:2]
    cells = row.split(",")
    broken = ",".join(cells[:3] + [cells[3][:2] + "\r" + cells[3][2:]] + cells[4:])
    text = "\n".join([first, row, broken, row]) + "\n"
    sets, rejections = parse_elements(text, source="cr.csv")
    assert len(sets) == 2
    assert rejections and all(r.source == "cr.csv" and r.line >= 3 for r in rejections)
    with pytest.raises(ElementsError, match="cr.csv"):
        parse_elements(text, source="cr.csv", strict=True)


def test_omm_epoch_must_be_ccsds_text():
    """Found by the Hypothesis corruption test: a last epoch digit replaced by
    a lower-case 'z' read as a valid time 2 us off.  OMM epochs follow CCSDS
    502.0 (upper-case T and Z); the damaged one is refused, naming EPOCH."""
    damaged = SPACETRACK_KVN.replace("EPOCH = 2023-11-19T21:48:41.788800",
                                    "EPOCH = 2023-11-19T21:48:41.78880z")
    sets, rejections = parse_elements(damaged, source="z.kvn")
    assert not sets and rejections[0].field == "EPOCH" and rejections[0].source == "z.kvn"
    zulu = SPACETRACK_KVN.replace("EPOCH = 2023-11-19T21:48:41.788800",
                                 "EPOCH = 2023-11-19T21:48:41.788800Z")
    sets, rejections = parse_elements(zulu, source="Z.kvn")
    assert not rejections and sets[0].epoch.iso(6) == "2023-11-19T21:48:41.788800Z"


def test_omm_day_of_year_epochs_and_unit_spellings():
    """CCSDS 502.0-B-3 (7.5.10) allows YYYY-DDDThh:mm:ss epochs: day 323 of
    2023 is the TLE's own epoch field (23323.90881700); leap-year days 060
    and 366 fall where python-sgp4's days2mdhms puts them.  Units are
    compared case-insensitively (the NDM/XML schema lists "rev/day" and
    "REV/DAY"), and XML units="deg" is the CCSDS unit."""
    from sgp4.ext import days2mdhms
    doy = SPACETRACK_KVN.replace("EPOCH = 2023-11-19T", "EPOCH = 2023-323T")
    sets, rejections = parse_elements(doy.replace("[rev/day]", "[REV/DAY]"), source="doy")
    assert not rejections and sets[0].epoch.iso(3) == ISS_EPOCH
    for day in ("060", "366"):
        month, dom, *_ = days2mdhms(2024, int(day) + 0.5)
        sets, rejections = parse_elements(
            SPACETRACK_KVN.replace("EPOCH = 2023-11-19T", f"EPOCH = 2024-{day}T"))
        assert not rejections
        assert sets[0].epoch.iso(6) == f"2024-{month:02d}-{dom:02d}T21:48:41.788800Z"
    xml = CELESTRAK_XML.replace("<INCLINATION>", '<INCLINATION units="deg">')
    sets, rejections = parse_elements(xml)
    assert not rejections and sets[0].inclination_deg == 51.6432


def test_writers_round_trip_every_format():
    es = parse_elements(ISS_3LE)[0][0]
    for fmt in ("kvn", "xml", "json", "csv"):
        text = write_omm([es, es], fmt)
        back, rej = parse_elements(text)
        assert rej == [] and back == [es, es], fmt
    assert write_tle_text([es]).splitlines()[1:] == ISS_3LE.splitlines()[1:]
    assert json.loads(write_omm([es], "json"))[0]["NORAD_CAT_ID"] == 25544


def test_checksum_agrees_with_python_sgp4_and_the_catalog(reference_data):
    """tle_checksum against python-sgp4's own (sgp4.io.compute_checksum) on
    random ASCII text, and against the checksums Space-Track wrote in
    column 69 of every line of the 2023-10-13 catalog."""
    import random

    from sgp4.io import compute_checksum

    from satwatch.elements import tle_checksum
    rng = random.Random(7)
    alphabet = "0123456789-+ .ABCUxyz"
    for _ in range(20000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 75)))
        assert tle_checksum(line) == compute_checksum(line), line
    text = (reference_data / "catalogs" / "full-3le-2023-10-13.txt").read_text()
    lines = [ln for ln in text.splitlines() if ln[:2] in ("1 ", "2 ")]
    assert len(lines) > 50000
    assert all(tle_checksum(ln) == int(ln[68]) for ln in lines)


# A GP table whose OMM keywords are incomplete but which carries TLE_LINE1 /
# TLE_LINE2 (../shared/data/history/iss_25544_2020-2024_gp_clean.csv: no
# MEAN_MOTION_DOT column, epochs as "2020-01-01 06:11:10.983264+00:00").
# Reference: the same 9,571 ISS element sets as a TLE file
# (iss_25544_2020-2024.tle, the data README says both hold one history).
def test_gp_table_with_tle_columns_reads_its_tle_lines(reference_data):
    hist = reference_data / "history"
    from_csv, rej = parse_elements((hist / "iss_25544_2020-2024_gp_clean.csv").read_text(),
                                   source="gp_clean.csv")
    from_tle, rej_tle = parse_elements((hist / "iss_25544_2020-2024.tle").read_text())
    assert rej == [] and rej_tle == []
    fields = ("norad_id", "epoch_ns", "mean_motion_rev_day", "eccentricity", "inclination_deg",
              "raan_deg", "arg_perigee_deg", "mean_anomaly_deg", "bstar_per_earth_radius",
              "ndot_rev_day2", "nddot_rev_day3", "element_set_no", "rev_at_epoch")

    def key(es):
        return tuple(getattr(es, f) for f in fields)
    assert sorted(map(key, from_csv)) == sorted(map(key, from_tle))
    # a corrupted line in such a row is refused, naming the columns and the check
    text = (hist / "iss_25544_2020-2024_gp_clean.csv").read_text().splitlines()
    bad = text[1].replace("51.6446  99.4171", "51.6447  99.4171", 1)
    assert bad != text[1]
    sets, rej = parse_elements("\n".join([text[0], bad]) + "\n", source="gp_clean.csv")
    assert sets == [] and len(rej) == 1
    assert rej[0].line == 2 and "TLE_LINE1/TLE_LINE2" in rej[0].field \
        and "checksum" in rej[0].field
