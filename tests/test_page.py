"""The page in a real headless browser: Debian's chromium driven by Playwright,
against ``satwatch serve`` on loopback.

References: the Natural Earth 1:110m countries (../shared/data/geo/
countries-110m.json, the same data world-atlas ships on npm) for the number
of countries drawn; land covers ~29 % of the Earth's surface, so a drawn map
shows land-coloured pixels on a comparable share of the sphere.
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import httpx
import pytest

from conftest import CHROMIUM, catalog_records, start_satwatch_serve

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "satwatch" / "web" / "static" / "dist"
AT = "2023-10-13T00:00:00Z"
IDS = "25544,48274,20580"
# COSMOS 2251 DEB (2023-10-13 catalog): decaying, SGP4 fails on and off from
# 2023-10-16 (python-sgp4's error codes), so its track over 90 min from
# GAPPY_AT has missing positions between good ones.
GAPPY = "34445"
GAPPY_AT = "2023-10-17T00:00:00Z"
# CNS record of 2023-08-24 (Chollima-1 from Sohae, reported falling west of the
# Philippines): any analysable event works; the page draws what the API says.
LAND_RGB = (0xE9, 0xE4, 0xD8)         # .country fill in style.css
# Land is 29 % of the sphere; Antarctica is stretched by the projection and
# small islands are lost at 1:110m: accept 15-45 % of the sphere's pixels.
LAND_SHARE = (0.15, 0.45)


@pytest.fixture(scope="module")
def server(full_catalog_path, tmp_path_factory):
    if not (DIST / "index.html").is_file():
        pytest.skip("the page is not built: run 'npm ci && npm run build' in satwatch/web "
                    "(scripts/setup.sh does)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("page")
    keep = catalog_records(full_catalog_path, IDS.split(",") + [GAPPY], first=100)
    sample = tmp / "sample.tle"
    sample.write_text("\n".join(keep) + "\n")
    env = dict(os.environ, SATWATCH_CACHE_DIR=str(tmp / "cache"),
               SATWATCH_DATA_DIR=str(tmp / "data"))
    data = full_catalog_path.parent.parent
    proc, url = start_satwatch_serve(
        ["--db", f"sqlite:///{tmp / 'p.sqlite'}", "--catalog", sample,
         "--events", data / "events",
         "--zones", data / "geo" / "gfw_nk_eez_prk.json",
         "--zones", data / "geo" / "gfw_ocean_areas_eezs_simplified.json",
         "--log-level", "warning"], env)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def loaded(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/?ids={IDS}&at={AT}")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    yield page, requests, errors
    page.close()


def test_map_draws_every_country(loaded, reference_data):
    page, _, errors = loaded
    assert errors == []
    topo = json.loads((reference_data / "geo" / "countries-110m.json").read_text())
    n_countries = len(topo["objects"]["countries"]["geometries"])
    drawn = page.locator("#countries path.country").count()
    assert n_countries - 2 <= drawn <= n_countries
    assert page.locator("#map").get_attribute("data-drawn") == "true"


def test_objects_sites_and_footprints_are_drawn(loaded, server):
    page, _, _ = loaded
    assert page.locator("#layer-positions circle.position").count() == 3
    assert page.locator("#layer-tracks path.track").count() == 3
    assert page.locator("#layer-footprints path.footprint").count() == 3
    n_sites = httpx.get(server + "/api/v1/sites", params={"limit": 500}).json()["total"]
    assert page.locator("#layer-sites circle.site").count() == n_sites > 10
    rows = page.locator("#positions tbody tr")
    assert rows.count() == 3 and "ISS (ZARYA)" in rows.nth(0).inner_text()
    titles = page.locator("#layer-positions circle.position title").all_text_contents()
    assert any("25544" in t for t in titles)


def test_lists_render_or_say_why(loaded, server):
    """Each list shows its data, or says the capability is not installed
    (when /api/v1/health reports it missing); never a broken request."""
    page, _, _ = loaded
    caps = httpx.get(server + "/api/v1/health").json()["capabilities"]
    for section, cap in (("conjunctions-status", "conjunctions"), ("feed-status", None),
                         ("events-status", "reported_events"), ("passes-status", "passes")):
        text = page.locator(f"#{section}").inner_text()
        assert "no such resource" not in text and "HTTP 5" not in text, (section, text)
        if cap and not caps[cap]:
            assert "not available" in text
        else:
            assert "error" not in (page.locator(f"#{section}").get_attribute("class") or "")
    assert page.locator("#timeline rect.pass-bar").count() > 0 or not caps["passes"]
    n_events = httpx.get(server + "/api/v1/events").json()["total"]
    assert n_events > 300                           # the CNS file: 339 records
    assert page.locator("#events li").count() == min(100, n_events)


def test_every_asset_comes_from_the_service(loaded, server):
    _, requests, _ = loaded
    assert requests and all(u.startswith(server) or u.startswith("data:") for u in requests)


def test_screenshot_shows_a_drawn_map(loaded, browser, tmp_path):
    """Decode the screenshot (in the browser's own PNG decoder) and count the
    land-coloured pixels inside the map."""
    page, _, _ = loaded
    box = page.locator("#map").bounding_box()
    png = page.screenshot(clip=box)
    (tmp_path / "map.png").write_bytes(png)
    probe = browser.new_page()
    counts = probe.evaluate("""async ([b64, land]) => {
        const img = new Image();
        img.src = 'data:image/png;base64,' + b64;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = img.width; c.height = img.height;
        const ctx = c.getContext('2d');
        ctx.drawImage(img, 0, 0);
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        let landPx = 0, white = 0, colours = new Set();
        for (let i = 0; i < d.length; i += 4) {
            const r = d[i], g = d[i + 1], b = d[i + 2];
            if (Math.abs(r - land[0]) < 6 && Math.abs(g - land[1]) < 6 && Math.abs(b - land[2]) < 6) landPx++;
            if (r > 250 && g > 250 && b > 250) white++;
            if (colours.size < 1000) colours.add((r << 16) | (g << 8) | b);
        }
        return {total: d.length / 4, land: landPx, white, colours: colours.size};
    }""", [base64.b64encode(png).decode(), list(LAND_RGB)])
    probe.close()
    sphere_px = counts["total"] - counts["white"]          # the white outside the sphere
    assert counts["colours"] > 20
    assert LAND_SHARE[0] < counts["land"] / sphere_px < LAND_SHARE[1], counts


EVENT = "cns-2017-08-28-1"    # CNS: Hwasong-12 from Pyongyang over Japan into the Pacific


def test_reported_event_is_drawn(server, browser):
    analysis = httpx.get(f"{server}/api/v1/events/{EVENT}/analysis").json()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/?ids=25544&at={AT}&event={EVENT}")
    page.wait_for_selector("#layer-event path.arc", timeout=30_000)
    page.wait_for_selector("#layer-event circle.impact", timeout=30_000)
    zones = page.locator("#layer-zones path.zone")
    assert zones.count() == len(analysis["zones"]["features"]) > 0
    # Each zone is drawn as itself, not as the rest of the globe (winding).
    map_box = page.locator("#map").bounding_box()
    for i in range(zones.count()):
        box = zones.nth(i).bounding_box()
        assert box["width"] * box["height"] < 0.25 * map_box["width"] * map_box["height"]
    # The impact point is east of the launch site, as the report's bearing says.
    launch = page.locator("#layer-event circle.site").bounding_box()
    impact = page.locator("#layer-event circle.impact").bounding_box()
    assert impact["x"] > launch["x"]
    assert "km" in page.locator("#event-detail").inner_text()
    page.close()


def _drawn_parts(lon, lat, split_at_gaps):
    """Lines d3 draws for a track: one per run of positions (the whole track
    if not split at gaps), plus one more at each antimeridian crossing (d3's
    clipping of lines that cross +-180 deg)."""
    runs, run = [], []
    for x, y in zip(lon, lat):
        if x is None:
            if split_at_gaps:
                if len(run) > 1:
                    runs.append(run)
                run = []
            continue
        run.append(x)
    if len(run) > 1:
        runs.append(run)
    return sum(1 + sum(abs(b - a) > 180.0 for a, b in zip(r, r[1:])) for r in runs), len(runs)


def test_a_track_is_not_drawn_across_missing_positions(server, browser):
    tr = httpx.get(f"{server}/api/v1/tracks", params={"ids": GAPPY, "start": GAPPY_AT,
                                                      "duration_s": 5400, "step_s": 60}).json()
    lon, lat = tr["tracks"][0]["lon_deg"], tr["tracks"][0]["lat_deg"]
    want, n_runs = _drawn_parts(lon, lat, split_at_gaps=True)
    joined, _ = _drawn_parts(lon, lat, split_at_gaps=False)
    assert n_runs >= 2 and want != joined      # the sample has a gap that matters
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/?ids={GAPPY}&at={GAPPY_AT}")
    page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    paths = page.locator("#layer-tracks path.track")
    assert paths.count() == 1
    assert paths.first.get_attribute("d").count("M") == want
    page.close()
