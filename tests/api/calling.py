"""What the interface tests share: who calls and who answers, the items each interface answers
from, a grant's key, a clock a served API judges grants at, and the libraries as the oracle."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb

# Who calls and who answers: officers of civil affairs (the requesting department), one of
# another department, one disabled, a steward (who may not request data), the owners'
# stewards, the auditor. The citizen is added with a number the population library holds.
OFFICERS = {"clerk": "civil", "clerk2": "civil", "hr": "hrss", "gone": "civil"}
STEWARDS = {"police": "psb", "bureau": "dsb", "market": "samr"}
OWNERS = {"library/population/persons": "psb", "library/e_certificate/certificate_state": "dsb",
          "library/legal_person/entities": "samr"}
ENTRY = {"persons_status": "library/population/persons", "certificates_verify": "library/e_certificate/certificate_state",
         "entities_lookup": "library/legal_person/entities"}
# Every item each interface answers from (the catalog's items are the library table's columns).
ITEMS = {"library/population/persons": ["status", "district_code"],
         "library/e_certificate/certificate_state": ["lifecycle", "certificate_type", "issuer", "valid_from", "valid_to"],
         "library/legal_person/entities": ["status", "name", "district_code", "legal_rep_id_number"]}


def library(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of the warehouse's libraries (the oracle the answers are checked against)."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@dataclass
class Granted:
    """A key and the grant it is bound to."""

    key: str
    request_id: int
    department: str

    @property
    def key_id(self) -> str:
        return self.key.split("_")[1]


@dataclass
class Clock:
    """The time a served API judges grants at (None: now)."""

    now: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.now or dt.datetime.now().replace(microsecond=0)


