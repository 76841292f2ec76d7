"""The tier workloads' operations: one mixin per tier (`UserOperations`, ...) that `BaseORMProvider` inherits.

Each method's default is the raw-SQL path through `execute`; an adapter overrides it where its ORM does the
operation itself, and declares every operation in `capabilities.paths`."""
