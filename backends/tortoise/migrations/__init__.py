"""aerich migrations of the Tortoise adapter: the revision files in models/ (aerich's `<location>/<app>/` layout)
and the runner that applies them for a provider (runner.py)."""
