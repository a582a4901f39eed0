"""Dagster's webserver (UI and GraphQL API) on a unix socket only City Brain's user can open.

`dagster dev` and `dagster-webserver` listen on a TCP port that every user of the host can
reach, with no sign-in, and Dagster's GraphQL API accepts mutations on GET: any local user,
or any web page a local user opens, could launch or cancel runs. Served on a socket inside
the data directory (folder 0700, socket 0600), only the cockpit reaches it, which signs its
users in and records who launched what.

    python -m pipelines.webserver [--socket PATH]   # default <home>/run/dagster.sock
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from dagster import DagsterInstance
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import ModuleTarget
from dagster_webserver.app import create_app_from_workspace_process_context
from dagster_webserver.version import __version__

from warehouse.storage.home import Home, keep_private

MODULE = "pipelines.definitions"


def serve(socket: Path) -> None:
    """Serve Dagster's webserver for the City Brain code location on ``socket`` until stopped."""
    keep_private()
    socket.parent.mkdir(parents=True, exist_ok=True)
    socket.parent.chmod(0o700)
    socket.unlink(missing_ok=True)  # left by a process that was killed
    target = ModuleTarget(MODULE, None, str(Path(__file__).resolve().parents[1]), None)
    with WorkspaceProcessContext(DagsterInstance.get(), version=__version__, read_only=False,
                                 workspace_load_target=target) as workspace:
        app = create_app_from_workspace_process_context(workspace, "")
        uvicorn.run(app, uds=str(socket), log_level="warning")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--socket", type=Path, default=None)
    args = ap.parse_args()
    serve(args.socket or Home.resolve().dagster_socket)


if __name__ == "__main__":
    main()
