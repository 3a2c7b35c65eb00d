"""The API's routers, one per capability; ``mount_all`` adds them all."""
from __future__ import annotations

from fastapi import FastAPI


def mount_all(app: FastAPI, prefix: str) -> None:
    from . import catalog, positions, service, watch
    for module in (service, catalog, positions, watch):
        app.include_router(module.router, prefix=prefix)
