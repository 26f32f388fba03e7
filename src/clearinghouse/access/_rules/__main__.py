"""``python -m clearinghouse.access._rules`` prints ``docs/policy.md``."""

from clearinghouse.access._rules import render

print(render(), end="")
