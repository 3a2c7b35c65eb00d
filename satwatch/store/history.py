"""History-aware propagation: for an object and a time, propagate the element
set nearest in epoch (so a question about 2023-09-13 uses the sets from around
that date, not today's).

:func:`nearest_index` is pure (numpy ``searchsorted`` over the sorted epochs,
no loop over time); :func:`propagate_history` reads the history from a store
and propagates each time with its own set, all times at once.
"""
from __future__ import annotations

import numpy as np

from ..elements import ElementSet
import warnings

from ..errors import CatalogError, StaleElementsWarning
from ..propagation import STALE_AFTER_DAYS, States, satrec
from ..time import Time


def nearest_index(epochs_ns: np.ndarray, times_ns: np.ndarray) -> np.ndarray:
    """Index into sorted ``epochs_ns`` of the epoch nearest each time (the
    earlier one on a tie).  Same shape as ``times_ns``."""
    epochs_ns = np.asarray(epochs_ns, dtype=np.int64)
    times_ns = np.asarray(times_ns, dtype=np.int64)
    if epochs_ns.size == 0:
        raise ValueError("no epochs to choose from")
    hi = np.clip(np.searchsorted(epochs_ns, times_ns, side="left"), 0, epochs_ns.size - 1)
    lo = np.clip(hi - 1, 0, epochs_ns.size - 1)
    d_lo = np.abs(times_ns - epochs_ns[lo])
    d_hi = np.abs(epochs_ns[hi] - times_ns)
    return np.where(d_lo <= d_hi, lo, hi)


def propagate_sets_nearest(sets: list[ElementSet], times: Time) -> tuple[States, np.ndarray]:
    """Propagate one object to ``times`` using, for each time, the set of
    ``sets`` nearest in epoch.  Returns States shaped ``(3, 1, n_time)`` and the
    epoch (ns) used for each time."""
    if not sets:
        raise CatalogError("no element sets in the history: nothing to propagate")
    sets = sorted(sets, key=lambda es: es.epoch_ns)
    epochs = np.array([es.epoch_ns for es in sets], dtype=np.int64)
    t_ns = np.atleast_1d(times.ns).astype(np.int64)
    idx = nearest_index(epochs, t_ns)
    jd, fr = Time(t_ns).jd_utc()
    r = np.full((3, 1, t_ns.size), np.nan)
    v = np.full((3, 1, t_ns.size), np.nan)
    err = np.zeros((1, t_ns.size), dtype=np.uint8)
    # One SGP4 call per element set used (a loop over sets, not over times):
    # each set propagates only the times nearest its epoch.
    order = np.argsort(idx, kind="stable")
    cuts = np.flatnonzero(np.diff(idx[order])) + 1
    for group in np.split(order, cuts) if t_ns.size else []:
        sat = satrec(sets[int(idx[group[0]])])
        e, rr, vv = sat.sgp4_array(np.ascontiguousarray(jd[group]),
                                   np.ascontiguousarray(fr[group]))
        bad = e != 0
        rr[bad] = np.nan
        vv[bad] = np.nan
        r[:, 0, group] = rr.T
        v[:, 0, group] = vv.T
        err[0, group] = e
    out = States(r_teme_km=r, v_teme_km_s=v, error=err, times=Time(t_ns),
                 norad_ids=np.array([sets[0].norad_id]))
    worst_days = float(np.abs(t_ns - epochs[idx]).max(initial=0)) / 86400e9
    if worst_days > STALE_AFTER_DAYS:
        warnings.warn(StaleElementsWarning(
            f"NORAD {sets[0].norad_id}: the nearest element set is {worst_days:.0f} days from "
            f"a requested time; positions are good to many km at best (ingest sets nearer "
            f"that time)"), stacklevel=2)
    return out, epochs[idx]


def propagate_history(store, norad_id: int, times: Time, *, margin_days: float = 30.0):
    """Like :func:`propagate_sets_nearest` with the sets read from ``store``
    (only those within ``margin_days`` of the times, plus the nearest ones)."""
    t_ns = np.atleast_1d(times.ns).astype(np.int64)
    margin = int(margin_days * 86400e9)
    if t_ns.size:
        sets = store.element_sets(norad_id, start=Time(int(t_ns.min()) - margin),
                                  end=Time(int(t_ns.max()) + margin))
    else:                       # no times: no positions, if the object is there
        sets = [es for es in (store.nearest(norad_id, Time(0)),) if es is not None]
    # A time with no set within the margin may have its nearest set beyond
    # the window read above: the newest set before the window or the oldest
    # after it, which are the nearest sets of the earliest and of the latest
    # such time (an older set is farther than the newest from every later
    # time), so two questions to the store, not one per time.
    epochs = np.sort(np.array([es.epoch_ns for es in sets], dtype=np.int64))
    if len(epochs):
        near = np.abs(t_ns - epochs[nearest_index(epochs, t_ns)])
        far = np.unique(t_ns[near > margin])
    else:
        far = np.unique(t_ns)
    seen = {(es.epoch_ns, es.norad_id) for es in sets}
    for t in np.unique(far[[0, -1]]).tolist() if len(far) else []:
        es = store.nearest(norad_id, Time(int(t)))
        if es is not None and (es.epoch_ns, es.norad_id) not in seen:
            seen.add((es.epoch_ns, es.norad_id))
            sets.append(es)
    if not sets:
        raise CatalogError(f"no element sets of NORAD {norad_id} in the store: ingest some "
                           "first ('satwatch ingest FILE')")
    return propagate_sets_nearest(sets, times)
