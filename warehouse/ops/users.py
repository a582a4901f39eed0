"""Who may sign in: users, their sessions (server-side: a session ends for good at sign-out, a
password or role change, or when the user is disabled) and sign-in attempts (for lockout).
A part of :class:`warehouse.ops.store.OpsStore`, which gives it its connections."""

from __future__ import annotations

import datetime as dt
import secrets
import time

SESSION_MAX_S = 12 * 3600  # a session lasts a working day at most
SESSION_IDLE_S = 2 * 3600  # and ends after two idle hours


class Users:
    """Users, sessions and sign-in attempts (methods of :class:`~warehouse.ops.store.OpsStore`)."""

    # ------------------------------------------------------------------ users
    def add_user(self, username: str, password_hash: str, role: str, scope: str | None, subject: str | None = None) -> None:
        """Create or update a user (``subject``: a citizen's identity number, kept as its keyed
        hash); an update ends the user's sessions, so a new password or role takes effect now."""
        subject_h = self.subject_hash(subject) if subject else None
        with self._con() as con:
            con.execute(
                "INSERT INTO users (username, password_hash, role, scope, created_at, disabled, subject_hash) "
                "VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT(username) DO UPDATE SET password_hash = excluded.password_hash, "
                "role = excluded.role, scope = excluded.scope, disabled = 0, subject_hash = excluded.subject_hash",
                [username, password_hash, role, scope, dt.datetime.now().isoformat(timespec="seconds"), subject_h],
            )
            con.execute("DELETE FROM sessions WHERE username = ?", [username])

    def user(self, username: str) -> dict | None:
        with self._read() as con:  # on every request and interface call: an open connection
            row = con.execute("SELECT username, password_hash, role, scope, disabled, subject_hash FROM users WHERE username = ?",
                              [username]).fetchone()
        return None if row is None else dict(zip(("username", "password_hash", "role", "scope", "disabled", "subject_hash"), row))

    def users(self) -> list[dict]:
        with self._con() as con:
            rows = con.execute("SELECT username, role, scope, created_at, disabled FROM users ORDER BY username").fetchall()
        return [dict(zip(("username", "role", "scope", "created_at", "disabled"), r)) for r in rows]

    def set_disabled(self, username: str, disabled: bool) -> None:
        with self._con() as con:
            con.execute("UPDATE users SET disabled = ? WHERE username = ?", [int(disabled), username])
            if disabled:
                con.execute("DELETE FROM sessions WHERE username = ?", [username])

    # ------------------------------------------------------------------ sessions
    def open_session(self, username: str) -> str:
        """A new session id: random, the only thing the browser's cookie carries."""
        sid = secrets.token_urlsafe(32)
        now = time.time()
        with self._con() as con:
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)", [sid, username, now, now])
        return sid

    def session_user(self, sid: str) -> dict | None:
        """The enabled user of a live session (not signed out, revoked, idle or too old), else None."""
        now = time.time()
        with self._con() as con:
            row = con.execute(
                """SELECT u.username, u.role, u.scope, u.subject_hash, s.last_seen FROM sessions s JOIN users u USING (username)
                   WHERE s.sid = ? AND u.disabled = 0 AND s.created_at > ? AND s.last_seen > ?""",
                [sid, now - SESSION_MAX_S, now - SESSION_IDLE_S]).fetchone()
            if row is not None and now - row[4] > 60:  # touched at most once a minute
                con.execute("UPDATE sessions SET last_seen = ? WHERE sid = ?", [now, sid])
        return None if row is None else dict(zip(("username", "role", "scope", "subject_hash"), row[:4]))

    def close_session(self, sid: str) -> None:
        with self._con() as con:
            con.execute("DELETE FROM sessions WHERE sid = ?", [sid])

    def sessions_of(self, username: str) -> int:
        with self._con() as con:
            return con.execute("SELECT count(*) FROM sessions WHERE username = ?", [username]).fetchone()[0]

    # ------------------------------------------------------------------ sign-in attempts
    def claim_attempt(self, username: str, remote: str, window_s: int, limit: int) -> bool:
        """Count one sign-in attempt of ``username`` from ``remote``; False (and nothing counted)
        when that pair already has ``limit`` within the window. Atomic: of parallel guesses,
        no more than ``limit`` are ever let through to the password check. Another address
        is counted apart, so a guesser elsewhere cannot lock the real user out."""
        now = time.time()
        with self._write() as con:
            n = con.execute("SELECT count(*) FROM login_failures WHERE username = ? AND remote = ? AND at > ?",
                            [username, remote, now - window_s]).fetchone()[0]
            if n >= limit:
                return False
            con.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [username, remote, now])
            return True

    def clear_failures(self, username: str, remote: str | None = None) -> None:
        """Forget the attempts of ``username`` (from ``remote`` only, when given)."""
        with self._con() as con:
            if remote is None:
                con.execute("DELETE FROM login_failures WHERE username = ?", [username])
            else:
                con.execute("DELETE FROM login_failures WHERE username = ? AND remote = ?", [username, remote])
