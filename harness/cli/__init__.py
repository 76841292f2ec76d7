"""The cli layer: the `orm-harness` command.

The console script's entry point (entry.py), the commands (commands.py) and their error net and suite
preparation (guard.py); entry.py imports commands.py, which imports guard.py, and guard.py neither.

May import every other layer.
"""
