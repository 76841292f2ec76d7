"""Alembic migrations of the sqlalchemy adapter: env.py, versions/, and runner.py, which drives them from async code."""
