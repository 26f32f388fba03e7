"""Shared fixtures: a migrated runtime on SQLite and, where configured, on
PostgreSQL (``CLEARINGHOUSE_TEST_POSTGRES_URL``; ``scripts/test`` sets it and
``CLEARINGHOUSE_REQUIRE_POSTGRES=1``, which turns a missing server into a failure).

Markers, applied here so that a test file need not say them: ``postgres`` (a
test on the PostgreSQL side of ``database_url``, or one that needs the server),
``corpus`` (needs the shared corpus), ``browser`` (drives chromium), ``slow``
(end-to-end runs, worker processes, corpus-wide checks; see ``SLOW``). The quick
loop is ``uv run pytest -m "not slow and not browser and not corpus and not postgres" -n 2 --no-cov``.

Hypothesis runs under the ``dev`` profile, or ``ci`` (no deadline, derandomized)
when ``CI`` is set or ``HYPOTHESIS_PROFILE=ci`` (``scripts/test`` sets it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url

import clearinghouse.tasks_registry  # noqa: F401  (as the entrypoints do: every job is known)
from clearinghouse.access import services as access_services
from clearinghouse.config import Settings
from clearinghouse.runtime import Runtime
from tests.support import databases
from tests.support.corpus import corpus_root
from tests.support.databases import PG_URL, REQUIRE_PG

__all__ = ["PG_URL", "REQUIRE_PG", "corpus_root"]  # kept importable from here for older imports

# pytest-xdist workers start with COLUMNS=80 in their environment, and a Rich console
# made at import (the CLI modules' ``console``) keeps the width it saw then, so a test's
# ``monkeypatch.setenv("COLUMNS", ...)`` would not reach it. Without the variable the
# consoles read the width when they print, as in a run without workers.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

# Passwords: argon2's cheapest parameters in this process (tests hash hundreds of
# passwords; the production default costs ~0.2 s of CPU each). Hashes and checks are
# still real argon2id; subprocesses the tests start (the CLI, workers) keep the
# default, and tests/test_trust_signin.py checks that the default is unchanged.
access_services.use_password_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "clearinghouse.db"
        shutil.copyfile(databases.sqlite_template(request.config._tmp_path_factory.getbasetemp()), path)  # type: ignore[attr-defined]
        yield f"sqlite:///{path}"
        return
    if databases.PG_URL is None:
        if databases.REQUIRE_PG:
            pytest.fail("CLEARINGHOUSE_REQUIRE_POSTGRES=1 but CLEARINGHOUSE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need CLEARINGHOUSE_TEST_POSTGRES_URL (scripts/test sets it)")
    url = databases.create_pg_database()
    yield url
    databases.drop_pg_database_later(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "CLEARINGHOUSE_HOME": str(tmp_path / "home"),
            "CLEARINGHOUSE_DATABASE_URL": database_url,
            "CLEARINGHOUSE_JOB_BACKEND": "inprocess",
        }
    )


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime(settings)
    yield rt
    rt.close()


REQUIRE_CORPUS = os.environ.get("CLEARINGHOUSE_REQUIRE_CORPUS") == "1"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus; a clone without it skips these tests, and
    ``CLEARINGHOUSE_REQUIRE_CORPUS=1`` (``scripts/test`` sets it) makes that a failure."""
    root = corpus_root()
    if not (root / "README.md").is_file():
        message = (
            f"the shared corpus of real public data is not at {root}: "
            "set CLEARINGHOUSE_CORPUS to its folder (default ../shared/corpus next to the repository)"
        )
        if REQUIRE_CORPUS:
            pytest.fail(f"CLEARINGHOUSE_REQUIRE_CORPUS=1 but {message}", pytrace=False)
        pytest.skip(message)
    return root


# -- markers --------------------------------------------------------------------------------------

# Slow tests, by file: every test of the file (None) or the tests named. They stay in
# ``scripts/test``; the quick loop leaves them out.
SLOW: dict[str, frozenset[str] | None] = {
    "test_workers_e2e.py": None,  # `clearinghouse init` and two worker processes on PostgreSQL
    "test_intake_crash.py": None,  # a server process killed mid-batch and restarted
    "test_exports_corpus.py": None,  # every PyPA advisory through every export format
    "test_ranges_corpus.py": None,  # corpus-wide version range cross-check
    "test_queue_speed.py": None,  # a large seeded queue
    "test_api_fuzz.py": None,  # schemathesis over the whole API
    "test_frontier_fuzz.py": None,
    "test_frontier_eval_fuzz.py": None,
    "test_frontier_eval.py": frozenset(  # Inspect evaluations in worker subprocesses
        {
            "test_campaign_runs_reports_progress_and_records_provenance",
            "test_end_to_end_against_a_scripted_endpoint",
            "test_cli_registers_lists_and_reports",
        }
    ),
    "test_frontier_eval_reference.py": None,  # the reference suite run through Inspect
    "test_dedup.py": frozenset(
        {"test_flood_is_deterministic_with_ground_truth", "test_small_flood_precision_and_recall"}
    ),
    "test_exports.py": frozenset(  # the csaf CLI and every format's validator
        {
            "test_any_record_exports_valid_documents",
            "test_generated_records_pass_the_csaf_validator",
            "test_every_format_of_a_case_is_valid",
        }
    ),
    "test_csaf_provider.py": frozenset({"test_amber_never_reaches_a_partner_outside_its_group"}),
    "test_workers_e2e_latency.py": None,  # `serve` and worker processes, a webhook receiver
    "test_frontier_eval_probe.py": None,  # a scripted probe model through an Inspect evaluation
    "test_frontier_eval_campaigns.py": None,  # campaigns in worker subprocesses, withdrawal, failures
}
BROWSER_FILES = frozenset({"test_web_browser.py", "test_web_home_browser.py"})
# Tests that need the PostgreSQL server whatever their parameters.
POSTGRES_FIXTURES = frozenset({"pg_home"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        # The PostgreSQL side of ``database_url`` or of any fixture parametrized the same way.
        if any(value == "postgresql" for value in params.values()) or fixtures & POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if "corpus" in fixtures:
            item.add_marker(pytest.mark.corpus)
        module = item.path.name
        if module in BROWSER_FILES:
            item.add_marker(pytest.mark.browser)
        if module in SLOW:
            names = SLOW[module]
            if names is None or getattr(item, "originalname", item.name) in names:
                item.add_marker(pytest.mark.slow)
    # The long tests first, so that under pytest-xdist none starts last and leaves the other
    # workers idle while it finishes (scripts/test also lets idle workers steal queued tests).
    items.sort(
        key=lambda item: 0 if item.get_closest_marker("slow") or item.get_closest_marker("browser") else 1
    )


# -- hypothesis -----------------------------------------------------------------------------------

# CI: no deadline (a loaded machine is not a failing property) and derandomized, so
# that a verdict depends on the code alone and a CI failure replays as it is on any
# machine with HYPOTHESIS_PROFILE=ci; the dev profile keeps random exploration (and
# hypothesis's example database) for the inner loop.
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=1000)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_sessionfinish(session: pytest.Session) -> None:
    databases.finish()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly how many tests ran against PostgreSQL (CI must show they did). The
    ``postgres`` marker travels with each report, so this counts under xdist too."""
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            when = getattr(report, "when", "call")
            # One count a test: its call, or the setup that skipped or broke it.
            counted = when == "call" or (when == "setup" and outcome != "passed")
            if counted and "postgres" in getattr(report, "keywords", {}):
                counts[outcome] = counts.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none collected"
    server = (
        make_url(databases.PG_URL).render_as_string(hide_password=True)
        if databases.PG_URL
        else "no server configured"
    )
    terminalreporter.write_line(f"PostgreSQL tests ({server}): {summary}")
