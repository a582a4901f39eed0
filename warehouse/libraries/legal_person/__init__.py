"""法人综合库: every market entity with status, establishment and closure dates and its
social-insurance headcount (from the population library's enrolments)."""

from warehouse.libraries.model import CHANGED, Library, Model
from warehouse.libraries.population import PERSONS_TOUCHED

LIBRARY = Library(
    name="legal_person",
    name_zh="法人库",
    name_en="Legal-person library",
    description="法人综合库: every market entity with status, establishment and closure dates and social-insurance headcount.",
    feeds=("samr/entity_events",),
    models=(
        Model("entity_history.sql", "legal_person.entity_history", "uscc", ("samr/entity_events",)),
        Model("entities.sql", "legal_person.entities", "uscc", ("legal_person.entity_history", "population.persons")),
    ),
    # An entity changes with its own events and with any change to one of its employees.
    affected=f"""
        SELECT uscc FROM staging.entity_events WHERE {CHANGED}
        UNION SELECT employer_uscc FROM population.live_insurance_events WHERE id_number IN ({PERSONS_TOUCHED})""",
    after=("population",),
    rates=(
        ("legal_reps_known", """SELECT coalesce(avg(CASE WHEN p.id_number IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                               FROM legal_person.entities e LEFT JOIN population.persons p ON p.id_number = e.legal_rep_id_number"""),
    ),
)
