"""The adapters, one package per ORM (sqlalchemy, tortoise, piccolo) and the raw-SQL baseline (raw): each holds its
provider (provider.py, the contract's hooks), its models (models.py), its migrations (migrations/) and its controls
for the adapter tax (controls.py: the taxed operations written straight against its ORM) side by side; and redis,
the CACHE tier's reference store (a raw provider of its own, no models, no migrations, no controls).

The backends import harness.core only (tests/test_layers.py checks it); the harness reaches them through the
adapter registry's "module:Class" strings (harness/core/factory.py, which finds controls.py beside the provider),
never by importing them.
"""
