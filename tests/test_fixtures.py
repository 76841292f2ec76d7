"""The suite's own fixtures keep their promises: a test that writes through the read-only `db` fails."""

from __future__ import annotations

import pytest

INNER_SETTINGS = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = session
asyncio_default_test_loop_scope = session
"""


def test_writing_through_the_read_only_db_fixture_fails(pytester: pytest.Pytester) -> None:
    pytester.makeini(INNER_SETTINGS)
    pytester.makeconftest("from tests.conftest import *  # noqa: F403 (the suite's own fixtures)")
    pytester.makepyfile(
        """
        async def test_writes(db):
            await db.provider.create(db.provider.models.Tag, {"name": "written"})

        async def test_reads_after_it(db):
            assert await db.provider.count(db.provider.models.Tag, {"name": "written"}) == 0
        """
    )
    result = pytester.runpytest_inprocess("-k", "raw-sqlite", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*wrote to the read-only `db` fixture*use the `fresh` fixture*"])
