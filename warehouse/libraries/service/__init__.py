"""12345 热线专题库: every citizen's request (诉求工单) with its category, district, latest
dispatch, closure, rating and reopenings, fused from the steps the hotline delivers. The
caller's identity number is kept only as its keyed hash (storage.subjects)."""

from warehouse.libraries.model import CHANGED, Library, Model

LIBRARY = Library(
    name="service",
    name_zh="诉求工单库",
    name_en="Service-request library",
    description="12345热线专题库: every citizen's request with its district and category (from its creation), handler "
    "and due time (latest dispatch), closure, latest rating and reopen count; service.ticket_history keeps every step "
    "with its source delivery and line. The caller is kept only as a keyed hash.",
    feeds=("hotline/service_requests",),
    models=(
        Model("ticket_history.sql", "service.ticket_history", "ticket_no", ("hotline/service_requests",)),
        Model("tickets.sql", "service.tickets", "ticket_no", ("service.ticket_history",)),
    ),
    affected=f"SELECT ticket_no FROM staging.service_requests WHERE {CHANGED}",
    rates=(
        ("tickets_created_known", """SELECT coalesce(avg(CASE WHEN created_at IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                                     FROM service.tickets"""),
    ),
)
