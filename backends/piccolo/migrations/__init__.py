"""Piccolo migrations of the `piccolo` adapter: a Piccolo app (piccolo_app.py, piccolo_conf.py), its migration
files (versions/) and the runner that applies them on a provider's own engine (runner.py)."""
