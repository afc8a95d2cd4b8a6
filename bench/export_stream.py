"""Benchmark: the streaming export to disk against the in-memory export, speed and peak memory.

A synthetic graph of ``--interactions`` interactions (plus its concepts, hierarchy
and CO_ENGAGED links) is ingested into a fresh embedded database, or one loaded
by an earlier run is reused (``--data-dir DIR --reuse``). Then each method runs
in its own subprocess, so that the peak resident set size (``ru_maxrss`` of
that child, from ``os.wait4``) is the method's alone. The child resets its peak
(``/proc/self/clear_refs``) once imports and connection are done, since
importing torch alone peaks above a small export, and reports its peak from
there (VmHWM); "export added" is that peak minus the RSS at the reset:

- **baseline**: imports and a connection, nothing exported: the floor under both;
- **in_memory**: :func:`graphrec.export.export_graph`, the ``HeteroData`` in memory;
- **streaming**: :func:`graphrec.export.export_to_disk`, pages straight to files.

Rows/s counts interactions; "edges" counts every exported edge.

    python export_stream.py --interactions 100000
    python export_stream.py --interactions 1000000 --data-dir /tmp/g1m   # keeps the graph
    python export_stream.py --interactions 1000000 --data-dir /tmp/g1m --reuse
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import machine, save, today  # bench/_report.py (scripts run from bench/)
from _server import fresh_target  # bench/_server.py

from graphrec.graph.client import ConnectionTarget, GraphClient
from graphrec.graph.embedded import ArcadeDBServer, free_port

METHODS = ("baseline", "in_memory", "streaming")
#: The child reads the password from here, not from its command line (which `ps` shows).
PASSWORD_ENV = "BENCH_GRAPH_PASSWORD"


def _maxrss_mib(kib: int) -> float:
    return round(kib / 1024, 1)  # Linux reports ru_maxrss in KiB


def _status_mib(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) from ``/proc/self/status``, 0 where it is missing."""
    status = Path("/proc/self/status")
    for line in status.read_text().splitlines() if status.exists() else []:
        if line.startswith(f"{field}:"):
            return _maxrss_mib(int(line.split()[1]))
    return 0.0


def _reset_peak_rss() -> bool:
    """Start the peak RSS (VmHWM) afresh: Linux >= 4.0, else False.

    ``ru_maxrss`` is not reset with it once a thread has exited (the kernel keeps
    the peak it saw then), hence VmHWM for the export's own peak.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# -- in child processes ----------------------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    """Run ``args.child`` (``load`` or a method) and write its result as JSON to ``args.result``."""
    target = ConnectionTarget(
        uri=args.uri,
        user=args.user,
        password=os.environ[PASSWORD_ENV],
        database=args.database,
        embedded=True,
    )
    with GraphClient.open(target) as graph:
        result = load_graph(graph, args) if args.child == "load" else measure(graph, args)
    Path(args.result).write_text(json.dumps(result))


def load_graph(graph: GraphClient, args: argparse.Namespace) -> dict:
    """Ingest the synthetic graph (unless ``--reuse``); return its relationship counts."""
    from graphrec.ingest import derive_co_engagement, ingest
    from graphrec.loaders import parse

    timings: dict = {}
    if not args.reuse:
        rows = parse(
            "synthetic",
            None,
            users=args.users,
            items=args.items,
            interactions=args.interactions,
            seed=0,
        )
        start = time.perf_counter()
        ingest(graph, rows, batch_size=10_000, progress=False)
        timings["ingest_s"] = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        derive_co_engagement(graph, min_shared=3, top_k=20)
        timings["co_engagement_s"] = round(time.perf_counter() - start, 1)
    counts = {row["type"]: row["n"] for row in graph.read("graph/count_relationships")}
    return {"relationships": counts, **timings}


def measure(graph: GraphClient, args: argparse.Namespace) -> dict:
    """Run one export method; its time, edge counts and memory."""
    from graphrec.export import export_graph, export_to_disk, read_manifest

    result: dict = {"method": args.child}
    # Importing torch peaks higher than a small export: measure the export's peak alone.
    result["import_peak_rss_mib"] = _maxrss_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    result["peak_reset"] = _reset_peak_rss()
    result["rss_ready_mib"] = _status_mib("VmRSS")
    start = time.perf_counter()
    if args.child == "in_memory":
        data, _ = export_graph(graph, page_size=args.page_size, progress=False)
        counts = {t[1]: data[t].num_edges for t in data.edge_types}
    elif args.child == "streaming":
        folder = export_to_disk(graph, args.out, page_size=args.page_size)
        manifest = read_manifest(folder)
        counts = {store: manifest["counts"][store] for store in manifest["edges"]}
        result["disk_mib"] = round(sum(path.stat().st_size for path in folder.iterdir()) / 2**20, 1)
    else:
        counts = {}
    result["seconds"] = round(time.perf_counter() - start, 2)
    result["export_peak_rss_mib"] = _status_mib("VmHWM")
    result["interactions"] = counts.get("interacted", 0)
    result["edges"] = sum(counts.values())
    return result


# -- in the parent, which stays small: a child's ru_maxrss starts from its parent's -----------------
def run_child(method: str, target: ConnectionTarget, args: argparse.Namespace, work: Path) -> dict:
    """Run ``method`` in a child process; its result plus ``peak_rss_mib`` (its ru_maxrss).

    The kernel counts the parent's peak into a child's ``ru_maxrss`` (the memory
    it had before ``exec``), so the parent never loads the graph itself.
    """
    result_file = work / f"{method}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        method,
        "--result",
        str(result_file),
        "--uri",
        target.uri,
        "--user",
        target.user or "",
        "--database",
        target.database,
        "--page-size",
        str(args.page_size),
        "--out",
        str(work / "export"),
        *("--users", str(args.users), "--items", str(args.items)),
        *("--interactions", str(args.interactions)),
        *(["--reuse"] if args.reuse else []),
    ]
    env = {**os.environ, PASSWORD_ENV: target.password or ""}
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if process.returncode != 0:
        raise SystemExit(f"{method}: child exited with status {process.returncode}")
    result = json.loads(result_file.read_text())
    if method == "load":
        return result
    result["peak_rss_mib"] = _maxrss_mib(usage.ru_maxrss)  # the whole child, imports included
    result["export_rss_mib"] = round(result["export_peak_rss_mib"] - result["rss_ready_mib"], 1)
    if result["seconds"] and result["interactions"]:
        result["rows_per_s"] = round(result["interactions"] / result["seconds"])
        result["edges_per_s"] = round(result["edges"] / result["seconds"])
    shutil.rmtree(work / "export", ignore_errors=True)
    return result


def to_markdown(meta: dict, results: list[dict]) -> str:
    lines = [
        f"### streaming export ({meta['date']}, {meta['machine']}, {meta['server']})",
        "",
        f"`{meta['command']}`: {meta['graph']['relationships'].get('INTERACTED', 0):,} "
        f"interactions, {sum(meta['graph']['relationships'].values()):,} relationships; "
        "each method in its own process",
        "",
        "| method | interactions | edges | seconds | interactions/s | child peak RSS MiB | "
        "RSS before MiB | export peak RSS MiB | export added MiB | on disk MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['method']} | {r['interactions']:,} | {r['edges']:,} | {r['seconds']} | "
            f"{r.get('rows_per_s', 0):,} | {r['peak_rss_mib']:,} | {r['rss_ready_mib']:,} | "
            f"{r['export_peak_rss_mib']:,} | {r['export_rss_mib']:,} | {r.get('disk_mib', '')} |"
        )
    lines += [
        "",
        "Child peak RSS: ru_maxrss of the child process (os.wait4), imports of torch and "
        "PyG included. Export peak: VmHWM after it was reset once imports and connection "
        "were done (RSS before); export added = export peak - RSS before.",
    ]
    if not all(r["peak_reset"] for r in results):
        lines.append("The peak could not be reset here (no /proc/self/clear_refs).")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=1_000)
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--heap", default="4g", help="embedded server JVM heap")
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="embedded server data dir, kept afterwards (default: a temporary one, removed)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="the database in --data-dir was loaded by an earlier run: skip the ingest",
    )
    # Internal: one method in a child process.
    for name in ("--child", "--result", "--uri", "--user", "--database", "--out"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.reuse and args.data_dir is None:
        parser.error("--reuse needs --data-dir")

    database = f"bench_export_{args.interactions // 1000}k"
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "graph"
        server = ArcadeDBServer(  # several databases: ArcadeDB only
            data_dir, bolt_port=free_port(), http_port=free_port(), heap=args.heap
        )
        server.start()
        try:
            with GraphClient.open(server.target()) as graph:
                agent = graph.driver.get_server_info().agent
            target = server.target() if args.reuse else fresh_target(server)
            print(f"loading {database} ...", flush=True)
            graph_info = run_child("load", target, args, Path(tmp))
            if not graph_info["relationships"].get("INTERACTED"):
                raise SystemExit(f"{database!r} holds no interactions; run without --reuse")
            results = []
            for method in args.methods:
                print(f"measuring {method} ...", flush=True)
                results.append(run_child(method, target, args, Path(tmp)))
        finally:
            server.stop()

    meta = {
        "date": today(),
        "machine": machine(),
        "server": agent,
        "command": f"python bench/export_stream.py --users {args.users} --items {args.items} "
        f"--interactions {args.interactions} --page-size {args.page_size}",
        "graph": graph_info,
    }
    save("export_stream", {"meta": meta, "results": results}, to_markdown(meta, results))


if __name__ == "__main__":
    main()
