"""Clearinghouse: the AI cybersecurity clearinghouse of EO 14409.

The package is laid out by the order's machinery. ``access`` (who may see and
change what) and ``ledger`` (the tamper-evident record of every change) sit
under everything; ``storage`` and ``jobs`` are the edges every feature uses;
``api`` and ``cli`` are adapters. Feature packages (``sharing`` today; intake,
triage, priority, matching, coordination, frontier, directives and
enforcement as they land) each own their models, services and views.
See ``docs/architecture.md``.
"""

__version__ = "0.1.0"
