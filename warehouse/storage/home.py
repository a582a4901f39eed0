"""The layout of a City Brain data directory (``--home`` / ``CITYBRAIN_HOME``)."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from warehouse.settings import settings


def private_key(path: Path, size: int = 32) -> bytes:
    """The random key in ``path``, made on first use (0600). Safe when several processes start
    at once (the cockpit's workers): the key is written whole to a file of its own and linked
    into place, so no process ever reads a half-written key, and all of them read the same."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(size))
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process linked its key first: that one holds
        finally:
            os.unlink(tmp)
    return path.read_bytes()


def keep_private() -> None:
    """Make what this process creates its user's alone (files 0600, folders 0700): a data
    directory holds personal data, password hashes and keys. Every entry point calls it."""
    os.umask(0o077)


@dataclass(frozen=True)
class Home:
    """Paths inside one data directory."""

    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> Home:
        """``home``, else the ``CITYBRAIN_HOME`` setting (default ``./citybrain_home``)."""
        return cls(Path(home or settings().home).resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving"

    @property
    def dagster_socket(self) -> Path:
        """Where Dagster's webserver listens for the cockpit (``pipelines/webserver.py``); the
        folder is this user's alone."""
        return self.root / "run" / "dagster.sock"

    @property
    def scratch(self) -> Path:
        """Temporary files (transcoded deliveries); safe to delete between runs."""
        return self.root / "tmp"

    @property
    def truth(self) -> Path:
        """Ground truth written by the synthetic city generator."""
        return self.root / "truth"

    def ensure(self) -> Home:
        """Create the directory's folders, private to this user (the root too, if it existed)."""
        keep_private()
        for p in (self.root, self.landing, self.serving, self.scratch):
            p.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        return self
