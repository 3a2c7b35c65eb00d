"""Store commands: ingest, history, maneuvers, decays, new-objects, stale.

The database is ``--db URL`` (``sqlite:///FILE``, a file path, or
``postgresql+psycopg://USER:PASSWORD@HOST/DB``), else ``$SATWATCH_DB``, else
an SQLite file in the user data directory.
"""
from __future__ import annotations

import os
from typing import List, Optional

import numpy as np
import typer

from ..catalog import regime_of
from ..errors import SatwatchError, SourceError
from ..time import Time
from .common import data_dir, get_cache, latest_download, parse_time, run_guarded
from .output import Format, emit, progress, spinner

FormatOption = typer.Option(Format.table, "--format", "-f", help="table, json or csv")
DbOption = typer.Option(None, "--db", help="Database URL or SQLite file (default: "
                        "$SATWATCH_DB, else satwatch.db in the user data directory)")
NS_PER_DAY = 86_400 * 10**9


def resolve_db(db: str | None) -> str:
    """``--db``, else ``$SATWATCH_DB``, else the SQLite file in the data dir
    (the only place the environment is read for the store)."""
    if db:
        return db
    env = os.environ.get("SATWATCH_DB")
    if env:
        return env
    return f"sqlite:///{data_dir() / 'satwatch.db'}"


def open_db(db, *, reading: bool = False, looking_for: str | None = None):
    """The store; ``reading``: a command that only reads refuses an SQLite
    file that is not there, rather than create an empty database (a typo in
    --db answered "0 manoeuvres in 0 objects" and left a new file behind)."""
    from ..store import open_store
    from ..store.database import normalize_url
    url = normalize_url(resolve_db(db))
    if reading:
        from pathlib import Path

        from sqlalchemy.engine import make_url
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "",
                                                                              ":memory:"):
            path = Path(parsed.database)
            if not path.exists():
                raise SatwatchError((f"no {looking_for}: " if looking_for else "") +
                                    f"no database at {path}: nothing is stored there yet "
                                    "(store something first with 'satwatch ingest FILE' or "
                                    "'satwatch event import FILE', or check --db and "
                                    "SATWATCH_DB)")
    return open_store(url)


def _iso(ns) -> str | None:
    return None if ns is None else Time(int(ns)).iso(0)


def _ids_for(store, sat: str | None) -> list[int] | None:
    if sat is None:
        return None
    rows = store.objects(sat)
    if not rows:
        raise SatwatchError(f"no object {sat!r} in the store (give a NORAD id such as 25544 "
                            "or Alpha-5 A0001, a name or a pattern such as 'STARLINK*'; "
                            "ingest element sets first)")
    return [r["norad_id"] for r in rows]


def _default_at(store, at: str | None) -> int:
    if at is not None:
        return int(parse_time(at).ns)
    newest = store.counts()["epoch_max_ns"]
    if newest is None:
        raise SatwatchError("the store is empty: run 'satwatch ingest FILE' first")
    return int(newest)


def register(app: typer.Typer):
    @app.command()
    def ingest(
        sources: Optional[List[str]] = typer.Argument(None, help="Files, directories, URLs, "
                                                      "- for standard input, or 'latest' "
                                                      "for the last 'satwatch update'"),
        gcat: Optional[str] = typer.Option(None, "--gcat", help="GCAT psatcat.tsv (J. "
                                           "McDowell, CC-BY 4.0): launch date, registering "
                                           "state and payload class of known objects"),
        db: Optional[str] = DbOption,
        force: bool = typer.Option(False, "--force", help="Re-read sources already ingested"),
        batch: int = typer.Option(2000, "--batch", help="Element sets per transaction"),
        format: Format = FormatOption,
    ):
        """Store element sets in the database: incremental and idempotent (identical sets
        are stored once; an interrupted ingest is completed by running it again)."""
        def body():
            from ..sources import read_source_texts
            if not sources and not gcat:
                raise SatwatchError("nothing to ingest: give element files, directories or "
                                    "URLs, and/or --gcat psatcat.tsv")
            store = open_db(db)
            texts = []
            for src in sources or []:
                if src == "latest":
                    latest = latest_download()
                    if latest is None:
                        raise SourceError("no 'satwatch update' yet: nothing to ingest as "
                                          "'latest'")
                    path, label = latest
                    texts.extend((label, text) for _, text in read_source_texts(path))
                    continue
                texts.extend(read_source_texts(src, cache=get_cache()))
            total = sum(t.count("\n") for _, t in texts) // 2 or None
            with progress("ingesting", total=total) as advance:
                report = store.ingest_texts(texts, batch=batch, force=force, advance=advance)
            doc = report.as_dict()
            doc["database"] = store._safe_url()
            doc["metadata_updated"] = 0
            if gcat:
                (name, text), = read_source_texts(gcat)
                doc["metadata_updated"] = store.ingest_gcat_psatcat(text, source=name)
            doc.update({k: v for k, v in store.counts().items() if not k.endswith("_ns")})
            rows = [{"item": k, "value": doc[k]} for k in
                    ("database", "read", "stored", "duplicates", "new_objects", "rejected",
                     "element_sets", "objects", "metadata_updated")]
            if report.skipped_sources:
                rows.append({"item": "already ingested (skipped)",
                             "value": ", ".join(report.skipped_sources)})
            emit(rows, format, document=doc, title="ingest")
            if report.rejections and format == Format.table:
                emit(doc["rejections"][:20], format, columns=["source", "line", "field",
                                                              "reason"],
                     title="rejected records (first 20)")
        run_guarded(body)

    @app.command()
    def history(
        sat: str = typer.Argument(..., help="NORAD id (digits or Alpha-5 such as A0001) "
                                  "or name"),
        start: Optional[str] = typer.Option(None, "--start", help="UTC ISO-8601"),
        end: Optional[str] = typer.Option(None, "--end", help="UTC ISO-8601"),
        db: Optional[str] = DbOption,
        format: Format = FormatOption,
    ):
        """Every stored element set of one object, by epoch."""
        def body():
            store = open_db(db, reading=True, looking_for=f"object {sat!r}")
            if start and end and parse_time(start).ns >= parse_time(end).ns:
                raise SatwatchError(f"--start {start} is not before --end {end}")
            ids = _ids_for(store, sat)
            if len(ids) > 1:
                found = store.objects(norad_ids=ids[:6])
                raise SatwatchError(f"{sat!r} matches {len(ids)} objects ("
                                    + ", ".join(f"{o['norad_id']} {o['name']}" for o in found)
                                    + (", ..." if len(ids) > 6 else "")
                                    + "): give a NORAD id or an exact name")
            rows = []
            for nid in ids:
                for es in store.element_sets(nid, start=parse_time(start) if start else None,
                                             end=parse_time(end) if end else None):
                    rows.append({"norad_id": es.norad_id, "name": es.name,
                                 "epoch": es.epoch.iso(3),
                                 "semi_major_axis_km": es.semi_major_axis_km,
                                 "perigee_alt_km": es.perigee_alt_km,
                                 "apogee_alt_km": es.apogee_alt_km,
                                 "inclination_deg": es.inclination_deg,
                                 "raan_deg": es.raan_deg, "eccentricity": es.eccentricity,
                                 "bstar_per_earth_radius": es.bstar_per_earth_radius,
                                 "source": es.source})
            emit(rows, format, title=f"history of {sat} ({len(rows)} element sets)",
                 columns=["norad_id", "epoch", "semi_major_axis_km", "perigee_alt_km",
                          "apogee_alt_km", "inclination_deg", "raan_deg", "eccentricity"])
        run_guarded(body)

    @app.command()
    def maneuvers(
        sat: Optional[str] = typer.Option(None, "--sat", help="NORAD id, name or pattern"),
        since: Optional[str] = typer.Option(None, "--since", help="Only manoeuvres from "
                                            "this UTC time on"),
        db: Optional[str] = DbOption,
        format: Format = FormatOption,
    ):
        """Manoeuvres detected in the stored histories: epoch window, type (in-track /
        cross-track) and estimated delta-v; outlier element sets are flagged, not counted."""
        def body():
            from ..maneuvers import DetectorSettings, detect_maneuvers
            cfg = DetectorSettings()
            min_sets = cfg.min_sets
            store = open_db(db, reading=True)
            ids = _ids_for(store, sat)
            since_ns = int(parse_time(since).ns) if since else None
            with spinner("reading the stored histories"):
                if since_ns is None:
                    histories = store.history_arrays(ids)
                else:
                    histories = _histories_since(
                        store, ids, since_ns,
                        max(cfg.noise_sets, cfg.along_noise_sets) + cfg.window_sets)
            names = {r["norad_id"]: r["name"] for r in store.objects(norad_ids=ids)} \
                if ids else None
            rows, outliers, short = [], 0, 0
            with progress("scanning", total=len(histories)) as advance:
                for nid, arrays in histories:
                    short += len(arrays["epoch_ns"]) < min_sets
                    found = detect_maneuvers(**arrays, norad_id=nid)
                    outliers += len(found.outlier_epochs_ns)
                    for row in found.rows():
                        rows.append(row)
                    advance()
            if since_ns is not None:
                rows = [r for r in rows if _ns(r["epoch"]) >= since_ns]
            if names is None:
                names = {r["norad_id"]: r["name"] for r in
                         store.objects(norad_ids=sorted({r["norad_id"] for r in rows}))}
            for r in rows:
                r["name"] = names.get(r["norad_id"], "")
            rows.sort(key=lambda r: (r["epoch"], r["norad_id"]))
            emit(rows, format, title="manoeuvres",
                 columns=["norad_id", "name", "epoch", "window_start", "window_end", "type",
                          "delta_v_m_s", "delta_a_km", "delta_inclination_deg"],
                 footer=f"{len(rows)} manoeuvres in {len(histories) - short} objects scanned"
                        + (f" ({short} with fewer than {min_sets} element sets not scanned)"
                           if short else "")
                        + f"; {outliers} outlier element sets flagged and ignored")
        run_guarded(body)

    @app.command()
    def decays(
        at: Optional[str] = typer.Option(None, "--at", help="UTC time to judge at "
                                         "(default: the newest epoch in the store)"),
        sat: Optional[str] = typer.Option(None, "--sat", help="NORAD id, name or pattern"),
        all_: bool = typer.Option(False, "--all", help="Also list stable objects that are "
                                  "not stale"),
        db: Optional[str] = DbOption,
        format: Format = FormatOption,
    ):
        """Decaying objects and re-entries: perigee, decay rate and a rough time left,
        from each object's newest element sets at or before --at however old they are.
        Objects whose newest set is older than their regime's limit (LEO 7 days,
        GEO/MEO 21, HEO/GTO 14) are listed as stale: their decay cannot be judged."""
        def body():
            from ..catalog import orbit_regime
            from ..maneuvers import (DECAY_LAST_SETS, EARTH_RADIUS_KM, STALE_AFTER_DAYS,
                                     decay_status, semi_major_axis_km, stale_objects)
            store = open_db(db, reading=True)
            at_ns = _default_at(store, at)
            ids = _ids_for(store, sat)
            objs = {r["norad_id"]: r for r in store.objects(norad_ids=ids)}
            # each object's newest sets, however old: a span of time before
            # --at would hide the objects whose sets stopped before it
            with spinner("reading the stored histories"):
                histories = store.history_arrays(ids, until=Time(at_ns),
                                                 last=DECAY_LAST_SETS)
            found = []
            with progress("decays", total=len(histories)) as advance:
                for nid, arr in histories:
                    n, e = arr["mean_motion_rev_day"][-1], arr["eccentricity"][-1]
                    a_km = semi_major_axis_km(n)
                    regime = orbit_regime(1440.0 / n, e, a_km * (1 - e) - EARTH_RADIUS_KM,
                                          arr["inclination_deg"][-1])
                    limit = STALE_AFTER_DAYS.get(regime, STALE_AFTER_DAYS["other"])
                    st = decay_status(arr["epoch_ns"], arr["mean_motion_rev_day"],
                                      arr["eccentricity"], norad_id=nid, at_ns=at_ns,
                                      stale_days=limit)
                    found.append((st, regime, limit, len(arr["epoch_ns"])))
                    advance()
            age, stale = stale_objects([st.last_epoch_ns for st, *_ in found],
                                       [reg for _, reg, *_ in found], at_ns)
            rows = []
            for (st, regime, limit, n_sets), age_days, is_stale in zip(found, age, stale):
                if st.status in ("stable", "no trend") and not is_stale and not all_:
                    continue
                rows.append({"norad_id": st.norad_id,
                             "name": objs.get(st.norad_id, {}).get("name", ""),
                             "status": st.status, "regime": regime,
                             "last_epoch": _iso(st.last_epoch_ns),
                             "age_days": float(age_days), "stale": bool(is_stale),
                             "limit_days": limit,
                             "perigee_alt_km": st.perigee_alt_km,
                             "apogee_alt_km": st.apogee_alt_km,
                             # one epoch has no rate (NaN): unknown, not 0 km/day
                             "decay_rate_km_day": None if np.isnan(st.decay_rate_km_day)
                             else st.decay_rate_km_day,
                             "days_to_reentry": None if np.isnan(st.days_to_reentry)
                             else st.days_to_reentry,
                             "sets_used": n_sets})
            order = {"reentered?": 0, "reentering": 1, "decaying": 2, "stable": 3,
                     "no trend": 4}
            rows.sort(key=lambda r: (order[r["status"]], r["perigee_alt_km"]))
            n_stale = sum(r["stale"] for r in rows)
            emit(rows, format, title=f"decays as of {_iso(at_ns)}",
                 footer=f"{len(rows)} objects listed of {len(found)} with element sets at "
                        f"or before {_iso(at_ns)}; {n_stale} stale (newest set older than "
                        "their regime's limit)")
        run_guarded(body)

    @app.command("new-objects")
    def new_objects_cmd(
        since: Optional[str] = typer.Option(None, "--since", help="UTC time (default: 30 "
                                            "days before the newest epoch in the store)"),
        db: Optional[str] = DbOption,
        format: Format = FormatOption,
    ):
        """Objects whose first element set in the store is at or after --since."""
        def body():
            from ..maneuvers import new_objects
            store = open_db(db, reading=True)
            since_ns = (int(parse_time(since).ns) if since
                        else _default_at(store, None) - 30 * NS_PER_DAY)
            with spinner("reading the stored objects"):
                objs = store.objects()
            if not objs:
                raise SatwatchError("the store is empty: run 'satwatch ingest FILE' first")
            first = np.array([o["first_epoch_ns"] for o in objs], np.int64)
            if not (first < since_ns).any():
                raise SatwatchError(f"the store has no element sets before {_iso(since_ns)}, "
                                    "so every object would look new: ingest an older "
                                    "catalog first, or give a later --since")
            mask = new_objects([o["norad_id"] for o in objs], first, since_ns)
            n_before, n_new = int((first < since_ns).sum()), int(mask.sum())
            if n_new > n_before:
                # an object is "new" here when the store first saw it after
                # --since; with little stored before --since that is mostly
                # the store's own history starting, not launches
                typer.secho(f"warning: the store knew {n_before} objects before "
                            f"{_iso(since_ns)} and first saw {n_new} at or after it: most "
                            "are listed because no whole catalog from before --since was "
                            "ingested, not because they are new launches; ingest an older "
                            "catalog, or give a later --since", fg="yellow", err=True)
            rows = [{"norad_id": o["norad_id"], "name": o["name"],
                     "intl_designator": o["intl_designator"],
                     "first_epoch": _iso(o["first_epoch_ns"]),
                     "last_epoch": _iso(o["last_epoch_ns"])}
                    for o, m in zip(objs, mask) if m]
            rows.sort(key=lambda r: r["first_epoch"])
            emit(rows, format, title=f"new objects since {_iso(since_ns)}")
        run_guarded(body)

    @app.command()
    def stale(
        at: Optional[str] = typer.Option(None, "--at", help="UTC time (default: the newest "
                                         "epoch in the store)"),
        db: Optional[str] = DbOption,
        format: Format = FormatOption,
    ):
        """Objects whose newest element set is older than their regime's limit
        (LEO 7 days, GEO/MEO 21, HEO/GTO 14)."""
        def body():
            from ..maneuvers import STALE_AFTER_DAYS, stale_objects
            store = open_db(db, reading=True)
            at_ns = _default_at(store, at)
            with spinner("reading the newest stored sets"):
                cat = store.latest_catalog(at=Time(at_ns))
            regimes = [regime_of(es) for es in cat]
            age, mask = stale_objects([es.epoch_ns for es in cat], regimes, at_ns)
            rows = [{"norad_id": es.norad_id, "name": es.name, "regime": reg,
                     "last_epoch": es.epoch.iso(0), "age_days": float(ag),
                     "limit_days": STALE_AFTER_DAYS.get(reg, 30.0)}
                    for es, reg, ag, m in zip(cat, regimes, age, mask) if m]
            rows.sort(key=lambda r: -r["age_days"])
            emit(rows, format, title=f"stale objects as of {_iso(at_ns)}")
        run_guarded(body)


def _histories_since(store, ids, since_ns: int, context_sets: int) -> list:
    """The histories of the objects with sets from 60 days before ``since_ns``
    on, each with the sets before ``since_ns`` the detector needs to know
    the trend and the noise before a burn: those 60 days, and at least
    ``context_sets`` sets (a history with a set a week has 8 in 60 days,
    under the detector's 12-set minimum and its 41-set noise window, and
    lost burns weeks after --since that the whole history shows)."""
    start_ns = since_ns - 60 * NS_PER_DAY
    recent = store.history_arrays(ids, since=Time(start_ns))
    older = dict(store.history_arrays([nid for nid, _ in recent], until=Time(since_ns - 1),
                                      last=context_sets))
    out = []
    for nid, arrays in recent:
        before = older.get(nid)
        if before is not None:
            keep = before["epoch_ns"] < start_ns
            arrays = {k: np.concatenate([before[k][keep], v]) for k, v in arrays.items()}
        out.append((nid, arrays))
    return out


def _ns(iso: str) -> int:
    from ..time import utc
    return int(utc(iso).ns)
