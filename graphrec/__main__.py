"""``python -m graphrec`` is the same as the ``graphrec`` command."""

from graphrec.cli import main

main()
