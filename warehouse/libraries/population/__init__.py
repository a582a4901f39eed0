"""人口综合库: every person public security knows, with status fused from psb and health,
marital status from civil affairs and the current employer from social insurance."""

from warehouse.libraries.model import CHANGED, Library, Model

# Every person a changed delivery of any population feed names.
PERSONS_TOUCHED = f"""
        SELECT id_number FROM staging.household_events WHERE {CHANGED}
        UNION SELECT id_number FROM staging.death_records WHERE {CHANGED}
        UNION SELECT party1_id_number FROM staging.marriage_registrations WHERE {CHANGED}
        UNION SELECT party2_id_number FROM staging.marriage_registrations WHERE {CHANGED}
        UNION SELECT id_number FROM staging.insurance_events WHERE {CHANGED}"""

LIBRARY = Library(
    name="population",
    name_zh="人口库",
    name_en="Population library",
    description="人口综合库: every person public security knows, with status (registered / moved_out / deceased) fused "
    "from psb and health, marital status from civil affairs and employer from social insurance; "
    "population.person_history keeps every version with its source delivery and line.",
    feeds=("psb/household_events", "health/death_records", "civil/marriage_registrations", "hrss/insurance_events"),
    models=(
        Model("person_history.sql", "population.person_history", "id_number", ("psb/household_events", "health/death_records")),
        Model("persons.sql", "population.persons", "id_number", ("population.person_history", "civil/marriage_registrations", "hrss/insurance_events")),
    ),
    affected=PERSONS_TOUCHED,
    rates=(
        ("employers_known", """SELECT coalesce(avg(CASE WHEN e.uscc IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                              FROM population.persons p LEFT JOIN legal_person.entities e ON e.uscc = p.employer_uscc
                              WHERE p.employer_uscc IS NOT NULL"""),
    ),
)
