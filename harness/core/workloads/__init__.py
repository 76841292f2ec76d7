"""The tier workloads' operations: one mixin per tier (`UserOperations`, ...) that `BaseORMProvider` inherits.

Each method's default is the raw-SQL path through `execute`; an adapter overrides it where its ORM does the
operation itself, and declares every operation in `capabilities.paths`. `OPERATIONS` maps each workload (the
scenario family that measures it) to its operations: the report's per-tier sections read it."""

from harness.core.workloads.audit import AuditOperations
from harness.core.workloads.cache import CacheOperations
from harness.core.workloads.embeddings import EmbeddingsOperations
from harness.core.workloads.graph import GraphOperations
from harness.core.workloads.users import UserOperations

OPERATIONS: dict[str, tuple[str, ...]] = {
    "users": UserOperations.OPERATIONS,
    "audit": AuditOperations.OPERATIONS,
    "embeddings": EmbeddingsOperations.OPERATIONS,
    "cache": CacheOperations.OPERATIONS,
    "graph": GraphOperations.OPERATIONS,
}
