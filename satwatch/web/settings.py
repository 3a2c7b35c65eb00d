"""What the service is configured with: where its data comes from, who may
write, and how much work one request may ask for.

Nothing here reads the environment: the CLI (``satwatch serve``) builds a
:class:`Settings` from its options and ``SATWATCH_API_TOKENS``; tests build one
directly.
"""
from __future__ import annotations

from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Bounds on one request's work.  A request over any of them gets a 4xx
    with a message naming the limit (never an out-of-memory)."""

    model_config = ConfigDict(frozen=True)

    max_body_bytes: int = Field(2_000_000, description="largest request body accepted")
    max_objects: int = Field(2_000, description="objects in one positions request")
    max_samples: int = Field(200_000, description="objects x time steps in one track request")
    max_track_span_s: float = Field(2 * 86_400.0, description="longest ground-track span")
    max_pass_span_s: float = Field(14 * 86_400.0, description="longest pass-prediction span")
    max_pass_object_days: float = Field(2_000.0, description="objects x days in one pass request")
    max_conjunction_object_days: float = Field(
        5_000.0, description="objects screened x days in one conjunction request")
    max_page: int = Field(500, description="largest page of a list")
    max_rules: int = Field(1_000, description="watch rules kept")


class Settings(BaseModel):
    """The service's configuration.

    ``catalog_source`` is anything :func:`satwatch.load_catalog` reads (a file,
    directory or URL); ``catalog`` lets a caller hand in a catalog already in
    memory (tests, benchmarks).  ``db_url`` is a SQLAlchemy URL (SQLite or
    PostgreSQL) for rules, alerts and the store.  ``api_tokens``: bearer tokens
    allowed to write; with none, every write endpoint is refused.
    ``events_source``: reported events to serve (a folder holding the CNS
    ``test.en.json``/``facility.en.json``/``missile.en.json``, or a CSV/JSON
    file in satwatch's event schema); ``zones_paths``: TopoJSON/GeoJSON zone
    files (economic zones, countries) for event analysis.
    ``clock_ns`` returns "now" as UTC ns (the face reads the clock, the core
    never does).  ``sites``: the user's own sites (:class:`satwatch.sites.Site`,
    ``satwatch serve --sites FILE``), listed and looked up before the
    built-in ones, as the CLI's ``--sites`` does.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    db_url: str = "sqlite:///satwatch.sqlite"
    catalog_source: str | None = None
    catalog: Any = None
    api_tokens: list[str] = Field(default_factory=list)
    limits: Limits = Field(default_factory=Limits)
    static_dir: str | None = None
    events_source: str | None = None
    zones_paths: list[str] = Field(default_factory=list)
    clock_ns: Callable[[], int] | None = None
    sites: list[Any] = Field(default_factory=list)
    title: str = "satwatch"
