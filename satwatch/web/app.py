"""The service: one FastAPI app over every capability, with the page.

>>> from satwatch.web import create_app, Settings
>>> app = create_app(Settings(catalog=my_catalog))        # doctest: +SKIP

Routes live under ``/api/v1``; the page (built from ``src/`` into
``static/dist/`` by ``npm run build``) is served at ``/``; the OpenAPI schema
at ``/openapi.json``.
"""
from __future__ import annotations

import gc

import json
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from .errors import install as install_errors
from .settings import Settings
from .state import ServiceState

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).parent / "static" / "dist"


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (413 in the error envelope),
    whether or not the client sent a Content-Length."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    return await self._reply(send, 400, "bad_request",
                                             "Content-Length is not a number")
                if length > self.max_bytes:
                    return await self._reply(send, 413, "payload_too_large",
                                             f"request body of {length} bytes is over the "
                                             f"limit of {self.max_bytes} bytes")
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reply(send, 413, "payload_too_large",
                                  f"request body is over the limit of {self.max_bytes} bytes")

    @staticmethod
    async def _reply(send, status, code, message):
        body = json.dumps({"error": {"code": code, "message": message,
                                     "details": None}}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app.  The catalog is loaded once, at start-up."""
    settings = settings or Settings()
    state = ServiceState(settings)

    @asynccontextmanager
    async def lifespan(app):
        state.load()
        # The catalog is hundreds of thousands of long-lived objects; freezing
        # them keeps the garbage collector's full passes (tens of ms, which
        # showed as the p99 latency under load) from walking them again.
        gc.collect()
        gc.freeze()
        yield
        state.close()

    app = FastAPI(title=settings.title, version=_version(), lifespan=lifespan,
                  description="satwatch's REST API: catalog, positions, passes, access, "
                              "conjunctions, manoeuvres, launches and reported events, "
                              "watch rules and alerts.  Errors: "
                              '{"error": {"code", "message", "details"}}.  '
                              "Writes need 'Authorization: Bearer <token>'.")
    app.state.satwatch = state
    install_errors(app)
    from .routers import mount_all
    mount_all(app, API_PREFIX)

    static_dir = Path(settings.static_dir) if settings.static_dir else STATIC_DIR

    @app.get("/", include_in_schema=False)
    def index_page():
        index = static_dir / "index.html"
        if not index.is_file():
            return HTMLResponse(
                "<!doctype html><title>satwatch</title><p>The page is not built: run "
                "<code>npm ci && npm run build</code> in satwatch/web (scripts/setup.sh "
                "does).  The API is at <a href='/docs'>/docs</a>.</p>", status_code=503)
        return FileResponse(index)

    if static_dir.is_dir():
        app.mount("/static", StaticFiles(directory=static_dir), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.limits.max_body_bytes)
    return app


def _version() -> str:
    from .. import __version__
    return __version__
