"""My data (数据使用查询): a citizen sees every access to their own personal data, newest first.

When, which department and role (never the official's name), which data, why and on which
legal basis, and whether it was a bulk operation touching many people. Matched through the
keyed hash of the citizen's identity number: neither the log nor this page holds the number.
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from cockpit.components import data_grid, logged_purpose, page
from cockpit.context import ctx, guard
from cockpit.data import ingestion, reference
from cockpit.i18n import N_, _, label
from cockpit.roles import role_of

PATH = "/my-data"
dash.register_page(__name__, path=PATH, name=N_("Uses of my data"), order=7,
                   allowed="see_own_data_use")
ACTIONS = {
    "view_rejected_rows": N_("Viewed a record about you that was sent back for correction (every field as delivered)"),
    "download_rejected_rows": N_("Downloaded a record about you that was sent back, to correct it (every field as delivered)"),
    "purge_rejected_rows": N_("Deleted sent-back records about you when their retention period ended"),
    "audit_search": N_("An auditor checked who had accessed your data"),
    # A department's system calling a governed interface (api/) for an officer, on a case.
    "api_certificates_verify": N_("A department's system verified a certificate of yours (its status, type, issuer and validity)"),
    "api_persons_status": N_("A department's system checked your household registration (registered or not, and the district)"),
    "api_entities_lookup": N_("A department's system looked up a business you represent (your name masked to the surname)"),
}
COLUMNS = {"at": N_("When"), "department": N_("Department"), "role": N_("Role"), "data": N_("Which data"),
           "purpose": N_("Purpose"), "legal_basis": N_("Legal basis"), "bulk": N_("Bulk operation")}


@page(PATH, needs_data=False)
def layout(who) -> html.Div:
    return html.Div([
        html.H3(_("Who used my data")),
        html.P(_("Every time a government official accessed your personal information, newest first. The record cannot be altered; if anything looks wrong, contact the city's Data Resources Bureau.")),
        html.Div(id="md-summary", className="notice"),
        # Which data, why and on what basis are what a citizen reads: whole, wrapped, never cut short.
        data_grid("md-table", [{"name": _(words), "id": c} for c, words in COLUMNS.items()], page_size=20,
                  wrap=("department", "data", "purpose", "legal_basis", "bulk"), wrap_width=150),
        dcc.Store(id="md-load", data=1),
    ])


@callback(Output("md-summary", "children"), Output("md-table", "rowData"), Input("md-load", "data"))
def render(_unused):
    who = guard(PATH)
    if not who.subject:
        return _("Your account is not linked to an identity number."), []
    entries = ctx().store.access_log(subject=who.subject)
    feeds = ingestion.deliveries_by_id([e["delivery_id"] for e in entries if e["delivery_id"] is not None]) if reference.info() else {}
    rows = []
    for e in entries:
        # A role limited to no department may act for one (the auditor for the data resources bureau).
        dept = e["scope"] or getattr(role_of(e["role"]), "acts_for", None)
        what = _(ACTIONS[e["action"]]) if e["action"] in ACTIONS else label("action", e["action"])
        if e["delivery_id"] in feeds:
            department, feed, day = feeds[e["delivery_id"]]
            what += _(" ({feed}, {day})").format(feed=label('feed', f'{department}/{feed}'), day=day)
        rows.append({
            "at": e["at"].replace("T", " "), "department": label("department", dept) if dept else "—", "role": label("role", e["role"]),
            "data": what, "purpose": logged_purpose(e) or "—",
            "legal_basis": label("legal_basis", e["legal_basis"]) if e["legal_basis"] else "—",
            "bulk": _("yes (people: {count})").format(count=e["subjects"]) if e["subjects"] > 1 else _("no"),
        })
    summary = (_("Accesses in all: {count}").format(count=len(rows)) if rows
               else _("No one has accessed your data."))
    return summary, rows
