"""The alerts a caller may see, each with where it stands in the loop from alert to closure."""

from __future__ import annotations

import pandas as pd

from cockpit.context import ctx
from cockpit.data.snapshot import per_snapshot, shared
from cockpit.roles import Principal, current_owner
from warehouse.ops.alert_loop import LoopState, states


def alerts_for(who: Principal) -> pd.DataFrame:
    """The alerts ``who`` may see (:meth:`Principal.sees_alert`), each with where it stands in
    the loop from alert to closure, read from the operational store now: a step taken shows at
    once, without waiting for a refresh. Columns added: ``loop`` (a LoopState), ``state``,
    ``owner_kind``, ``owner_code`` (current owner), ``due_at``."""
    df = shared("alerts_for", "SELECT * FROM alerts ORDER BY status = 'open' DESC, severity = 'critical' DESC, date DESC, rule_id")
    if df.empty:
        return df
    folded = states(ctx().store.alert_steps())
    # As records once per snapshot (read-only; making them costs about 10 ms a time).
    records = per_snapshot("alert records", (), lambda: df.to_dict("records"))
    loops = [folded.get(a["alert_id"]) or LoopState(a["alert_id"]) for a in records]
    owners = [current_owner(a, lp) for a, lp in zip(records, loops)]
    out = df.assign(loop=loops, state=[lp.state for lp in loops], owner_kind=[o[0] if o else None for o in owners],
                    owner_code=[o[1] if o else None for o in owners], due_at=[lp.due_at for lp in loops])
    if who.sees_all_alerts():
        return out
    return out[pd.Series([who.sees_alert(a, lp) for a, lp in zip(records, loops)], index=out.index, dtype=bool)]
