"""Faults of the machine rather than of the data, explained for the operator who can fix them.

A full disk or an unreadable landing folder is not a property of any delivery: nothing is
recorded against a department, nothing half-written is committed, and the next refresh
picks the work up once the operator has fixed the cause.
"""

from __future__ import annotations

import errno
from pathlib import Path

_DISK_FULL = ("no space left on device", "disk full", "file too large", "could not write all bytes")


class PlatformFault(RuntimeError):
    """A machine-level fault, with a message that says what to fix."""


class LandingUnreadable(PlatformFault):
    """Folders or files in the landing zone that the platform may not read."""

    def __init__(self, landing: Path, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        listed = "; ".join(f"landing/{where}: {why}" for where, why in problems)
        super().__init__(
            f"cannot read {listed}. Nothing in them was ingested and nothing is lost: give the platform read "
            f"access (the landing zone is {landing}) and the next refresh ingests them.")


def is_disk_full(err: BaseException) -> bool:
    """True for a write that failed because the disk (or a file size limit) is exhausted."""
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    return any(s in str(err).lower() for s in _DISK_FULL)


def disk_full(where: Path, err: BaseException) -> PlatformFault:
    """The fault to raise instead of ``err`` when the disk holding ``where`` is full."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
    telling = next((line for line in lines if any(s in line.lower() for s in _DISK_FULL)), lines[0])
    return PlatformFault(
        f"the disk holding {where} is full ({telling[:200]}). The warehouse is unchanged: "
        "the interrupted step's transaction was rolled back. Free space there and run the refresh again.")
