"""Serving assets: the immutable snapshot the cockpit reads, published after the marts."""

import dagster as dg

from assets import named
from assets.marts import INDICATOR_ASSETS
from assets.resources import WarehouseResource
from warehouse.serving.publish import publish


@dg.asset(
    key=dg.AssetKey(["serving", "snapshot"]), group_name="serving", pool="warehouse", kinds={"duckdb"},
    op_tags=named("发布快照", "Publish the snapshot"),
    deps=[a.key for a in INDICATOR_ASSETS],
    description="The immutable serving snapshot the cockpit reads: a new DuckDB file under <home>/serving, made current "
        "by an atomic pointer switch; older snapshots kept and pruned.",
)
def snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        path = publish(con, warehouse.paths.serving, warehouse.clock(), run_id=context.run.run_id)
    return dg.MaterializeResult(metadata={"snapshot": str(path.name)})


SERVING_ASSETS = [snapshot]
