"""The GRAPH tier's operations: traversals of the `follows` edges (who follows whom) between users.

Edges are directed, from `follower_id` to `followee_id`; a hop follows one edge forward. Every operation is one
statement: the traversals a recursive CTE, cycle-safe and depth-limited, the same SQL on PostgreSQL and SQLite:

    WITH RECURSIVE walk(node, depth) AS (
        SELECT followee_id, 1 FROM follows WHERE follower_id = :source
        UNION
        SELECT f.followee_id, w.depth + 1 FROM walk w JOIN follows f ON f.follower_id = w.node WHERE w.depth < :depth)

UNION (not UNION ALL) drops a (node, depth) pair already found, so a cycle adds nothing new at a given depth, and the
depth bound ends the recursion: at most `depth` rows per user, whatever the cycles. Answers:
    neighbourhood(start, depth): the users reached in 1..depth hops, `start` left out, ascending.
    reachable(source, target, max_depth): whether `target` is reached in 1..max_depth hops.
    shortest_path_length(source, target, max_depth): the fewest hops to `target`, None beyond max_depth.
    friends_of_friends(user): the users followed by those `user` follows, less `user` and those `user` already
        follows, ascending (a self-join of follows, no recursion).
Users are given by id; an id with no edges is not an error (it reaches nobody).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from harness.core.errors import InvalidArgument, translated_errors

WALK = """WITH RECURSIVE walk(node, depth) AS (
    SELECT followee_id, 1 FROM follows WHERE follower_id = :source
    UNION
    SELECT f.followee_id, w.depth + 1 FROM walk w JOIN follows f ON f.follower_id = w.node WHERE w.depth < :depth
)
"""
NEIGHBOURHOOD_SQL = WALK + "SELECT DISTINCT node FROM walk WHERE node <> :source ORDER BY node"
REACHABLE_SQL = WALK + "SELECT EXISTS (SELECT 1 FROM walk WHERE node = :target) AS found"
SHORTEST_PATH_SQL = WALK + "SELECT MIN(depth) AS hops FROM walk WHERE node = :target"
FRIENDS_OF_FRIENDS_SQL = """SELECT DISTINCT b.followee_id AS node
FROM follows a JOIN follows b ON b.follower_id = a.followee_id
WHERE a.follower_id = :user AND b.followee_id <> :user
  AND NOT EXISTS (SELECT 1 FROM follows d WHERE d.follower_id = :user AND d.followee_id = b.followee_id)
ORDER BY node"""


def _check_user(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name} must be a user id (an integer >= 1), got {value!r}")


def _check_depth(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"{name} must be an integer >= 1 (hops), got {value!r}")


def _check_pair(source: Any, target: Any, max_depth: Any) -> None:
    _check_user("source", source)
    _check_user("target", target)
    _check_depth("max_depth", max_depth)
    if source == target:
        raise InvalidArgument(f"source and target are the same user ({source}): ask for a path between two users")


class GraphOperations:
    """The GRAPH tier's operations (see the module docstring), mixed into `BaseORMProvider`. Each public method
    checks its input and calls its hook (`_neighbourhood`, ...), whose default sends the SQL above through
    `execute`; an adapter whose ORM builds the query itself overrides the hook."""

    OPERATIONS: ClassVar[tuple[str, ...]] = (
        "neighbourhood",
        "reachable",
        "shortest_path_length",
        "friends_of_friends",
    )

    if TYPE_CHECKING:

        async def execute(self, query: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]: ...

    async def neighbourhood(self, start: int, depth: int) -> list[int]:
        """The distinct users `start` reaches in 1 to `depth` hops, `start` itself left out, ascending."""
        _check_user("start", start)
        _check_depth("depth", depth)
        with translated_errors():
            return await self._neighbourhood(start, depth)

    async def reachable(self, source: int, target: int, max_depth: int) -> bool:
        """Whether `target` is reached from `source` in 1 to `max_depth` hops."""
        _check_pair(source, target, max_depth)
        with translated_errors():
            return await self._reachable(source, target, max_depth)

    async def shortest_path_length(self, source: int, target: int, max_depth: int) -> int | None:
        """The fewest hops from `source` to `target`, or None when it takes more than `max_depth`."""
        _check_pair(source, target, max_depth)
        with translated_errors():
            return await self._shortest_path_length(source, target, max_depth)

    async def friends_of_friends(self, user: int) -> list[int]:
        """The users followed by those `user` follows, less `user` and those `user` follows already, ascending."""
        _check_user("user", user)
        with translated_errors():
            return await self._friends_of_friends(user)

    async def _neighbourhood(self, start: int, depth: int) -> list[int]:
        rows = await self.execute(NEIGHBOURHOOD_SQL, {"source": start, "depth": depth})
        return [row["node"] for row in rows]

    async def _reachable(self, source: int, target: int, max_depth: int) -> bool:
        rows = await self.execute(REACHABLE_SQL, {"source": source, "depth": max_depth, "target": target})
        return bool(rows[0]["found"])  # SQLite answers 0 or 1

    async def _shortest_path_length(self, source: int, target: int, max_depth: int) -> int | None:
        rows = await self.execute(SHORTEST_PATH_SQL, {"source": source, "depth": max_depth, "target": target})
        return rows[0]["hops"]

    async def _friends_of_friends(self, user: int) -> list[int]:
        return [row["node"] for row in await self.execute(FRIENDS_OF_FRIENDS_SQL, {"user": user})]
