"""Watch rules and alerts: a recorded catalog update that holds a manoeuvre and
a new object gives exactly the expected alerts, delivered once each to a real
loopback webhook server and a real local SMTP server (aiosmtpd), also across
restarts of ``satwatch watch``.

References:
* the manoeuvre: CryoSat-2 (NORAD 36508), operator-announced manoeuvre at
  2012-02-17T06:47Z (../shared/data/maneuvers/labels/manoeuvres_CryoSat-2.yaml,
  Shorten et al., "Wide-scale Monitoring of Satellite Lifetimes: Pitfalls and
  a Benchmark Dataset"); the earlier catalog holds the 30 element sets before
  it, the update the 4 after it (as a "last days" download would).
* no manoeuvre: Malligyong-1 (NORAD 58400), smooth decay and no burns in
  2026-03..08 (../shared/data/history/, README); 30 sets, then 4 more.
* the new object: one object of the 2023-10-13 Space-Track catalog left out of
  the earlier catalog.
* passes: Skyfield's sub-satellite points (an independent SGP4 and frame
  chain) checked against every pass alert.
"""
from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import yaml

from satwatch.catalog import Catalog
from satwatch.elements import parse_elements
from satwatch.time import NS_PER_S, Time, utc

TOKEN = "test-token-123"
S6A, MALLIGYONG = 36508, 58400            # S6A: the manoeuvring object (CryoSat-2)
S6A_NAME = "CryoSat-2"
S6A_MANOEUVRE = "2012-02-17T06:47:00Z"     # from the operator's list (labels yaml)
HISTORY_SETS, UPDATE_SETS = 30, 4


# -- real servers on loopback ----------------------------------------------------
class _Hook(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        self.server.received.append({"path": self.path, "headers": dict(self.headers),
                                     "json": json.loads(body)})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Webhook:
    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/hook"
        self.server = None
        self.received: list = []

    def start(self):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), _Hook)
        self.server.received = self.received
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append({"to": list(envelope.rcpt_tos),
                                  "data": envelope.content.decode("utf-8", "replace")})
            return "250 OK"

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, sink
    controller.stop()


# -- the recorded update -----------------------------------------------------------
def _sets(path: Path) -> list:
    sets, rejections = parse_elements(path.read_text(), source=str(path))
    assert not rejections
    return sorted(sets, key=lambda es: es.epoch_ns)


def _tle(sets) -> str:
    return "".join(es.source_text.strip() + "\n" for es in sets)


@pytest.fixture
def recorded_update(reference_data, full_catalog_path, tmp_path):
    """before.tle and after.tle: 20 objects unchanged, CryoSat-2 across its
    manoeuvre, Malligyong-1 across quiet days, and one new object."""
    s6a = _sets(reference_data / "maneuvers" / "tle" / f"{S6A_NAME}.tle")
    label = yaml.safe_load((reference_data / "maneuvers" / "labels" /
                            f"manoeuvres_{S6A_NAME}.yaml").read_text())
    t_man = utc(S6A_MANOEUVRE).ns
    assert any(utc(str(t).replace(" ", "T") + "Z").ns == t_man
               for t in label["manoeuvre_timestamps"])
    epochs = np.array([es.epoch_ns for es in s6a])
    i = int(np.searchsorted(epochs, t_man))
    s6a_before, s6a_after = s6a[i - HISTORY_SETS:i], s6a[i:i + UPDATE_SETS]
    mal = _sets(reference_data / "history" / "malligyong1_58400_2026-03_to_2026-08.tle")
    mal_before, mal_after = mal[100 - HISTORY_SETS:100], mal[100:100 + UPDATE_SETS]
    text = full_catalog_path.read_text().splitlines()
    common, _ = parse_elements("\n".join(text[:60]))            # 20 objects, 3LE
    extra, _ = parse_elements("\n".join(text[60:63]))           # the new object
    before = common + s6a_before + mal_before
    after = common + s6a_after + mal_after + extra
    (tmp_path / "before.tle").write_text(_tle(before))
    (tmp_path / "after.tle").write_text(_tle(after))
    return {"dir": tmp_path, "new": extra[0], "s6a": (s6a_before, s6a_after),
            "mal": (mal_before, mal_after)}


def run_watch(db_url: str, catalog: Path, *extra, env_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SATWATCH_CACHE_DIR=str(env_dir / "cache"),
               SATWATCH_DATA_DIR=str(env_dir / "data"))
    cmd = [sys.executable, "-c", "from satwatch.cli import main; main()", "watch", "--once",
           "--db", db_url, "--catalog", str(catalog), "--format", "json", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def add_rules(db_url: str, rules: list[dict]) -> list[int]:
    """Rules go in through the API, as a user would add them."""
    from fastapi.testclient import TestClient

    from satwatch.web import Settings, create_app
    app = create_app(Settings(db_url=db_url, catalog=Catalog([], [], "empty"),
                              api_tokens=[TOKEN]))
    ids = []
    with TestClient(app) as client:
        for rule in rules:
            r = client.post("/api/v1/rules", json=rule,
                            headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
    return ids


def test_update_gives_expected_alerts_once_across_restarts(recorded_update, smtp_server,
                                                           tmp_path):
    controller, sink = smtp_server
    hook = Webhook(free_port())
    hook.start()
    db_url = f"sqlite:///{tmp_path / 'watch.sqlite'}"
    man_rule, new_rule = add_rules(db_url, [
        {"kind": "maneuver", "norad_ids": [S6A, MALLIGYONG], "webhooks": [hook.url],
         "emails": ["analyst@example.org"]},
        {"kind": "new_object", "webhooks": [hook.url]},
    ])
    smtp = ["--smtp", f"127.0.0.1:{controller.port}"]
    d = recorded_update["dir"]
    try:
        # First catalog: the baseline; nothing is new yet.
        out = json.loads(run_watch(db_url, d / "before.tle", *smtp, env_dir=tmp_path).stdout)
        assert out[0]["new_alerts"] == 0 and hook.received == [] and sink.messages == []
        # The update: one manoeuvre alert (Sentinel-6A, not Malligyong-1) and one
        # new-object alert.
        out = json.loads(run_watch(db_url, d / "after.tle", *smtp, env_dir=tmp_path).stdout)
        assert out[0]["new_alerts"] == 2, out
        kinds = sorted((r["json"]["alert"]["kind"], r["json"]["alert"]["norad_id"])
                       for r in hook.received)
        new_id = recorded_update["new"].norad_id
        assert kinds == [("maneuver", S6A), ("new_object", new_id)]
        man = next(r["json"]["alert"] for r in hook.received
                   if r["json"]["alert"]["kind"] == "maneuver")
        # The operator's manoeuvre time lies within the alert's span.
        t_op = utc(S6A_MANOEUVRE).ns
        det = man["details"]
        assert utc(det["window_start"]).ns <= t_op <= utc(det["window_end"]).ns
        assert man["rule_id"] == man_rule
        assert all(r["headers"]["Idempotency-Key"] == r["json"]["alert"]["key"]
                   for r in hook.received)
        assert len(sink.messages) == 1
        assert sink.messages[0]["to"] == ["analyst@example.org"]
        assert str(S6A) in sink.messages[0]["data"]
        # Restart on the same catalog: nothing new, nothing sent again.
        out = json.loads(run_watch(db_url, d / "after.tle", *smtp, env_dir=tmp_path).stdout)
        assert out[0]["new_alerts"] == 0 and out[0]["delivered"] == 0
        assert len(hook.received) == 2 and len(sink.messages) == 1
    finally:
        hook.stop()


def test_pending_delivery_survives_restart(recorded_update, tmp_path):
    """The webhook is down during the update: the alert is kept pending, and a
    restarted watcher delivers it once when the receiver is back."""
    hook = Webhook(free_port())           # not started yet: connection refused
    db_url = f"sqlite:///{tmp_path / 'watch.sqlite'}"
    add_rules(db_url, [{"kind": "new_object", "webhooks": [hook.url]}])
    d = recorded_update["dir"]
    run_watch(db_url, d / "before.tle", env_dir=tmp_path)
    out = json.loads(run_watch(db_url, d / "after.tle", env_dir=tmp_path).stdout)
    assert out[0]["new_alerts"] == 1 and out[0]["delivered"] == 0 and out[0]["pending"] == 1
    hook.start()
    try:
        out = json.loads(run_watch(db_url, d / "after.tle", env_dir=tmp_path).stdout)
        assert out[0]["delivered"] == 1 and out[0]["new_alerts"] == 0
        out = json.loads(run_watch(db_url, d / "after.tle", env_dir=tmp_path).stdout)
        assert out[0]["delivered"] == 0
        assert [r["json"]["alert"]["norad_id"] for r in hook.received] == \
            [recorded_update["new"].norad_id]
    finally:
        hook.stop()


def test_feed_shows_alerts(recorded_update, tmp_path):
    """The page's feed (GET /api/v1/feed and /alerts) lists the same alerts."""
    from fastapi.testclient import TestClient

    from satwatch.web import Settings, create_app
    db_url = f"sqlite:///{tmp_path / 'watch.sqlite'}"
    add_rules(db_url, [{"kind": "new_object"}, {"kind": "maneuver", "norad_ids": [S6A]}])
    d = recorded_update["dir"]
    run_watch(db_url, d / "before.tle", env_dir=tmp_path)
    run_watch(db_url, d / "after.tle", env_dir=tmp_path)
    app = create_app(Settings(db_url=db_url, catalog=Catalog([], [], "empty")))
    with TestClient(app) as client:
        feed = client.get("/api/v1/feed").json()
        assert sorted(i["kind"] for i in feed["items"]) == ["maneuver", "new_object"]
        alerts = client.get("/api/v1/alerts", params={"kind": "maneuver"}).json()
        assert alerts["total"] == 1 and alerts["items"][0]["norad_id"] == S6A


# -- pass rules against Skyfield --------------------------------------------------
PASS_DISTANCE_TOL_KM = 5.0    # Skyfield vs satwatch sub-points agree to ~1 km; margin
SITE = ("Wallops", 37.9402, -75.4664)


def test_pass_rule_matches_skyfield(full_catalog):
    from skyfield.api import EarthSatellite, load, wgs84

    from satwatch.watch import Rule, Update, evaluate, ground_distance_km
    iss = full_catalog.select([25544])
    rule = Rule(id=7, kind="pass", norad_ids=(25544,), site_name=SITE[0],
                site_lat_deg=SITE[1], site_lon_deg=SITE[2], radius_km=1500.0)
    t0 = utc("2023-10-13T00:00:00Z").ns
    update = Update(catalog=iss, window_start_ns=t0, window_end_ns=t0 + 86_400 * NS_PER_S,
                    step_s=30.0)
    alerts = evaluate([rule], update)
    # Brute force with Skyfield on the same 30 s grid: runs of samples inside.
    ts = load.timescale(builtin=True)
    es = iss.element_sets[0]
    line1, line2 = es.source_text.strip().splitlines()[-2:]
    sat = EarthSatellite(line1, line2, ts=ts)
    times = Time(t0 + np.arange(2881, dtype=np.int64) * 30 * NS_PER_S)
    dt = times.to_datetime()
    sky_t = ts.from_datetimes([x.replace(tzinfo=__import__("datetime").timezone.utc)
                               for x in dt])
    sub = wgs84.subpoint_of(sat.at(sky_t))
    dist = ground_distance_km(sub.latitude.degrees, sub.longitude.degrees, SITE[1], SITE[2])
    inside = dist <= rule.radius_km
    entries = int(np.sum(np.diff(np.r_[0, inside.astype(int)]) == 1))
    assert entries >= 2                      # the ISS passes near Wallops several times a day
    assert len(alerts) == entries
    # The alert's time is the refined closest approach: Skyfield's distance
    # there agrees, and is no larger than at the 30 s samples around it.
    at = Time(np.array([a.time_ns for a in alerts], dtype=np.int64)).to_datetime()
    sub_a = wgs84.subpoint_of(sat.at(ts.from_datetimes(
        [x.replace(tzinfo=__import__("datetime").timezone.utc) for x in at])))
    dist_a = ground_distance_km(sub_a.latitude.degrees, sub_a.longitude.degrees, SITE[1],
                                SITE[2])
    for a, d in zip(alerts, dist_a):
        j = int((a.time_ns - t0) // (30 * NS_PER_S))
        assert abs(a.details["distance_km"] - d) < PASS_DISTANCE_TOL_KM
        assert d <= min(dist[j], dist[j + 1]) + PASS_DISTANCE_TOL_KM
        assert a.details["distance_km"] <= rule.radius_km
    # The same window evaluated again gives the same keys (no duplicates).
    assert [a.key for a in evaluate([rule], update)] == [a.key for a in alerts]


def test_rule_validation_messages():
    from satwatch.watch import Rule, WatchError
    with pytest.raises(WatchError, match="needs a site"):
        Rule(id=1, kind="pass", norad_ids=(25544,))
    with pytest.raises(WatchError, match="max_miss_km"):
        Rule(id=1, kind="conjunction")
    with pytest.raises(WatchError, match="must name its objects"):
        Rule(id=1, kind="pass", site_lat_deg=0, site_lon_deg=0, radius_km=10)


def test_conjunction_rule_against_brute_force(full_catalog):
    """A conjunction rule on one member of a Starlink train (2023-148, days
    after launch): its alerts are the approaches under max_miss_km that a
    brute-force scan (every second) finds."""
    pytest.importorskip("satwatch.conjunctions")
    from satwatch.alerts import screen_for_rules
    from satwatch.watch import Rule, Update, evaluate
    train = full_catalog.filter(predicate=lambda es: es.intl_designator.startswith("2023-148"))
    primary, max_miss_km = 57942, 5.0
    rule = Rule(id=3, kind="conjunction", norad_ids=(primary,), max_miss_km=max_miss_km)
    t0 = utc("2023-10-13T00:00:00Z").ns
    t1 = t0 + 7200 * NS_PER_S
    facts = screen_for_rules(train, [rule], {}, t0, t1)
    alerts = evaluate([rule], Update(catalog=train, conjunctions=facts))
    times = Time(t0) + np.arange(0, 7201, 1.0)
    st = train.propagate(times)
    i = int(np.flatnonzero(train.norad_ids == primary)[0])
    d = np.linalg.norm(st.r_teme_km - st.r_teme_km[:, i:i + 1, :], axis=0)
    d[i] = np.inf
    j, k = np.unravel_index(np.argmin(d), d.shape)
    assert d[j, k] < max_miss_km and 0 < k < len(times) - 1
    assert len(alerts) >= 1 and all(a.details["miss_km"] < max_miss_km for a in alerts)
    hit = [a for a in alerts if int(train.norad_ids[j]) in
           (a.details["norad_id_1"], a.details["norad_id_2"])]
    assert hit and abs(hit[0].details["miss_km"] - d[j, k]) < 0.5
    assert abs(hit[0].time_ns - int(times.ns[k])) < 5 * NS_PER_S


# -- the alert store on SQLite and on a real PostgreSQL ---------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alerts.sqlite'}"
        return
    yield request.getfixturevalue("fresh_pg_url")


def test_alert_store_keeps_each_alert_once(store_url):
    from satwatch.alerts import AlertStore
    from satwatch.watch import Alert
    store = AlertStore.open(store_url)
    try:
        rule = store.add_rule("maneuver", {"norad_ids": [S6A]},
                              {"webhooks": ["http://127.0.0.1:9/x"], "emails": ["a@b.org"]},
                              now_ns=1)
        alerts = [Alert(f"maneuver:{rule['id']}:{S6A}:{k}", rule["id"], "maneuver", S6A, k,
                        f"burn {k}", {"k": k}) for k in (10, 20)]
        channels = {rule["id"]: rule["channels"]}
        assert len(store.record(alerts, channels, now_ns=2)) == 2
        assert store.record(alerts + alerts, channels, now_ns=3) == []      # seen: kept once
        items, total = store.alerts()
        assert total == 2 and [a["time"] for a in items] == [Time(20).iso(0), Time(10).iso(0)]
        pending = store.deliveries("pending")
        assert sorted((d["channel"], d["target"]) for d in pending) == \
            [("email", "a@b.org")] * 2 + [("webhook", "http://127.0.0.1:9/x")] * 2
        store.mark(pending[0]["id"], ok=True, error=None, now_ns=4)
        assert len(store.deliveries("pending")) == 3 and len(store.deliveries("sent")) == 1
        store.set_state("k", {"v": 1})
        store.set_state("k", {"v": 2})
        assert store.get_state("k") == {"v": 2}
        assert store.delete_rule(rule["id"]) and store.rule(rule["id"]) is None
    finally:
        store.close()


@pytest.mark.parametrize("lon0, lon1, lat0, lat1", [
    (55.0, 75.0, 40.0, 52.0),          # Baikonur to Kazakhstan's east
    (160.0, -170.0, -30.0, 20.0),      # across the antimeridian (Pacific)
    (160.0, 190.0, -30.0, 20.0),       # the same box written past 180 deg
])
def test_polygon_pass_rule_matches_skyfield(full_catalog, lon0, lon1, lat0, lat1):
    """A pass rule over a lon/lat box: entries counted from Skyfield's
    sub-satellite points with plain bounds checks (independent of shapely),
    also for boxes across +-180 deg."""
    import datetime

    from skyfield.api import EarthSatellite, load, wgs84

    from satwatch.watch import Rule, Update, evaluate
    box = ((lon0, lat0), (lon1, lat0), (lon1, lat1), (lon0, lat1), (lon0, lat0))
    iss = full_catalog.select([25544])
    rule = Rule(id=9, kind="pass", norad_ids=(25544,), polygon_lon_lat_deg=box)
    t0 = utc("2023-10-13T00:00:00Z").ns
    update = Update(catalog=iss, window_start_ns=t0, window_end_ns=t0 + 86_400 * NS_PER_S,
                    step_s=30.0)
    alerts = evaluate([rule], update)
    ts = load.timescale(builtin=True)
    l1, l2 = iss.element_sets[0].source_text.strip().splitlines()[-2:]
    sat = EarthSatellite(l1, l2, ts=ts)
    times = Time(t0 + np.arange(2881, dtype=np.int64) * 30 * NS_PER_S).to_datetime()
    sub = wgs84.subpoint_of(sat.at(ts.from_datetimes(
        [x.replace(tzinfo=datetime.timezone.utc) for x in times])))
    lat, lon = sub.latitude.degrees, sub.longitude.degrees
    width = (lon1 - lon0) % 360.0

    def in_lon(x):
        return ((np.asarray(x) - lon0) % 360.0 > 0) & ((np.asarray(x) - lon0) % 360.0 < width)
    inside = in_lon(lon) & (lat > lat0) & (lat < lat1)
    entries = int(np.sum(np.diff(np.r_[0, inside.astype(int)]) == 1))
    assert entries >= 1 and len(alerts) == entries
    for a in alerts:
        assert in_lon(a.details["lon_deg"]) and lat0 < a.details["lat_deg"] < lat1


def test_polygon_rule_without_an_area_is_refused():
    from satwatch.watch import Rule, WatchError
    with pytest.raises(WatchError, match="polygon_lon_lat_deg"):
        Rule(id=3, kind="pass", norad_ids=(25544,),
             polygon_lon_lat_deg=((10.0, 10.0), (20.0, 10.0), (10.0, 10.0)))
