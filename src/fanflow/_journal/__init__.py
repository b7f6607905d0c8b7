"""The SQLite run journal: schema migrations and the store."""

from ._lifecycle import effective_status
from ._schema import MIGRATIONS, migrate
from ._store import FINISHED, Journal, close_all, default_home

__all__ = [
    "FINISHED",
    "MIGRATIONS",
    "Journal",
    "close_all",
    "default_home",
    "effective_status",
    "migrate",
]
