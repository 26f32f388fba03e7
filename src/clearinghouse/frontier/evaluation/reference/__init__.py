"""The unclassified reference suite (``suite.yaml``): CWE multiple choice,
vulnerability identification on code pairs, and capture-the-flag challenges.
Every task has a known solution; ``tests/test_frontier_eval_reference.py``
proves each is solvable and that a wrong answer scores zero."""
