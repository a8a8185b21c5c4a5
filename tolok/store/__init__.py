"""What tolok keeps: computed results, definition versions, refresh runs. SQLAlchemy 2 models,
Alembic migrations from the first table on; SQLite by default, PostgreSQL for a team server."""
