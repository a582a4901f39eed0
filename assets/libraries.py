"""Library assets: population, legal persons, e-certificates and the consistency findings."""

import dagster as dg

from assets import named
from assets.ingest import staging_key
from assets.resources import WarehouseResource
from warehouse.contract.feeds import FEEDS_BY_ID
from warehouse.libraries.build import LIBRARIES, build, build_findings, set_clock
from warehouse.libraries.checks import integrity_rates, key_duplicates
from warehouse.storage.sql import quote_table

LIBRARY_GROUP = "libraries"


class LibraryConfig(dg.Config):
    """Run config: force a full rebuild instead of the incremental update."""

    full_rebuild: bool = False


def _library_key(library: str) -> dg.AssetKey:
    """The asset of a library is its current-state table (its last model)."""
    return dg.AssetKey(LIBRARIES[library].models[-1].table.split("."))


def _library_asset(library: str) -> dg.AssetsDefinition:
    lib = LIBRARIES[library]
    key, key_table, key_column = _library_key(library), lib.models[-1].table, lib.models[-1].key
    deps = [staging_key(FEEDS_BY_ID[f]) for f in lib.feeds] + [_library_key(a) for a in lib.after]

    @dg.asset(
        key=key, group_name=LIBRARY_GROUP, pool="warehouse", kinds={"duckdb"}, deps=deps, description=lib.description,
        op_tags=named(lib.name_zh, lib.name_en),
        check_specs=[dg.AssetCheckSpec("unique_keys", asset=key), dg.AssetCheckSpec("referential_integrity", asset=key)],
    )
    def _build(context: dg.AssetExecutionContext, config: LibraryConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            set_clock(con, warehouse.clock())
            r = build(con, library, full=config.full_rebuild)
            # A full build is checked whole; an incremental one where it wrote (checks.key_duplicates).
            among = None if r.mode == "full" else lib.affected_table
            dupes = key_duplicates(con, key_table, key_column, among)
            checked = "every record" if among is None else f"{r.keys_rebuilt} rebuilt"
            rates = integrity_rates(con, library)
            rows = con.execute(f"SELECT count(*) FROM {quote_table(key_table)}").fetchone()[0]
        context.log.info(f"{library}: {r.mode} build, {r.keys_rebuilt} records rebuilt in {r.seconds}s")
        return dg.MaterializeResult(
            metadata={"mode": r.mode, "records_rebuilt": r.keys_rebuilt, "seconds": r.seconds, "rows": rows,
                      "ledger_position": r.last_delivery_id, **{k: round(v, 4) for k, v in rates.items()}},
            check_results=[
                dg.AssetCheckResult(check_name="unique_keys", passed=dupes == 0, metadata={"duplicate_keys": dupes, "keys_checked": checked},
                                    severity=dg.AssetCheckSeverity.ERROR),
                dg.AssetCheckResult(check_name="referential_integrity", passed=min(rates.values(), default=1.0) >= 0.95,
                                    severity=dg.AssetCheckSeverity.WARN, metadata={k: round(v, 4) for k, v in rates.items()}),
            ],
        )

    _build.__name__ = f"build_{library}"
    return _build


LIBRARY_BUILDS = [_library_asset(name) for name in LIBRARIES]


@dg.asset(
    key=dg.AssetKey(["quality", "consistency_findings"]), group_name=LIBRARY_GROUP, pool="warehouse", kinds={"duckdb"},
    op_tags=named("跨部门一致性核查", "Cross-department consistency checks"),
    deps=[a.key for a in LIBRARY_BUILDS],
    description="Cross-department inconsistencies (死亡未销户, certificates of deceased holders, unknown holders and "
    "employers, legal representatives missing or deceased, closed entities with valid licences), each naming "
    "the department that owns the fix.",
)
def consistency_findings(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        set_clock(con, warehouse.clock())
        total = build_findings(con)
        by_rule = dict(con.execute("SELECT rule, count(*) FROM quality.findings GROUP BY rule ORDER BY rule").fetchall())
    return dg.MaterializeResult(metadata={"findings": total, **{f"rule:{k}": v for k, v in by_rule.items()}})


LIBRARY_ASSETS = [*LIBRARY_BUILDS, consistency_findings]
