"""Review round 19: the map page as its users see it, in a real browser
(Debian's chromium driven by Playwright) against ``satwatch serve`` on
loopback, as tests/test_page.py does.

References: the API's own answers to the same questions (/sites/{code}/passes
with its ``failed`` objects, /events with its ``flags``), and the page's
promise in docs/service.md ("the page": the chosen objects' passes and
conjunctions; a reported event's arc, impact point and zones).
"""
from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from conftest import CHROMIUM, catalog_records, start_satwatch_serve
from test_page import DIST

AT = "2023-10-13T00:00:00Z"
SITE = "VOSTOCHNY"
# COSMOS 2251 DEB (2023-10-13 catalog): python-sgp4 reports it decayed (error
# 6) over the day from 2023-10-17 (test_page.py's GAPPY object).
DECAYED, DECAYED_AT = "34445", "2023-10-17T00:00:00Z"
ISS, CSS = "25544", "48274"
# CNS record of 2017-08-28 (Hwasong-12 over Japan): analysable.
GOOD_EVENT = "cns-2017-08-28-1"
WAIT_MS = 8_000
TOKEN = "round19-token"


@pytest.fixture(scope="module")
def server(full_catalog_path, tmp_path_factory):
    if not (DIST / "index.html").is_file():
        pytest.skip("the page is not built: run 'npm ci && npm run build' in satwatch/web")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("page19")
    keep = catalog_records(full_catalog_path, [ISS, CSS, DECAYED], first=20)
    sample = tmp / "sample.tle"
    sample.write_text("\n".join(keep) + "\n")
    env = dict(os.environ, SATWATCH_CACHE_DIR=str(tmp / "cache"),
               SATWATCH_DATA_DIR=str(tmp / "data"), SATWATCH_API_TOKENS=TOKEN)
    data = full_catalog_path.parent.parent
    proc, url = start_satwatch_serve(
        ["--db", f"sqlite:///{tmp / 'p.sqlite'}", "--catalog", sample,
         "--events", data / "events",
         "--zones", data / "geo" / "gfw_nk_eez_prk.json",
         "--log-level", "warning"], env)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def _open(browser, server, query):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/{query}")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    return page, errors


def test_passes_panel_names_objects_that_failed(server, browser):
    """A decayed object has no passes: the API lists it under ``failed``
    (name and SGP4's error); the page said only '0 passes in the next 24 h',
    as if the object had simply not come over the site."""
    api = httpx.get(f"{server}/api/v1/sites/{SITE}/passes",
                    params={"ids": DECAYED, "hours": 24, "start": DECAYED_AT}).json()
    assert api["passes"] == [] and [f["norad_id"] for f in api["failed"]] == [int(DECAYED)]
    page, errors = _open(browser, server, f"?ids={DECAYED}&at={DECAYED_AT}&site={SITE}")
    text = page.locator("#passes-status").inner_text()
    assert DECAYED in text and api["failed"][0]["error"] in text, text
    assert errors == []
    page.close()


def test_show_refreshes_passes_and_conjunctions(server, browser):
    """Showing other objects (the form's Show) must also show their passes
    and conjunctions: the timeline kept the objects the page was opened with."""
    api = httpx.get(f"{server}/api/v1/sites/{SITE}/passes",
                    params={"ids": CSS, "hours": 24, "start": AT}).json()
    assert len(api["passes"]) > 0
    page, errors = _open(browser, server, f"?ids={ISS}&at={AT}&site={SITE}")
    seen = []
    page.on("request", lambda r: seen.append(r.url))
    page.fill("#ids", CSS)
    page.click("#objects-form button[type=submit]")
    page.wait_for_function(
        """([n, name]) => {
            const t = Array.from(document.querySelectorAll('#timeline rect.pass-bar title'));
            return t.length === n && t.every((x) => x.textContent.startsWith(name));
        }""", arg=[len(api["passes"]), api["passes"][0]["name"]], timeout=WAIT_MS)
    assert any("/conjunctions?" in u and f"ids={CSS}" in u for u in seen)
    assert errors == []
    page.close()


def test_event_with_unknown_time_shows_no_made_up_time(server, browser):
    """An event reported by date only (flag 'time_unknown', +-12 h) comes
    from the API with a placeholder time of 12:00:00Z; the list showed that
    noon as if it were the reported time."""
    items = httpx.get(f"{server}/api/v1/events", params={"limit": 100}).json()["items"]
    ev = next(e for e in items if "time_unknown" in e["flags"])
    assert ev["time"].endswith("T12:00:00Z")
    page, errors = _open(browser, server, f"?ids={ISS}&at={AT}")
    text = page.locator(f'#events li[data-id="{ev["id"]}"]').inner_text()
    assert ev["date"] in text and "12:00" not in text, text
    assert errors == []
    page.close()


def test_failed_analysis_does_not_leave_the_previous_event(server, browser):
    """Click an event that cannot be analysed after one that was drawn: the
    map is cleared, so the detail must not keep the previous event's summary
    (it read as the new event's)."""
    items = httpx.get(f"{server}/api/v1/events", params={"limit": 100}).json()["items"]
    bad = next(e for e in items if not e["analyzable"])
    assert httpx.get(f"{server}/api/v1/events/{bad['id']}/analysis").status_code == 422
    good = httpx.get(f"{server}/api/v1/events/{GOOD_EVENT}/analysis").json()
    page, errors = _open(browser, server, f"?ids={ISS}&at={AT}&event={GOOD_EVENT}")
    page.wait_for_selector("#layer-event path.arc", timeout=WAIT_MS)
    assert page.locator("#event-detail").inner_text() == good["summary"]
    page.locator(f'#events li[data-id="{bad["id"]}"]').click()
    page.wait_for_function("document.querySelectorAll('#layer-event path').length === 0",
                           timeout=WAIT_MS)
    page.wait_for_function(
        """() => ['events-status', 'event-detail'].some(
            (id) => document.getElementById(id).textContent.includes('cannot be analysed'))""",
        timeout=WAIT_MS)
    detail = page.locator("#event-detail").inner_text()
    assert good["summary"] not in detail, detail
    assert errors == []
    page.close()


def test_every_reported_event_can_be_reached(server, browser):
    """The list says '339 events' (the CNS file) but showed the newest 100
    with no way to the older ones (the 2017 Hwasong-12 over Japan among
    them): every event the API lists must be reachable from the page."""
    total = httpx.get(f"{server}/api/v1/events", params={"limit": 1}).json()["total"]
    assert total > 100
    page, errors = _open(browser, server, f"?ids={ISS}&at={AT}")
    assert page.locator("#events li").count() == 100
    for _ in range(total // 100 + 1):
        more, n = page.locator("#events-more"), page.locator("#events li").count()
        if n == total or not more.is_visible():
            break
        more.click()
        page.wait_for_function("([n]) => document.querySelectorAll('#events li').length > n",
                               arg=[n], timeout=WAIT_MS)
    assert page.locator("#events li").count() == total
    assert page.locator(f'#events li[data-id="{GOOD_EVENT}"]').count() == 1
    ids = page.eval_on_selector_all("#events li", "els => els.map((e) => e.dataset.id)")
    assert len(set(ids)) == total
    page.locator(f'#events li[data-id="{GOOD_EVENT}"]').click()
    page.wait_for_selector("#layer-event path.arc", timeout=WAIT_MS)
    assert errors == []
    page.close()


def test_positions_table_says_why_an_object_is_not_drawn(server, browser):
    """/positions gives SGP4's error code (6: decayed) for COSMOS 2251 DEB on
    2023-10-18; the page drew no dot and showed dashes with no reason, the
    same as an object with nothing to show.  The words are python-sgp4's, as
    /sites/{code}/passes names the same failure."""
    t = "2023-10-18T00:00:00Z"
    pos = httpx.get(f"{server}/api/v1/positions", params={"ids": f"{DECAYED},{ISS}", "at": t}).json()
    assert pos["error"][0] != 0 and pos["error"][1] == 0
    why = httpx.get(f"{server}/api/v1/sites/{SITE}/passes",
                    params={"ids": DECAYED, "hours": 1, "start": t}).json()["failed"][0]["error"]
    page, errors = _open(browser, server, f"?ids={DECAYED},{ISS}&at={t}")
    assert page.locator("#layer-positions circle.position").count() == 1
    row = page.locator("#positions tbody tr").nth(0).inner_text()
    assert DECAYED in row and why in row, row
    assert "1 of 2" in page.locator("#objects-status").inner_text()
    assert errors == []
    page.close()


def test_feed_does_not_present_a_placeholder_time_as_known(server):
    """/events flags a date-only report 'time_unknown' (time_uncertainty_s
    43200); /feed lists the same event at T12:00:00Z with no flag or
    uncertainty, so the page's feed shows noon as the reported time.  Either
    the feed item carries the uncertainty, or it does not give a time of day."""
    items = httpx.get(f"{server}/api/v1/events", params={"limit": 100}).json()["items"]
    ev = next(e for e in items if "time_unknown" in e["flags"])
    feed = httpx.get(f"{server}/api/v1/feed", params={"limit": 500}).json()["items"]
    item = next(i for i in feed if i["id"] == f"event:{ev['id']}")
    said = (item.get("time_uncertainty_s") == ev["time_uncertainty_s"]
            or "T" not in item["time"] or "time unknown" in item["message"])
    assert said, item


def test_timeline_gives_each_object_its_own_labelled_row(server, browser, full_catalog_path):
    """With more than 10 chosen objects the timeline put the 11th object's
    passes on the 1st object's row (rows % 10), and no row said whose passes
    it holds.  Reference: /sites/{code}/passes for the same objects."""
    ids = [int(r[2:7]) for r in catalog_records(full_catalog_path, first=20)[1::3]]
    api = httpx.get(f"{server}/api/v1/sites/{SITE}/passes",
                    params={"ids": ",".join(map(str, ids)), "hours": 24, "start": AT}).json()
    with_passes = {p["norad_id"] for p in api["passes"]}
    assert len(with_passes) > 10
    page, errors = _open(browser, server, f"?ids={','.join(map(str, ids))}&at={AT}&site={SITE}")
    bars = page.eval_on_selector_all(
        "#timeline rect.pass-bar",
        "els => els.map((e) => [e.getAttribute('y'), e.querySelector('title').textContent])")
    assert len(bars) == len(api["passes"])
    by_row = {}                        # bars are drawn in the API's order
    for (y, _), p in zip(bars, api["passes"]):
        by_row.setdefault(y, set()).add(p["norad_id"])
    assert len(by_row) == len(with_passes) and all(len(v) == 1 for v in by_row.values()), by_row
    for (_, title), p in zip(bars, api["passes"]):
        assert str(p["norad_id"]) in title, title     # names repeat ('SCOUT X-1 DEB')
    labels = page.locator("#timeline text.timeline-row").all_text_contents()
    for norad in with_passes:
        assert any(str(norad) in t for t in labels), (norad, labels)
    assert errors == []
    page.close()


def test_ids_separated_by_spaces_are_separate_objects(server, browser):
    """The field says 'Objects (NORAD ids)'; the page deleted whitespace, so
    '25544 48274' (a list pasted from a report) became the one id 2554448274
    (and '5 11' would silently show object 511).  Reference: /positions for
    the two ids."""
    want = httpx.get(f"{server}/api/v1/positions", params={"ids": f"{ISS},{CSS}", "at": AT}).json()
    page, errors = _open(browser, server, f"?ids={ISS}&at={AT}&site={SITE}")
    page.fill("#ids", f" {ISS}  {CSS} ")
    page.click("#objects-form button[type=submit]")
    page.wait_for_function("document.querySelectorAll('#positions tbody tr').length !== 1 || "
                           "document.getElementById('objects-status').classList.contains('error')",
                           timeout=WAIT_MS)
    rows = page.locator("#positions tbody tr").all_inner_texts()
    assert [r.split("\t")[1] for r in rows] == want["name"], rows
    assert errors == []
    page.close()


def test_live_refresh_keeps_the_shown_objects_while_typing(server, browser):
    """Live (no ?at=), the page refreshes the positions every 10 s
    (docs/service.md).  The refresh read the ids field as it was being typed,
    unsubmitted: a half-typed '4827' replaced the shown ISS with an error.
    Reference: the objects shown are those last asked for (Show or ?ids=)."""
    page, errors = _open(browser, server, f"?ids={ISS}")
    assert page.locator("#positions tbody tr").all_inner_texts()[0].startswith(ISS)
    page.fill("#ids", CSS[:4])                       # typing, not submitted
    page.wait_for_timeout(11_000)                    # one refresh
    rows = page.locator("#positions tbody tr").all_inner_texts()
    assert len(rows) == 1 and rows[0].startswith(ISS), rows
    assert CSS[:4] not in page.locator("#objects-status").inner_text()
    assert errors == []
    page.close()


def test_bearing_unknown_event_draws_no_flight_path(server, browser):
    """A report without a bearing: the analysis says 'bearing unknown: ring of
    impact points' (bearing_known false, bearing_deg null) and serves the
    ring; its 'arc' is the core's due-east example profile
    (reported_events: "the arc drawn: ... due east of the ring").  The page
    drew that arc as the flight path, eastward across +-180 deg from 178 E."""
    ev = {"event_id": "r19-ring", "date": "2023-10-12", "time_utc": "2023-10-12T03:00:00Z",
          "kind": "missile", "vehicle": "ring test", "site": "60.0,178.0", "range_km": 1500,
          "outcome": "success"}
    r = httpx.post(f"{server}/api/v1/events", json={"events": [ev]},
                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 201, r.text
    an = httpx.get(f"{server}/api/v1/events/r19-ring/analysis").json()
    assert an["analysis"]["bearing_known"] is False and an["impact"] is None
    assert an["impact_ring"]["type"] == "MultiLineString" and an["arc"] is not None
    page, errors = _open(browser, server, f"?ids={ISS}&at={AT}&event=r19-ring")
    page.wait_for_selector("#layer-event path.impact-ring", timeout=WAIT_MS)
    assert page.locator("#layer-event path.arc:not(.impact-ring)").count() == 0
    assert page.locator("#layer-event circle.impact").count() == 0
    assert "bearing unknown" in page.locator("#event-detail").inner_text()
    assert errors == []
    page.close()


def test_positions_answer_says_why_an_object_has_no_position(full_catalog):
    """/positions gives each object's SGP4 error code and, beside it, the
    code in words (null when good), so that a client need not keep its own
    table.  Reference: python-sgp4 itself on COSMOS 2251 DEB (34445) at
    2023-10-18T00:00Z (error 6, decayed) and the ISS (0)."""
    from fastapi.testclient import TestClient
    from sgp4.api import Satrec, jday

    from satwatch.catalog import Catalog
    from satwatch.propagation import SGP4_ERRORS
    from satwatch.web import Settings, create_app
    sets = list(full_catalog.select(["25544", "34445"]))
    codes = []
    for es in sets:
        sat = Satrec.twoline2rv(*es.source_text.splitlines()[-2:])
        codes.append(sat.sgp4(*jday(2023, 10, 18, 0, 0, 0))[0])
    assert codes[0] == 0 and codes[1] != 0
    app = create_app(Settings(catalog=Catalog.from_element_sets(sets)))
    with TestClient(app) as client:
        body = client.get("/api/v1/positions", params={"ids": "25544,34445",
                                                       "at": "2023-10-18T00:00:00Z"}).json()
    assert body["error"] == codes
    assert body["error_text"] == [None, SGP4_ERRORS[codes[1]]]


def test_unknown_bearing_analysis_marks_its_arc_as_an_example(reference_data):
    """With the bearing unknown, the analysis draws an example arc (the
    ring's bearing nearest due east) beside the ring of impact points; the
    GeoJSON and the API must say it is an example, not the flight's path.
    Reference: a 650 km shot from Sunan (39.2 N, 125.7 E) with no bearing:
    the example's end lies on the ring, at the geodesic distance and
    bearing pyproj gives for it."""
    import pyproj

    from satwatch.reported_events import analysis_geojson, analyze
    lat, lon = 39.20299, 125.70926
    unknown = analysis_geojson(analyze(lat, lon, 650.0, 50.0, None))
    arc = next(f for f in unknown["features"] if f["properties"]["role"] == "arc")
    bearing = arc["properties"]["example_bearing_deg"]
    assert bearing is not None and abs(bearing - 90.0) <= 2.5
    end = arc["geometry"]["coordinates"][-1]
    az, _, dist_m = pyproj.Geod(ellps="WGS84").inv(lon, lat, end[0], end[1])
    assert abs(az % 360.0 - bearing) < 1.0 and abs(dist_m / 1e3 - 650.0) < 10.0
    known = analysis_geojson(analyze(lat, lon, 650.0, 50.0, 74.0))
    arc = next(f for f in known["features"] if f["properties"]["role"] == "arc")
    assert arc["properties"]["example_bearing_deg"] is None
