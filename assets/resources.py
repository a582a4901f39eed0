"""The warehouse as a Dagster resource: where the data directory is and what time it is."""


import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import duckdb

from warehouse.ingest.schema import connect
from warehouse.settings import Settings, variable
from warehouse.storage.failpoints import hold_while_planted, planted_fault
from warehouse.storage.faults import disk_full, is_disk_full
from warehouse.storage.home import Home


class WarehouseResource(dg.ConfigurableResource):
    """The City Brain data directory and the clock deadlines are judged against.

    ``home`` defaults to the ``CITYBRAIN_HOME`` setting (``./citybrain_home``); ``as_of`` to
    now. A run's config may set either (``citybrain refresh --home --as-of`` does).
    """

    home: str = ""
    as_of: str = ""

    @classmethod
    def from_settings(cls, s: Settings) -> "WarehouseResource":
        """The resource as the code location configures it from the deployment's settings:
        a field whose variable the environment sets names it (``dg.EnvVar``: Dagster resolves
        it where the run executes and shows the variable, not its value, in its UI); one left
        unset holds the setting's default (an EnvVar has none: Dagster refuses a run whose
        variable is unset)."""
        home = variable("home").name
        return cls(home=dg.EnvVar(home) if home in s.given else str(s.home))

    @property
    def paths(self) -> Home:
        return Home.resolve(self.home or None).ensure()

    def clock(self) -> dt.datetime:
        """The refresh's clock: ``as_of`` ('YYYY-MM-DD HH:MM' or a date) or the current time."""
        return dt.datetime.fromisoformat(self.as_of) if self.as_of else dt.datetime.now().replace(microsecond=0)

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writable connection, closed at the end; callers hold the ``warehouse`` pool, so
        they are the only writer. A full disk surfaces as a plain :class:`PlatformFault`."""
        paths = self.paths
        _fail_if_planted(paths.root)
        try:
            with connect(paths.warehouse) as con:
                yield con
        except Exception as e:
            if is_disk_full(e):
                raise disk_full(paths.root, e) from e
            raise


def _fail_if_planted(root) -> None:
    """Fail the current step if a test planted a fault at it, or hold it while a hold is planted
    (warehouse.storage.failpoints). Not retried: a planted fault stands for a bug, which a
    retry does not fix."""
    try:
        step = dg.OpExecutionContext.get().op_handle.name
    except dg.DagsterInvariantViolationError:  # not inside a step (a test, the CLI's helpers)
        return
    if planted_fault(root, step):
        raise dg.Failure("a fault planted for testing stopped this step", allow_retries=False)
    hold_while_planted(root, step)
