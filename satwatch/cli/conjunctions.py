"""``satwatch conjunctions``: all-vs-all (or primaries-vs-all) screening."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..errors import SatwatchError
from .common import CatalogOption, parse_time, resolve_catalog, run_guarded, worker_count
from .output import Format, emit, progress

FormatOption = typer.Option(Format.table, "--format", "-f", help="table, json or csv")
COLUMNS = ["norad_id_1", "name_1", "norad_id_2", "name_2", "tca", "miss_km",
           "relative_speed_km_s", "radial_km", "in_track_km", "cross_track_km",
           "age_1_days", "age_2_days", "pc"]


class WindowError(SatwatchError, ValueError):
    """The screening window was given twice or not at all."""


def _dask_client(address: str):
    """A client of the scheduler at ``address``; a bad address or one where
    no scheduler answers is one error line, not distributed's traceback."""
    from distributed import Client
    try:
        return Client(address)
    except (OSError, ValueError, TypeError) as exc:
        raise SatwatchError(f"--scheduler {address}: no Dask scheduler there ({exc}); give "
                            "tcp://HOST:PORT of a running 'dask scheduler'") from None


def register(app: typer.Typer):
    @app.command()
    def conjunctions(
        primary: Optional[List[str]] = typer.Option(
            None, "--primary", "-p", help="Screen only these objects (NORAD id, name or "
            "pattern such as 'STARLINK*'; repeatable) against the whole catalog"),
        start: Optional[str] = typer.Option(None, "--start", help="UTC ISO-8601; default now"),
        end: Optional[str] = typer.Option(None, "--end", help="UTC ISO-8601 end of the window"),
        hours: Optional[float] = typer.Option(None, "--hours", help="Window length in hours"),
        days: Optional[float] = typer.Option(None, "--days", help="Window length in days"),
        threshold_km: float = typer.Option(5.0, "--threshold-km", help="Miss distance "
                                           "threshold (km)"),
        catalog: Optional[str] = CatalogOption,
        sort: str = typer.Option("tca", "--sort", help="tca or miss"),
        cdm_dir: Optional[Path] = typer.Option(None, "--cdm-dir", help="Write one CCSDS "
                                               "CDM (KVN) per event into this folder"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler "
                                                "address (tcp://host:8786) to run on a "
                                                "cluster"),
        hard_body_radius_m: float = typer.Option(10.0, "--hard-body-radius-m",
                                                 help="Assumed combined hard-body radius"),
        pc_method: str = typer.Option("FOSTER-1992", "--pc-method",
                                      help="FOSTER-1992 or CHAN-1997"),
        step_s: float = typer.Option(60.0, "--step-s", help="SGP4 sampling step of the "
                                     "screener (s)"),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes that "
                                              "screen the time blocks on this machine "
                                              "(default: all cores; same events for any "
                                              "number)"),
        format: Format = FormatOption,
    ):
        """Close approaches under a threshold: TCA, miss distance, relative speed,
        RTN miss vector, element-set ages and probability of collision (assumed
        covariance and hard-body radius, printed with the results)."""
        def body():
            from ..collision_probability import PcAssumptions, conjunction_probability
            from ..conjunctions import ScreeningSettings, screen_conjunctions
            from ..collision_probability import METHODS
            if sort not in ("tca", "miss"):
                raise WindowError(f"--sort {sort!r}: use tca or miss")
            # the Pc settings are checked before the screening, not after it
            method = pc_method.upper()
            if method not in METHODS:
                raise SatwatchError(f"--pc-method {pc_method!r}: use " + " or ".join(METHODS))
            if not 0 < hard_body_radius_m < float("inf"):
                raise SatwatchError(f"--hard-body-radius-m {hard_body_radius_m:g}: give a "
                                    "positive radius in metres")
            assumptions = PcAssumptions(hard_body_radius_km=hard_body_radius_m / 1000.0)
            given = [x is not None for x in (end, hours, days)]
            if sum(given) > 1:
                raise WindowError("give only one of --end, --hours and --days")
            t0 = parse_time(start)
            if end is not None:
                t1 = parse_time(end)
            else:
                span_h = hours if hours is not None else (days * 24 if days is not None
                                                          else 24.0)
                if not span_h > 0:
                    raise WindowError("--hours/--days must be positive")
                t1 = t0 + span_h * 3600.0
            cat = resolve_catalog(catalog)
            primaries = None
            if primary:
                primaries = [int(n) for n in cat.select(primary).norad_ids]
            settings = ScreeningSettings(threshold_km=threshold_km, step_s=step_s)
            if cdm_dir is not None:
                # made before the screening: a path that cannot be a folder is
                # one error line now, not a traceback after the whole run
                try:
                    cdm_dir.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise SatwatchError(f"--cdm-dir {cdm_dir}: cannot make this folder "
                                        f"({exc.strerror})") from None
            from ..conjunctions import make_grid
            n_blocks = len(make_grid(t0, t1, settings).blocks())
            with progress("screening", total=n_blocks) as advance:
                if scheduler:
                    from ..distributed import screen_distributed
                    client = _dask_client(scheduler)
                    try:
                        res = screen_distributed(cat, t0, t1, threshold_km, client=client,
                                                 primaries=primaries, settings=settings,
                                                 progress=advance)
                    finally:
                        client.close()
                else:
                    res = screen_conjunctions(cat, t0, t1, threshold_km, primaries=primaries,
                                              settings=settings, progress=advance,
                                              workers=worker_count(workers))
            pc = conjunction_probability(res, assumptions, method)
            names = {es.norad_id: es.name for es in cat}
            rows = res.rows(names, sort="tca")
            for row, p in zip(rows, pc.pc[res.order("tca")]):
                row["pc"] = float(p)
                row["pc_method"] = pc.method
                row["pc_assumptions"] = pc.assumptions
            if sort == "miss":
                rows.sort(key=lambda r: (r["miss_km"], r["tca"]))
            if cdm_dir is not None:
                from ..cdm import cdm_filename, write_cdm
                objects = {es.norad_id: {"name": es.name,
                                         "intl_designator": es.intl_designator} for es in cat}
                created = parse_time(None)
                for k in range(len(res)):
                    path = cdm_dir / cdm_filename(res, k)
                    try:
                        path.write_text(write_cdm(
                            res, k, creation=created, objects=objects, pc=pc,
                            assumptions=assumptions, catalog_source=str(cat.source)))
                    except OSError as exc:
                        raise SatwatchError(f"--cdm-dir: cannot write {path} "
                                            f"({exc.strerror})") from None
            s = res.stats
            footer = (
                f"{len(res)} events under {threshold_km:g} km, {t0.iso(0)} to {t1.iso(0)}, "
                f"{s['objects']} objects from {cat.source} "
                f"({s['objects_failed_propagation']} could not be propagated).\n"
                + (f"{len(res.coincident)} pairs share one trajectory (docked vehicles or "
                   f"duplicated element sets; no TCA, not events): "
                   + ", ".join(f"{a}-{b}" for a, b in res.coincident[:10])
                   + (" ..." if len(res.coincident) > 10 else "") + ".\n"
                   if res.coincident else "") +
                (f"{len(res.unresolved)} pairs drift within the screening distance too "
                 "slowly for a closest approach to be found in the window (objects of one "
                 "launch, formation flyers; not events): "
                 + ", ".join(f"{a}-{b}" for a, b in res.unresolved[:10])
                 + (" ..." if len(res.unresolved) > 10 else "") + ".\n"
                 if res.unresolved else "") +
                f"Stages: pairs {s['pairs_total']:,} -> apogee/perigee "
                f"{s['pairs_apogee_perigee']:,} -> radial+spatial {s['pair_samples_spatial']:,} "
                f"pair-samples -> chord {s['pair_steps_chord']:,} pair-steps -> candidates "
                f"{s['candidates']:,} -> events {s['events']:,}.\n"
                f"Pc: {pc.method}, hard-body radius {hard_body_radius_m:g} m (assumed), "
                f"covariance ASSUMED (TLEs carry none): RTN 1-sigma "
                f"{assumptions.sigma_radial_km:g}/{assumptions.sigma_in_track_km:g}/"
                f"{assumptions.sigma_cross_track_km:g} km at epoch + "
                f"{assumptions.growth_radial_km_day:g}/{assumptions.growth_in_track_km_day:g}/"
                f"{assumptions.growth_cross_track_km_day:g} km per day of age.")
            # a CSV leaves the footer behind: it names its Pc method in a column
            columns = {Format.table: COLUMNS, Format.csv: COLUMNS + ["pc_method"]}
            emit(rows, format, columns=columns.get(format),
                 title=f"conjunctions under {threshold_km:g} km", footer=footer)
        run_guarded(body)
