"""Schema migrations (Alembic), run by `tsunagi db upgrade`; the bot refuses an old schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from models.base.db import normalise_url

MIGRATIONS = Path(__file__).parents[1] / "migrations"


def config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    command.upgrade(config(url), "head")


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(engine.url.render_as_string(False))


def _regenerate_initial() -> None:
    """Development only, before the first release: rebuild 0001 from the current models."""
    import subprocess
    import sys
    import tempfile

    for old in (MIGRATIONS / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        command.revision(
            config(f"sqlite:///{tmp}/empty.db"),
            message="initial schema",
            autogenerate=True,
            rev_id="0001",
        )
    ruff = Path(sys.executable).parent / "ruff"
    subprocess.run([ruff, "check", "--fix", "-q", MIGRATIONS], check=False)
    subprocess.run([ruff, "format", "-q", MIGRATIONS], check=False)


if __name__ == "__main__":
    _regenerate_initial()
