"""`python -m harness`: the `orm-harness` command."""

import sys

from harness.cli.entry import main

sys.exit(main())
