"""The `orm-harness` console script (and `python -m harness`), the only ways in: the CLI inside its error net.

`main()` wraps harness/cli/commands.py's `main` in `cli_errors` (harness/cli/guard.py), the one place it is
wrapped, and imports the commands only inside that net, so even a missing report package (pandas, matplotlib) is
one line, not an ImportError's traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.cli.guard import cli_errors


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: imports the CLI inside the net (a missing package is one line too)."""

    def run(arguments: Sequence[str] | None) -> int:
        from harness.cli import commands

        return commands.main(arguments)

    return cli_errors(run)(argv)
