"""The data catalog as the cockpit reads it (warehouse/sharing/catalog.py): the entries the code
declares, with the live facts of the snapshot this request reads (kept per snapshot in the
cockpit's cache) and what the operational store says now (owners' edits, active grants)."""

from __future__ import annotations

from cockpit.context import ctx
from cockpit.data.reference import info
from cockpit.data.snapshot import per_snapshot, query
from warehouse.sharing import catalog
from warehouse.sharing.catalog import Entry, Facts


def facts() -> Facts:
    """The snapshot's facts of the entries (rows, last update, rejections, findings); none
    known before the first publish or on a snapshot published before the catalog's."""
    return per_snapshot("catalog facts", (), lambda: Facts.from_frames(
        query("catalog_stats", "SELECT * FROM catalog_stats"),
        query("findings_by_owner", "SELECT owner_department, findings FROM findings_summary"),
        info()))


def entries() -> dict[str, Entry]:
    """Every entry, by code, as it stands for this request."""
    return catalog.entries(store=ctx().store, facts=facts())


def entry(code: str | None) -> Entry | None:
    """One entry (None for a code the catalog does not hold: text from an address is checked here)."""
    if not isinstance(code, str) or code not in catalog.declared():
        return None
    return entries().get(code)
