"""Run the command line: ``python -m leadsim``."""

import sys

from leadsim.cli import main

sys.exit(main())
