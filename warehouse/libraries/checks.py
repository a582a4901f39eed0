"""Checks on the libraries: key uniqueness and referential-integrity rates."""

from __future__ import annotations

import duckdb

# library -> {rate name: SQL giving a share between 0 and 1}
_RATES = {
    "population": {
        "employers_known": """SELECT coalesce(avg(CASE WHEN e.uscc IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                              FROM population.persons p LEFT JOIN legal_person.entities e ON e.uscc = p.employer_uscc
                              WHERE p.employer_uscc IS NOT NULL""",
    },
    "e_certificate": {
        "person_holders_known": """SELECT coalesce(avg(CASE WHEN p.id_number IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                                   FROM e_certificate.certificate_state c LEFT JOIN population.persons p ON p.id_number = c.holder_id
                                   WHERE c.holder_type = 'person'""",
        "entity_holders_known": """SELECT coalesce(avg(CASE WHEN e.uscc IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                                   FROM e_certificate.certificate_state c LEFT JOIN legal_person.entities e ON e.uscc = c.holder_id
                                   WHERE c.holder_type = 'legal_person'""",
    },
    "legal_person": {
        "legal_reps_known": """SELECT coalesce(avg(CASE WHEN p.id_number IS NOT NULL THEN 1.0 ELSE 0.0 END), 1.0)
                               FROM legal_person.entities e LEFT JOIN population.persons p ON p.id_number = e.legal_rep_id_number""",
    },
}


def key_duplicates(con: duckdb.DuckDBPyConnection, table: str, key: str) -> int:
    """How many key values appear more than once (0 for a healthy library)."""
    return con.execute(f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1)").fetchone()[0]


def integrity_rates(con: duckdb.DuckDBPyConnection, library: str) -> dict[str, float]:
    """Shares of references from ``library`` that resolve in the other libraries."""
    return {name: float(con.execute(sql).fetchone()[0]) for name, sql in _RATES[library].items()}
