"""`python -m podops` is the `podops` command."""

import sys

from podops.cli.main import main

if __name__ == "__main__":  # a spawned child (podops.reporting.apart) imports no command
    sys.exit(main())
