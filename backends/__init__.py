"""The adapters, one package per ORM (sqlalchemy, tortoise, piccolo) and the raw-SQL baseline (raw): each holds its
provider (provider.py, the contract's hooks), its models (models.py) and its migrations (migrations/) side by side;
and redis, the CACHE tier's reference store (a raw provider of its own, no models, no migrations).

The backends import harness.core only (tests/test_layers.py checks it); the harness reaches them through the
adapter registry's "module:Class" strings (harness/core/factory.py), never by importing them.
"""
