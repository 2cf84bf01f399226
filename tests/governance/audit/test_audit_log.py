"""The audit log in the store: verify recomputes everything and names the first bad entry;
every single-entry edit, deletion, reordering and truncation is detected; proofs check out
against signed checkpoints; a witness cosigns the log's checkpoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from leds.governance.audit import AuditEvent
from leds.governance.audit.log import AuditIntegrityError, AuditLog, check_consistency
from leds.governance.audit.merkle import leaf_hash, verify_inclusion
from leds.governance.audit.notes import NoteSigner, open_checkpoint
from leds.governance.audit.witness import Witness, verify_cosignature
from leds.governance.identity import Actor, PurposeStatement
from leds.model.codes import AuditKind
from leds.store import Store
from leds.store.schema import audit_checkpoints, audit_events, audit_head

ACTOR = Actor("pc123", "constable", "WYP")
PURPOSE = PurposeStatement.of("stop", "vehicle stopped on the A64 tonight")
N = 24


def _append(log: AuditLog, n: int) -> list[int]:
    seqs = []
    for i in range(n):
        event = AuditEvent(
            AuditKind.CONSULTATION,
            "search_person",
            ACTOR,
            PURPOSE,
            {"surname": f"SMITH{i}"},
            subjects=[f"person/{i}"],
        )
        with log.store.transaction() as conn:
            seqs.append(log.append(conn, event))
    return seqs


@pytest.fixture
def filled(audit_log: AuditLog) -> AuditLog:
    _append(audit_log, N)
    return audit_log


def _snapshot(store: Store) -> dict[str, list[dict[str, Any]]]:
    with store.engine.connect() as conn:
        return {
            t.name: [dict(r._mapping) for r in conn.execute(select(t))]
            for t in (audit_events, audit_head, audit_checkpoints)
        }


@contextmanager
def tampered(store: Store) -> Iterator[None]:
    """Let a test tamper with the log, then put the log back exactly as it was."""
    saved = _snapshot(store)
    try:
        yield
    finally:
        with store.transaction() as conn:
            for table in (audit_events, audit_head, audit_checkpoints):
                conn.execute(delete(table))
                if saved[table.name]:
                    conn.execute(insert(table), saved[table.name])


def test_a_clean_log_verifies(filled: AuditLog) -> None:
    report = filled.verify()
    assert report.entries == N
    assert report.checkpoints >= 2  # checkpoint_every=10 in the fixture
    assert report.head_note is not None
    point, _ = open_checkpoint(report.head_note, [filled.verifier])
    assert (point.size, point.root) == (N, report.root)


def test_every_single_entry_edit_is_detected(filled: AuditLog) -> None:
    store = filled.store
    for seq in range(1, N + 1):
        for column, value in (
            ("justification", "nothing to see here"),
            ("actor_id", "pc999"),
            ("subjects", '["person/999"]'),
        ):
            with tampered(store):
                with store.transaction() as conn:
                    conn.execute(
                        update(audit_events)
                        .where(audit_events.c.seq == seq)
                        .values({column: value})
                    )
                with pytest.raises(AuditIntegrityError) as caught:
                    filled.verify()
                assert caught.value.seq == seq, (seq, column)
        filled.verify()


def test_an_edit_with_a_recomputed_leaf_is_caught_by_the_signed_checkpoints(
    filled: AuditLog,
) -> None:
    store = filled.store
    for seq in range(1, N + 1):
        with tampered(store), store.transaction() as conn:
            conn.execute(
                update(audit_events)
                .where(audit_events.c.seq == seq)
                .values(leaf=leaf_hash(b"forged").hex())
            )
        with tampered(store):
            with store.transaction() as conn:
                conn.execute(
                    update(audit_events)
                    .where(audit_events.c.seq == seq)
                    .values(leaf=leaf_hash(b"forged").hex())
                )
            with pytest.raises(AuditIntegrityError):
                filled.verify()


def test_every_deletion_reordering_and_truncation_is_detected(filled: AuditLog) -> None:
    store = filled.store
    for seq in range(1, N + 1):
        with tampered(store):
            with store.transaction() as conn:
                conn.execute(delete(audit_events).where(audit_events.c.seq == seq))
            with pytest.raises(AuditIntegrityError, match=r"missing|truncated|after the signed"):
                filled.verify()
        with tampered(store):  # truncate: drop everything from seq on
            with store.transaction() as conn:
                conn.execute(delete(audit_events).where(audit_events.c.seq >= seq))
            with pytest.raises(AuditIntegrityError, match="truncated"):
                filled.verify()
    rows = _snapshot(store)["audit_events"]
    for seq in range(1, N):  # swap the content of two neighbouring entries
        a, b = rows[seq - 1], rows[seq]
        with tampered(store):
            with store.transaction() as conn:
                for target, source in ((a, b), (b, a)):
                    values = {k: v for k, v in source.items() if k != "seq"}
                    conn.execute(
                        update(audit_events)
                        .where(audit_events.c.seq == target["seq"])
                        .values(values)
                    )
            with pytest.raises(AuditIntegrityError) as caught:
                filled.verify()
            assert caught.value.seq == seq
    filled.verify()


def test_an_entry_added_behind_the_logs_back_is_detected(filled: AuditLog) -> None:
    store = filled.store
    row = _snapshot(store)["audit_events"][-1] | {"seq": N + 1}
    with tampered(store):
        with store.transaction() as conn:
            conn.execute(insert(audit_events), row)
        with pytest.raises(AuditIntegrityError) as caught:
            filled.verify()
        assert caught.value.seq == N + 1


def test_a_rolled_back_head_is_caught_by_a_trusted_checkpoint(filled: AuditLog) -> None:
    store = filled.store
    trusted = filled.head_note()
    assert trusted is not None
    first = _snapshot(store)["audit_checkpoints"][0]
    with tampered(store):
        with store.transaction() as conn:  # an insider with the database but not the key
            conn.execute(delete(audit_events).where(audit_events.c.seq > first["size"]))
            conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.size > first["size"]))
            conn.execute(
                update(audit_head).values(
                    size=first["size"], note=first["note"], root=first["root"]
                )
            )
        filled.verify()  # consistent in itself...
        with pytest.raises(AuditIntegrityError, match="truncated"):
            filled.verify(trusted=trusted)  # ...but not with what the witness holds


def test_a_log_signed_with_another_key_fails(filled: AuditLog) -> None:
    other = AuditLog(filled.store, NoteSigner.generate("test-audit-log"))
    with pytest.raises(AuditIntegrityError, match="not validly signed"):
        other.verify()


def test_inclusion_and_consistency_proofs(filled: AuditLog) -> None:
    for seq in (1, 7, N):
        proof = filled.prove_inclusion(seq)
        point, _ = open_checkpoint(proof.checkpoint, [filled.verifier])
        verify_inclusion(
            leaf_hash(proof.leaf_input), proof.leaf_index, point.size, proof.proof, point.root
        )
    old = filled.head_note()
    assert old is not None
    _append(filled, 5)
    new, proof_bytes = filled.prove_consistency(N)
    check_consistency(old, new, proof_bytes, filled.verifier)


def test_a_witness_cosigns_a_growing_log(filled: AuditLog, tmp_path: Path) -> None:
    witness_key = NoteSigner.generate("oversight-witness")
    witness = Witness(tmp_path / "witness.json", witness_key, filled.verifier)
    note, proof = filled.prove_consistency(0)
    line = witness.cosign(note, proof)
    _append(filled, 3)
    state = witness.state()
    assert state is not None
    note, proof = filled.prove_consistency(state.size)
    line = witness.cosign(note, proof)
    cosigned = verify_cosignature(
        note + line, witness.verifier_key_string(), log_verifier=filled.verifier
    )
    assert cosigned.checkpoint.size == N + 3


def test_sequence_numbers_have_no_gaps_after_a_rollback(audit_log: AuditLog) -> None:
    _append(audit_log, 2)
    event = AuditEvent(AuditKind.CONSULTATION, "x", ACTOR, PURPOSE, {})

    def failing_operation() -> None:
        with audit_log.store.transaction() as conn:
            audit_log.append(conn, event)
            raise RuntimeError("the operation failed after its audit append")

    with pytest.raises(RuntimeError):
        failing_operation()
    assert _append(audit_log, 1) == [3]
    with audit_log.store.engine.connect() as conn:
        assert conn.execute(text("select count(*) from audit_events")).scalar() == 3


def test_an_unreadable_entry_is_reported_as_tampering(filled: AuditLog) -> None:
    store = filled.store
    with tampered(store):
        with store.transaction() as conn:
            conn.execute(update(audit_events).where(audit_events.c.seq == 5).values(salt="zz"))
        with pytest.raises(AuditIntegrityError) as caught:
            filled.verify()
        assert caught.value.seq == 5


def test_event_times_are_kept_in_utc(audit_log: AuditLog) -> None:
    from datetime import datetime, timedelta, timezone

    local = datetime(2026, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    event = AuditEvent(AuditKind.CONSULTATION, "x", ACTOR, PURPOSE, {}, at=local)
    with audit_log.store.transaction() as conn:
        audit_log.append(conn, event)
    assert audit_log.verify().entries == 1
    entry = audit_log.store.audit_entries()[0]
    assert entry.at == local
    assert entry.at.utcoffset() == timedelta(0)
