"""Named failpoints for fault-injection tests.

``CITYBRAIN_FAILPOINT=<name>`` makes the process kill itself with SIGKILL when it reaches
that point, exactly as an operator's ``kill -9`` or a power cut would. Unset, it costs a
dictionary lookup.
"""

import os
import signal


def failpoint(name: str) -> None:
    """Die here, uncleanly, if the environment asks for it."""
    if os.environ.get("CITYBRAIN_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
