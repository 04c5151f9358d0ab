"""`python -m podops` is the `podops` command."""

import sys

from podops.cli import main

sys.exit(main())
