"""Core commands: update, catalog, where."""
from __future__ import annotations

import os
from typing import List, Optional

import typer

from ..errors import SourceError
from ..time import Time
from ..sources import CELESTRAK_GP_URL, SPACETRACK_URL, fetch_celestrak, fetch_spacetrack
from .common import CatalogOption, get_cache, parse_time, resolve_catalog, run_guarded
from .output import Format, emit

FormatOption = typer.Option(Format.table, "--format", "-f", help="table, json or csv")


def _fetched_at(latest: dict | None) -> float | None:
    """When the latest catalog was downloaded: its cache entry's fetch time
    (the cache keeps ``NAME.data`` beside ``NAME.meta.json``)."""
    import json
    from pathlib import Path
    if not latest:
        return None
    data = Path(latest["path"])
    meta = data.with_name(data.stem + ".meta.json")
    try:
        return float(json.loads(meta.read_text())["fetched_at"])
    except (OSError, ValueError, KeyError):
        return None


def _error_text(code: int) -> str | None:
    """sgp4's code in words (None when the state is good)."""
    from ..propagation import error_text
    return error_text(code)


def _mark_unphysical(cat, states) -> None:
    """States SGP4 returns without an error code that no Earth orbiter of
    the element set can have (far above its apogee, below the surface, at
    escape speed: decayed sets far from their epochs) become NaN with code
    UNPHYSICAL_STATE, as passes and conjunctions count them."""
    import numpy as np

    from ..propagation import UNPHYSICAL_STATE, max_radius_km, physical_state
    r_km = np.moveaxis(states.r_teme_km, 0, -1)               # (n_sat, n_time, 3)
    v_km_s = np.moveaxis(states.v_teme_km_s, 0, -1)
    backward = states.times.ns[None, :] < cat.epochs.ns[:, None]
    r_max_km = np.where(backward, max_radius_km(cat.satrecs, backward=True)[:, None],
                        max_radius_km(cat.satrecs)[:, None])
    bad = (states.error == 0) & ~physical_state(r_km, v_km_s, r_max_km)
    states.error[bad] = UNPHYSICAL_STATE
    states.r_teme_km[:, bad] = np.nan
    states.v_teme_km_s[:, bad] = np.nan


def register(app: typer.Typer):
    @app.command()
    def update(
        group: str = typer.Option("active", help="CelesTrak GP group (active, stations, "
                                  "starlink, last-30-days, ...)"),
        spacetrack: bool = typer.Option(False, "--spacetrack", help="Download the full "
                                        "catalog from Space-Track (SPACETRACK_USER and "
                                        "SPACETRACK_PASSWORD in the environment)"),
        celestrak_url: str = typer.Option(CELESTRAK_GP_URL, envvar="SATWATCH_CELESTRAK_URL",
                                          help="CelesTrak GP endpoint"),
        spacetrack_url: str = typer.Option(SPACETRACK_URL, envvar="SATWATCH_SPACETRACK_URL",
                                           help="Space-Track base URL"),
        format: Format = FormatOption,
    ):
        """Download the current catalog into the local cache (at most once in two hours
        for the same request)."""
        def body():
            import time as _time
            cache = get_cache()
            asked_at = _time.time()
            if spacetrack:
                user = os.environ.get("SPACETRACK_USER")
                password = os.environ.get("SPACETRACK_PASSWORD")
                if not user or not password:
                    raise SourceError("Space-Track needs SPACETRACK_USER and SPACETRACK_PASSWORD "
                                      "in the environment")
                text = fetch_spacetrack(user, password, cache=cache, base_url=spacetrack_url,
                                        make_latest=True)
            else:
                text = fetch_celestrak(group, cache=cache, base_url=celestrak_url,
                                       make_latest=True)
            catalog = resolve_catalog(None)
            summary = catalog.summary()
            summary["bytes"] = len(text)
            fetched_at = _fetched_at(cache.latest())
            fresh = fetched_at is not None and fetched_at >= asked_at
            summary["downloaded_at"] = (None if fetched_at is None else
                                        Time(int(fetched_at * 1e9)).iso(0))
            summary["downloaded_now"] = fresh
            title = ("catalog updated" if fresh else
                     f"catalog unchanged: the download of {summary['downloaded_at']} is less "
                     "than two hours old and was reused (the sources ask for no more)")
            emit([{"source": summary["source"], "objects": summary["objects"],
                   "rejected": summary["rejected"], "epoch_median": summary["epoch_median"],
                   "downloaded_at": summary["downloaded_at"], "downloaded_now": fresh}],
                 format, document=summary, title=title)
        run_guarded(body)

    @app.command()
    def catalog(
        source: str = typer.Argument(..., help="A file, directory, URL or -"),
        strict: bool = typer.Option(False, "--strict", help="Stop at the first bad record"),
        format: Format = typer.Option(Format.table, "--format", "-f", help="table, json "
                                      "or csv (csv: one row per rejected record, the "
                                      "summary is in table and json)"),
    ):
        """Summarise a catalog: objects, rejected records with reasons, epochs, regimes."""
        def body():
            cat = resolve_catalog(source, strict=strict)
            s = cat.summary()
            if format == Format.json:
                emit([], format, document=s)
                return
            if format == Format.csv:
                emit(s["rejections"], format, columns=["source", "line", "field", "reason"])
                return
            rows = [{"item": "objects", "value": s["objects"]},
                    {"item": "rejected records", "value": s["rejected"]},
                    {"item": "epochs (min / median / max)",
                     "value": f"{s['epoch_min']} / {s['epoch_median']} / {s['epoch_max']}"}]
            rows += [{"item": f"regime {k}", "value": v} for k, v in s["regimes"].items()]
            emit(rows, format, title=f"catalog {s['source']}")
            if s["rejections"]:
                emit(s["rejections"][:50], format, columns=["line", "field", "reason"],
                     title="rejected records" + (" (first 50)" if s["rejected"] > 50 else ""))
        run_guarded(body)

    @app.command()
    def where(
        sats: List[str] = typer.Argument(..., help="NORAD ids, names or name patterns"),
        at: Optional[str] = typer.Option(None, "--at", help="UTC time (ISO-8601); default now"),
        catalog: Optional[str] = CatalogOption,
        format: Format = FormatOption,
    ):
        """Where satellites are: latitude, longitude, altitude and TEME state."""
        def body():
            cat = resolve_catalog(catalog).select(sats)
            t = parse_time(at)
            states = cat.propagate(t)
            _mark_unphysical(cat, states)
            geo = states.geodetic()
            rows = []
            for i, es in enumerate(cat):
                rows.append({
                    "norad_id": es.norad_id, "name": es.name, "time": t.iso(3),
                    "lat_deg": geo.lat_deg[i, 0], "lon_deg": geo.lon_deg[i, 0],
                    "alt_km": geo.alt_km[i, 0],
                    "r_teme_km": states.r_teme_km[:, i, 0],
                    "v_teme_km_s": states.v_teme_km_s[:, i, 0],
                    "error": int(states.error[i, 0]),
                    "error_text": _error_text(int(states.error[i, 0])),
                    "epoch": es.epoch.iso(3),
                    "age_days": float((t.ns - es.epoch_ns) / 86400e9),
                })
            columns = ["norad_id", "name", "time", "lat_deg", "lon_deg", "alt_km",
                       "age_days", "error"]
            if format == Format.csv or any(r["error"] for r in rows):
                columns.append("error_text")          # what a code means, where one failed
            if format == Format.csv:
                # CSV keeps the TEME state and the epoch too (one number a cell)
                for row in rows:
                    for axis, k in zip("xyz", range(3)):
                        row[f"{axis}_teme_km"] = row["r_teme_km"][k]
                        row[f"v{axis}_teme_km_s"] = row["v_teme_km_s"][k]
                columns += ["epoch", "x_teme_km", "y_teme_km", "z_teme_km", "vx_teme_km_s",
                            "vy_teme_km_s", "vz_teme_km_s"]
            emit(rows, format, columns=columns, title=f"positions ({cat.source})")
        run_guarded(body)
