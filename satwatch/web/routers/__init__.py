"""The API's routers, one per capability; ``mount_all`` adds them all."""
from __future__ import annotations

from fastapi import FastAPI


def mount_all(app: FastAPI, prefix: str) -> None:
    from . import (access, catalog, conjunctions, events, feed, launches, positions, service,
                   sites, watch)
    for module in (service, catalog, positions, sites, access, conjunctions, launches, events,
                   watch, feed):
        app.include_router(module.router, prefix=prefix)
