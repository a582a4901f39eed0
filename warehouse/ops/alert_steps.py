"""The loop from alert to closure as the store keeps it: each step (dispatch, handle, return,
close: ``warehouse.ops.alert_loop``) appended with who and when, never changed. An alert's state
is its latest step; its history, every step. Acknowledgements of the cockpit before the loop
were migrated into the steps (as ``acknowledge``) and their table is kept. A part of
:class:`warehouse.ops.store.OpsStore`, which gives it its connections."""

from __future__ import annotations

import datetime as dt

from warehouse.ops.alert_loop import ALLOWED_FROM, state_of

_STEP_FIELDS = ("step_no", "alert_id", "step", "actor", "role", "scope", "owner_kind", "owner_code", "due_at", "note", "rating", "at")


class AlertSteps:
    """The alert loop's steps (methods of :class:`~warehouse.ops.store.OpsStore`)."""

    def alert_steps(self, alert_id: str | None = None) -> list[dict]:
        """Steps of the loop from alert to closure, oldest first (of one alert, when given)."""
        sql = f"SELECT {', '.join(_STEP_FIELDS)} FROM alert_steps"
        args: list = []
        if alert_id is not None:
            sql += " WHERE alert_id = ?"
            args.append(alert_id)
        with self._con() as con:
            rows = con.execute(sql + " ORDER BY step_no", args).fetchall()
        return [dict(zip(_STEP_FIELDS, r)) for r in rows]

    def add_alert_step(self, alert_id: str, step: str, *, actor: str, role: str, scope: str | None,
                       owner: tuple[str, str] | None = None, due_at: dt.datetime | None = None, note: str = "",
                       rating: int | None = None) -> bool:
        """Append one step if the alert's state (as its steps have it, read in the same write
        transaction) allows it; False, and nothing written, when someone else moved it first."""
        with self._write() as con:  # one writer: the state judged is the state written after
            rows = con.execute(f"SELECT {', '.join(_STEP_FIELDS)} FROM alert_steps WHERE alert_id = ? ORDER BY step_no",
                               [alert_id]).fetchall()
            if state_of(alert_id, [dict(zip(_STEP_FIELDS, r)) for r in rows]).state not in ALLOWED_FROM[step]:
                return False
            con.execute(
                "INSERT INTO alert_steps (alert_id, step, actor, role, scope, owner_kind, owner_code, due_at, note, rating, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [alert_id, step, actor, role, scope, *(owner or (None, None)),
                 due_at.isoformat(timespec="minutes") if due_at else None, note, rating,
                 dt.datetime.now().isoformat(timespec="seconds")])
            return True
