"""graph: traversals of the follows edges (harness/core/workloads/graph.py): neighbourhoods, reachability, shortest
paths (recursive CTEs, depth-limited) and friends of friends (a self-join).

Every answer is checked against a breadth-first search over the dataset's edges in Python. Each call is one
statement on every adapter (two where the adapter sends a PRAGMA before each query), which `expected_queries`
asserts: the traversal runs in the database, not hop by hop from the client. The users asked about come from the
data: user 1 starts every walk; the far target is the user it reaches last within `MAX_DEPTH` hops (the lowest id
among them); the unreachable target is the last user, whom nobody follows (harness/core/dataset.py).
"""

from __future__ import annotations

from collections import defaultdict, deque

from harness.core.contract import BaseORMProvider
from harness.core.dataset import Dataset, DatasetSize
from harness.core.statements import capture
from scenarios.base import Scenario, Step, expect

START = 1
MAX_DEPTH = 6


def hops_from(data: Dataset, start: int) -> dict[int, int]:
    """Breadth-first search along the follows: each user `start` reaches, with the fewest hops (>= 1) it takes."""
    following: dict[int, list[int]] = defaultdict(list)
    for edge in data.follows:
        following[edge["follower_id"]].append(edge["followee_id"])
    hops: dict[int, int] = {}
    queue = deque([(start, 0)])
    while queue:
        user, depth = queue.popleft()
        for followee in following[user]:
            if followee not in hops and followee != start:
                hops[followee] = depth + 1
                queue.append((followee, depth + 1))
    return hops


def within(data: Dataset, start: int, depth: int) -> list[int]:
    return sorted(user for user, hops in hops_from(data, start).items() if hops <= depth)


_FAR_TARGETS: dict[tuple[DatasetSize, int], int] = {}
"""`far_target` of each dataset, by what determines it (its size and seed): the timed calls ask for it."""


def far_target(data: Dataset) -> int:
    """The user `START` reaches last within `MAX_DEPTH` hops (the lowest id among those)."""
    key = (data.size, data.seed)
    if key not in _FAR_TARGETS:
        hops = {user: h for user, h in hops_from(data, START).items() if h <= MAX_DEPTH}
        farthest = max(hops.values())
        _FAR_TARGETS[key] = min(user for user, h in hops.items() if h == farthest)
    return _FAR_TARGETS[key]


def unreachable_target(data: Dataset) -> int:
    """The last user: the last member of the last community, whom nobody follows."""
    return len(data.users)


def friends_of_friends_of(data: Dataset, user: int) -> list[int]:
    followed = {e["followee_id"] for e in data.follows if e["follower_id"] == user}
    second = {e["followee_id"] for e in data.follows if e["follower_id"] in followed}
    return sorted(second - followed - {user})


async def k_hop_2(p: BaseORMProvider, data: Dataset) -> list[int]:
    """Neighbourhood: the distinct users within 2 hops (a recursive CTE)."""
    return await p.neighbourhood(START, 2)


async def k_hop_3(p: BaseORMProvider, data: Dataset) -> list[int]:
    """Neighbourhood: the distinct users within 3 hops (a recursive CTE)."""
    return await p.neighbourhood(START, 3)


async def reachable(p: BaseORMProvider, data: Dataset) -> tuple[bool, bool]:
    """Reachability within 6 hops: a pair with a path, then a pair without one (the whole walk)."""
    found = await p.reachable(START, far_target(data), MAX_DEPTH)
    return found, await p.reachable(START, unreachable_target(data), MAX_DEPTH)


async def shortest_path(p: BaseORMProvider, data: Dataset) -> int | None:
    """Shortest path length, up to 6 hops, to the farthest user reached."""
    return await p.shortest_path_length(START, far_target(data), MAX_DEPTH)


async def friends_of_friends(p: BaseORMProvider, data: Dataset) -> list[int]:
    """Friends of friends: followed by those followed, less the direct follows (a self-join)."""
    return await p.friends_of_friends(START)


# --- untimed steps -----------------------------------------------------------------------------------


def _check_neighbourhood(depth: int) -> Step:
    async def check(p: BaseORMProvider, data: Dataset, users: list[int]) -> int:
        expect(users, within(data, START, depth), f"users within {depth} hops of user {START}")
        return len(users)

    return check


async def _check_reachable(p: BaseORMProvider, data: Dataset, answers: tuple[bool, bool]) -> int:
    hops = hops_from(data, START)
    expected = (far_target(data) in hops, unreachable_target(data) in hops)
    expect(expected, (True, False), "the dataset's pairs (one connected, one not)")
    expect(answers, expected, f"reachability from user {START} within {MAX_DEPTH} hops")
    return 2


async def _check_shortest_path(p: BaseORMProvider, data: Dataset, hops: int | None) -> int:
    expect(hops, hops_from(data, START)[far_target(data)], f"hops from user {START} to user {far_target(data)}")
    return 1


async def _check_friends_of_friends(p: BaseORMProvider, data: Dataset, users: list[int]) -> int:
    expect(users, friends_of_friends_of(data, START), f"friends of friends of user {START}")
    return len(users)


async def one_statement(p: BaseORMProvider, data: Dataset) -> int:
    """Queries one plain statement (a count) costs on this adapter: two where a PRAGMA precedes each query."""
    async with capture() as log:
        await p.count(p.models.User)
    return log.queries


async def _two_statements(p: BaseORMProvider, data: Dataset) -> int:
    return 2 * await one_statement(p, data)


SCENARIOS = (
    Scenario(
        k_hop_2,
        "graph",
        _check_neighbourhood(2),
        expected_queries=one_statement,
        operations=("neighbourhood",),
        calls=2,
    ),
    Scenario(k_hop_3, "graph", _check_neighbourhood(3), expected_queries=one_statement, operations=("neighbourhood",)),
    Scenario(reachable, "graph", _check_reachable, expected_queries=_two_statements, operations=("reachable",)),
    Scenario(
        shortest_path,
        "graph",
        _check_shortest_path,
        expected_queries=one_statement,
        operations=("shortest_path_length",),
    ),
    Scenario(
        friends_of_friends,
        "graph",
        _check_friends_of_friends,
        expected_queries=one_statement,
        operations=("friends_of_friends",),
    ),
)
