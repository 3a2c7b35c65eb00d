"""Commands: passes, access, sites, track."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import SatwatchError
from .common import (CatalogOption, data_dir, parse_time, resolve_catalog, run_guarded,
                     worker_count)
from .output import MAX_TABLE_ROWS, Format, console, emit, progress, to_json

FORMATS = ("table", "json", "csv")

SitesOption = typer.Option(None, "--sites", help="Extra sites: CSV, GeoJSON, YAML, TOML or "
                           "JSON file (default: sites.yaml in the satwatch data folder, if any)")


def _user_sites(path: Optional[str]):
    from ..sources.files import load_sites
    if path:
        return load_sites(path)
    for name in ("sites.yaml", "sites.yml", "sites.toml", "sites.csv", "sites.geojson"):
        p = data_dir() / name
        if p.exists():
            return load_sites(p)
    return []


def _window(start, end, hours):
    t0 = parse_time(start)
    if end is not None and hours is not None:
        raise SatwatchError("give --end or --hours, not both")
    if hours is not None and not hours > 0:
        raise SatwatchError(f"--hours {hours:g}: give a span longer than zero")
    t1 = parse_time(end) if end is not None else t0 + (24.0 if hours is None
                                                       else float(hours)) * 3600.0
    if int(t1.ns) <= int(t0.ns):
        raise SatwatchError(f"--end {t1.iso()} is not after --start {t0.iso()}")
    return t0, t1


def _catalog(catalog, sats):
    cat = resolve_catalog(catalog)
    if sats:
        cat = cat.select(sats)
    return cat


def _fmt(value: str, extra: tuple = ()) -> str:
    v = value.lower()
    allowed = tuple(FORMATS) + tuple(extra)
    if v not in allowed:
        raise SatwatchError(f"--format {value!r}: use {', '.join(allowed[:-1])} or "
                            f"{allowed[-1]}")
    return v


def _partial_label(row) -> str:
    """The table's word for a pass cut by the window: already up at its
    start (no rise_time), still up at its end (no set_time), or both."""
    up_start, up_end = bool(row.get("rise_partial")), bool(row.get("set_partial"))
    if up_start and up_end:
        return "up at start and end"
    return "up at start" if up_start else "up at end" if up_end else ""


def _ics_text(value) -> str:
    """An iCalendar TEXT value (RFC 5545 3.3.11): backslash, comma, semicolon
    and newline escaped."""
    return (str(value).replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _ics_fold(line: str) -> list[str]:
    """RFC 5545 3.1: content lines of at most 75 octets (UTF-8), continued
    after CRLF + one space; never inside a multi-octet character."""
    out, cur, size = [], "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > 75:
            out.append(cur)
            cur, size = " ", 1
        cur += ch
        size += n
    out.append(cur)
    return out


def passes_ics(rows) -> str:
    """An iCalendar file, one VEVENT per pass (window edges for partial ones)."""
    def stamp(iso):
        return iso.replace("-", "").replace(":", "").split(".")[0] + "Z"
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//satwatch//passes//EN"]
    for r in rows:
        start = r["rise_time"] or r["window_start"]
        end = r["set_time"] or r["window_end"]
        site = _ics_text(r["site"])
        event = ["BEGIN:VEVENT",
                 f"UID:{r['norad_id']}-{stamp(start)}-{site}@satwatch",
                 f"DTSTAMP:{stamp(r['culmination_time'])}",
                 f"DTSTART:{stamp(start)}", f"DTEND:{stamp(end)}",
                 f"SUMMARY:{_ics_text(r['name'])} ({r['norad_id']}) max "
                 f"{r['max_elevation_deg']:.0f} deg over {site}",
                 f"DESCRIPTION:culmination {r['culmination_time']} azimuth "
                 f"{r['culmination_azimuth_deg']:.0f} deg"
                 + (" (partial)" if r["rise_partial"] or r["set_partial"] else ""),
                 "END:VEVENT"]
        out += [part for line in event for part in _ics_fold(line)]
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


def _say_failed(cat, failed: dict, consequence: str) -> None:
    """One line on standard error naming the objects (catalog index -> code)
    that could not be propagated over (part of) the window, for every format."""
    if not failed:
        return
    sets = list(cat)
    ids = [str(sets[i].norad_id) for i in failed]
    console(stderr=True).print(
        f"{len(ids)} objects could not be propagated over (part of) the window "
        "(SGP4 error or an unphysical state: decayed or invalid element sets) "
        f"and {consequence}: {', '.join(ids[:20])}" + (" ..." if len(ids) > 20 else ""),
        highlight=False)


def register(app: typer.Typer):
    @app.command()
    def sites(
        kind: Optional[str] = typer.Option(None, "--kind", help="launch site, missile site, "
                                           "other"),
        sites_file: Optional[str] = SitesOption,
        format: str = typer.Option("table", "--format", "-f", help="table, json or csv",
                                   metavar="<table|json|csv>"),
    ):
        """List the built-in sites (with their sources) and your own."""
        def body():
            from ..sites import builtin_sites
            fmt = _fmt(format)
            allsites = _user_sites(sites_file) + builtin_sites()
            if kind:
                allsites = [s for s in allsites if s.kind == kind.lower()]
            rows = [s.as_dict() for s in allsites]
            emit(rows, Format(fmt), columns=["code", "name", "kind", "country", "lat_deg",
                                             "lon_deg", "alt_m", "source"],
                 title=f"{len(rows)} sites")
        run_guarded(body)

    @app.command()
    def passes(
        site: List[str] = typer.Argument(..., help="Site code or name (see 'satwatch sites'), "
                                         "or lat,lon[,alt_m]; several allowed"),
        start: Optional[str] = typer.Option(None, "--start", help="UTC start; default now"),
        end: Optional[str] = typer.Option(None, "--end", help="UTC end"),
        hours: Optional[float] = typer.Option(None, "--hours", help="Span in hours (default 24)"),
        min_elevation: float = typer.Option(10.0, "--min-elevation", help="Elevation mask, deg"),
        sat: Optional[List[str]] = typer.Option(None, "--sat", help="NORAD id, name or pattern "
                                                "('STARLINK*'); repeatable; default all"),
        catalog: Optional[str] = CatalogOption,
        visibility: bool = typer.Option(True, "--visibility/--no-visibility",
                                        help="Sunlit / dark-site / eclipse times per pass"),
        sites_file: Optional[str] = SitesOption,
        format: str = typer.Option("table", "--format", "-f", help="table, json, csv or ics",
                                   metavar="<table|json|csv|ics>"),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes that share "
                                              "the satellites (default: every CPU core)"),
    ):
        """Passes of every matching object over one or more sites: rise, culmination,
        set, partial flags at the window edges, visibility."""
        def body():
            from ..passes import find_passes, pass_order, pass_rows
            from ..sites import find_site
            fmt = _fmt(format, ("ics",))
            if not -90.0 <= min_elevation <= 90.0:
                raise SatwatchError(f"--min-elevation {min_elevation:g}: an elevation mask "
                                    "lies in [-90, 90] deg")
            extra = _user_sites(sites_file)
            chosen = [find_site(s, extra) for s in site]
            t0, t1 = _window(start, end, hours)
            cat = _catalog(catalog, sat)
            with progress(f"passes of {len(cat)} objects", total=None):
                p = find_passes(cat, chosen, t0, t1, min_elevation, visibility=visibility,
                                workers=worker_count(workers))
            order = pass_order(p, cat)
            # a table shows its first MAX_TABLE_ROWS rows: only those are built
            shown = order[:MAX_TABLE_ROWS] if fmt == "table" else order
            rows = pass_rows(p, cat, chosen, index=shown)
            if fmt == "ics":
                sys.stdout.write(passes_ics(rows))
            else:
                cols = ["norad_id", "name", "site", "rise_time", "culmination_time",
                        "max_elevation_deg", "culmination_azimuth_deg", "set_time",
                        "duration_s"]
                if visibility:
                    cols += ["visible", "sunlit", "site_dark"]
                if fmt == "table":
                    # the partial flags (docs/passes.md): a pass cut by the
                    # window has no rise or set time, and its "culmination"
                    # may be the window's edge
                    cols.insert(cols.index("duration_s") + 1, "partial")
                    for r in rows:
                        r["partial"] = _partial_label(r)
                more = len(order) - len(rows)
                # JSON and CSV carry every field of a pass (partial flags,
                # azimuths, visible stretch, eclipses); the table a selection
                emit(rows, Format(fmt), columns=cols if fmt == "table" else None, plain=True,
                     footer=(f"{more} more rows not shown (of {len(order)}): use --format "
                             "json or --format csv for all") if more else None,
                     title=f"{len(order)} passes over {', '.join(s.code for s in chosen)} "
                           f"{t0.iso(0)} .. {t1.iso(0)} (mask {min_elevation:g} deg; "
                           f"catalog {cat.source})")
            # every format, the calendar too: objects without passes because
            # they failed are named on standard error (docs/passes.md)
            _say_failed(cat, p.failed, "have no passes while they fail")
        run_guarded(body)

    @app.command()
    def access(
        target: Optional[List[str]] = typer.Argument(None, help="Site codes, names or "
                                                     "lat,lon[,alt_m]"),
        polygon: Optional[List[str]] = typer.Option(None, "--polygon", help="GeoJSON file of "
                                                    "points or polygons; repeatable"),
        max_off_nadir: Optional[float] = typer.Option(None, "--max-off-nadir",
                                                      help="Sensor limit, deg from nadir"),
        min_elevation: Optional[float] = typer.Option(None, "--min-elevation",
                                                      help="Seen from the target, deg"),
        min_sun_elevation: Optional[float] = typer.Option(None, "--min-sun-elevation",
                                                          help="Sun above the target's "
                                                          "horizon, deg (optical imaging)"),
        spacing_km: float = typer.Option(10.0, "--spacing-km", help="Polygon sampling"),
        start: Optional[str] = typer.Option(None, "--start", help="UTC start; default now"),
        end: Optional[str] = typer.Option(None, "--end", help="UTC end"),
        hours: Optional[float] = typer.Option(None, "--hours", help="Span in hours (default 24)"),
        sat: Optional[List[str]] = typer.Option(None, "--sat", help="NORAD id, name or pattern "
                                                "('STARLINK*'); repeatable; default all"),
        catalog: Optional[str] = CatalogOption,
        sites_file: Optional[str] = SitesOption,
        format: str = typer.Option("table", "--format", "-f", help="table, json or csv",
                                   metavar="<table|json|csv>"),
        workers: Optional[int] = typer.Option(None, "--workers", help="Processes that share "
                                              "the satellites (default: every CPU core)"),
    ):
        """Which satellites can image the targets and when, with revisit statistics."""
        def body():
            from ..access import access_rows, find_access, point_target, targets_from_geojson
            from ..sites import find_site
            fmt = _fmt(format)
            extra = _user_sites(sites_file)
            targets = [point_target(find_site(t, extra)) for t in (target or [])]
            for f in polygon or []:
                try:
                    text = Path(f).read_text(encoding="utf-8")
                except OSError as exc:
                    raise SatwatchError(f"{f}: cannot read: {exc.strerror}") from None
                targets += targets_from_geojson(text, f, spacing_km)
            if not targets:
                raise SatwatchError("give at least one TARGET or --polygon FILE")
            t0, t1 = _window(start, end, hours)
            cat = _catalog(catalog, sat)
            with progress(f"access of {len(cat)} objects", total=None):
                acc = find_access(cat, targets, t0, t1, max_off_nadir_deg=max_off_nadir,
                                  min_elevation_deg=min_elevation,
                                  min_sun_elevation_deg=min_sun_elevation,
                                  workers=worker_count(workers))
            _say_failed(cat, acc.failed,
                        "have no access windows while they fail (counted as gaps)")
            rows = access_rows(acc, cat)
            rows.sort(key=lambda r: (r["window_start"], r["norad_id"]))
            revisit = [{"target": t.name, **st} for t, st in zip(targets, acc.revisit)]
            if fmt == "json":
                emit([], Format.json, document={
                    "window_start": t0.iso(3), "window_end": t1.iso(3),
                    "catalog": cat.source, "max_off_nadir_deg": max_off_nadir,
                    "min_elevation_deg": min_elevation,
                    "min_sun_elevation_deg": min_sun_elevation,
                    "windows": rows, "revisit": revisit})
                return
            emit(rows, Format(fmt), columns=["target", "norad_id", "name", "start_time",
                                             "end_time", "duration_s"],
                 title=f"{len(rows)} access windows")
            if fmt == "table":
                emit(revisit, Format.table, title="revisit per target")
        run_guarded(body)

    @app.command()
    def track(
        sat: List[str] = typer.Argument(..., help="NORAD ids, names or patterns"),
        start: Optional[str] = typer.Option(None, "--start", help="UTC start; default now"),
        end: Optional[str] = typer.Option(None, "--end", help="UTC end"),
        hours: Optional[float] = typer.Option(None, "--hours", help="Span (default 1.5 h)"),
        step: float = typer.Option(30.0, "--step", help="Seconds between track points"),
        footprint_min_elevation: Optional[float] = typer.Option(
            None, "--footprint-min-elevation", help="Add the footprint (deg mask)"),
        footprint_max_off_nadir: Optional[float] = typer.Option(
            None, "--footprint-max-off-nadir", help="Add the sensor footprint (deg)"),
        catalog: Optional[str] = CatalogOption,
        output: Optional[str] = typer.Option(None, "--output", "-o", help="Write GeoJSON here"),
    ):
        """Ground tracks (and footprints) as GeoJSON."""
        def body():
            from ..time import utc_range
            from ..tracks import tracks_geojson
            t0, t1 = _window(start, end, hours if hours is not None or end else 1.5)
            cat = resolve_catalog(catalog).select(sat)
            times = utc_range(t0, t1, step)
            doc = tracks_geojson(cat, times,
                                 footprint_min_elevation_deg=footprint_min_elevation,
                                 footprint_max_off_nadir_deg=footprint_max_off_nadir)
            text = json.dumps(doc)
            if output:
                Path(output).write_text(text + "\n", encoding="utf-8")
                typer.echo(f"wrote {len(doc['features'])} features to {output}", err=True)
            else:
                sys.stdout.write(text + "\n")
        run_guarded(body)


del to_json
