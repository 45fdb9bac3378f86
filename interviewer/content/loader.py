"""Loading content files: built-ins from the package, the user's from the config folder.

A bad file becomes one :class:`ContentError` naming the file, the field and, where the
TOML source tells it, the line. It never stops the other files from loading.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from interviewer import paths
from interviewer.content.models import KINDS, Persona, Problem, Rubric
from interviewer.errors import InterviewerError, InvalidInput
from interviewer.files import FileTooLarge, read_limited

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 2_000_000
"""Content files are hand-written; anything larger is a mistake, not a spec."""


class ContentError(InvalidInput):
    """A content file that cannot be used, described in one line."""

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        field: str | None = None,
        line: int | None = None,
        more: list[tuple[str | None, int | None, str]] | None = None,
    ):
        self.path = Path(path)
        self.field = field
        self.line = line
        self.message = message
        self.more = more or []
        """Every further problem in the file, as (field, line, message)."""
        super().__init__(str(self))

    def problems(self) -> list[str]:
        """Each problem in the file on its own line: where (line, field) and what."""
        return [
            _problem(field, line, message)
            for field, line, message in [(self.field, self.line, self.message), *self.more]
        ]

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        what = f"field '{self.field}': " if self.field else ""
        text = f"{where}: {what}{self.message}"
        if self.more:
            text += "; also " + "; ".join(_problem(*problem) for problem in self.more)
        return text


def _problem(field: str | None, line: int | None, message: str) -> str:
    where = f"line {line}: " if line else ""
    return where + (f"field '{field}': " if field else "") + message


class ContentNotFound(InterviewerError, LookupError):
    def __init__(self, kind: str, content_id: str, known: list[str]):
        self.kind = kind
        self.content_id = content_id
        singular = kind.rstrip("s")
        hint = f"; known: {', '.join(sorted(known))}" if known else f"; no {kind} are available"
        super().__init__(f"no {singular} with id '{content_id}'{hint}")

    def __str__(self) -> str:
        return str(self.args[0])


# ----------------------------------------------------------------------------- one file

_TOML_LINE = re.compile(r"at line (\d+)")
# Unambiguous (linear) on any line: the name starts and ends with a non-space character.
_NAME_CHAR = r"[A-Za-z0-9_.\-\"']"
_HEADER = re.compile(
    rf"^[ \t]*(\[\[?)[ \t]*({_NAME_CHAR}(?:[A-Za-z0-9_.\-\"' \t]*{_NAME_CHAR})?)[ \t]*(\]\]?)[ \t]*(#.*)?$"
)
_MAX_HEADER_LINE = 500
"""Longer lines are not table headers worth finding (and may sit inside a multi-line string)."""


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = str(part)
            if len(name) > 80 or _UNPRINTABLE.search(name):
                # A key from the file: keep the error on one line and of a readable length.
                name = repr(name[:80] + ("…" if len(name) > 80 else ""))
            out += f".{name}" if out else name
    return out


class _TomlLines:
    """A TOML source's lines and table headers, to find where a key is written."""

    def __init__(self, source: str):
        self.lines = source.splitlines()
        self.headers: list[tuple[int, str, bool]] = []  # (index, dotted name, is array of tables)
        for index, text in enumerate(self.lines):
            match = _HEADER.match(text) if len(text) <= _MAX_HEADER_LINE else None
            if match:
                name = match.group(2).replace('"', "").replace("'", "").replace(" ", "")
                self.headers.append((index, name, match.group(1) == "[["))

    def section(self, start: int) -> range:
        later = [i for i, _, _ in self.headers if i > start]
        return range(start + 1, later[0] if later else len(self.lines))

    def find_key(self, key: str, where: range) -> int | None:
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        return next((index for index in where if pattern.match(self.lines[index])), None)

    def tables(self, name: str, *, array: bool) -> list[int]:
        return [i for i, header, is_array in self.headers if header == name and is_array == array]


def _line_of(source: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of the TOML key that ``loc`` points to."""
    keys = [part for part in loc if isinstance(part, str)]
    if not keys:
        return None
    toml = _TomlLines(source)
    found = _in_array_of_tables(toml, loc)
    if found is None:
        found = _in_table(toml, keys)
    if found is None:
        found = _at_top_level(toml, keys)
    return found + 1 if found is not None else None


def _in_array_of_tables(toml: _TomlLines, loc: tuple[int | str, ...]) -> int | None:
    """``[[facts]]`` ... the n-th one, and the key inside it."""
    if len(loc) < 2 or not isinstance(loc[0], str) or not isinstance(loc[1], int):
        return None
    occurrences = toml.tables(loc[0], array=True)
    if loc[1] >= len(occurrences):
        return None
    start = occurrences[loc[1]]
    if len(loc) >= 3 and isinstance(loc[2], str):
        found = toml.find_key(loc[2], toml.section(start))
        return found if found is not None else start
    return start


def _in_table(toml: _TomlLines, keys: list[str]) -> int | None:
    """``[lines]`` ... ``key = ...``."""
    tables = toml.tables(keys[0], array=False)
    if not tables:
        return None
    if len(keys) >= 2:
        found = toml.find_key(keys[1], toml.section(tables[0]))
        if found is not None:
            return found
    return tables[0]


def _at_top_level(toml: _TomlLines, keys: list[str]) -> int | None:
    """A dotted key (``lines.opening = ...``) or a top-level key."""
    first_header = toml.headers[0][0] if toml.headers else len(toml.lines)
    found = toml.find_key(".".join(keys[:2]) if len(keys) >= 2 else keys[0], range(first_header))
    if found is None:
        found = toml.find_key(keys[0], range(first_header))
    return found


def parse_model(model: type[M], data: object, path: Path, source: str = "") -> M:
    """Validate parsed data into ``model``; raise one :class:`ContentError` for the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [_described(error, source) for error in exc.errors(include_url=False)]
        (field, line, message), more = problems[0], problems[1:]
        raise ContentError(path, message, field=field, line=line, more=more) from None


def _described(error, source: str) -> tuple[str | None, int | None, str]:
    """One validation error as (field, line, message), in the file's terms."""
    loc = tuple(error["loc"])
    message = error["msg"]
    if error["type"] == "missing":
        message = "is required"
    elif error["type"] == "extra_forbidden":
        message = "is not a known field"
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return _field_path(loc) or None, _line_of(source, loc) if source else None, message


def load_file(path: Path | str, model: type[M]) -> M:
    """Read one TOML content file into ``model``."""
    path = Path(path)
    try:
        raw = read_limited(path, MAX_FILE_BYTES)
    except FileTooLarge as exc:
        size = f"file is {exc.size:,} bytes" if exc.size is not None else f"more than {MAX_FILE_BYTES:,} bytes"
        raise ContentError(path, f"{size}; content files are limited to {MAX_FILE_BYTES:,}") from None
    except OSError as exc:
        raise ContentError(path, f"cannot read file: {exc.strerror or exc}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ContentError(path, f"not valid UTF-8 (byte {exc.start})", line=line) from None
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        text = str(exc)
        match = _TOML_LINE.search(text)
        message = _TOML_LINE.sub("", text).replace("(, column", "(column").strip()
        message = re.sub(r"\s*\(column \d+\)$", "", message) or "invalid TOML"
        raise ContentError(path, f"invalid TOML: {message}", line=int(match.group(1)) if match else None) from None
    except RecursionError:
        raise ContentError(path, "invalid TOML: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ContentError(path, f"invalid TOML: {str(exc).splitlines()[0][:200]}") from None
    return parse_model(model, data, path, source)


# ----------------------------------------------------------------------------- the library


@dataclass(frozen=True, slots=True)
class Loaded(Generic[M]):
    model: M
    path: Path
    builtin: bool

    @property
    def origin(self) -> str:
        return "built-in" if self.builtin else "user"


@dataclass
class Catalog(Generic[M]):
    """Every usable item of one kind by id, plus the errors of the files that were not usable."""

    kind: str
    items: dict[str, Loaded[M]] = field(default_factory=dict)
    errors: list[ContentError] = field(default_factory=list)
    overridden: dict[str, Path] = field(default_factory=dict)
    """Built-in files that a user file replaced, by id."""

    def get(self, content_id: str) -> M:
        try:
            return self.items[content_id].model
        except KeyError:
            raise ContentNotFound(self.kind, content_id, list(self.items)) from None

    def ids(self) -> list[str]:
        return sorted(self.items)


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if p.is_file() and not p.name.startswith("."))


class ContentLibrary:
    """Built-in content plus the user's folder, where a user file overrides a built-in by id."""

    def __init__(self, builtin_root: Path | None = None, user_root: Path | None = None):
        self._builtin_root = builtin_root
        self._user_root = user_root
        self._catalogs: dict[str, Catalog] = {}

    def builtin_dir(self, kind: str) -> Path:
        return self._builtin_root / kind if self._builtin_root else paths.builtin_content_dir(kind)

    def user_dir(self, kind: str) -> Path:
        return self._user_root / kind if self._user_root else paths.user_content_dir(kind)

    def catalog(self, kind: str) -> Catalog:
        if kind not in self._catalogs:
            self._catalogs[kind] = self._load(kind)
        return self._catalogs[kind]

    def _load(self, kind: str) -> Catalog:
        model = KINDS[kind]
        catalog: Catalog = Catalog(kind)
        for builtin, folder in ((True, self.builtin_dir(kind)), (False, self.user_dir(kind))):
            seen_here: dict[str, Path] = {}
            for path in _files(folder):
                try:
                    item = load_file(path, model)
                except ContentError as exc:
                    catalog.errors.append(exc)
                    continue
                item_id = item.id  # type: ignore[attr-defined]
                if item_id in seen_here:
                    catalog.errors.append(
                        ContentError(path, f"id '{item_id}' is already used by {seen_here[item_id]}", field="id")
                    )
                    continue
                seen_here[item_id] = path
                if not builtin and item_id in catalog.items:
                    catalog.overridden[item_id] = catalog.items[item_id].path
                catalog.items[item_id] = Loaded(item, path, builtin)
        return catalog

    @property
    def personas(self) -> Catalog[Persona]:
        return self.catalog("personas")

    @property
    def problems(self) -> Catalog[Problem]:
        return self.catalog("problems")

    @property
    def rubrics(self) -> Catalog[Rubric]:
        return self.catalog("rubrics")
