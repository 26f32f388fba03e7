"""Moved to ``tests.support.frontier_fixtures``; this name stays for imports written before the move."""

from tests.support.frontier_fixtures import *  # noqa: F403
