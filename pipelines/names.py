"""The names of the code location's definitions, as the cockpit needs them without loading it.

What people call a job, a step, a schedule or a sensor is kept on its definition (``named``
in ``assets/__init__.py``: a job's, schedule's or sensor's metadata, an op's tags; a library's
build step takes its library declaration's names). The cockpit renders pages without the
code location loaded, so :func:`derive` collects those names, with the job and asset names
the cockpit sends to Dagster, into ``pipelines/names.json``: a table derived from the
definitions, never written by hand. ``python -m pipelines.names`` writes it again after a
definition changes; ``tests/pipelines/test_definitions.py`` fails while it is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

TABLE = Path(__file__).with_name("names.json")
# Dagster's own job for assets materialized by hand from its UI: not one of our definitions.
DAGSTER_JOBS = {"__ASSET_JOB": ("手动物化", "Manual materialisation")}


def _name(meta) -> tuple[str, str]:
    """(Chinese, English) from a definition's metadata or tags (values or MetadataValues)."""
    zh, en = meta["name_zh"], meta["name_en"]
    return getattr(zh, "value", zh), getattr(en, "value", en)


def derive(defs: dg.Definitions) -> dict:
    """The table the cockpit reads: the daily job's name, what an indicator backfill launches
    (the indicators job's one partitioned asset, then its other assets once for the whole
    range), and the (Chinese, English) name of every job, step, schedule and sensor."""
    from pipelines.jobs import DAILY_JOB, INDICATOR_JOB, INDICATORS_SELECTION

    graph = defs.resolve_asset_graph()
    jobs = defs.resolve_all_job_defs()
    indicator_assets = [k for k in graph.toposorted_asset_keys if k in INDICATORS_SELECTION.resolve(graph)]
    partitioned = [k for k in indicator_assets if graph.get(k).partitions_def is not None]
    assert len(partitioned) == 1, partitioned
    return {
        "daily_job": DAILY_JOB,
        "backfill": {"partitioned": list(partitioned[0].path),
                     "after": [list(k.path) for k in indicator_assets if k not in partitioned]},
        "job": {**{j.name: _name(j.metadata) for j in jobs if j.name in (DAILY_JOB, INDICATOR_JOB)}, **DAGSTER_JOBS},
        "step": {n.name: _name(n.definition.tags) for j in jobs if j.name in (DAILY_JOB, INDICATOR_JOB)
                 for n in j.graph.nodes},
        "instigator": {i.name: _name(i.metadata) for i in [*defs.schedules, *defs.sensors]},
    }


def render(table: dict) -> str:
    """The table as it is stored (sorted, so regenerating changes nothing when nothing changed)."""
    return json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main() -> None:
    from pipelines.definitions import defs

    TABLE.write_text(render(derive(defs)), encoding="utf-8")
    print(f"wrote {TABLE}")


if __name__ == "__main__":
    main()
