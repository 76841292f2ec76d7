"""Tier workloads: each tier's operations as a mixin of `BaseORMProvider` (harness/core/contract.py), one module a tier.
A method's default is the raw-SQL path, written once (SQL through `self.execute`); an adapter overrides it where its
ORM does the operation itself, and every adapter declares how it does each one in `capabilities.paths`."""
