"""Linkage: the person index, its history, link runs and models, review decisions (tables on the
store's one ``metadata``; migration 0002 creates them).

- ``persons``: one row per person id ever issued (``L`` + 10 digits); ids are never reused, a
  person merged away or emptied is ``retired``.
- ``person_records``: the current person of every linked person record.
- ``person_links``: every model link at or above the threshold between indexed records, kind
  ``held`` (the maximum spanning forest that holds a person together), ``within`` (a further
  link inside one person) or ``blocked`` (a link across two persons, refused because of a
  review decision or an incremental attach). A review decision re-clusters only the connected
  component it touches, from these links, exactly as a full run would.
- ``person_history``: one row per (event, person concerned): which ids became which, when and
  why (``run_id`` or ``decision_id``).
- ``link_runs``, ``link_models``: what produced the index (L1 fills ``link_models``).
- ``review_queue``, ``review_decisions``: uncertain pairs and what people decided about them.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from leds.store.schema_base import Id, metadata

TS = DateTime(timezone=True)
PERSON_ID = String(11)  # "L" + 10 digits

link_runs = Table(
    "link_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # full | incremental
    Column("model_version", String(64), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("started_at", TS, nullable=False),
    Column("finished_at", TS),
    Column("status", String(16), nullable=False),  # running | finished
    Column("counts", Text, nullable=False, server_default=text("'{}'")),  # JSON
)

link_models = Table(
    "link_models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("created_at", TS, nullable=False),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("settings", Text, nullable=False),  # JSON summary of the model's settings
    Column("actor_id", String(64)),
    Column("records", Integer),  # how many records it was trained on
)

persons = Table(
    "persons",
    metadata,
    Column("person_id", PERSON_ID, primary_key=True),
    Column("created_at", TS, nullable=False),
    Column("created_run_id", Id, ForeignKey("link_runs.id")),
    Column("status", String(8), nullable=False),  # active | retired
    Column("retired_at", TS),
)

person_records = Table(
    "person_records",
    metadata,
    Column(
        "record_id",
        Id,
        ForeignKey("records.id", ondelete="CASCADE"),  # erasing a record unlinks it
        primary_key=True,
        autoincrement=False,
    ),
    Column("person_id", PERSON_ID, ForeignKey("persons.person_id"), nullable=False),
    Column("run_id", Id, ForeignKey("link_runs.id")),
    Column("assigned_at", TS, nullable=False),
    Index("ix_person_records_person", "person_id"),
)

person_links = Table(
    "person_links",
    metadata,
    Column("record_l", Id, primary_key=True, autoincrement=False),
    Column("record_r", Id, primary_key=True, autoincrement=False),
    Column("probability", Float, nullable=False),
    Column("kind", String(8), nullable=False),  # held | within | blocked
    Index("ix_person_links_r", "record_r"),
)

review_decisions = Table(
    "review_decisions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_a", Id, nullable=False),  # no FK: decisions outlive erased records
    Column("record_b", Id, nullable=False),
    Column("decision", String(16), nullable=False),  # match | not-a-match | unsure
    Column("reason", Text, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("at", TS, nullable=False),
    Column("undone_at", TS),
    Column("undone_by", String(64)),
    Column("undo_reason", Text),
    Index("ix_review_decisions_pair", "record_a", "record_b"),
)

person_history = Table(
    "person_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("person_id", PERSON_ID, nullable=False),  # the person this row concerns
    Column("event", String(8), nullable=False),  # new | merge | split | attach | retire | review
    Column("from_ids", Text, nullable=False),  # JSON list of person ids
    Column("to_ids", Text, nullable=False),  # JSON list of person ids
    Column("records", Integer, nullable=False),  # how many records moved
    Column("run_id", Id, ForeignKey("link_runs.id")),
    Column("decision_id", Id, ForeignKey("review_decisions.id")),
    Column("at", TS, nullable=False),
    Column("reason", Text, nullable=False),
    Column("moved", Text),  # JSON list of record ids moved (decisions only; small)
    Index("ix_person_history_person", "person_id", "id"),
    Index("ix_person_history_decision", "decision_id"),
)

review_queue = Table(
    "review_queue",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("record_a", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("record_b", Id, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("probability", Float, nullable=False),
    Column("weight", Float, nullable=False),
    Column("uncertainty", Float, nullable=False),  # |weight - threshold weight|: small first
    Column("run_id", Id, ForeignKey("link_runs.id")),
    Column("reason", String(32), nullable=False),  # near-threshold | joins-two-persons
    Column("status", String(16), nullable=False),  # pending | decided | superseded
    Column("queued_at", TS, nullable=False),
    Column("decision_id", Id, ForeignKey("review_decisions.id")),
    UniqueConstraint("record_a", "record_b", name="uq_review_queue_pair"),
    Index("ix_review_queue_pending", "status", "uncertainty"),
)
