"""Sign-in: argon2 password hashes, server-side sessions, lockout per user and address.

The browser's session cookie carries nothing but a random session id; the session itself
lives in the operational store, so signing out, a password or role change and disabling a
user end it at once, and the cookie-signing key alone cannot make a session. Sign-ins and
failed sign-ins are written to the access audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from stdnum.cn import ric

from cockpit.i18n import N_, Refused
from cockpit.roles import REGISTRY, Principal, role_of
from warehouse.contract.city import load_city
from warehouse.contract.feeds import OWNER_DEPARTMENTS
from warehouse.ops.store import OpsStore

_HASHER = PasswordHasher()
# Checked when the user is unknown, so an unknown name costs the same time as a wrong password.
_DUMMY_HASH = _HASHER.hash("no such user: this hash only spends the time a real check takes")
MAX_FAILURES = 5  # per user and address, within the window
FAILURE_WINDOW_S = 15 * 60
USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,31}")


@dataclass(frozen=True)
class User(UserMixin, Principal):
    """A signed-in user; flask-login keeps only ``get_id()``, the session id, in the cookie."""

    sid: str = ""

    def get_id(self) -> str:
        return self.sid


class LoginRefused(Refused):
    """Why a sign-in failed, shown in the login page's language; ``status`` the HTTP status to
    answer with."""

    def __init__(self, msgid: str, status: int) -> None:
        super().__init__(msgid)
        self.status = status


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


class UserRefused(Refused, ValueError):
    """Why a user cannot be saved (the cockpit shows it in the reader's language; str() is the
    English the command line prints)."""


def scopes_for(role: str | None) -> list[str]:
    """The scopes a role may have (district codes or departments); empty for unscoped roles."""
    entry = role_of(role)
    kind = entry.listed_scope if entry else None
    return {"district": list(load_city().district_codes), "department": list(OWNER_DEPARTMENTS)}.get(kind or "", [])


def check_user(username: str, password: str, role: str, scope: str | None, id_number: str | None = None) -> None:
    """Raise :class:`UserRefused` unless the user may be saved as given (nothing is written)."""
    if not USERNAME.fullmatch(username or ""):
        raise UserRefused(N_("a user name is 2-32 characters: lower-case letters, digits and . _ - (starting with a letter or digit)"))
    entry = role_of(role)
    if entry is None:
        raise UserRefused(N_("unknown role '{role}': one of {roles}"), role=role, roles=", ".join(REGISTRY))
    kind = entry.listed_scope
    if kind and not scope:
        raise UserRefused(N_("role '{role}' needs a scope (a {kind}; --scope)"), role=role, kind=kind)
    if kind and scope not in scopes_for(role):
        raise UserRefused(N_("'{scope}' is not a {kind}: one of {scopes}"), scope=scope, kind=kind, scopes=", ".join(scopes_for(role)))
    if entry.scope == "person" and not (id_number and ric.is_valid(id_number.strip().upper())):
        raise UserRefused(N_("a citizen's account needs their valid 18-character identity number (--id-number)"))
    if len(password or "") < 8:
        raise UserRefused(N_("the password needs at least 8 characters"))


def add_user(store: OpsStore, username: str, password: str, role: str, scope: str | None, id_number: str | None = None) -> None:
    """Create or update a user; scoped roles need a scope, a citizen their identity number
    (:func:`check_user`). Updating a user ends their sessions."""
    check_user(username, password, role, scope, id_number)
    entry = role_of(role)
    store.add_user(username, hash_password(password), role, scope if entry.listed_scope else None,
                   id_number.strip().upper() if entry.scope == "person" and id_number else None)


def load_user(store: OpsStore, sid: str) -> User | None:
    """The user of a live session, or None (signed out, revoked, expired, disabled)."""
    row = store.session_user(sid)
    return None if row is None else User(row["username"], row["role"], row["scope"], row["subject_hash"], sid)


def authenticate(store: OpsStore, username: str, password: str, remote: str) -> User:
    """A new session for the user, or :class:`LoginRefused`.

    At most ``MAX_FAILURES`` attempts per user and address are checked within the window;
    the real user, signing in from elsewhere, is not locked out by a guesser."""
    username = (username or "").strip().lower()[:64]
    if not store.claim_attempt(username, remote, FAILURE_WINDOW_S, MAX_FAILURES):
        store.log_access(username, "", "sign_in_refused", delivery_id=None, rows=0, id_numbers=[],
                         purpose=f"too many failed sign-ins from {remote}")
        raise LoginRefused(N_("Too many failed sign-ins; try again in 15 minutes."), 429)
    row = store.user(username)
    try:
        ok = _HASHER.verify(row["password_hash"] if row else _DUMMY_HASH, password) and row is not None and not row["disabled"]
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        store.log_access(username, row["role"] if row else "", "sign_in_failed", delivery_id=None, rows=0, id_numbers=[],
                         purpose=f"from {remote}")
        raise LoginRefused(N_("Wrong user name or password."), 401)
    store.clear_failures(username, remote)
    sid = store.open_session(username)
    store.log_access(username, row["role"], "sign_in", delivery_id=None, rows=0, id_numbers=[], purpose=f"from {remote}",
                     scope=row["scope"])
    return User(row["username"], row["role"], row["scope"], row["subject_hash"], sid)


def sign_out(store: OpsStore, user: User) -> None:
    """End the session for good (the cookie, replayed, opens nothing)."""
    store.close_session(user.sid)
    store.log_access(user.username, user.role, "sign_out", delivery_id=None, rows=0, id_numbers=[], purpose="", scope=user.scope)
