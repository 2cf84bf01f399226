"""The shared machinery of every source parser.

A :class:`Source` turns one extract (a file, or a directory of that source's files) into a
stream of :class:`~leds.model.records.SourceRecord` (accepted) and
:class:`~leds.model.records.Rejection` (kept with file, line, field and reason). The rules
common to every source live here:

* :meth:`Source.files` resolves a path to the source's files, in name order.
* :meth:`Source.parse` (final) runs the per-file hook :meth:`Source._parse_file` over them,
  rejects a record whose (kind, id) was already seen in this parse ("duplicate key"), and,
  when the path was a directory, turns a file that cannot be read at all
  (:class:`~leds.errors.ExtractError`) into one rejection at line 0 and goes on with the next
  file. When the path was a single file the error is raised.
* :class:`LineReader` decodes line by line: an undecodable line becomes a rejection (field
  None, reason ``not valid UTF-8: ...``) instead of failing the file.
* Date helpers, one per source format, return a :class:`ParsedDate` (value, original text,
  ISO text) and raise :class:`FieldError` for an impossible or malformed date.
* :func:`normalise_name` and :func:`normalise_address` build the values of
  :class:`~leds.model.records.PersonFields`.

Inside a per-file hook a row-level problem is raised as :class:`FieldError` (field, reason)
and turned into a rejection of that row by the hook.
"""

from __future__ import annotations

import csv
import io
import json
import string
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, NoReturn, final

from leds.errors import ExtractError, InvalidIdentifier
from leds.model.codes import SourceSystem
from leds.model.identifiers import normalise_pnc_id, normalise_postcode
from leds.model.records import Rejection, SourceRecord

__all__ = [
    "CsvFile",
    "FieldError",
    "LineReader",
    "ParsedDate",
    "Source",
    "check_timestamp",
    "identifier",
    "normalise_address",
    "normalise_name",
    "parse_date_dd_mm_yyyy",
    "parse_date_ddmmyyyy",
    "parse_date_iso",
    "parse_date_yyyymmdd",
]


class FieldError(Exception):
    """A row-level problem: the row is rejected naming ``field`` (None: the whole row)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


# --------------------------------------------------------------------------------------------
# The Source base class
# --------------------------------------------------------------------------------------------


class Source(ABC):
    """One source system's parser.

    Subclasses set :attr:`system` and :attr:`patterns` (the glob(s) of their files in a
    directory) and implement :meth:`_parse_file`. :attr:`notices` collects things worth
    telling the user that are not rejections (e.g. unknown extra columns kept in the
    payload); it is reset at the start of every :meth:`parse`.
    """

    system: ClassVar[SourceSystem]
    patterns: ClassVar[tuple[str, ...]]

    def __init__(self) -> None:
        self.notices: list[str] = []

    @property
    def name(self) -> str:
        return self.system.value

    # -- files ---------------------------------------------------------------------------------

    def files(self, path: Path) -> list[Path]:
        """The files to read for ``path``: the file itself, or this source's files in a
        directory (name order). If the directory holds none but has a subdirectory named
        after the source (a world directory), that subdirectory is used.

        Raises :class:`ExtractError` when the path does not exist or holds no such file.
        """
        expected = " or ".join(self.patterns)
        if path.is_file():
            return [path]
        if not path.exists():
            raise ExtractError(
                f"{path} does not exist",
                hint=f"give a {self.name} extract file or a directory of {expected} files",
            )
        if not path.is_dir():
            raise ExtractError(f"{path} is neither a file nor a directory")
        found = self._glob(path)
        if not found and (path / self.name).is_dir():
            found = self._glob(path / self.name)
        if not found:
            raise ExtractError(
                f"no {self.name} extract files in {path}",
                hint=f"expected files named {expected}",
            )
        return found

    def _glob(self, directory: Path) -> list[Path]:
        seen: dict[str, Path] = {}
        for pattern in self.patterns:
            for p in directory.glob(pattern):
                if p.is_file():
                    seen[p.name] = p
        return [seen[k] for k in sorted(seen)]

    # -- parse ---------------------------------------------------------------------------------

    @final
    def plan(self, path: Path) -> list[Path]:
        """The files a parse of ``path`` reads, checked up front (raises ExtractError)."""
        files = self.files(Path(path))
        self.notices = []
        self._check_files(files)
        return files

    @final
    def parse(self, path: Path) -> Iterator[SourceRecord | Rejection]:
        """Parse ``path`` (a file or a directory) into records and rejections.

        Errors about the path itself (missing, no files, a bad mapping) are raised here,
        before iteration starts.
        """
        path = Path(path)
        files = self.plan(path)
        return self._run(files, single=path.is_file())

    def _run(self, files: list[Path], *, single: bool) -> Iterator[SourceRecord | Rejection]:
        duplicates = DuplicateKeys(self.system)
        for file in files:
            for item in self.parse_file(file, single=single):
                if type(item) is SourceRecord:
                    where = item.provenance
                    reason = duplicates.check(
                        item.kind._value_, item.source_record_id, where.file, where.line
                    )
                    if reason is not None:
                        raw = json.dumps(item.payload, default=str, ensure_ascii=False)
                        yield Rejection(self.system, where.file, where.line, None, reason, raw)
                        continue
                yield item

    @final
    def parse_file(self, file: Path, *, single: bool = False) -> Iterator[SourceRecord | Rejection]:
        """Parse one file of a plan. A file that cannot be read at all is one rejection
        (line 0), unless it is the only file (``single``): then the error is raised."""
        try:
            yield from self._parse_file(file)
        except ExtractError as exc:
            if single:
                raise
            yield Rejection(self.system, file.name, 0, None, exc.message, "")

    def _check_files(self, files: list[Path]) -> None:  # noqa: B027 - optional hook
        """Optional hook: check every file up front (raise :class:`ExtractError`)."""

    @abstractmethod
    def _parse_file(self, file: Path) -> Iterator[SourceRecord | Rejection]:
        """Parse one file. Raise :class:`ExtractError` if it cannot be read at all."""

    # -- helpers for subclasses ----------------------------------------------------------------

    def _open_error(self, file: Path, exc: OSError) -> ExtractError:
        return ExtractError(f"cannot read {file.name}: {exc.strerror or exc}")


class DuplicateKeys:
    """Remembers the first occurrence of each (kind, id) across the files of one parse; a
    later record with the same key is rejected, naming where the first one was."""

    def __init__(self, system: SourceSystem) -> None:
        self.system = system
        self._seen: dict[tuple[str, str], tuple[str, int]] = {}

    def check(self, kind: str, record_id: str, file: str, line: int) -> str | None:
        """None for a first occurrence, else the reason to reject this one."""
        key = (kind, record_id)
        first = self._seen.get(key)
        if first is None:
            self._seen[key] = (file, line)
            return None
        return f"duplicate key {kind} {record_id} (first at {first[0]}:{first[1]})"


# --------------------------------------------------------------------------------------------
# Line reading
# --------------------------------------------------------------------------------------------

_ENCODING_LABELS = {"utf-8": "UTF-8", "utf8": "UTF-8", "utf-8-sig": "UTF-8"}


class LineReader:
    """Iterate over the lines of a file; a line that cannot be decoded is rejected alone.

    Yields ``(line_number, text)`` (1-based, line terminator removed unless ``keep_ends``)
    or, for a line holding bytes that are not valid in ``encoding``, a :class:`Rejection`
    (field None, reason ``not valid UTF-8: invalid byte 0x.. at position N of the line``,
    raw: the line with U+FFFD in place of the bad bytes). Lines end at ``\n``, ``\r\n``
    or ``\r``. A byte-order mark at the start of the file is dropped.
    After the iteration, and while the last line is being handled, :attr:`unterminated` is
    true if the last line had no line terminator (a file cut mid-line, or a writer that
    omits the final newline). :attr:`line` is the number of the line read last.
    """

    __slots__ = ("encoding", "file", "keep_ends", "label", "line", "system", "unterminated")

    def __init__(
        self,
        file: Path,
        system: SourceSystem,
        *,
        encoding: str = "utf-8",
        keep_ends: bool = False,
    ) -> None:
        self.file = file
        self.system = system
        self.encoding = encoding
        self.label = _ENCODING_LABELS.get(encoding.lower(), encoding)
        self.keep_ends = keep_ends
        self.unterminated = False
        self.line = 0

    def __iter__(self) -> Iterator[tuple[int, str] | Rejection]:
        # Text mode with surrogateescape: the whole file is decoded by the io layer (fast),
        # and a line holding undecodable bytes is found by its surrogates (only lines that
        # are not pure ASCII are checked) and rejected on its own.
        try:
            fh = open(  # noqa: SIM115 - closed in finally
                self.file, encoding=self.encoding, errors="surrogateescape", newline=""
            )
        except OSError as exc:
            raise ExtractError(f"cannot read {self.file.name}: {exc.strerror or exc}") from exc
        encoding = self.encoding
        keep_ends = self.keep_ends
        try:
            n = 0
            for text in fh:
                n += 1
                self.line = n
                if not text.isascii():
                    if n == 1 and text[0] == "\ufeff":
                        text = text[1:]
                    try:
                        text.encode(encoding)
                    except UnicodeEncodeError as exc:
                        yield self._undecodable(n, text, exc)
                        continue
                if text[-1] != "\n" and text[-1] != "\r":
                    self.unterminated = True
                yield n, (text if keep_ends else text.rstrip("\r\n"))
        except OSError as exc:
            raise ExtractError(f"cannot read {self.file.name}: {exc.strerror or exc}") from exc
        finally:
            fh.close()

    def _undecodable(self, n: int, text: str, exc: UnicodeEncodeError) -> Rejection:
        bad = text[exc.start]
        byte = ord(bad) - 0xDC00 if 0xDC80 <= ord(bad) <= 0xDCFF else None
        what = f"byte 0x{byte:02x}" if byte is not None else f"character {bad!r}"
        shown = text.encode(self.encoding, "surrogateescape").decode(self.encoding, "replace")
        return Rejection(
            self.system,
            self.file.name,
            n,
            None,
            f"not valid {self.label}: invalid {what} at position {exc.start} of the line",
            shown.rstrip("\r\n"),
        )


class CsvFile:
    """A CSV file read through a :class:`LineReader` (so an undecodable line is a rejection,
    not a failure): :meth:`header` first, then :meth:`rows`."""

    def __init__(self, file: Path, system: SourceSystem, *, encoding: str = "utf-8") -> None:
        self.file = file
        self.system = system
        self.reader = LineReader(file, system, encoding=encoding, keep_ends=True)
        self.pending: list[Rejection] = []
        self._rows = csv.reader(self._lines(), strict=False)

    def _lines(self) -> Iterator[str]:
        pending = self.pending
        for item in self.reader:
            if type(item) is tuple:
                yield item[1]
            else:
                assert isinstance(item, Rejection)
                pending.append(item)

    def header(self) -> list[str]:
        """The header row (names stripped). Raises :class:`ExtractError` for an empty file
        or an unreadable header."""
        name = self.file.name
        try:
            row = next(self._rows, None)
        except csv.Error as exc:
            raise ExtractError(f"{name}: unreadable header row: {exc}") from None
        if self.pending and self.pending[0].line == 1:
            raise ExtractError(f"{name}: the header row is not valid {self.reader.label}")
        if row is None:
            raise ExtractError(f"{name} is empty: expected a header row")
        return [h.strip() for h in row]

    def rows(self) -> Iterator[tuple[int, list[str]] | Rejection]:
        """``(line, fields)`` per non-blank row (line: the row's last physical line), and
        rejections for undecodable lines and rows the CSV reader cannot split."""
        pending = self.pending
        rows = self._rows
        reader = self.reader
        name = self.file.name
        error_line = -1
        if pending:
            yield from pending
            pending.clear()
        while True:
            try:
                row = next(rows, None)
            except csv.Error as exc:
                if pending:
                    yield from pending
                    pending.clear()
                if reader.line == error_line:  # no progress: give up on the rest
                    break
                error_line = reader.line
                yield Rejection(self.system, name, reader.line, None, f"bad CSV: {exc}", "")
                continue
            if pending:
                yield from pending
                pending.clear()
            if row is None:
                break
            if row:
                yield reader.line, row

    @property
    def unterminated(self) -> bool:
        return self.reader.unterminated


def csv_text(row: list[str]) -> str:
    """A row back as one CSV line (for a rejection's ``raw``)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


class ParsedDate(NamedTuple):
    """A parsed date: ``value`` (None when missing or partial), ``text`` (what the source
    said, None when missing) and ``iso`` (``YYYY-MM-DD``; a partial date as ``YYYY-MM`` or
    ``YYYY``; None when missing)."""

    value: date | None
    text: str | None
    iso: str | None


_MISSING = ParsedDate(None, None, None)


def _build(year: int, month: int, day: int, text: str, partial: bool) -> ParsedDate:
    """The date of year/month/day where 0 means unknown (allowed only if ``partial``)."""
    if month == 0 or day == 0:
        if not partial:
            raise ValueError(f"incomplete date {text!r}: day and month are required")
        if year == 0:
            raise ValueError(f"impossible date {text!r}: year is required")
        if month == 0:  # an unknown month makes a known day meaningless
            return ParsedDate(None, text, f"{year:04d}")
        if month > 12:
            raise ValueError(f"impossible date {text!r}: month {month} does not exist")
        return ParsedDate(None, text, f"{year:04d}-{month:02d}")
    try:
        value = date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"impossible date {text!r}: {exc}") from None
    return ParsedDate(value, text, value.isoformat())


def _wrap(fn: Callable[[str, bool], ParsedDate]) -> Callable[..., ParsedDate]:
    cached = lru_cache(maxsize=1 << 16)(fn)

    def parse(text: str | None, field: str, *, partial: bool = False) -> ParsedDate:
        if not text:
            return _MISSING
        try:
            return cached(text, partial)
        except ValueError as exc:
            raise FieldError(field, str(exc)) from None

    parse.__doc__ = fn.__doc__
    parse.__name__ = fn.__name__.lstrip("_")
    return parse


def _digits(text: str, fmt: str, note: str = "") -> NoReturn:
    raise ValueError(f"not a {fmt} date{note}: {text!r}")


def _ddmmyyyy(text: str, partial: bool) -> ParsedDate:
    """``DDMMYYYY``; with ``partial``, ``00`` for an unknown day or month."""
    if len(text) != 8 or not text.isdigit() or not text.isascii():
        _digits(text, "DDMMYYYY")
    return _build(int(text[4:]), int(text[2:4]), int(text[:2]), text, partial)


def _yyyymmdd(text: str, partial: bool) -> ParsedDate:
    """``YYYYMMDD``; with ``partial``, ``00`` for an unknown day or month."""
    if len(text) != 8 or not text.isdigit() or not text.isascii():
        _digits(text, "YYYYMMDD")
    return _build(int(text[:4]), int(text[4:6]), int(text[6:]), text, partial)


def _iso(text: str, partial: bool) -> ParsedDate:
    """``YYYY-MM-DD``; with ``partial`` also ``YYYY-MM`` and ``YYYY``."""
    parts = text.split("-")
    shape = [len(p) for p in parts]
    if (
        shape not in ([4, 2, 2], [4, 2], [4])
        or not all(p.isdigit() and p.isascii() for p in parts)
        or (len(parts) < 3 and not partial)
    ):
        _digits(text, "YYYY-MM-DD", " (or YYYY-MM, YYYY)" if partial else "")
    year = int(parts[0])
    month = int(parts[1]) if len(parts) > 1 else 0
    day = int(parts[2]) if len(parts) > 2 else 0
    if len(parts) == 3 and (month == 0 or day == 0):
        raise ValueError(f"impossible date {text!r}: use YYYY-MM or YYYY for a partial date")
    return _build(year, month, day, text, partial)


def _dd_mm_yyyy(text: str, partial: bool) -> ParsedDate:
    """``DD/MM/YYYY``; with ``partial``, ``XX`` for an unknown day or month."""
    parts = text.split("/")
    if len(parts) != 3 or [len(p) for p in parts] != [2, 2, 4]:
        _digits(text, "DD/MM/YYYY")
    day_t, month_t, year_t = (p.upper() for p in parts)
    if not year_t.isdigit() or not year_t.isascii():
        _digits(text, "DD/MM/YYYY")
    nums = []
    for p in (day_t, month_t):
        if p == "XX":
            nums.append(0)
        elif p.isdigit() and p.isascii() and p != "00":
            nums.append(int(p))
        else:
            _digits(text, "DD/MM/YYYY", " (XX for an unknown day or month)")
    return _build(int(year_t), nums[1], nums[0], text, partial)


parse_date_ddmmyyyy = _wrap(_ddmmyyyy)
parse_date_yyyymmdd = _wrap(_yyyymmdd)
parse_date_iso = _wrap(_iso)
parse_date_dd_mm_yyyy = _wrap(_dd_mm_yyyy)


def check_timestamp(text: Any, field: str) -> str | None:
    """Check an ISO 8601 timestamp (or date); return it unchanged (None when missing)."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise FieldError(field, f"expected an ISO 8601 timestamp, got {text!r}")
    try:
        datetime.fromisoformat(text)
    except ValueError as exc:
        raise FieldError(field, f"not an ISO 8601 timestamp {text!r}: {exc}") from None
    return text


# --------------------------------------------------------------------------------------------
# Names, addresses, identifiers
# --------------------------------------------------------------------------------------------

# Punctuation other than the hyphen and the apostrophe becomes a space; typographic
# apostrophes become "'".
_NAME_TABLE = str.maketrans(
    {
        **{c: " " for c in string.punctuation if c not in "-'"},
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
    }
)


@lru_cache(maxsize=1 << 17)
def _clean_name(text: str) -> str | None:
    return " ".join(text.translate(_NAME_TABLE).upper().split()) or None


def normalise_name(text: str | None) -> str | None:
    """Upper case; punctuation other than ``-`` and ``'`` replaced by a space (``<`` too,
    so MRZ fillers vanish); runs of spaces collapsed; accents kept. Empty -> None."""
    if not text:
        return None
    return _clean_name(text)


def normalise_address(text: str | None) -> str | None:
    """Upper case with runs of whitespace collapsed; punctuation kept. Empty -> None."""
    if not text:
        return None
    clean = " ".join(text.upper().split())
    return clean or None


#: :func:`normalise_postcode` with a cache (postcodes repeat across records).
cached_postcode: Callable[[str], str] = lru_cache(maxsize=1 << 17)(normalise_postcode)
#: :func:`normalise_pnc_id` with a cache (a person's lines follow their NOM line).
cached_pnc_id: Callable[[str], str] = lru_cache(maxsize=1 << 12)(normalise_pnc_id)


def identifier(normalise: Callable[[str], str], value: str | None, field: str) -> str | None:
    """``normalise(value)``, None for a missing value; an invalid one raises
    :class:`FieldError` naming ``field`` with the identifier's message."""
    if not value:
        return None
    try:
        return normalise(value)
    except InvalidIdentifier as exc:
        raise FieldError(field, str(exc)) from None


def as_str(obj: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    """A string member of a JSON object ("" and null -> None); anything else is an error."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            raise FieldError(key, f"missing {key}")
        return None
    if not isinstance(value, str):
        raise FieldError(key, f"expected a string, got {type(value).__name__}")
    return value


def join_nonempty(parts: Iterable[str | None], sep: str = ", ") -> str | None:
    joined = sep.join(p for p in parts if p)
    return joined or None
