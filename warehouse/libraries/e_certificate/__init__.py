"""电子证照库: every e-certificate with its lifecycle; ``e_certificate.certificates`` adds
'expired' on the clock date. Its uses (用证) are kept live beside it."""

from warehouse.libraries.model import CHANGED, Library, Model

LIBRARY = Library(
    name="e_certificate",
    name_zh="电子证照库",
    name_en="E-certificate library",
    description="电子证照库: every e-certificate with its lifecycle; e_certificate.certificates adds 'expired' on the clock date.",
    feeds=("dsb/certificate_events", "dsb/certificate_usage"),
    models=(
        Model("certificate_history.sql", "e_certificate.certificate_history", "certificate_no", ("dsb/certificate_events",)),
        Model("certificate_state.sql", "e_certificate.certificate_state", "certificate_no", ("e_certificate.certificate_history",)),
    ),
    affected=f"SELECT certificate_no FROM staging.certificate_events WHERE {CHANGED}",
    rates=(
        ("person_holders_known", """SELECT coalesce(avg(CASE WHEN p.id_number IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                                   FROM e_certificate.certificate_state c LEFT JOIN population.persons p ON p.id_number = c.holder_id
                                   WHERE c.holder_type = 'person'"""),
        ("entity_holders_known", """SELECT coalesce(avg(CASE WHEN e.uscc IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                                   FROM e_certificate.certificate_state c LEFT JOIN legal_person.entities e ON e.uscc = c.holder_id
                                   WHERE c.holder_type = 'legal_person'"""),
    ),
)
