"""The ``citybrain`` command line (CONTRACT §5)."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from warehouse.home import Home

app = typer.Typer(help="City Brain (城市大脑): ingest a city's feeds, build its libraries, indicators and cockpit.",
                  no_args_is_help=True, add_completion=False)

HomeOpt = Annotated[Optional[Path], typer.Option("--home", envvar="CITYBRAIN_HOME", help="Data directory (default ./citybrain_home).")]


class ScaleName(str, Enum):
    tiny = "tiny"
    small = "small"
    city = "city"


@app.callback()
def _root() -> None:
    """City Brain (城市大脑)."""


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date (YYYY-MM-DD)") from None


@app.command()
def generate(
    home: HomeOpt = None,
    scale: Annotated[ScaleName, typer.Option(help="tiny ≈2k residents, small ≈100k, city ≈12.5M")] = ScaleName.tiny,
    days: Annotated[Optional[int], typer.Option(min=1, help="Days of deliveries (default: 14 tiny, 90 small, 1 city).")] = None,
    end: Annotated[Optional[str], typer.Option(help="Last business date, YYYY-MM-DD (default yesterday).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 42,
    defect_rate: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of rows copied with a planted defect.")] = 0.01,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Write a synthetic city's deliveries into the landing zone, with the ground truth of its defects."""
    from citybrain.synth.generate import generate as run

    h = Home.resolve(home).ensure()
    summary = run(h.root, scale.value, days, _date(end), seed, defect_rate, progress=not quiet)
    typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))


def main() -> None:  # pragma: no cover - console entry point
    app()
