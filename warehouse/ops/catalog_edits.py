"""What owning departments say of their catalog entries (warehouse.sharing.catalog), as the store
keeps it: ``catalog_edits`` (migration 0005), append-only, one row per field changed, with who
and when. An entry's current value of a field is its latest edit, over the catalog's derived
default; the rows are its history. Who may edit is checked inside the write: the steward of
the entry's owning department (the caller passes its scope; the capability is the cockpit's to
check), and a sharing class other than unconditional needs its basis. Every edit is also
written to the access audit log. A part of :class:`warehouse.ops.store.OpsStore`, which gives
it its connections.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from warehouse.sharing.requests import SHARING_CLASSES, clean_text

_EDIT_FIELDS = ("edit_no", "entry_code", "field", "value", "actor", "role", "scope", "at")
DESCRIPTION_MAX = 2000  # a description: plain text up to this length (a basis: requests.REASON_MAX)
EDIT_ACTION = "catalog_edit"  # the access log's action (named in warehouse.contract.labels.ACTIONS)


class CatalogEditRefused(ValueError):
    """An edit the rules do not allow; ``code`` says which rule (for the reader's message):
    ``unknown_entry``, ``not_owner``, ``nothing``, ``class``, ``open_class``, ``basis_required``,
    or a field's name when its text is not acceptable (``detail`` says why)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class CatalogEdits:
    """Owners' edits of catalog entries (methods of :class:`~warehouse.ops.store.OpsStore`)."""

    def catalog_edits(self, entry_code: str | None = None) -> list[dict]:
        """Every edit (of one entry), newest first."""
        sql = f"SELECT {', '.join(_EDIT_FIELDS)} FROM catalog_edits"
        args: list = []
        if entry_code is not None:
            sql += " WHERE entry_code = ?"
            args.append(entry_code)
        with self._con() as con:
            rows = con.execute(sql + " ORDER BY edit_no DESC", args).fetchall()
        return [dict(zip(_EDIT_FIELDS, r)) for r in rows]

    def catalog_current(self) -> dict[str, dict[str, dict]]:
        """Each edited entry's latest edit of each field: code -> field -> {value, actor, at}."""
        with self._con() as con:
            rows = con.execute(
                "SELECT e.entry_code, e.field, e.value, e.actor, e.at FROM catalog_edits e "
                "JOIN (SELECT entry_code, field, max(edit_no) AS edit_no FROM catalog_edits GROUP BY entry_code, field) l "
                "ON l.edit_no = e.edit_no").fetchall()
        out: dict[str, dict[str, dict]] = {}
        for code, name, value, actor, at in rows:
            out.setdefault(code, {})[name] = {"value": value, "actor": actor, "at": at}
        return out

    def edit_catalog_entry(self, entry_code: str, changes: Mapping[str, str | None], *, actor: str, role: str,
                           scope: str | None) -> dict[str, str]:
        """Record an owner's edit of ``entry_code``: ``changes`` maps fields of
        ``catalog.EDITABLE`` to their new text (a field whose value is already that is left
        out). Only the steward of the owning department (``scope`` == the entry's owner) may;
        the class must be one of contract §6's, the open class one of ``catalog.OPEN_CLASSES``;
        an entry whose class ends other than unconditional needs a basis, and a change to such
        a class needs its basis in the same edit. All is judged again inside the write against
        the edits as stored; a refusal writes nothing. Returns the fields written; each edit is
        in the access audit log too."""
        # The catalog (and the indicator catalog, libraries and pandas it reads) only when an edit is made:
        # opening the store stays light for the processes that never edit (the interfaces, the CLI).
        from warehouse.sharing.catalog import EDITABLE, OPEN_CLASSES, declared

        entry = declared().get(entry_code)
        if entry is None:
            raise CatalogEditRefused("unknown_entry", entry_code)
        if not scope or scope != entry.owner:
            raise CatalogEditRefused("not_owner", entry_code)
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise CatalogEditRefused("field", ", ".join(sorted(unknown)))
        asked: dict[str, str] = {}
        for name, value in changes.items():
            if value is None:
                continue
            try:
                text = clean_text(value, required=False, limit=DESCRIPTION_MAX if name.startswith("description") else 500)
            except ValueError as e:
                raise CatalogEditRefused(name, str(e)) from None
            if text:
                asked[name] = text
        if "sharing_class" in asked and asked["sharing_class"] not in SHARING_CLASSES:
            raise CatalogEditRefused("class", asked["sharing_class"])
        if "open_class" in asked and asked["open_class"] not in OPEN_CLASSES:
            raise CatalogEditRefused("open_class", asked["open_class"])
        now = dt.datetime.now().replace(microsecond=0).isoformat()
        with self._write() as con:  # one writer: the values judged are the values written over
            latest = {name: value for name, value in con.execute(
                "SELECT field, value FROM catalog_edits WHERE edit_no IN "
                "(SELECT max(edit_no) FROM catalog_edits WHERE entry_code = ? GROUP BY field)", [entry_code]).fetchall()}
            current = {"description_zh": entry.description_zh, "description_en": entry.description,
                       "sharing_class": entry.sharing_class, "sharing_basis": entry.sharing_basis,
                       "open_class": entry.open_class, **{k: v for k, v in latest.items() if v}}
            written = {k: v for k, v in asked.items() if v != current.get(k)}
            if not written:
                raise CatalogEditRefused("nothing", entry_code)
            cls = written.get("sharing_class", current["sharing_class"])
            class_changed = "sharing_class" in written
            if cls != "unconditional" and (class_changed and not asked.get("sharing_basis")
                                           or not (written.get("sharing_basis") or current.get("sharing_basis"))):
                raise CatalogEditRefused("basis_required", cls)
            for name, value in written.items():
                con.execute("INSERT INTO catalog_edits (entry_code, field, value, actor, role, scope, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [entry_code, name, value, actor, role, scope, now])
        self.log_access(actor, role, EDIT_ACTION, delivery_id=None, rows=0, id_numbers=[],
                        purpose=f"catalog {entry_code}", scope=scope)
        return written
