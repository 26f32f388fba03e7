"""``python -m clearinghouse`` is the ``clearinghouse`` command."""

from clearinghouse.cli_entry import main

main()
