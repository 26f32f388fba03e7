"""The Alembic script directory has exactly one head.

Helpers branch their migrations from the same revision; two heads left by a merge would make
``alembic upgrade head`` refuse to run. This test fails the moment that happens.
"""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

import clearinghouse.storage

MIGRATIONS = Path(clearinghouse.storage.__file__).parent / "migrations"


def test_one_head() -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    heads = script.get_heads()
    assert len(heads) == 1, f"{len(heads)} heads: {sorted(heads)}; join them with a merge revision"


def test_every_revision_reaches_the_base() -> None:
    script = ScriptDirectory(str(MIGRATIONS))
    revisions = list(script.walk_revisions())
    assert revisions, "no migrations found"
    bases = script.get_bases()
    assert len(bases) == 1
    assert revisions[-1].revision == bases[0]
