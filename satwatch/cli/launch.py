"""Launch analysis commands: ``launch reach|windows|identify`` and
``event import|list|analyze`` (the log of reported launches and missile
flights, kept in the store given by ``--db``)."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import typer

from ..errors import SatwatchError
from .common import CatalogOption, parse_time, resolve_catalog, run_guarded
from .output import Format, emit
from .passes import SitesOption

# a launch TIME given as a date alone
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
DAY_S = 86400.0

FormatOption = typer.Option(Format.table, "--format", "-f", help="table, json or csv")
DbOption = typer.Option(None, "--db", help="Database URL or SQLite file (default: "
                        "$SATWATCH_DB, else satwatch.db in the user data directory)")
COUNTRIES_HELP = ("Country polygons (Natural Earth TopoJSON, e.g. world-atlas "
                  "countries-50m.json, or GeoJSON). Default: $SATWATCH_COUNTRIES, else the "
                  "world-atlas package installed with satwatch's web page")


def _positive(option: str, value: float, unit: str):
    """Refuse a zero or negative length, step or span before any work (a
    zero --step-deg divided by zero; a negative --minutes indexed an empty
    track; an infinite or NaN one is no number at all)."""
    if not (np.isfinite(value) and value > 0):
        raise SatwatchError(f"{option} {value:g}: give a positive number of {unit}")


def _finite(option: str, value: float | None, what: str):
    """Refuse a NaN or infinite angle (NaN crashed int(); a NaN bearing read
    as 'unknown')."""
    if value is not None and not np.isfinite(value):
        raise SatwatchError(f"{option} {value:g}: give {what}")


def _site(query: str, sites_file: str | None = None):
    """A site by code, name or lat,lon, your own (--sites FILE, else the
    data folder's sites.yaml, as for 'satwatch passes') before the built-in
    ones."""
    from ..sites import find_site
    from .passes import _user_sites
    return find_site(query, extra_sites=_user_sites(sites_file))


def default_countries_path() -> Path | None:
    """Where country polygons are found when none is given."""
    env = os.environ.get("SATWATCH_COUNTRIES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    for p in (here / "web" / "node_modules" / "world-atlas" / "countries-50m.json",
              Path.cwd() / "node_modules" / "world-atlas" / "countries-50m.json"):
        if p.is_file():
            return p
    return None


def _read_zone_file(path, **kw):
    """The zones of one file.  A zone whose polygon is empty (a ring of fewer
    than four positions, RFC 7946 3.1.6; a tiny country at a coarse scale)
    would silently touch nothing: it is named in a warning and left out, and
    a file with no zone of any area is refused."""
    from ..sources.files import read_zones
    zones = read_zones(path, **kw)
    empty = [z.name for z in zones if z.geometry is None or z.geometry.is_empty]
    zones = [z for z in zones if not (z.geometry is None or z.geometry.is_empty)]
    if not zones:
        raise SatwatchError(f"{path}: no zone with an area in this file (a polygon ring "
                            "needs four or more positions, the last equal to the first)")
    if empty:
        typer.secho(f"warning: {path}: {len(empty)} zone(s) without area left out: "
                    + ", ".join(empty[:5]) + (" ..." if len(empty) > 5 else ""),
                    fg="yellow", err=True)
    return zones


def _zone_args(paths):
    """``--zones`` values: ``FILE`` or ``LABEL=FILE`` (LABEL replaces the
    feature names of a one-feature file)."""
    zones = []
    for item in paths or []:
        label = None
        if "=" in item and not Path(item).exists():
            label, _, item = item.partition("=")
        zs = _read_zone_file(item)
        if label:
            import dataclasses
            zs = [dataclasses.replace(z, name=label if len(zs) == 1 else f"{label}: {z.name}")
                  for z in zs]
        zones += zs
    return zones


def _emit_analysis(results, fmt: str, zones):
    from ..reported_events import analysis_geojson
    from .output import to_json as dump
    if fmt == "geojson":
        docs = [analysis_geojson(r, zones) for r in results]
        doc = docs[0] if len(docs) == 1 else {
            "type": "FeatureCollection",
            "features": [f for d in docs for f in d["features"]]}
        sys.stdout.write(dump(doc) + "\n")
        return
    cols = ["event_id", "site", "range_km", "apogee_km", "bearing_deg", "impact_lat_deg",
            "impact_lon_deg", "flight_time_s", "burnout_speed_km_s", "flight_path_angle_deg",
            "min_energy_range_km", "zones", "distance_to_boundary_km", "nearest_boundary",
            "error_text"]
    rows = []
    for r in results:
        row = {k: r.get(k) for k in cols}
        if r.get("zone_kinds"):
            row["zones"] = [f"{n} ({k})" for n, k in zip(r["zones"], r["zone_kinds"])]
        rows.append(row)
    if fmt == "json":
        doc = [{k: v for k, v in r.items() if k != "track"} | {"track": r.get("track")}
               for r in results]
        emit([], Format.json, document=doc[0] if len(doc) == 1 else doc)
        return
    emit(rows, Format(fmt), columns=[c for c in cols if c != "event_id" or
                                     any(r.get("event_id") for r in results)],
         title="what the report implies (Keplerian arc, rotating WGS-84 Earth)")
    if fmt == "table":
        for r in results:
            if len(results) > 1 and (r.get("boundaries") or r.get("ring")):
                # several events: say whose boundaries follow
                sys.stdout.write(f"{r.get('event_id') or r.get('site')}:\n")
            for b in r.get("boundaries", [])[:6]:
                sys.stdout.write(f"  {'inside ' if b['inside'] else 'outside'} {b['name']} "
                                 f"[{b['kind']}]: {b['distance_to_boundary_km']:.1f} km to "
                                 "its boundary\n")
            if r.get("ring"):
                touched = (", ".join(r["zones"]) or "none") if zones is not None else \
                    "not checked (give --zones FILE)"
                sys.stdout.write(f"  bearing unknown: {len(r['ring'])} possible impact points "
                                 f"on a ring; zones touched: {touched}\n")
        if zones is None and any(not r.get("ring") for r in results):
            # a blank zones cell would read as "in no one's waters"
            sys.stdout.write("zones: not checked (give --zones FILE, e.g. an EEZ or country "
                             "GeoJSON/TopoJSON)\n")


def register(app: typer.Typer):
    launch = typer.Typer(no_args_is_help=True, help="Launch analysis: reach, windows, "
                         "identification of new objects.")
    event = typer.Typer(no_args_is_help=True, help="Reported launches and missile flights: "
                        "import, list, analyse.")
    app.add_typer(launch, name="launch")
    app.add_typer(event, name="event")

    @launch.command("reach")
    def reach_cmd(
        site: str = typer.Argument(..., help="Site code or name, or lat,lon[,alt_m]"),
        azimuth_min: float = typer.Option(0.0, "--azimuth-min", help="Earth-relative launch "
                                          "azimuth sector start (deg, clockwise)"),
        azimuth_max: float = typer.Option(360.0, "--azimuth-max", help="sector end (deg)"),
        altitude_km: float = typer.Option(500.0, "--altitude-km", help="Orbit altitude for "
                                          "the SSO check and the ascent tracks"),
        minutes: float = typer.Option(10.0, "--minutes", help="Ascent track length"),
        step_deg: float = typer.Option(15.0, "--step-deg", help="Azimuth step of the tracks"),
        countries: str | None = typer.Option(None, "--countries", help=COUNTRIES_HELP),
        sites: str | None = SitesOption,
        format: Format = FormatOption,
    ):
        """Inclinations reachable by direct ascent, sun-synchronous feasibility, and the
        countries under each azimuth's ascent ground track."""
        def body():
            from .. import launches as L
            from ..zones import ZoneSet
            _positive("--altitude-km", altitude_km, "km")
            _positive("--minutes", minutes, "minutes")
            _positive("--step-deg", step_deg, "degrees")
            _finite("--azimuth-min", azimuth_min, "an azimuth in degrees")
            _finite("--azimuth-max", azimuth_max, "an azimuth in degrees")
            s = _site(site, sites)
            r = L.reach(s.lat_deg, s.lon_deg, azimuth_min, azimuth_max,
                        altitude_km=altitude_km, site_name=s.code or s.name)
            span = (azimuth_max - azimuth_min) if azimuth_max - azimuth_min >= 360 else \
                (azimuth_max - azimuth_min) % 360.0
            n = max(1, int(np.floor(span / step_deg + 1e-9)) + (0 if span >= 360 else 1))
            azs = (azimuth_min + step_deg * np.arange(n)) % 360.0
            lat, lon, _ = L.ascent_tracks(s.lat_deg, s.lon_deg, azs, minutes,
                                          altitude_km=altitude_km)
            path = Path(countries) if countries else default_countries_path()
            zs = ZoneSet(_read_zone_file(path, kind="country")) if path else None
            tracks = []
            for k, az in enumerate(azs):
                az_i = float(L.inertial_azimuth_deg(az, s.lat_deg, altitude_km))
                crossed = [zs.zones[j].name for j in zs.crossed_by(lat[k], lon[k])] \
                    if zs is not None else None
                tracks.append({"azimuth_deg": float(az), "inclination_deg": float(
                    L.inclination_for_azimuth_deg(s.lat_deg, az_i)),
                    "countries": crossed, "end_lat_deg": float(lat[k, -1]),
                    "end_lon_deg": float(lon[k, -1])})
            r["tracks"] = tracks
            r["countries_source"] = str(path) if path else None
            r["track_minutes"] = minutes
            if format == Format.json:
                emit([], format, document=r)
                return
            if format == Format.table:
                emit([{"item": k, "value": v} for k, v in r.items() if k != "tracks"],
                     format, title=f"reach from {s.name} ({s.code})")
            emit(tracks, format, columns=["azimuth_deg", "inclination_deg", "countries",
                                          "end_lat_deg", "end_lon_deg"],
                 title=f"ascent ground tracks, first {minutes:g} min" +
                 ("" if path else " (no country polygons: pass --countries FILE)"))
        run_guarded(body)

    @launch.command("windows")
    def windows_cmd(
        site: str = typer.Argument(..., help="Site code or name, or lat,lon[,alt_m]"),
        target: str | None = typer.Option(None, "--target", help="NORAD id or name of "
                                             "the object whose plane to launch into"),
        raan: float | None = typer.Option(None, "--raan", help="Target RAAN (deg, TEME) "
                                             "at --start"),
        inclination: float | None = typer.Option(None, "--inclination", help="Target "
                                                    "inclination (deg)"),
        altitude_km: float = typer.Option(500.0, "--altitude-km", help="Target altitude for "
                                          "--raan/--inclination (nodal drift, azimuth)"),
        start: str | None = typer.Option(None, "--start", help="UTC start; default now"),
        days: float = typer.Option(2.0, "--days", help="Search span"),
        catalog: str | None = CatalogOption,
        sites: str | None = SitesOption,
        format: Format = FormatOption,
    ):
        """When the site passes through a target orbital plane (ascending and descending
        launches), with the launch azimuths."""
        def body():
            from .. import launches as L
            _positive("--days", days, "days")
            _positive("--altitude-km", altitude_km, "km")
            _finite("--raan", raan, "the target's RAAN in degrees")
            s = _site(site, sites)
            t0 = parse_time(start)
            if target is not None:
                cat = resolve_catalog(catalog).select([target])
                plane = L.Plane.from_elements(list(cat))
            elif raan is not None and inclination is not None:
                plane = L.Plane.from_angles(raan, inclination, t0, altitude_km)
            else:
                raise SatwatchError("give --target NORAD_ID, or both --raan and --inclination")
            for j in range(len(plane)):
                L.launch_azimuth(s.lat_deg, float(plane.inclination_deg[j]),
                                 site_name=s.code or s.name)
            wins = L.launch_windows(s, plane, t0, t0 + days * 86400.0)
            emit(wins, format, columns=["target", "time", "kind", "azimuth_relative_deg",
                                        "azimuth_inertial_deg", "raan_deg", "inclination_deg"],
                 title=f"launch windows from {s.name}")
        run_guarded(body)

    @launch.command("identify")
    def identify_cmd(
        site: str = typer.Argument(..., help="Site code or name, or lat,lon[,alt_m]"),
        time: str = typer.Argument(..., help="Launch time, UTC ISO-8601; a date alone "
                                   "(YYYY-MM-DD) searches that whole day (its middle "
                                   "+- 12 h)"),
        uncertainty_s: float = typer.Option(60.0, "--uncertainty-s", help="Launch time "
                                            "uncertainty (s); at least 12 h for a date "
                                            "alone"),
        max_age_days: float = typer.Option(7.0, "--max-age-days", help="Element sets older "
                                           "than this after launch count less"),
        top: int = typer.Option(15, "--top", help="How many candidates to show"),
        catalog: str | None = CatalogOption,
        sites: str | None = SitesOption,
        format: Format = FormatOption,
    ):
        """Rank the catalog's objects by how well they fit a launch from SITE at TIME."""
        def body():
            from .. import launches as L
            if top < 1:
                raise SatwatchError(f"--top {top}: give 1 or more")
            if not uncertainty_s >= 0:
                raise SatwatchError(f"--uncertainty-s {uncertainty_s:g}: give 0 or more "
                                    "seconds")
            _positive("--max-age-days", max_age_days, "days")
            s = _site(site, sites)
            t_launch, t_unc = parse_time(time), uncertainty_s
            if _DATE_ONLY.match(time):
                # a day without a time of day: its middle +- 12 h, as 'event
                # import' reads a date alone (not midnight +- a minute)
                t_launch, t_unc = t_launch + DAY_S / 2, max(uncertainty_s, DAY_S / 2)
                typer.secho(f"note: {time} gives no time of day: searching the whole day "
                            f"({t_launch.iso(0)} +- {t_unc / 3600:g} h); give "
                            f"{time}THH:MMZ for a sharper ranking", err=True)
            cat = resolve_catalog(catalog)
            ranked = L.identify(cat, s, t_launch, time_uncertainty_s=t_unc,
                                max_age_days=max_age_days, top=top)
            rows = [c.as_dict() for c in ranked]
            emit(rows, format, columns=["norad_id", "name", "intl_designator", "score",
                                        "plane_angle_deg", "plane_time_offset_s", "phase_deg",
                                        "epoch_age_days", "inclination_deg"] +
                 (["reasons"] if format != Format.table else []),
                 title=f"objects consistent with a launch from {s.name} at "
                       f"{t_launch.iso(0)} +- {t_unc:g} s "
                       f"({getattr(cat, 'source', '')})")
            if format == Format.table and ranked:
                sys.stdout.write("best: " + "; ".join(ranked[0].reasons) + "\n")
        run_guarded(body)

    # -- reported events ---------------------------------------------------------

    def _store(db, reading: bool = True):
        from .store import open_db
        return open_db(db, reading=reading)

    @event.command("import")
    def import_cmd(
        file: Path = typer.Argument(..., help="CSV, JSON, or the CNS test.en.json (with "
                                    "facility.en.json and missile.en.json beside it)"),
        sites: str | None = SitesOption,
        db: str | None = DbOption,
        format: Format = FormatOption,
    ):
        """Import reported launches and missile flights into the store (unknown values
        are kept and flagged; re-importing an event id replaces it).  Site codes are
        your own sites (--sites FILE, else sites.yaml ... in the data folder) or the
        built-in ones."""
        def body():
            from ..launch_store import save_events
            from ..reported_events import read_events_file
            from .passes import _user_sites
            events = read_events_file(file, extra_sites=_user_sites(sites))
            with _store(db, reading=False) as store:
                counts = save_events(store, events)
            flagged = sum(1 for e in events if e.flags)
            summary = {"file": str(file), "events": len(events), **counts,
                       "with_unknowns": flagged,
                       "analyzable": sum(1 for e in events if e.analyzable)}
            emit([summary], format, document=summary, title="imported")
        run_guarded(body)

    @event.command("list")
    def list_cmd(
        site: str | None = typer.Option(None, "--site", help="Only this site code (any "
                                           "case: SUNAN as 'satwatch sites' writes it, or "
                                           "sunan as the CNS data does)"),
        db: str | None = DbOption,
        format: Format = FormatOption,
    ):
        """The logged events, oldest first."""
        def body():
            from ..launch_store import load_events
            with _store(db) as store:
                events = load_events(store)
            if site is not None:
                codes = sorted({e.site_code for e in events if e.site_code})
                events = [e for e in events if (e.site_code or "").lower() == site.lower()]
                if not events:
                    import difflib
                    near = difflib.get_close_matches(site.lower(), codes, n=5, cutoff=0.6)
                    raise SatwatchError(f"no event logged at site {site!r}"
                                        + (f" (closest: {', '.join(near)})" if near else "")
                                        + f"; the log has {len(codes)} site codes: "
                                        + ", ".join(codes[:12])
                                        + (" ..." if len(codes) > 12 else ""))
            rows = [e.as_dict() for e in events]
            emit(rows, format, columns=["event_id", "time_utc", "time_uncertainty_s", "kind",
                                        "vehicle", "site_code", "range_km", "apogee_km",
                                        "bearing_deg", "outcome", "flags"],
                 title=f"{len(rows)} reported events")
        run_guarded(body)

    @event.command("analyze")
    def analyze_cmd(
        event_ids: list[str] | None = typer.Argument(None, help="Event ids in the store "
                                                        "(or 'all')"),
        site: str | None = typer.Option(None, "--site", help="Launch site (instead of "
                                           "an event id)"),
        range_km: float | None = typer.Option(None, "--range-km", help="Reported range"),
        apogee_km: float | None = typer.Option(None, "--apogee-km", help="Reported apogee "
                                                  "(default: a minimum-energy arc)"),
        bearing_deg: float | None = typer.Option(None, "--bearing-deg", help="Bearing of "
                                                    "the impact point (default: unknown, "
                                                    "gives the ring of possible impacts)"),
        zones: list[str] | None = typer.Option(None, "--zones", help="Zone files "
                                                  "(GeoJSON/TopoJSON), FILE or LABEL=FILE; "
                                                  "repeat"),
        events_file: Path | None = typer.Option(None, "--events", help="Read the events "
                                                   "from this file instead of the store"),
        sites: str | None = SitesOption,
        db: str | None = DbOption,
        format: str = typer.Option("table", "--format", "-f",
                                   help="table, json, csv or geojson",
                                   metavar="<table|json|csv|geojson>"),
    ):
        """What a reported flight implies: the Keplerian arc over the rotating Earth,
        flight time, burnout speed and angle, minimum-energy range, impact point (or ring)
        and the zones it falls in."""
        def body():
            from ..reported_events import analyze, analyze_events, read_events_file
            from ..zones import ZoneSet
            if format not in ("table", "json", "csv", "geojson"):
                raise SatwatchError(f"--format {format!r}: use table, json, csv or geojson")
            zs = ZoneSet(_zone_args(zones)) if zones else None
            if event_ids:
                if events_file is not None:
                    from .passes import _user_sites
                    pool = read_events_file(events_file, extra_sites=_user_sites(sites))
                else:
                    from ..launch_store import load_events
                    with _store(db) as store:
                        pool = load_events(store)
                by_id = {e.event_id: e for e in pool}
                if event_ids == ["all"]:
                    chosen = [e for e in pool if e.analyzable]
                    left = [e.event_id for e in pool if not e.analyzable]
                    if left:                     # said, not dropped in silence
                        typer.secho(f"note: {len(left)} of {len(pool)} events have no site "
                                    "or no range and are not analysed: "
                                    + ", ".join(left[:5]) + (" ..." if len(left) > 5 else ""),
                                    fg="yellow", err=True)
                else:
                    missing = [i for i in event_ids if i not in by_id]
                    if missing:
                        raise SatwatchError(f"no event {', '.join(missing)} "
                                            "(see 'satwatch event list')")
                    chosen = [by_id[i] for i in event_ids]
                from .output import progress
                with progress("analysing", total=len(chosen),
                              enabled=len(chosen) > 5) as advance:
                    results = analyze_events(chosen, zs, advance=advance)
            else:
                if site is None or range_km is None:
                    raise SatwatchError("give EVENT_ID, or --site and --range-km")
                _positive("--range-km", range_km, "km")
                if apogee_km is not None:
                    _positive("--apogee-km", apogee_km, "km")
                _finite("--bearing-deg", bearing_deg, "a bearing in degrees, or leave it out "
                        "for the ring of possible impacts")
                s = _site(site, sites)
                r = analyze(s.lat_deg, s.lon_deg, range_km, apogee_km, bearing_deg, zones=zs)
                r = {"event_id": None, "site": s.code, "site_name": s.name, **r}
                results = [r]
            _emit_analysis(results, format, zs)
        run_guarded(body)
