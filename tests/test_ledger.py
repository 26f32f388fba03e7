"""The audit ledger: every change recorded, and any tampering found (SQLite and PostgreSQL)."""

from __future__ import annotations

import stat

import pytest
from sqlalchemy import text

from clearinghouse.access import services as access
from clearinghouse.ledger import CHECKPOINT_EVERY, AuditEvent, LedgerHead, verify_ledger
from clearinghouse.ledger._keys import PRIVATE_KEY_FILE, load_or_create_signing_key
from clearinghouse.runtime import Runtime
from clearinghouse.storage import Actor
from tests.support.factories import make_org, make_user


def _populate(runtime: Runtime, n: int = 6) -> None:
    org = make_org(runtime, "Acme")
    for i in range(n - 1):
        make_user(runtime, f"user{i}", org)


def _verify(runtime: Runtime):  # type: ignore[no-untyped-def]
    with runtime.uow(Actor.system("test"), write=False) as uow:
        return verify_ledger(uow.session, runtime.settings.keys_dir, runtime.signing_key)


def _sql(runtime: Runtime, statement: str, **params: object) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_every_change_is_recorded_with_actor_and_state_digest(runtime: Runtime) -> None:
    org = make_org(runtime, "Acme")
    user = make_user(runtime, "alice", org)
    with runtime.uow(Actor.user(user)) as uow:
        issued = access.issue_token(uow, access.OPERATOR, "alice")
        uow.commit()
    with runtime.uow(Actor.user(user)) as uow:
        access.revoke_token(uow, access.OPERATOR, issued.token.id)
        uow.commit()
    with runtime.uow(Actor.system("test"), write=False) as uow:
        events = uow.session.query(AuditEvent).order_by(AuditEvent.seq).all()
    assert [e.action for e in events] == [
        "organization.created",
        "user.created",
        "api_token.created",
        "api_token.revoked",
    ]
    assert events[2].actor == f"user:{user}"
    assert events[2].object_id == issued.token.id
    assert all(e.state_digest and len(e.state_digest) == 64 for e in events)
    assert events[2].state_digest != events[3].state_digest  # the revocation changed the state
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_rolled_back_work_leaves_no_event(runtime: Runtime) -> None:
    with runtime.uow(Actor.system("test")) as uow:
        access.create_organization(uow, access.OPERATOR, "Never", "software_vendor")
        # no commit
    assert _verify(runtime).events_checked == 0


def test_untouched_ledger_verifies(runtime: Runtime) -> None:
    _populate(runtime)
    report = _verify(runtime)
    assert report.ok, report.problems
    assert report.events_checked == 6
    assert report.head_seq == 6


def test_checkpoints_are_signed_every_n_events(runtime: Runtime) -> None:
    org = make_org(runtime, "Acme")
    with runtime.uow(Actor.system("test")) as uow:
        for i in range(CHECKPOINT_EVERY):
            access.create_user(uow, access.OPERATOR, access.NewUser(f"u{i}", org, ["partner"]))
        uow.commit()
    report = _verify(runtime)
    assert report.ok, report.problems
    assert report.checkpoints_checked == 1
    # Tampering under a checkpoint is named at the event, and the checkpoint notices too.
    _sql(runtime, "UPDATE audit_events SET hash = :h WHERE seq = :s", h="f" * 64, s=CHECKPOINT_EVERY)
    report = _verify(runtime)
    assert report.first_problem is not None and report.first_problem.seq == CHECKPOINT_EVERY


@pytest.mark.parametrize("column", ["actor", "action", "object_id", "state_digest"])
def test_an_edited_event_is_named(runtime: Runtime, column: str) -> None:
    _populate(runtime)
    _sql(runtime, f"UPDATE audit_events SET {column} = 'tampered' WHERE seq = 3")
    report = _verify(runtime)
    assert not report.ok
    assert report.first_problem is not None
    assert report.first_problem.seq == 3
    assert "event 3 was altered" in report.first_problem.message


def test_an_edited_timestamp_is_named(runtime: Runtime) -> None:
    _populate(runtime)
    with runtime.uow(Actor.system("test")) as uow:
        event = uow.session.get(AuditEvent, 4)
        assert event is not None
        event.occurred_at = event.occurred_at.replace(year=2020)
        uow.session.flush()
        uow.commit()
    report = _verify(runtime)
    assert report.first_problem is not None and report.first_problem.seq == 4


def test_a_deleted_event_is_named(runtime: Runtime) -> None:
    _populate(runtime)
    _sql(runtime, "DELETE FROM audit_events WHERE seq = 2")
    report = _verify(runtime)
    assert report.first_problem is not None
    assert report.first_problem.seq == 2
    assert "event 2 is missing" in report.first_problem.message


def test_a_deleted_tail_is_found_by_the_signed_head(runtime: Runtime) -> None:
    _populate(runtime)
    _sql(runtime, "DELETE FROM audit_events WHERE seq = 6")
    report = _verify(runtime)
    assert report.first_problem is not None and report.first_problem.seq == 6
    assert "removed from the end" in report.first_problem.message


def test_swapped_events_are_named(runtime: Runtime) -> None:
    _populate(runtime)
    # Move event 2 and event 4 into each other's place (renumber them).
    _sql(runtime, "UPDATE audit_events SET seq = 1000 WHERE seq = 2")
    _sql(runtime, "UPDATE audit_events SET seq = 2 WHERE seq = 4")
    _sql(runtime, "UPDATE audit_events SET seq = 4 WHERE seq = 1000")
    report = _verify(runtime)
    assert report.first_problem is not None and report.first_problem.seq == 2


def test_swapped_contents_are_named(runtime: Runtime) -> None:
    _populate(runtime)
    with runtime.uow(Actor.system("test")) as uow:
        a, b = uow.session.get(AuditEvent, 3), uow.session.get(AuditEvent, 5)
        assert a is not None and b is not None
        for column in ("actor", "action", "object_type", "object_id", "state_digest", "detail", "hash"):
            va, vb = getattr(a, column), getattr(b, column)
            setattr(a, column, vb)
            setattr(b, column, va)
        # The unique hash column needs the swap in two steps.
        a_hash, b_hash = a.hash, b.hash
        a.hash, b.hash = "x", "y"
        uow.session.flush()
        a.hash, b.hash = a_hash, b_hash
        uow.session.flush()
        uow.commit()
    report = _verify(runtime)
    assert report.first_problem is not None and report.first_problem.seq == 3


def test_an_inserted_event_is_named(runtime: Runtime) -> None:
    _populate(runtime)
    # Shift events 4..6 up by one and put a forged event at 4 (its hash recomputed honestly).
    for seq in (6, 5, 4):
        _sql(runtime, "UPDATE audit_events SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    from clearinghouse.ledger import event_hash
    from clearinghouse.storage import utcnow

    with runtime.uow(Actor.system("test"), write=False) as uow:
        prev = uow.session.get(AuditEvent, 3)
        assert prev is not None
        prev_hash = prev.hash
    now = utcnow()
    fields = dict(
        seq=4,
        occurred_at=now,
        actor="user:mallory",
        action="user.created",
        object_type="user",
        object_id="forged",
        state_digest=None,
        detail={},
        prev_hash=prev_hash,
    )
    with runtime.uow(Actor.system("test")) as uow:
        uow.session.add(AuditEvent(**fields, hash=event_hash(**fields)))  # type: ignore[arg-type]
        uow.session.flush()
        uow.commit()
    report = _verify(runtime)
    assert report.first_problem is not None and report.first_problem.seq == 5
    assert "altered or moved" in report.first_problem.message


def test_an_event_appended_without_the_key_is_found(runtime: Runtime) -> None:
    _populate(runtime)
    _sql(runtime, "UPDATE ledger_head SET seq = 5")
    report = _verify(runtime)
    assert not report.ok
    assert report.first_problem is not None and report.first_problem.seq == 5


def test_another_key_does_not_verify(runtime: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _populate(runtime)
    stranger = load_or_create_signing_key(tmp_path / "other")
    with runtime.uow(Actor.system("test"), write=False) as uow:
        report = verify_ledger(uow.session, tmp_path / "other", stranger)
    assert not report.ok
    assert "no valid signature" in report.problems[0].message


def test_key_is_created_once_with_private_permissions(runtime: Runtime) -> None:
    path = runtime.settings.keys_dir / PRIVATE_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_signing_key(runtime.settings.keys_dir)
    assert again.key_id == runtime.signing_key.key_id


def test_concurrent_writers_keep_one_chain(runtime: Runtime) -> None:
    import threading

    org = make_org(runtime, "Acme")
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            make_user(runtime, f"w{i}", org)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = _verify(runtime)
    assert report.ok, report.problems
    assert report.events_checked == 9
    with runtime.uow(Actor.system("test"), write=False) as uow:
        head = uow.session.get(LedgerHead, 1)
        assert head is not None and head.seq == 9
