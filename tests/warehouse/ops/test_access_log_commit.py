"""The access log's group commit on a real store: entries handed at once by many threads and by
two processes are each written exactly once, every caller's in the order it handed them, in
one unbroken chain; a caller is released only once its entry is committed; an entry the store
refuses fails alone, the others in its batch are written; a caller that gave up before its
entry was taken has nothing written. And the store's read connections see every commit at once
(a revoked key or a disabled user is never answered from a stale read)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from warehouse.ops.store import OpsStore

ROOT = Path(__file__).resolve().parents[3]
THREADS, EACH = 8, 40

# Another process writing the same log: T threads of N entries each, purposes "<tag> <t> <n>".
WRITER = """
import sys, threading
from pathlib import Path
from warehouse.ops.store import OpsStore
store, tag, T, N = OpsStore(Path(sys.argv[1])), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def run(t):
    for n in range(N):
        store.log_access("clerk", "officer", "api_persons_status", delivery_id=None, rows=1,
                         id_numbers=["330106199001011234"], purpose=f"{tag} {t} {n}", scope="civil")
threads = [threading.Thread(target=run, args=(t,)) for t in range(T)]
[t.start() for t in threads]; [t.join() for t in threads]
"""


def _log(store: OpsStore, purpose: str) -> None:
    store.log_access("clerk", "officer", "api_persons_status", delivery_id=None, rows=1,
                     id_numbers=["330106199001011234"], purpose=purpose, scope="civil", legal_basis="test")


def _purposes(store: OpsStore) -> list[str]:
    """Every entry's purpose, in the order written."""
    con = sqlite3.connect(store.path)
    try:
        return [p for (p,) in con.execute("SELECT purpose FROM access_log ORDER BY rowid")]
    finally:
        con.close()


def _check_once_and_in_order(purposes: list[str], tags: dict[str, int]) -> None:
    """Each tag's T x N entries are there exactly once, each thread's in its own order."""
    counts = Counter(purposes)
    assert not [p for p, n in counts.items() if n > 1], "an entry written twice"
    for tag, threads in tags.items():
        for t in range(threads):
            mine = [int(p.split()[2]) for p in purposes if p.startswith(f"{tag} {t} ")]
            assert mine == list(range(EACH)), (tag, t)


def test_threads_and_two_processes_each_entry_once_in_one_chain(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    _log(store, "first")  # the file and its key exist before the others start
    others = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), tag, str(THREADS), str(EACH)], cwd=ROOT)
              for tag in ("p1", "p2")]

    def run(t: int) -> None:
        for n in range(EACH):
            _log(store, f"here {t} {n}")

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [p.wait(timeout=120) for p in others] == [0, 0]

    purposes = _purposes(store)
    assert len(purposes) == 1 + 3 * THREADS * EACH
    _check_once_and_in_order(purposes, {"here": THREADS, "p1": THREADS, "p2": THREADS})
    assert store.verify_audit_chain() == (len(purposes), None)


def test_a_caller_is_released_only_once_its_entry_is_committed(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    _log(store, "first")
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process's writer holding the write lock
    try:
        pending = [store.append_access("clerk", "officer", "api_persons_status", delivery_id=None, rows=1, id_numbers=[],
                                       purpose=f"waiting {n}", scope="civil") for n in range(20)]
        time.sleep(0.3)
        assert not any(f.done() for f in pending)  # nothing committed, nobody released
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    for f in pending:
        f.result(timeout=30)
    # Released means committed: another connection sees every one of them.
    assert _purposes(store)[1:] == [f"waiting {n}" for n in range(20)]
    assert store.verify_audit_chain() == (21, None)


def test_an_entry_the_store_refuses_fails_alone_and_a_cancelled_one_is_not_written(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    _log(store, "first")
    con = sqlite3.connect(store.path)
    con.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON access_log WHEN NEW.purpose = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    con.commit()
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # so that what follows waits and is written as one batch
    try:
        def hand(purpose: str):
            return store.append_access("clerk", "officer", "sign_in", delivery_id=None, rows=0, id_numbers=[],
                                       purpose=purpose, scope=None)

        futures = {p: hand(p) for p in ("a", "b", "poison", "c", "gone", "d")}
        gave_up = futures["gone"].cancel()  # its caller stopped waiting (a cancelled task)
        time.sleep(0.2)
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    with pytest.raises(sqlite3.IntegrityError, match="refused"):
        futures["poison"].result(timeout=30)
    for p in "abcd":
        futures[p].result(timeout=30)
    expected = ["first", "a", "b", "c", "d"] if gave_up else ["first", "a", "b", "c", "gone", "d"]
    assert _purposes(store) == expected
    assert store.verify_audit_chain() == (len(expected), None)
    con.execute("DROP TRIGGER refuse_poison")
    con.commit()
    con.close()
    _log(store, "after")  # the writer goes on
    assert _purposes(store)[-1] == "after"


def test_reads_on_open_connections_see_every_commit(tmp_path: Path) -> None:
    store = OpsStore(tmp_path)
    store.add_user("clerk", "x", "officer", "civil")
    assert store.user("clerk")["disabled"] == 0  # now read on a kept connection
    other = OpsStore(tmp_path)  # another process's store, as far as the file knows
    other.set_disabled("clerk", True)
    assert store.user("clerk")["disabled"] == 1
    threads = [threading.Thread(target=lambda: [store.user("clerk") for _ in range(50)]) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store._pool) <= 8
