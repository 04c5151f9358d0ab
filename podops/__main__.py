"""`python -m podops` is the `podops` command."""

import sys

from podops.cli.main import main

sys.exit(main())
