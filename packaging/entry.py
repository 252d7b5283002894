"""Entry point of the packaged app: the same `desk` command (no arguments opens the window)."""

import sys

from desk.cli import main

if __name__ == "__main__":
    sys.exit(main())
