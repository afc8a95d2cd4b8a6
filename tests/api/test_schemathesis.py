"""Requests generated from the app's own OpenAPI document (schemathesis, every check on):
no 5xx, every answer conforms to the document, every request the document calls invalid
is refused and every valid one accepted, security enforced where it is declared.

Every operation gets a bounded number of examples (valid and invalid) in the examples,
coverage and fuzzing phases, sent with the API key so that writes are exercised too,
against a live server on its own database; once as configured by default (reads open)
and once with the reads locked.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

#: Examples per operation and phase, and the phases; the run with the reads locked is
#: there for the security checks and gets fewer (the coverage phase is the longest).
MAX_EXAMPLES = {False: 20, True: 5}
PHASES = {False: "examples,coverage,fuzzing", True: "examples,fuzzing"}
#: Every check but the ones that need stateful links (the document declares none).
EXCLUDED_CHECKS = "use_after_free,ensure_resource_availability,object_level_authorization"
#: A body over the size limit (10,001 interactions are more than 1 MB) is refused with 413,
#: which schemathesis does not count as a refusal by default.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422]
"""


def run_schemathesis(
    url: str, api_key: str, folder: Path, max_examples: int, phases: str
) -> subprocess.CompletedProcess[str]:
    config = folder / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--phases",
        phases,
        "--max-examples",
        str(max_examples),
        "--seed",
        "20261213",
        "--header",
        f"X-API-Key: {api_key}",
        "--generation-database",
        "none",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--no-color",
        "--output-truncate",
        "true",
    ]
    # In the test's folder: the CLI keeps a cache of past failures in its working directory.
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("lock_reads", [False, True], ids=["reads-open", "reads-locked"])
def test_the_api_conforms_to_its_document(
    fresh_graph: Any,
    make_app: Callable[..., Any],
    serve: Callable[..., Any],
    api_key: str,
    tmp_path: Path,
    lock_reads: bool,
) -> None:
    app = make_app(fresh_graph, api_lock_reads=lock_reads)
    operations = sum(len(methods) for methods in app.openapi()["paths"].values())
    with serve(app) as server:
        result = run_schemathesis(
            server.url, api_key, tmp_path, MAX_EXAMPLES[lock_reads], PHASES[lock_reads]
        )
    assert result.returncode == 0, _failures(result.stdout) + result.stderr[-2000:]
    assert f"{operations} selected / {operations} total" in result.stdout  # all were tested


def _failures(output: str) -> str:
    """The report's errors and failures and its summary, each line cut to 300 characters
    (bodies can be megabytes). Schemathesis lists network errors and timeouts under
    ERRORS, apart from the FAILURES of checks, and counts neither among the passed."""
    starts = [i for i in (output.find("ERRORS"), output.find("FAILURES")) if i >= 0]
    start = min(starts) if starts else 0
    lines = output[start:].splitlines()
    report = "\n".join(line[:300] for line in lines)
    return report if len(report) <= 15_000 else report[:10_000] + "\n...\n" + report[-5_000:]
