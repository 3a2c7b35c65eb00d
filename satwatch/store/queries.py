"""Reads from the store: element-set history, the catalog as of a time, the set
nearest in epoch, object metadata, and history arrays for the detectors.

All statements are SQLAlchemy Core expressions (bound parameters, never SQL
built from strings).
"""
from __future__ import annotations

import fnmatch
from typing import Iterable, Iterator

import numpy as np
from sqlalchemy import Connection, and_, func, select

from ..elements import ElementSet, catalog_number
from . import schema

_ES = schema.element_sets
_OBJ = schema.objects
_SET_FIELDS = ("norad_id", "epoch_ns") + schema.ELEMENT_COLUMNS + (
    "name", "intl_designator", "classification", "ephemeris_type", "element_set_no",
    "rev_at_epoch", "source_text", "source")


def row_to_element_set(row) -> ElementSet:
    m = row._mapping
    return ElementSet(**{k: m[k] for k in _SET_FIELDS})


def _set_columns():
    return [_ES.c[k] for k in _SET_FIELDS]


def element_sets(conn: Connection, norad_id: int, start_ns: int | None = None,
                 end_ns: int | None = None) -> list[ElementSet]:
    q = select(*_set_columns()).where(_ES.c.norad_id == int(norad_id))
    if start_ns is not None:
        q = q.where(_ES.c.epoch_ns >= int(start_ns))
    if end_ns is not None:
        q = q.where(_ES.c.epoch_ns <= int(end_ns))
    q = q.order_by(_ES.c.epoch_ns, _ES.c.id)
    return [row_to_element_set(r) for r in conn.execute(q)]


def nearest(conn: Connection, norad_id: int, time_ns: int) -> ElementSet | None:
    """The element set of ``norad_id`` nearest in epoch to ``time_ns`` (the
    earlier one on a tie)."""
    cols = _set_columns()
    before = conn.execute(select(*cols).where(_ES.c.norad_id == int(norad_id),
                                              _ES.c.epoch_ns <= int(time_ns))
                          .order_by(_ES.c.epoch_ns.desc(), _ES.c.id.desc()).limit(1)).first()
    after = conn.execute(select(*cols).where(_ES.c.norad_id == int(norad_id),
                                             _ES.c.epoch_ns > int(time_ns))
                         .order_by(_ES.c.epoch_ns, _ES.c.id).limit(1)).first()
    if before is None and after is None:
        return None
    if after is None:
        return row_to_element_set(before)
    if before is None:
        return row_to_element_set(after)
    db = int(time_ns) - before._mapping["epoch_ns"]
    da = after._mapping["epoch_ns"] - int(time_ns)
    return row_to_element_set(before if db <= da else after)


def latest_sets(conn: Connection, at_ns: int | None = None,
                norad_ids: Iterable[int] | None = None) -> list[ElementSet]:
    """For each object, its newest element set with epoch <= ``at_ns`` (all
    epochs when None); one per object, ordered by NORAD id."""
    inner = select(_ES.c.norad_id.label("nid"), func.max(_ES.c.epoch_ns).label("ep"))
    if at_ns is not None:
        inner = inner.where(_ES.c.epoch_ns <= int(at_ns))
    if norad_ids is not None:
        inner = inner.where(_ES.c.norad_id.in_([int(n) for n in norad_ids]))
    inner = inner.group_by(_ES.c.norad_id).subquery()
    q = (select(*_set_columns()).join(inner, and_(_ES.c.norad_id == inner.c.nid,
                                                  _ES.c.epoch_ns == inner.c.ep))
         .order_by(_ES.c.norad_id, _ES.c.id))
    out: dict[int, ElementSet] = {}
    for r in conn.execute(q):
        out[r._mapping["norad_id"]] = row_to_element_set(r)   # last (highest id) wins
    return list(out.values())


def history_arrays(conn: Connection, norad_ids: Iterable[int] | None = None,
                   since_ns: int | None = None, until_ns: int | None = None,
                   last: int | None = None) -> Iterator[tuple[int, dict]]:
    """``(norad_id, {column: array})`` per object, sorted by epoch, from one
    query: the arrays the detectors in :mod:`satwatch.maneuvers` take.
    ``since_ns`` keeps sets from that epoch on, ``until_ns`` up to it;
    ``last`` keeps each object's newest ``last`` sets of those, however old
    (a window per object, not one span of time that hides objects whose
    sets stopped before it)."""
    cols = ("norad_id", "epoch_ns") + schema.ELEMENT_COLUMNS
    q = select(*[_ES.c[c] for c in cols], _ES.c.id)
    if norad_ids is not None:
        q = q.where(_ES.c.norad_id.in_([int(n) for n in norad_ids]))
    if since_ns is not None:
        q = q.where(_ES.c.epoch_ns >= int(since_ns))
    if until_ns is not None:
        q = q.where(_ES.c.epoch_ns <= int(until_ns))
    if last is not None:
        if int(last) < 1:
            raise ValueError(f"last={last}: give at least 1 element set per object")
        rank = func.row_number().over(partition_by=_ES.c.norad_id,
                                      order_by=(_ES.c.epoch_ns.desc(), _ES.c.id.desc()))
        inner = q.add_columns(rank.label("rank_from_newest")).subquery()
        q = (select(*[inner.c[c] for c in cols], inner.c.id)
             .where(inner.c.rank_from_newest <= int(last)))
        src = inner.c
    else:
        src = _ES.c
    q = q.order_by(src.norad_id, src.epoch_ns, src.id)
    rows = conn.execute(q).all()
    if not rows:
        return
    data = np.array(rows, dtype=object)
    nid = data[:, 0].astype(np.int64)
    cut = np.flatnonzero(np.diff(nid)) + 1
    bounds = np.concatenate([[0], cut, [len(nid)]])
    epoch = data[:, 1].astype(np.int64)
    numbers = data[:, 2:-1].astype(np.float64)          # the last column is the row id
    for a, b in zip(bounds[:-1], bounds[1:]):
        arrays = {"epoch_ns": epoch[a:b]}
        for j, c in enumerate(schema.ELEMENT_COLUMNS):
            arrays[c] = numbers[a:b, j]
        yield int(nid[a]), arrays


def objects(conn: Connection, query: str | None = None,
            norad_ids: Iterable[int] | None = None) -> list[dict]:
    """Object metadata rows; ``query``: a NORAD id (digits, or Alpha-5 such
    as ``A0001`` = 100001, as TLE columns 3-7 write it), an exact name, or a
    name pattern (``*``/``?``, case-insensitive; a bare word matches names
    containing it)."""
    q = select(_OBJ).order_by(_OBJ.c.norad_id)
    if norad_ids is not None:
        q = q.where(_OBJ.c.norad_id.in_([int(n) for n in norad_ids]))
    number = catalog_number(query)
    if number is not None:
        q = q.where(_OBJ.c.norad_id == number)
        query = None
    rows = [dict(r._mapping) for r in conn.execute(q)]
    if query is None:
        return rows
    pat = query.strip().upper()
    exact = [r for r in rows if r["name"].upper() == pat]
    if exact:
        return exact
    if not any(c in pat for c in "*?["):
        pat = f"*{pat}*"
    return [r for r in rows if fnmatch.fnmatchcase(r["name"].upper(), pat)]


def counts(conn: Connection) -> dict:
    n_sets = conn.execute(select(func.count()).select_from(_ES)).scalar_one()
    n_obj = conn.execute(select(func.count()).select_from(_OBJ)).scalar_one()
    lo, hi = conn.execute(select(func.min(_ES.c.epoch_ns), func.max(_ES.c.epoch_ns))).one()
    return {"element_sets": n_sets, "objects": n_obj, "epoch_min_ns": lo, "epoch_max_ns": hi}
