"""Service commands: ``serve`` (the REST API and the page) and ``watch``
(evaluate watch rules after every catalog update and deliver the alerts)."""
from __future__ import annotations

import hashlib
import logging
import os
import time as _time
from typing import List, Optional

import typer

from ..errors import SourceError
from .common import (CATALOG_HELP, data_dir, get_cache, latest_download, parse_time,
                     run_guarded)
from .output import Format, emit
from .passes import SitesOption, _user_sites

FormatOption = typer.Option(Format.table, "--format", "-f", help="table, json or csv")
DbOption = typer.Option(None, "--db", help="Database URL (sqlite:///FILE or "
                        "postgresql+psycopg://...; default: $SATWATCH_DB, else satwatch.db "
                        "in the user data directory: the store the store commands use)")
CatalogOpt = typer.Option(None, "--catalog", "-c", help=CATALOG_HELP)


def default_db_url() -> str:
    """The store's default (``$SATWATCH_DB``, else satwatch.db in the data
    directory): one database for ingest/history/maneuvers/event and for the
    service and the watcher, so that what one stores the others read."""
    from .store import resolve_db
    url = resolve_db(None)
    if not os.environ.get("SATWATCH_DB"):
        data_dir().mkdir(parents=True, exist_ok=True)
    return url


def api_tokens_from_env() -> list[str]:
    """``SATWATCH_API_TOKENS``: comma-separated bearer tokens allowed to write."""
    raw = os.environ.get("SATWATCH_API_TOKENS", "")
    return [t.strip() for t in raw.split(",") if t.strip()]


def catalog_source(source: str | None) -> str | None:
    """The given source, else the last 'satwatch update', else None."""
    if source is not None:
        return source
    latest = get_cache().latest()
    return latest["path"] if latest else None


def register(app: typer.Typer):
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on"),
        port: int = typer.Option(8000, "--port", help="TCP port"),
        db: Optional[str] = DbOption,
        catalog: Optional[str] = CatalogOpt,
        events: Optional[str] = typer.Option(None, "--events", help="Reported events to "
                                             "serve: a CNS folder (test.en.json, ...) or a "
                                             "CSV/JSON file in satwatch's event schema"),
        zones: List[str] = typer.Option([], "--zones", help="Zone file (TopoJSON/GeoJSON: "
                                        "economic zones, countries) for event analysis; "
                                        "repeat for several"),
        now: Optional[str] = typer.Option(None, "--now", help="Replay: the service's clock "
                                          "starts at this UTC time and runs at real speed "
                                          "(for a catalog of the past)"),
        log_level: str = typer.Option("info", "--log-level", help="uvicorn's log level"),
        sites_file: Optional[str] = SitesOption,
        get: Optional[str] = typer.Option(None, "--get", help="Answer one GET request "
                                          "in-process (e.g. /api/v1/catalog), print the "
                                          "body and exit (non-zero on an error status)"),
    ):
        """Serve the REST API (OpenAPI at /openapi.json) and the page at /.
        Write endpoints need a token from SATWATCH_API_TOKENS."""
        def body():
            import uvicorn

            from ..web import Settings, create_app
            if not 1 <= port <= 65535:       # uvicorn said it ran on :99999
                raise SourceError(f"--port {port}: give a TCP port from 1 to 65535")
            tokens = api_tokens_from_env()
            source = catalog_source(catalog)
            if source is None:
                typer.secho("warning: no catalog (pass --catalog FILE or run 'satwatch "
                            "update'): the API serves an empty catalog", fg="yellow", err=True)
            if not tokens:
                typer.secho("note: SATWATCH_API_TOKENS is not set: write endpoints (rules, "
                            "events, ingest) are refused", fg="yellow", err=True)
            for path in [events, *zones]:
                if path and not os.path.exists(path):
                    raise SourceError(f"{path}: no such file or directory")
            clock = None
            if now is not None:
                offset = parse_time(now).ns - _time.time_ns()
                clock = lambda: _time.time_ns() + offset      # noqa: E731
            settings = Settings(db_url=db or default_db_url(), catalog_source=source,
                                api_tokens=tokens, events_source=events,
                                zones_paths=list(zones), clock_ns=clock,
                                sites=_user_sites(sites_file))
            app_ = create_app(settings)
            if get is not None:
                import warnings
                with warnings.catch_warnings():
                    # the test client's own deprecation notice is not the user's business
                    warnings.filterwarnings("ignore", message=".*starlette.testclient")
                    from fastapi.testclient import TestClient
                with TestClient(app_) as client:
                    response = client.get(get)
                typer.echo(response.text)
                if response.status_code >= 400:
                    raise typer.Exit(1)
                return
            uvicorn.run(app_, host=host, port=port, log_level=log_level)
        run_guarded(body)

    @app.command()
    def watch(
        db: Optional[str] = DbOption,
        catalog: Optional[str] = CatalogOpt,
        once: bool = typer.Option(False, "--once", help="Process the current catalog once "
                                  "(and retry pending deliveries), then exit"),
        interval_s: float = typer.Option(300.0, "--interval", min=1.0,
                                         help="Seconds between looks at the catalog source"),
        window_h: float = typer.Option(24.0, "--window-h", min=0.0, max=24.0 * 14,
                                       help="Hours ahead searched for passes"),
        step_s: float = typer.Option(30.0, "--step", min=1.0, help="Pass search step (s)"),
        at: Optional[str] = typer.Option(None, "--at", help="Start of the pass window "
                                         "(UTC ISO-8601); default now"),
        smtp: Optional[str] = typer.Option(None, "--smtp", help="SMTP server HOST:PORT for "
                                           "e-mail alerts"),
        smtp_from: str = typer.Option("satwatch@localhost", "--smtp-from",
                                      help="Sender address of e-mail alerts"),
        format: Format = FormatOption,
    ):
        """Evaluate the watch rules after every catalog update and deliver each
        alert exactly once (webhooks, e-mail, the page's feed)."""
        def body():
            from ..alerts import AlertStore, deliver_pending
            logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
            smtp_config = _smtp(smtp, smtp_from)
            store = AlertStore.open(db or default_db_url())
            clock = (lambda: parse_time(at).ns) if at else _time.time_ns
            try:
                while True:
                    row = _one_round(store, catalog, clock, window_h, step_s, smtp_config)
                    if row is None:
                        counts = deliver_pending(store, now_ns=clock, smtp=smtp_config)
                        row = {"update": "none", "stored_sets": 0, "new_objects": 0,
                               "maneuvers": 0, "new_alerts": 0,
                               "delivered": counts["sent"], "pending": counts["pending"],
                               "failed": counts["failed"], "warnings": []}
                    quiet = row["update"] == "none" and not (row["delivered"] or row["failed"])
                    if once or not quiet:          # a loop reports only what happened
                        emit([row], format, title="watch")
                    if once:
                        break
                    _time.sleep(interval_s)
            finally:
                store.close()
        run_guarded(body)


def _smtp(text: str | None, sender: str):
    from ..alerts import SmtpConfig
    if not text:
        return None
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise SourceError(f"--smtp {text!r}: give HOST:PORT, e.g. 127.0.0.1:25")
    return SmtpConfig(host=host, port=int(port), sender=sender)


def _one_round(store, source, clock, window_h, step_s, smtp):
    """Process the catalog source if it changed since the last processed
    update (SHA-256 of its text, kept in the database); None if unchanged."""
    from ..alerts import process_update
    from ..catalog import Catalog
    from ..elements import parse_elements
    from ..sources.loading import read_source_texts
    src = catalog_source(source)
    if src is None:
        raise SourceError("no catalog: pass --catalog FILE|DIR|URL or run 'satwatch update'")
    texts = read_source_texts(src, cache=get_cache())
    if source is None:                   # the last update: its sets are named by its URL
        src = latest_download()[1]
        texts = [(src, text) for _, text in texts]
    digest = hashlib.sha256()
    for name, text in texts:
        digest.update(text.encode())
    fingerprint = digest.hexdigest()
    if store.get_state("last_update_sha256") == fingerprint:
        return None
    sets, rejections = [], []
    for name, text in texts:
        s, r = parse_elements(text, source=name)
        sets.extend(s)
        rejections.extend(r)
    catalog = Catalog.from_element_sets(sets, rejections, source=src)
    report = process_update(store, catalog, now_ns=clock, window_s=window_h * 3600.0,
                            step_s=step_s, smtp=smtp, element_sets=sets)
    store.set_state("last_update_sha256", fingerprint)
    d = report.deliveries
    for w in report.warnings:
        typer.secho(f"warning: {w['message']}", fg="yellow", err=True)
    return {"update": fingerprint[:12], "stored_sets": report.stored_sets,
            "new_objects": report.new_objects, "maneuvers": report.maneuvers,
            "new_alerts": report.new_alerts, "delivered": d["sent"], "pending": d["pending"],
            "failed": d["failed"], "warnings": [w["message"] for w in report.warnings]}
