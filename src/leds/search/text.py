"""Free-text search over intelligence reports: SQLite FTS5 (porter stemming) or PostgreSQL
``tsvector`` with a GIN index (the dialect is read from the connection), filtered on the 3x5x2
grading (source 1-3, intelligence A-E) and the handling code (P or C).

Query syntax (both backends): words (all must occur), ``"quoted phrases"``, ``word*``
prefixes, ``OR`` between terms, ``-word`` to exclude. Only letters and digits reach the
database's own query language, so user text cannot inject query syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Connection

from leds.search.common import load_records, mark
from leds.search.errors import BadQuery
from leds.search.index import FTS_TABLE
from leds.store.base import StoredRecord

__all__ = ["TextHit", "TextQuery", "TextResults", "fts5_query", "search_text", "tsquery"]


@dataclass(frozen=True, slots=True)
class TextQuery:
    text: str  # words (all must occur), "quoted phrases", word* prefixes, OR, -excluded
    source_grade: str | None = None  # 1-3
    intel_grade: str | None = None  # A-E
    handling: str | None = None  # P or C
    limit: int = 20
    offset: int = 0


@dataclass(slots=True)
class TextHit:
    record: StoredRecord
    rank: float
    snippet: str


@dataclass(slots=True)
class TextResults:
    query: TextQuery
    total: int
    hits: list[TextHit] = field(default_factory=list)

    @property
    def record_ids(self) -> list[int]:
        return [h.record.id for h in self.hits]


_TOKEN = re.compile(r'-?"[^"]*"|\S+')
_WORD = re.compile(r"[A-Za-z0-9]+")


def _terms(text: str) -> tuple[list[tuple[str, list[str], bool]], list[list[str]]]:
    """Parse the user syntax: (positive terms, negated terms); a term is (kind, words, prefix)
    with kind "word", "phrase" or "or" (an OR between its neighbours)."""
    parts: list[tuple[str, list[str], bool]] = []
    negated: list[list[str]] = []
    for raw in _TOKEN.findall(text):
        neg = raw.startswith("-") and len(raw) > 1
        token = raw[1:] if neg else raw
        if token.upper() == "OR" and not neg:
            if parts and parts[-1][0] != "or":
                parts.append(("or", [], False))
            continue
        words = _WORD.findall(token)
        if not words:
            continue
        if neg:
            negated.append(words)
        elif token.startswith('"'):
            parts.append(("phrase", words, False))
        else:
            prefix = token.endswith("*") and len(words) == 1
            parts.append(("phrase" if len(words) > 1 else "word", words, prefix))
    while parts and parts[-1][0] == "or":
        parts.pop()
    if not parts:
        raise BadQuery(f"text query {text!r} has no words to search for")
    return parts, negated


def fts5_query(text: str) -> str:
    """Translate the user syntax to an FTS5 query (every term quoted: no syntax injection)."""
    parts, negated = _terms(text)
    out = []
    for kind, words, prefix in parts:
        if kind == "or":
            out.append("OR")
        elif kind == "phrase" and len(words) > 1:
            out.append('"' + " ".join(words) + '"')
        else:
            out.append(f'"{words[0]}"' + ("*" if prefix else ""))
    query = " ".join(out)
    for words in negated:
        query = f"({query}) NOT " + '"' + " ".join(words) + '"'
    return query


def tsquery(text: str) -> str:
    """Translate the user syntax to a PostgreSQL ``to_tsquery`` string (words only)."""
    parts, negated = _terms(text)
    out: list[str] = []
    for kind, words, prefix in parts:
        if kind == "or":
            out.append("|")
            continue
        if out and out[-1] != "|":
            out.append("&")
        if kind == "phrase" and len(words) > 1:
            out.append("(" + " <-> ".join(words) + ")")
        else:
            out.append(words[0] + (":*" if prefix else ""))
    query = "(" + " ".join(out) + ")"
    for words in negated:
        query += " & !(" + " <-> ".join(words) + ")"
    return query


def _filters(q: TextQuery) -> tuple[str, list[str]]:
    checks = []
    values = []
    for column, value, allowed in (
        ("source_grade", q.source_grade, "123"),
        ("intel_grade", q.intel_grade, "ABCDE"),
        ("handling", q.handling, "PC"),
    ):
        if value is None:
            continue
        value = value.strip().upper()
        if len(value) != 1 or value not in allowed:
            raise BadQuery(f"{column} must be one of {', '.join(allowed)}, not {value!r}")
        checks.append(f"t.{column} = {{m}}")
        values.append(value)
    return " AND ".join(checks), values


def search_text(conn: Connection, q: TextQuery) -> TextResults:
    """Intelligence reports whose text matches, best first (FTS5 bm25 / ts_rank)."""
    if q.limit < 1 or q.offset < 0:
        raise BadQuery("limit must be at least 1 and offset at least 0")
    m = mark(conn)
    where, values = _filters(q)
    extra = (" AND " + where.format(m=m)) if where else ""
    if conn.dialect.name == "postgresql":
        tsq = tsquery(q.text)
        base = f"FROM search_text t WHERE t.tsv @@ to_tsquery('english', {m}){extra}"
        params: list[object] = [tsq, *values]
        total = conn.exec_driver_sql(f"SELECT count(*) {base}", tuple(params)).scalar_one()
        rows = conn.exec_driver_sql(
            f"SELECT t.record_id, ts_rank(t.tsv, to_tsquery('english', {m})) AS r, "
            f"ts_headline('english', t.body, to_tsquery('english', {m})) {base} "
            f"ORDER BY r DESC, t.record_id LIMIT {int(q.limit)} OFFSET {int(q.offset)}",
            (tsq, tsq, *params),
        ).all()
    else:
        match = fts5_query(q.text)
        exists = conn.exec_driver_sql(
            f"SELECT 1 FROM sqlite_master WHERE name = '{FTS_TABLE}'"
        ).first()
        if exists is None:  # never indexed (build_indexes creates it): nothing to find
            return TextResults(q, 0, [])
        base = (
            f"FROM {FTS_TABLE} f JOIN search_text t ON t.record_id = f.rowid "
            f"WHERE {FTS_TABLE} MATCH {m}{extra}"
        )
        total = conn.exec_driver_sql(f"SELECT count(*) {base}", (match, *values)).scalar_one()
        rows = conn.exec_driver_sql(
            f"SELECT t.record_id, -bm25({FTS_TABLE}) AS r, "
            f"snippet({FTS_TABLE}, 0, '<b>', '</b>', '...', 16) {base} "
            f"ORDER BY r DESC, t.record_id LIMIT {int(q.limit)} OFFSET {int(q.offset)}",
            (match, *values),
        ).all()
    loaded = load_records(conn, [int(r[0]) for r in rows])
    hits = [TextHit(loaded[int(r[0])], float(r[1]), str(r[2])) for r in rows if int(r[0]) in loaded]
    return TextResults(q, int(total), hits)
