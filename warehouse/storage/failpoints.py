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
"""

import os
import signal
from pathlib import Path


def failpoint(name: str) -> None:
    """Die here, uncleanly, if the environment asks for it."""
    if os.environ.get("CITYBRAIN_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def fault_file(root: Path, step: str) -> Path:
    """The file whose presence plants a fault at pipeline step ``step``."""
    return root / "run" / "faults" / step


def planted_fault(root: Path, step: str) -> bool:
    """Whether a fault is planted at pipeline step ``step`` of the data directory ``root``."""
    return fault_file(root, step).exists()
