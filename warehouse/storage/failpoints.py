"""Named failpoints for fault-injection tests.

Two kinds, each for one kind of fault:

- ``CITYBRAIN_FAILPOINT=<name>`` makes the process kill itself with SIGKILL when it reaches
  that point, exactly as an operator's ``kill -9`` or a power cut would. Unset, it costs a
  dictionary lookup.
- A planted step fault: a file ``<home>/run/faults/<step>`` makes that pipeline step fail
  with a plain error (``assets.resources.WarehouseResource.connect``), as a bug or bad data
  would, until the file is removed. It is read at the moment the step starts, so a test (or
  an operator rehearsing recovery) can plant it, watch the run fail, remove it and
  re-execute from the failure, without restarting anything.
- A planted hold: a file ``<home>/run/faults/<step>.hold`` makes that step wait while the file
  exists, as a slow step would, so a test can act on a run (or a backfill) while it is in
  progress; removing the file (or cancelling the run) ends the wait.
"""

import os
import signal
from pathlib import Path

from warehouse.settings import settings


def failpoint(name: str) -> None:
    """Die here, uncleanly, if the ``CITYBRAIN_FAILPOINT`` setting names this point."""
    if settings().failpoint == name:
        os.kill(os.getpid(), signal.SIGKILL)


def fault_file(root: Path, step: str) -> Path:
    """The file whose presence plants a fault at pipeline step ``step``."""
    return root / "run" / "faults" / step


def planted_fault(root: Path, step: str) -> bool:
    """Whether a fault is planted at pipeline step ``step`` of the data directory ``root``."""
    return fault_file(root, step).exists()


def hold_file(root: Path, step: str) -> Path:
    """The file whose presence holds pipeline step ``step`` at its start."""
    return root / "run" / "faults" / f"{step}.hold"


def hold_while_planted(root: Path, step: str, poll_s: float = 0.5) -> None:
    """Wait while a hold is planted at ``step`` (a cancelled run is interrupted in this wait)."""
    import time

    while hold_file(root, step).exists():
        time.sleep(poll_s)
