"""Every feature's jobs, registered on import, so that every server and every worker knows
every job by name. The jobs modules are named once, in each feature's ``feature.py``, and
collected by :mod:`clearinghouse.features`; this module only loads them. Imported by the
entrypoints' first job lookup (``cli``) and by the API app, never by ``runtime``."""

from clearinghouse.features import load_jobs

load_jobs()
