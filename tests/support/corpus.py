"""Where the shared corpus of real public data is."""

from __future__ import annotations

import os
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def corpus_root() -> Path:
    """The shared corpus of real public data (``CLEARINGHOUSE_CORPUS``, default ``../shared/corpus``)."""
    default = REPOSITORY.parent / "shared" / "corpus"
    return Path(os.environ.get("CLEARINGHOUSE_CORPUS", default))
