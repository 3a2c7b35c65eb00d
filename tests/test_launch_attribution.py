"""New-object rules with a launch site: ``satwatch watch`` attributes each new
object to a site from the store's reported launches (scored with
satwatch.launches.identify) and from international designators shared with
objects attributed before, and a "new object from KOUROU" rule fires for the
Vega VV23 objects exactly once, across restarts, while "new object from
BAIKONUR" does not.

References (outside the code under test):
* Vega VV23 lifted off from the Guiana Space Centre, Kourou, on 2023-10-09 at
  01:36 UTC (Arianespace, "VV23 launch", 9 Oct 2023); its objects carry the
  international designator 2023-155* (Space-Track catalog of 2023-10-13,
  ../shared/data/catalogs/full-3le-2023-10-13.txt) and are absent from the
  2023-08-22 catalog (../shared/data/catalogs/active-2023-08-22.txt).
* Soyuz MS-24 lifted off from Baikonur on 2023-09-15 at 15:44 UTC (NASA,
  "Soyuz MS-24 launch", 15 Sep 2023), designator 2023-143A: a competing
  reported launch from the other site in the same weeks.
* 2023-155K first appears here from the 2023-11-19 catalog (an element set
  42 days after lift-off, too late for the launch geometry): only its
  designator, shared with the objects attributed before, ties it to Kourou.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from satwatch.elements import parse_elements
from satwatch.time import utc
from satwatch.watch import LaunchFact, attribute_launch_sites, launch_of

from test_alerts import Webhook, add_rules, free_port, run_watch

VV23_TIME = "2023-10-09T01:36:00Z"        # Arianespace VV23 launch
VV23_LAUNCH = "2023-155"
MS24_TIME = "2023-09-15T15:44:00Z"        # NASA Soyuz MS-24 launch
LATE_VV23 = "2023-155K"                   # held back until the 2023-11-19 catalog
KOUROU = (5.237, -52.769)                 # satwatch.sites KOUROU (McDowell's GCAT)
BAIKONUR = (45.920, 63.342)
N_COMMON = 20                             # unchanged objects in every update
OTHER_LAUNCHES = ("2023-141", "2023-143")  # new objects from other launches


def _parse(path):
    sets, rejections = parse_elements(path.read_text(), source=str(path))
    assert not rejections
    return sets


@pytest.fixture(scope="module")
def vv23_catalogs(reference_data, tmp_path_factory):
    """before.tle (2023-08-22 states), after.tle (2023-10-13 states plus the
    new objects: VV23 but 2023-155K, and objects of two other 2023 launches)
    and later.tle (after.tle plus 2023-155K from the 2023-11-19 catalog)."""
    cats = reference_data / "catalogs"
    old = _parse(cats / "active-2023-08-22.txt")
    full = {es.norad_id: es for es in _parse(cats / "full-3le-2023-10-13.txt")}
    late = _parse(cats / "active-2023-11-19.txt")
    common_before = [es for es in old if es.norad_id in full][:N_COMMON]
    common_after = [full[es.norad_id] for es in common_before]
    old_ids = {es.norad_id for es in old}
    vv23 = [es for es in full.values() if launch_of(es.intl_designator) == VV23_LAUNCH]
    assert len(vv23) == 10 and not old_ids & {es.norad_id for es in vv23}
    held = [es for es in late if es.intl_designator == LATE_VV23]
    assert len(held) == 1
    others = [es for launch in OTHER_LAUNCHES
              for es in [es for es in full.values() if launch_of(es.intl_designator) == launch
                         and es.norad_id not in old_ids][:4]]
    assert any(launch_of(es.intl_designator) == "2023-143" for es in others)
    first = [es for es in vv23 if es.intl_designator != LATE_VV23]
    d = tmp_path_factory.mktemp("vv23")

    def write(name, sets):
        (d / name).write_text("".join(es.source_text.strip() + "\n" for es in sets))
    write("before.tle", common_before)
    write("after.tle", common_after + first + others)
    write("later.tle", common_after + first + others + held)
    (d / "events.csv").write_text(
        "event_id,kind,time,site,vehicle,outcome,source\n"
        f"VV23,launch,{VV23_TIME},KOUROU,Vega,success,Arianespace VV23 launch 2023-10-09\n"
        f"MS-24,launch,{MS24_TIME},BAIKONUR,Soyuz-2.1a,success,NASA Soyuz MS-24 launch\n")
    return {"dir": d, "vv23": vv23, "first": first, "held": held[0], "others": others}


def _cli(*args, env_dir):
    env = dict(os.environ, SATWATCH_CACHE_DIR=str(env_dir / "cache"),
               SATWATCH_DATA_DIR=str(env_dir / "data"))
    proc = subprocess.run([sys.executable, "-c", "from satwatch.cli import main; main()",
                           *args], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc


def test_attribution_pure_vv23(vv23_catalogs):
    """(a) VV23 objects fit the Kourou launch and nothing else does; the same
    time from Baikonur, or Kourou six hours off, attributes none of them;
    (b) a designator shared with an attributed launch carries the site."""
    new = vv23_catalogs["first"] + vv23_catalogs["others"]
    vv23_ids = {es.norad_id for es in vv23_catalogs["first"]}
    t = utc(VV23_TIME).ns
    sites, reasons, by_launch = attribute_launch_sites(
        new, [LaunchFact("KOUROU", *KOUROU, t, 30.0, "VV23")])
    assert {n for n, s in sites.items() if s == "KOUROU"} == vv23_ids
    assert by_launch == {VV23_LAUNCH: "KOUROU"}
    assert all("KOUROU" in reasons[n] for n in vv23_ids)
    wrong_site, _, _ = attribute_launch_sites(new, [LaunchFact("BAIKONUR", *BAIKONUR, t)])
    assert not vv23_ids & set(wrong_site)
    # Six hours later the Earth has turned Kourou ~90 deg away from VV23's
    # near-polar plane (12 h would bring it back through the plane, heading
    # the other way).
    wrong_time, _, _ = attribute_launch_sites(
        new, [LaunchFact("KOUROU", *KOUROU, t + 6 * 3600 * 10**9)])
    assert not vv23_ids & set(wrong_time)
    held = vv23_catalogs["held"]
    alone, _, _ = attribute_launch_sites([held], [LaunchFact("KOUROU", *KOUROU, t)])
    assert alone == {}                    # 42 days late: geometry alone cannot tell
    carried, why, _ = attribute_launch_sites([held], [], {VV23_LAUNCH: "KOUROU"})
    assert carried == {held.norad_id: "KOUROU"} and VV23_LAUNCH in why[held.norad_id]


def test_new_object_from_site_rules_fire_once_across_restarts(vv23_catalogs, tmp_path):
    d = vv23_catalogs["dir"]
    vv23_ids = {es.norad_id for es in vv23_catalogs["vv23"]}
    first_ids = {es.norad_id for es in vv23_catalogs["first"]}
    held_id = vv23_catalogs["held"].norad_id
    db_url = f"sqlite:///{tmp_path / 'watch.sqlite'}"
    hook = Webhook(free_port())
    hook.start()
    kourou, baikonur = add_rules(db_url, [
        {"kind": "new_object", "launch_site": "KOUROU", "webhooks": [hook.url]},
        {"kind": "new_object", "launch_site": "BAIKONUR", "webhooks": [hook.url]},
    ])
    _cli("event", "import", str(d / "events.csv"), "--db", db_url, env_dir=tmp_path)

    def sent(rule_id):
        return [r["json"]["alert"] for r in hook.received
                if r["json"]["alert"]["rule_id"] == rule_id]
    try:
        out = json.loads(run_watch(db_url, d / "before.tle", env_dir=tmp_path).stdout)
        assert out[0]["new_alerts"] == 0 and hook.received == []
        # The update: every VV23 object in it, from Kourou, once.
        out = json.loads(run_watch(db_url, d / "after.tle", env_dir=tmp_path).stdout)
        k = sent(kourou)
        assert sorted(a["norad_id"] for a in k) == sorted(first_ids)
        assert all(a["details"]["launch_site"] == "KOUROU" and
                   a["details"]["intl_designator"].startswith(VV23_LAUNCH) for a in k)
        assert all("VV23" in a["details"]["launch_site_reason"] for a in k)
        assert not vv23_ids & {a["norad_id"] for a in sent(baikonur)}
        # Restart on the same catalog: nothing new, nothing sent again.
        n = len(hook.received)
        out = json.loads(run_watch(db_url, d / "after.tle", env_dir=tmp_path).stdout)
        assert out[0]["new_alerts"] == 0 and len(hook.received) == n
        # A later update brings 2023-155K: attributed by its designator.
        out = json.loads(run_watch(db_url, d / "later.tle", env_dir=tmp_path).stdout)
        k = sent(kourou)
        assert sorted(a["norad_id"] for a in k) == sorted(vv23_ids)
        late = next(a for a in k if a["norad_id"] == held_id)
        assert VV23_LAUNCH in late["details"]["launch_site_reason"]
        assert not vv23_ids & {a["norad_id"] for a in sent(baikonur)}
        out = json.loads(run_watch(db_url, d / "later.tle", env_dir=tmp_path).stdout)
        assert out[0]["new_alerts"] == 0
        assert len(sent(kourou)) == len(vv23_ids)
    finally:
        hook.stop()

