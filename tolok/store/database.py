"""Opening the store: its URL, the engine, and migrations to the newest revision.

The embedded SQLite store upgrades itself when opened; a shared PostgreSQL store is
upgraded on purpose, with `tolok db upgrade`, and refuses to be used until it is.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config

from tolok.store.errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
HEAD = "0014"
"""The newest migration; a test keeps it equal to Alembic's head. Knowing it without
importing Alembic keeps opening an up-to-date store fast (`tolok show`)."""


def store_url(url: str, root: Path) -> str:
    """`sqlite:///tolok.db` is a file in the project folder; other URLs are used as given."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database)
        if not path.is_absolute():
            return str(parsed.set(database=str(root / path)))
    if parsed.drivername in ("postgresql", "postgres"):
        return str(parsed.set(drivername="postgresql+psycopg"))
    return url


def connect(url: str) -> Engine:
    try:
        engine = create_engine(url, future=True)
    except Exception as exc:
        raise StoreError(f"cannot open the store {url}: {exc}", "check `store:`") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: object, _: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for a refresh
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """Alembic's own idea of the newest revision (reads the migration scripts)."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    """The store's revision, or None for an empty database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        return str(row[0]) if row else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


_SHARED: dict[str, Engine] = {}
_SHARING = threading.Lock()


def shared_store(url: str) -> Engine:
    """`open_store`, one engine (and connection pool) per URL in this process: what a server
    uses for a store on a database server, so that its pages and its stored-value reads share
    one pool (each worker of `tolok serve --workers N` then holds at most one pool's
    connections), instead of an engine and a pool per read. SQLite stores are opened anew."""
    if make_url(url).drivername.startswith("sqlite"):
        return open_store(url)
    with _SHARING:
        engine = _SHARED.get(url)
        if engine is None:
            engine = _SHARED[url] = open_store(url)
        return engine


def open_store(url: str) -> Engine:
    """An engine on a store at the newest revision."""
    engine = connect(url)
    try:
        revision = current(engine)
    except Exception as exc:
        raise StoreError(
            f"cannot reach the store {make_url(url).render_as_string(hide_password=True)}: "
            f"{str(exc).splitlines()[0]}",
            "check `store:` in tolok.yaml",
        ) from exc
    if revision == HEAD:
        return engine
    if engine.dialect.name == "sqlite":
        upgrade(engine)
        return engine
    raise StoreError(
        f"the store is at revision {revision or 'none'}, tolok needs {HEAD}",
        "run `tolok db upgrade` once (back the database up first)",
    )
