"""Entry point of the embedded server's background process.

``graphrec db start`` runs ``python -m graphrec.graph.engines.arcadedb_process ...`` in a
new session, so the server outlives the command. This process hosts ArcadeDB
(through ``arcadedb-embedded``'s bundled JVM) with its Neo4j Bolt plugin bound to
127.0.0.1, creates the database on first start, and shuts the server down
cleanly on SIGTERM or SIGINT so that the data survives.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

BOLT_PLUGIN = "Bolt:com.arcadedb.bolt.BoltProtocolPlugin"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, required=True, help="ArcadeDB root directory")
    parser.add_argument("--password-file", type=Path, required=True)
    parser.add_argument("--bolt-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--database", default="neo4j")
    parser.add_argument("--heap", default=None, help="JVM heap size, e.g. 2g")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    from arcadedb_embedded.server import ArcadeDBServer  # heavy: starts the JVM lazily

    password = args.password_file.read_text(encoding="utf-8").strip()
    server = ArcadeDBServer(
        root_path=str(args.root.resolve()),
        root_password=password,
        config={
            "host": "127.0.0.1",
            "server_plugins": BOLT_PLUGIN,
            "bolt_port": args.bolt_port,
            "http_port": args.http_port,
        },
        jvm_kwargs={"heap_size": args.heap} if args.heap else None,
    )
    server.start()
    try:
        databases = args.root / "databases" / args.database
        if databases.exists():
            server.get_database(args.database)
        else:
            server.create_database(args.database)
        print(f"graphrec: embedded server ready on bolt://127.0.0.1:{args.bolt_port}", flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        print("graphrec: stopping embedded server", flush=True)
        server.stop()
        print("graphrec: embedded server stopped", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    # The server is down and its databases are closed, but the JVM's own shutdown would wait
    # for the Bolt plugin's connection threads: they are not daemons, and each one blocks
    # reading its socket until the client hangs up. A client that keeps its pool open (a
    # running API) would hold the process for good, until ``graphrec db stop`` escalated to
    # SIGKILL after 70 s. Nothing is left to clean up, so leave without that wait.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
