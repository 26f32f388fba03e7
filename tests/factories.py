"""Moved to ``tests.support.factories``; this name stays for imports written before the move."""

from tests.support.factories import *  # noqa: F403
