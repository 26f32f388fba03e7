"""``python -m clearinghouse`` is the ``clearinghouse`` command."""

from clearinghouse.cli import main

main()
