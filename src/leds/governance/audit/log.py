"""The tamper-evident audit log over the store's ``audit_events`` table.

Each appended event gets the next sequence number, a random salt and a leaf: the RFC 9162 leaf
hash of ``SHA-256(salt || canonical record)``. Proofs therefore reveal no personal data; anyone
holding a record and its salt can show it is in the log. The tree's frontier and a signed
checkpoint (C2SP signed note) of the head are updated in the same transaction as every append,
and a checkpoint is kept every ``checkpoint_every`` entries or ``checkpoint_seconds`` seconds.

Appends serialise on the head row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
write transaction's ``BEGIN IMMEDIATE``), so sequence numbers are contiguous whatever the
number of writer processes, and a rolled-back transaction leaves no gap.

:meth:`AuditLog.verify` recomputes everything from the rows and names the first bad entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, String, insert, select, type_coerce, update

from leds.errors import LedsError
from leds.governance.audit.events import AuditEvent
from leds.governance.audit.merkle import (
    Frontier,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
)
from leds.governance.audit.notes import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    open_checkpoint,
    sign_note,
)
from leds.governance.audit.query import index_entries
from leds.store import Store
from leds.store.schema import audit_checkpoints, audit_events, audit_head

# Columns that make up the canonical record, in this order (JSON columns as stored text).
CANONICAL_COLUMNS: tuple[str, ...] = (
    "kind",
    "operation",
    "actor_id",
    "actor_role",
    "actor_org",
    "purpose",
    "justification",
    "case_ref",
    "query",
    "subjects",
    "recipients",
    "decision",
    "outcome",
)
VERIFY_CHUNK = 20_000
# verify() reads these columns, in this order: seq, at, the canonical ones, salt, leaf.
_VERIFY_COLUMNS = (
    audit_events.c.seq,
    # Raw as stored: on SQLite the text SQLAlchemy wrote, turned into the canonical time
    # without a datetime round trip (PostgreSQL's driver returns datetimes whatever the type).
    type_coerce(audit_events.c.at, String).label("at"),
    *(audit_events.c[column] for column in CANONICAL_COLUMNS),
    audit_events.c.salt,
    audit_events.c.leaf,
)
_JSON_STRING = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses
_LEAF = b"\x00"  # RFC 9162 leaf and node hash prefixes
_NODE = b"\x01"


class AuditIntegrityError(LedsError):
    """The log does not verify: names the first bad entry or checkpoint."""

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message, hint="treat the log as tampered with; report to oversight")
        self.seq = seq


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def canonical_record(seq: int, values: Any) -> bytes:
    """The canonical bytes of an audit record (``values``: a row or a mapping of columns)."""
    get = values.__getitem__ if isinstance(values, dict) else values._mapping.__getitem__
    fields = [seq, _utc(get("at")).isoformat(timespec="microseconds")]
    fields.extend(get(column) for column in CANONICAL_COLUMNS)
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def leaf_input(salt: bytes, canonical: bytes) -> bytes:
    """The leaf's data: a salted hash of the record, so that proofs carry no content."""
    return hashlib.sha256(salt + canonical).digest()


@dataclass(frozen=True, slots=True)
class InclusionProof:
    seq: int
    leaf_index: int
    leaf_input: bytes
    proof: list[bytes]
    checkpoint: str  # the signed note the proof is against


@dataclass(frozen=True, slots=True)
class VerifyReport:
    entries: int
    checkpoints: int
    root: bytes
    head_note: str | None


class AuditLog:
    """Append-only, Merkle-hashed audit log with signed checkpoints."""

    def __init__(
        self,
        store: Store,
        signer: NoteSigner,
        *,
        checkpoint_every: int = 1000,
        checkpoint_seconds: float = 60.0,
    ) -> None:
        self.store = store
        self.signer = signer
        self.origin = signer.name
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds

    @property
    def verifier(self) -> NoteVerifier:
        return self.signer.verifier()

    # ---- writing -------------------------------------------------------------------------
    def append(self, conn: Connection, event: AuditEvent) -> int:
        """Append one event inside the caller's transaction; return its sequence number."""
        return self.append_many(conn, [event])[-1]

    def append_many(self, conn: Connection, events: Sequence[AuditEvent]) -> list[int]:
        """Append events in order inside the caller's transaction (group commit)."""
        head_q = select(audit_head).where(audit_head.c.id == 1)
        if conn.dialect.name != "sqlite":
            head_q = head_q.with_for_update()
        head = conn.execute(head_q).one()
        frontier = Frontier.from_bytes(head.frontier)
        rows: list[dict[str, Any]] = []
        for event in events:
            seq = frontier.size + 1
            values = event.row()
            salt = os.urandom(16)
            leaf = leaf_hash(leaf_input(salt, canonical_record(seq, values)))
            frontier.append(leaf)
            values.update(seq=seq, salt=salt.hex(), leaf=leaf.hex())
            rows.append(values)
        conn.execute(insert(audit_events), rows)
        index_entries(conn, rows)  # what oversight filters by (subjects, sources)
        now = datetime.now(UTC)
        root = frontier.root()
        note = sign_note(Checkpoint(self.origin, frontier.size, root).body(), [self.signer])
        conn.execute(
            update(audit_head)
            .where(audit_head.c.id == 1)
            .values(
                size=frontier.size,
                frontier=frontier.to_bytes(),
                root=root.hex(),
                note=note,
                updated_at=now,
            )
        )
        last = conn.execute(
            select(audit_checkpoints.c.size, audit_checkpoints.c.at)
            .order_by(audit_checkpoints.c.size.desc())
            .limit(1)
        ).one_or_none()
        due = last is None or frontier.size - last.size >= self.checkpoint_every
        if not due and last is not None:
            due = (now - _utc(last.at)).total_seconds() >= self.checkpoint_seconds
        if due:
            conn.execute(
                insert(audit_checkpoints),
                {"size": frontier.size, "root": root.hex(), "note": note, "at": now},
            )
        return [int(r["seq"]) for r in rows]

    def record_cosignature(self, note: str, line: str) -> None:
        """Keep a witness's cosignature line with the checkpoint ``note`` it cosigned (the
        checkpoint is kept too, if it was only the head until now)."""
        point, _ = open_checkpoint(note, [self.verifier])
        with self.store.transaction() as conn:
            row = conn.execute(
                select(audit_checkpoints.c.cosignatures).where(
                    audit_checkpoints.c.size == point.size
                )
            ).one_or_none()
            if row is None:
                conn.execute(
                    insert(audit_checkpoints),
                    {
                        "size": point.size,
                        "root": point.root.hex(),
                        "note": note,
                        "at": datetime.now(UTC),
                        "cosignatures": line,
                    },
                )
            else:
                conn.execute(
                    update(audit_checkpoints)
                    .where(audit_checkpoints.c.size == point.size)
                    .values(cosignatures=row.cosignatures + line)
                )

    # ---- reading -------------------------------------------------------------------------
    def head_note(self) -> str | None:
        with self.store.engine.connect() as conn:
            note = conn.execute(select(audit_head.c.note).where(audit_head.c.id == 1)).scalar()
        return None if note is None else str(note)

    def _leaves(self, conn: Connection, size: int) -> list[bytes]:
        rows = conn.execute(
            select(audit_events.c.leaf)
            .where(audit_events.c.seq <= size)
            .order_by(audit_events.c.seq)
        )
        return [bytes.fromhex(r.leaf) for r in rows]

    def prove_inclusion(self, seq: int) -> InclusionProof:
        """An inclusion proof of entry ``seq`` against the current signed head."""
        with self.store.engine.connect() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            if not 1 <= seq <= head.size:
                raise LedsError(f"no audit entry {seq}", hint=f"entries are 1..{head.size}")
            row = conn.execute(select(audit_events).where(audit_events.c.seq == seq)).one()
            leaves = self._leaves(conn, head.size)
        data = leaf_input(bytes.fromhex(row.salt), canonical_record(seq, row))
        return InclusionProof(seq, seq - 1, data, inclusion_proof(leaves, seq - 1), head.note)

    def prove_consistency(self, old_size: int) -> tuple[str, list[bytes]]:
        """The current signed head and a consistency proof from ``old_size`` to it."""
        with self.store.engine.connect() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            if head.note is None:
                raise LedsError("the audit log is empty")
            if old_size > head.size:
                raise LedsError(f"the log has {head.size} entries, fewer than {old_size}")
            if old_size in (0, head.size):
                return str(head.note), []
            return str(head.note), consistency_proof(self._leaves(conn, head.size), old_size)

    # ---- verification --------------------------------------------------------------------
    def _verify_chunks(self, conn: Connection) -> Iterator[Sequence[Any]]:
        """The rows of the log in order of seq, VERIFY_CHUNK at a time (``_VERIFY_COLUMNS``)."""
        after = 0
        query = select(*_VERIFY_COLUMNS).order_by(audit_events.c.seq).limit(VERIFY_CHUNK)
        while True:
            chunk = conn.execute(query.where(audit_events.c.seq > after)).all()
            if not chunk:
                return
            yield chunk
            after = chunk[-1][0]

    def verify(
        self,
        *,
        trusted: str | None = None,
        verifiers: Sequence[NoteVerifier] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> VerifyReport:
        """Recompute every leaf and the tree; check every checkpoint and the signed head.

        ``trusted`` is a checkpoint note held outside the log (a witness's last cosigned one):
        the log must still contain it, unchanged. Raises :class:`AuditIntegrityError` naming
        the first bad entry (edited, missing, inserted, out of order) or checkpoint.
        """
        keys = list(verifiers) if verifiers is not None else [self.verifier]

        def opened(note: str, what: str) -> Checkpoint:
            try:
                checkpoint, _ = open_checkpoint(note, keys)
            except NoteError as exc:
                raise AuditIntegrityError(f"{what} is not validly signed: {exc.message}") from exc
            if checkpoint.origin != self.origin:
                raise AuditIntegrityError(f"{what} is for another log ({checkpoint.origin!r})")
            return checkpoint

        with self.store.engine.connect() as conn:
            head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()
            stored = conn.execute(
                select(audit_checkpoints).order_by(audit_checkpoints.c.size)
            ).all()
            expected: dict[int, Checkpoint] = {}
            for row in stored:
                expected[int(row.size)] = opened(row.note, f"checkpoint at size {row.size}")
            if trusted is not None:
                held = opened(trusted, "the trusted checkpoint")
                if held.size in expected and expected[held.size].root != held.root:
                    raise AuditIntegrityError(
                        f"the log's checkpoint at size {held.size} differs from the trusted one"
                    )
                expected.setdefault(held.size, held)
            head_point: Checkpoint | None = None
            if head.note:
                head_point = opened(head.note, "the signed head")
                if head_point.size != head.size:
                    raise AuditIntegrityError("the signed head does not match the head row")
                expected.setdefault(head_point.size, head_point)
            count, stack = self._verify_entries(conn, expected, progress)
            frontier = _frontier(count, stack)
        top = max(expected, default=0)
        if frontier.size < top:
            raise AuditIntegrityError(
                f"the log was truncated: it has {frontier.size} entries but a signed checkpoint "
                f"covers {top}",
                seq=frontier.size + 1,
            )
        if head_point is None and frontier.size:
            raise AuditIntegrityError("the log has entries but no signed head")
        if head_point is not None and frontier.size != head_point.size:
            raise AuditIntegrityError(
                f"entries after the signed head: the log has {frontier.size}, the head "
                f"{head_point.size}",
                seq=head_point.size + 1,
            )
        return VerifyReport(count, len(stored), frontier.root(), head.note)

    def _verify_entries(
        self,
        conn: Connection,
        expected: dict[int, Checkpoint],
        progress: Callable[[int], None] | None,
    ) -> tuple[int, list[bytes]]:
        """Check every entry in order; return the count and the tree's frontier stack.

        The per-entry checks of :meth:`verify`, in a tight loop: each leaf is recomputed
        from the row (as :func:`canonical_record` and :func:`leaf_input` do) and appended to a
        frontier kept in local variables. An entry whose fast recomputation does not match is
        recomputed the reference way before it is declared altered, so the verdict and the
        messages are exactly those of the plain per-row computation.
        """
        sha256 = hashlib.sha256
        fromhex = bytes.fromhex
        quote = _JSON_STRING
        checkpoint_at = expected.get
        stack: list[bytes] = []
        push, pop = stack.append, stack.pop
        seq = 0
        for chunk in self._verify_chunks(conn):
            for row in chunk:
                seq += 1
                stored_seq = row[0]
                if stored_seq != seq:
                    what = "missing" if stored_seq > seq else "out of order"
                    raise AuditIntegrityError(f"audit entry {seq} is {what}", seq=seq)
                try:
                    at = row[1]
                    if type(at) is str and len(at) == 26 and at[10] == " ":
                        stamp = f"{at[:10]}T{at[11:]}+00:00"  # SQLite's stored UTC text
                    else:
                        stamp = _utc(at).isoformat(timespec="microseconds")
                    fields = ",".join([quote(v) if v is not None else "null" for v in row[2:15]])
                    canonical = f"[{seq},{quote(stamp)},{fields}]"
                    data = sha256(fromhex(row[15]) + canonical.encode("utf-8")).digest()
                    leaf = sha256(_LEAF + data).digest()
                    altered = leaf.hex() != row[16]
                except (TypeError, ValueError, AttributeError):
                    altered = True
                if altered:
                    try:
                        leaf = self._reference_leaf(conn, seq)
                    except (TypeError, ValueError, AttributeError) as exc:
                        raise AuditIntegrityError(
                            f"audit entry {seq} was altered: it cannot be read ({exc})", seq=seq
                        ) from exc
                    if leaf.hex() != row[16]:
                        raise AuditIntegrityError(
                            f"audit entry {seq} was altered: its content does not match its leaf",
                            seq=seq,
                        )
                merges = seq
                while not merges & 1:
                    leaf = sha256(_NODE + pop() + leaf).digest()
                    merges >>= 1
                push(leaf)
                point = checkpoint_at(seq)
                if point is not None and point.root != _frontier(seq, stack).root():
                    raise AuditIntegrityError(
                        f"the tree at size {seq} does not match its signed checkpoint: an entry "
                        f"at or before {seq} was altered, inserted or removed",
                        seq=seq,
                    )
            if progress is not None and len(chunk) == VERIFY_CHUNK:
                progress(VERIFY_CHUNK)
        if progress is not None:
            progress(seq % VERIFY_CHUNK)
        return seq, stack

    @staticmethod
    def _reference_leaf(conn: Connection, seq: int) -> bytes:
        """Entry ``seq``'s leaf computed the plain way, from the fully typed row."""
        row = conn.execute(select(audit_events).where(audit_events.c.seq == seq)).one()
        return leaf_hash(leaf_input(bytes.fromhex(row.salt), canonical_record(seq, row)))


def _frontier(size: int, stack: list[bytes]) -> Frontier:
    """A :class:`Frontier` of ``size`` leaves from its subtree roots (largest first)."""
    version = Frontier().to_bytes()[:1]  # the serialised form's version byte
    return Frontier.from_bytes(version + size.to_bytes(8, "big") + b"".join(stack))


def check_consistency(
    old_note: str, new_note: str, proof: list[bytes], verifier: NoteVerifier
) -> None:
    """Check two signed checkpoints of one log and a consistency proof between them."""
    old, _ = open_checkpoint(old_note, [verifier])
    new, _ = open_checkpoint(new_note, [verifier])
    try:
        verify_consistency(old.size, new.size, old.root, new.root, proof)
    except ProofError as exc:
        raise AuditIntegrityError(f"checkpoints are inconsistent: {exc.reason}") from exc
