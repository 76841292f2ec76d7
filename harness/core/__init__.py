"""The core layer: what every other layer and every backend shares.

The provider contract (contract.py), the tier workloads' operations (workloads/), the shared schema (schema.py), the
harness's errors (errors.py), database configuration (config.py), the dataset generator (dataset.py), the
package-version checks (versions.py), the adapter declarations (adapters.py), the tiers enum with the adapter lookup
and the provider factory (factory.py), the driver-level statement counter (statements.py) and the concurrency
helpers (concurrency.py).

Imports nothing else of the project (no harness layer, no scenarios, no backends).
"""
