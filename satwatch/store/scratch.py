"""Scratch PostgreSQL databases for tests and benchmarks: a new, empty
database with a random name on a server, dropped (forcibly) afterwards.

Not used by satwatch itself; tests/conftest.py and benchmarks/ingest.py share
it so that both create and drop databases the same way.
"""
from __future__ import annotations

import contextlib
import uuid
from typing import Iterator


@contextlib.contextmanager
def scratch_pg_database(admin_url: str, prefix: str = "satwatch_test_") -> Iterator[str]:
    """A new database named ``prefix`` + 12 random hex digits on the server of
    ``admin_url`` (a SQLAlchemy PostgreSQL URL whose user may create
    databases), yielded as a URL with its password; dropped on exit, even
    with connections still open."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url
    u = make_url(admin_url)
    name = prefix + uuid.uuid4().hex[:12]

    def admin():
        return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username,
                               password=u.password, dbname=u.database or "postgres",
                               autocommit=True)
    with admin() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield u.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
