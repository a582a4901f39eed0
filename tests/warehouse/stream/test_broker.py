"""The broker client without a broker: said plainly, at once (issue #33)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("command", [["listen"], ["stream", "--rate", "0", "--end", "2026-12-01"]])
def test_no_broker_is_one_line_and_exit_1(tmp_path: Path, command: list[str]) -> None:
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "citybrain", *command, "--home", str(tmp_path), "--nats", "nats://127.0.0.1:1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "no NATS server answers at nats://127.0.0.1:1" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert time.monotonic() - t0 < 30  # not retried for ever
