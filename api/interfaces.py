"""What each governed interface (共享接口, CONTRACT §6) asks, answers, and reads.

An interface answers from one catalog entry (a library table, ``library/<library>/<table>``):
a grant of that entry is what lets a key call it. Each field of its answer names the item (the
column of that table) it comes from, and is answered only when the grant holds that item. The
answers are read from the current serving snapshot's lookup tables (``warehouse/serving/publish.py``:
``certificate_lookup``, ``person_lookup``, ``entity_lookup``), where identity numbers are keyed
hashes: an interface hashes the number it is asked about with the data directory's key.

The models here are the request bodies and answers of the OpenAPI document; an answer field
declares its item under ``x-catalog-item``, and the operation its entry under ``x-catalog-entry``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from warehouse.storage.sql import Sql

# The shapes of what a caller sends (CONTRACT §2, "Code lists and formats"): the checksum is not
# checked here (a number that is not on record is simply unknown), the shape is.
ID_NUMBER = r"^[0-9]{17}[0-9Xx]$"
USCC = r"^[0-9A-Za-z]{18}$"
HOLDER_ID = r"^[0-9A-Za-z]{18}$"  # an identity number or a USCC, by the certificate's holder type
CERTIFICATE_NO = r"^[0-9A-Za-z_-]{1,64}$"


def answered(item: str, description: str) -> Any:
    """An answer field that comes from the entry's ``item``: optional (left out when the grant
    does not hold the item), null where there is no value."""
    return Field(None, description=f"{description} From the entry's item `{item}`; left out unless the grant holds it.",
                 json_schema_extra={"x-catalog-item": item})


def fields_asked(names: tuple[str, ...]) -> Any:
    return Field(None, min_length=1, max_length=len(names),
                 description="The answer fields wanted (default: every field the grant holds the item of). "
                             "Asking for a field whose item the grant does not hold is refused (403).")


AS_OF = Field(description="The day of the serving snapshot the answer comes from (its refresh's clock date); "
                          "the response's X-Snapshot header names the snapshot's file.")


# ------------------------------------------------------------------ certificates
CertificateField = Literal["status", "certificate_type", "issuer", "valid_from", "valid_to"]


class CertificateQuery(BaseModel):
    """Verify an e-certificate: its number and who is said to hold it."""

    model_config = ConfigDict(extra="forbid")
    certificate_no: str = Field(pattern=CERTIFICATE_NO, description="The certificate's number.")
    holder_id: str = Field(pattern=HOLDER_ID, description="The holder's identity number (a person) or USCC (a legal person).")
    fields: list[CertificateField] | None = fields_asked(CertificateField.__args__)


class CertificateAnswer(BaseModel):
    """The certificate's state on the snapshot's day; ``unknown`` when no certificate of that
    number is held by that holder (which of the two does not match is not said)."""

    status: Literal["valid", "expired", "revoked", "cancelled", "unknown"] | None = answered(
        "lifecycle", "valid, expired (valid until a day before as_of), revoked, cancelled, or unknown.")
    certificate_type: str | None = answered("certificate_type", "The certificate's type (contract code).")
    issuer: str | None = answered("issuer", "The issuing department (contract code).")
    valid_from: dt.date | None = answered("valid_from", "First day of validity.")
    valid_to: dt.date | None = answered("valid_to", "Last day of validity; null: no expiry.")
    as_of: dt.date = AS_OF


# ------------------------------------------------------------------ persons
PersonField = Literal["status", "district_code"]


class PersonQuery(BaseModel):
    """A person's household registration status (户籍状态), by identity number."""

    model_config = ConfigDict(extra="forbid")
    id_number: str = Field(pattern=ID_NUMBER, description="The person's identity number (GB 11643).")
    fields: list[PersonField] | None = fields_asked(PersonField.__args__)


class PersonAnswer(BaseModel):
    """Registered (in which district), or deregistered and why (moved out, deceased); unknown
    when the population library holds no such person."""

    status: Literal["registered", "moved_out", "deceased", "unknown"] | None = answered(
        "status", "registered, moved_out or deceased (why the registration ended), or unknown.")
    district_code: str | None = answered(
        "district_code", "The district of the registration (the last one, for a deregistered person).")
    as_of: dt.date = AS_OF


# ------------------------------------------------------------------ market entities
EntityField = Literal["status", "name", "district_code", "representative"]


class EntityQuery(BaseModel):
    """A market entity (市场主体) by unified social credit code."""

    model_config = ConfigDict(extra="forbid")
    uscc: str = Field(pattern=USCC, description="The entity's unified social credit code (GB 32100).")
    fields: list[EntityField] | None = fields_asked(EntityField.__args__)


class EntityAnswer(BaseModel):
    """The entity as market regulation registered it; unknown when the legal-person library holds no such entity."""

    status: Literal["active", "deregistered", "revoked", "unknown"] | None = answered(
        "status", "active, deregistered, revoked, or unknown.")
    name: str | None = answered("name", "The registered name.")
    district_code: str | None = answered("district_code", "The district of registration.")
    representative: str | None = answered(
        "legal_rep_id_number", "The legal representative's name, masked to the surname (张*); null when the "
                               "population library does not know the representative.")
    as_of: dt.date = AS_OF


# ------------------------------------------------------------------ the declarations
@dataclass(frozen=True)
class Found:
    """What a lookup found: the answer's values (None: nothing on record) and whose data it
    touched (identity numbers in clear, or keyed hashes), for the access log."""

    values: dict[str, Any] | None
    id_numbers: tuple[str, ...] = ()
    subject_hashes: tuple[str, ...] = ()


Hasher = Callable[[str], str]
Lookup = Callable[[duckdb.DuckDBPyConnection, BaseModel, dt.date, Hasher], Found]


@dataclass(frozen=True)
class Interface:
    """One interface: its name (the last two parts of its path joined by '_'; the access log's
    action for an answered call is ``api_<name>``, which the sharing measures count per owner),
    path, the catalog entry it answers from, what it is asked and answers, the snapshot table
    it reads and how."""

    name: str
    path: str
    entry: str
    summary: str
    query: type[BaseModel]
    answer: type[BaseModel]
    table: str
    lookup: Lookup
    unknown: dict[str, Any]  # the answer's values when nothing is on record

    @property
    def action(self) -> str:
        """The access log's action for an answered call."""
        return f"api_{self.name}"

    @property
    def items(self) -> dict[str, str]:
        """Each answer field and the item (column of the entry's table) it comes from."""
        return {name: f.json_schema_extra["x-catalog-item"] for name, f in self.answer.model_fields.items()
                if isinstance(f.json_schema_extra, dict) and "x-catalog-item" in f.json_schema_extra}


# By the number key of number and holder (publish.py: a point lookup on one number; a filter
# on the strings, or reading them back, costs a scan of their row group). Two pairs of one key
# would take a search of 2^128 against a hash whose input holds the keyed hash of the holder,
# so the strings are not read again. Whether it has expired is judged here (an expression in
# the query is evaluated over the whole row group). A snapshot published before the key
# existed is read by the two strings.
_CERTIFICATE: Sql = """SELECT lifecycle AS status, certificate_type, issuer, valid_from, valid_to
                       FROM certificate_lookup WHERE cert_key = $key"""
_CERTIFICATE_BEFORE_KEY: Sql = """SELECT lifecycle AS status, certificate_type, issuer, valid_from, valid_to
                                  FROM certificate_lookup WHERE certificate_no = $no AND holder_hash = $holder"""
_PERSON: Sql = "SELECT status, district_code FROM person_lookup WHERE id_key = $id"
_ENTITY: Sql = """SELECT status, name, district_code, representative, representative_hash
                  FROM entity_lookup WHERE uscc = $uscc"""


def _row(cur: duckdb.DuckDBPyConnection, sql: Sql, params: dict) -> dict[str, Any] | None:
    rows = cur.execute(sql, params).fetchall()
    return dict(zip([d[0] for d in cur.description], rows[0])) if rows else None


def certificate_key(certificate_no: str, holder_hash: str) -> int:
    """The certificate lookup table's key of a number and its holder's keyed hash (as publish makes it)."""
    return int(hashlib.sha256(f"{certificate_no}:{holder_hash}".encode()).hexdigest()[:32], 16)


def _certificate(cur: duckdb.DuckDBPyConnection, q: CertificateQuery, as_of: dt.date, hasher: Hasher) -> Found:
    holder = hasher(q.holder_id)
    try:
        row = _row(cur, _CERTIFICATE, {"key": certificate_key(q.certificate_no, holder)})
    except duckdb.BinderException:  # no cert_key column: published before it
        row = _row(cur, _CERTIFICATE_BEFORE_KEY, {"no": q.certificate_no, "holder": holder})
    if row is not None and row["status"] == "valid" and row["valid_to"] is not None and row["valid_to"] < as_of:
        row["status"] = "expired"
    return Found(row, id_numbers=(q.holder_id,))


def _person(cur: duckdb.DuckDBPyConnection, q: PersonQuery, as_of: dt.date, hasher: Hasher) -> Found:
    # person_lookup keys a person by the keyed hash read as a 128-bit number
    return Found(_row(cur, _PERSON, {"id": int(hasher(q.id_number), 16)}), id_numbers=(q.id_number,))


def _entity(cur: duckdb.DuckDBPyConnection, q: EntityQuery, as_of: dt.date, hasher: Hasher) -> Found:
    row = _row(cur, _ENTITY, {"uscc": q.uscc.upper()})
    if row is None:
        return Found(None)
    # The representative is the person this answer says something about.
    rep = row.pop("representative_hash")
    return Found(row, subject_hashes=(rep,) if rep else ())


INTERFACES: dict[str, Interface] = {i.name: i for i in (
    Interface("certificates_verify", "/api/v1/certificates/verify", "library/e_certificate/certificate_state",
              "Verify an e-certificate (电子证照核验)", CertificateQuery, CertificateAnswer, "certificate_lookup",
              _certificate, {"status": "unknown", "certificate_type": None, "issuer": None, "valid_from": None, "valid_to": None}),
    Interface("persons_status", "/api/v1/persons/status", "library/population/persons",
              "A person's household registration status (户籍状态核验)", PersonQuery, PersonAnswer, "person_lookup",
              _person, {"status": "unknown", "district_code": None}),
    Interface("entities_lookup", "/api/v1/entities/lookup", "library/legal_person/entities",
              "A market entity by USCC (市场主体查询)", EntityQuery, EntityAnswer, "entity_lookup",
              _entity, {"status": "unknown", "name": None, "district_code": None, "representative": None}),
)}

# Each is named after its path; each query's ``fields`` choices are its answer's fields, and each
# answer field names its item.
for _i in INTERFACES.values():
    assert _i.name == "_".join(_i.path.split("/")[-2:]), _i.name
    _asked = get_args(get_args(get_args(_i.query.model_fields["fields"].annotation)[0])[0])
    assert set(_asked) == set(_i.items) == set(_i.unknown), _i.name
