"""The piccolo adapter: its provider (provider.py), its models (models.py) and its migrations (migrations/)."""
