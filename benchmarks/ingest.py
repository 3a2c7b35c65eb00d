"""Ingest and manoeuvre-scan throughput of the store.

Ingests ../shared/data/history/iss_25544_2020-2024.tle plus the full
2023-10-13 catalog (../shared/data/catalogs/full-3le-2023-10-13.txt) into a
fresh database, then scans every object's history for manoeuvres.  Prints
element sets per second for the ingest and the scan time, medians over
several runs, beside the baseline measured in the same run: parsing the same
texts without storing them (the floor any ingest must pay).  The last line
is the ratio ingest time / parse time.

    python benchmarks/ingest.py [--runs 3] [--pg postgresql+psycopg://...]
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from satwatch.elements import parse_elements
from satwatch.maneuvers import detect_maneuvers
from satwatch.sources import read_source_texts
from satwatch.store import open_store
from satwatch.store.scratch import scratch_pg_database

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SOURCES = [DATA / "history" / "iss_25544_2020-2024.tle",
           DATA / "catalogs" / "full-3le-2023-10-13.txt"]


def one_run(url: str, texts):
    t0 = time.perf_counter()
    for name, text in texts:
        parse_elements(text, source=name)
    t_parse = time.perf_counter() - t0
    store = open_store(url)
    t0 = time.perf_counter()
    report = store.ingest_texts(texts)
    t_ingest = time.perf_counter() - t0
    t0 = time.perf_counter()
    histories = store.history_arrays()
    t_load = time.perf_counter() - t0
    n_man = 0
    t0 = time.perf_counter()
    for nid, arrays in histories:
        n_man += len(detect_maneuvers(**arrays, norad_id=nid))
    t_scan = time.perf_counter() - t0
    store.close()
    return report, t_parse, t_ingest, t_load, t_scan, len(histories), n_man


def bench(label, make_db, texts, runs):
    """``make_db()``: a context manager yielding a fresh database's URL."""
    rows = []
    for _ in range(runs):
        with make_db() as url:
            rows.append(one_run(url, texts))
    report = rows[0][0]
    med = [statistics.median(r[i] for r in rows) for i in range(1, 5)]
    t_parse, t_ingest, t_load, t_scan = med
    print(f"[{label}] {report.read} element sets read, {report.stored} stored, "
          f"{rows[0][5]} objects")
    print(f"[{label}] ingest: median {t_ingest:.2f} s = {report.read / t_ingest:,.0f} element "
          f"sets/s (baseline, parse only: {t_parse:.2f} s = {report.read / t_parse:,.0f}/s)")
    print(f"[{label}] manoeuvre scan over all histories: load {t_load:.2f} s + detect "
          f"{t_scan:.2f} s = {t_load + t_scan:.2f} s, {rows[0][6]} manoeuvres")
    return t_ingest / t_parse


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pg", help="PostgreSQL admin URL: also benchmark a fresh database there")
    args = ap.parse_args(argv)
    texts = [t for src in SOURCES for t in read_source_texts(src)]
    tmp = Path(tempfile.mkdtemp(prefix="satwatch-bench-"))

    @contextlib.contextmanager
    def sqlite_db():
        path = tmp / f"{uuid.uuid4().hex}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for p in tmp.glob(path.name + "*"):
                p.unlink()

    print(f"ingest of {', '.join(p.name for p in SOURCES)}; medians of {args.runs} runs")
    ratio = bench("sqlite", sqlite_db, texts, args.runs)
    if args.pg:
        ratio_pg = bench("postgresql", lambda: scratch_pg_database(args.pg, "satwatch_bench_"),
                         texts, args.runs)
        print(f"ratio ingest / parse, postgresql: {ratio_pg:.2f}")
    print(f"ratio ingest / parse, sqlite: {ratio:.2f}")


if __name__ == "__main__":
    main()
