"""`python -m harness`: the `orm-harness` command."""

import sys

from harness.guard import main

sys.exit(main())
