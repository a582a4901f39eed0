"""Sign-in: argon2 password hashes, sessions (flask-login), rate-limited login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin

from cockpit.roles import ROLES, SCOPED, Principal
from warehouse.contract.city import load_city
from warehouse.contract.feeds import STEWARD_DEPARTMENTS
from warehouse.ops.store import OpsStore

_HASHER = PasswordHasher()
MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60


class User(UserMixin, Principal):
    """A signed-in user (flask-login needs ``get_id``)."""

    def get_id(self) -> str:
        return self.username


class LoginRefused(Exception):
    """Why a sign-in failed, in words fit for the login page."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def add_user(store: OpsStore, username: str, password: str, role: str, scope: str | None) -> None:
    """Create or update a user; scoped roles need a scope."""
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}': one of {', '.join(ROLES)}")
    if role in SCOPED and not scope:
        raise ValueError(f"role '{role}' needs --scope (a {SCOPED[role]})")
    valid = {"district": load_city().district_codes, "department": list(STEWARD_DEPARTMENTS)}.get(SCOPED.get(role, ""))
    if valid is not None and scope not in valid:
        raise ValueError(f"'{scope}' is not a {SCOPED[role]}: one of {', '.join(valid)}")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    store.add_user(username, hash_password(password), role, scope if role in SCOPED else None)


def load_user(store: OpsStore, username: str) -> User | None:
    row = store.user(username)
    if row is None or row["disabled"]:
        return None
    return User(row["username"], row["role"], row["scope"])


def authenticate(store: OpsStore, username: str, password: str, remote: str) -> User:
    """The user, or :class:`LoginRefused` (also after too many recent failures)."""
    if store.recent_failures(username, remote, FAILURE_WINDOW_S) >= MAX_FAILURES:
        raise LoginRefused("登录失败次数过多，请15分钟后再试 (too many failed sign-ins; try again in 15 minutes)")
    row = store.user(username)
    ok = False
    if row is not None and not row["disabled"]:
        try:
            ok = _HASHER.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            ok = False
    if not ok:
        store.record_failure(username, remote)
        raise LoginRefused("用户名或密码错误 (wrong user name or password)")
    store.clear_failures(username)
    return User(row["username"], row["role"], row["scope"])
