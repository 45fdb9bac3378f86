"""Property-based fuzzing of the content loaders (personas, problems, rubrics) and the candidate
script reader: random bytes, wrong types, missing and extra fields, huge strings, invalid UTF-8,
deep nesting. Only the project's own error may come out (``ContentError`` / ``ScriptError``, one
line, naming the file), never another exception; valid files beside a bad one still load.

Hypothesis runs derandomized with fixed example counts, so CI sees the same inputs every time.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interviewer.content.loader import ContentError, ContentLibrary, load_file
from interviewer.content.models import KINDS
from interviewer.paths import builtin_content_dir
from interviewer.script import ScriptError, parse_candidate_script, read_candidate_script

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)

KIND_NAMES = sorted(KINDS)
SAMPLES = {kind: sorted(builtin_content_dir(kind).glob("*.toml"))[0] for kind in KIND_NAMES}


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _expect_clean(kind: str, path: Path) -> None:
    """Load ``path`` as ``kind``: a model or one clear ContentError, nothing else."""
    try:
        load_file(path, KINDS[kind])
    except ContentError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message[:300]
        assert "\n" not in message and "\r" not in message, repr(message[:300])
        assert "Traceback" not in message


# ----------------------------------------------------------------------------- a small TOML writer

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_string(value: str) -> str:
    out = []
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE.match(key) else _toml_string(key)


class RawToml(str):
    """Emitted verbatim (e.g. an integer literal with more digits than Python will print)."""


def _toml_value(value) -> str:
    if isinstance(value, RawToml):
        return str.__str__(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def dump_toml(document: dict) -> str:
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in document.items())


def test_the_toml_writer_round_trips_the_built_ins():
    for kind in KIND_NAMES:
        for path in builtin_content_dir(kind).glob("*.toml"):
            document = tomllib.loads(path.read_text())
            assert tomllib.loads(dump_toml(document)) == document


# ----------------------------------------------------------------------------- strategies

keys = st.one_of(
    st.sampled_from(
        [
            "id",
            "name",
            "title",
            "facts",
            "cues",
            "answer",
            "stage",
            "levels",
            "weight",
            "lines",
            "templates",
            "opening",
            "dimensions",
            "thresholds",
            "probes",
            "reference",
            "extra",
            "x",
        ]
    ),
    st.text(min_size=1, max_size=20),
    st.text(alphabet="\n\r\t\x00\x1b\u202e \"'", min_size=1, max_size=5),
)
huge_strings = st.integers(min_value=2_001, max_value=120_000).map(lambda n: "y" * n)
scalars = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**4000), max_value=10**4000),
    st.integers(min_value=4_301, max_value=20_000).map(lambda n: RawToml("9" * n)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8", categories=("Cc", "Cf", "Zs", "Lo")), max_size=30),
    huge_strings,
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)),
    max_leaves=12,
)


def _paths(node, prefix=()):
    """Every path (tuple of keys and indexes) into a document."""
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _paths(child, (*prefix, index))


def _parent(document, path):
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_documents(draw, kind: str):
    """A built-in document of ``kind`` with a few missing, extra or wrongly typed fields."""
    document = tomllib.loads(SAMPLES[kind].read_text())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _parent(document, path)
        action = draw(st.sampled_from(["delete", "replace", "extra", "nest"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(values)
        elif action == "extra":
            target = parent[path[-1]] if isinstance(parent[path[-1]], dict) else document
            target[draw(keys)] = draw(values)
        else:
            depth = draw(st.integers(min_value=1, max_value=200))
            nested = draw(scalars.filter(lambda v: not isinstance(v, str) or len(v) < 100))
            for _ in range(depth):
                nested = draw(st.sampled_from([[nested], {"k": nested}]))
            parent[path[-1]] = nested
    return document


# ----------------------------------------------------------------------------- content loaders


@settings(FUZZ, max_examples=300)
@given(kind=st.sampled_from(KIND_NAMES), data=st.binary(max_size=3_000))
def test_random_bytes(scratch, kind, data):
    path = scratch / f"bytes.{kind}.toml"
    path.write_bytes(data)
    _expect_clean(kind, path)


@settings(FUZZ, max_examples=250)
@given(data=st.data(), kind=st.sampled_from(KIND_NAMES))
def test_missing_extra_and_wrongly_typed_fields(scratch, data, kind):
    document = data.draw(mutated_documents(kind))
    path = scratch / f"mutated.{kind}.toml"
    path.write_text(dump_toml(document), encoding="utf-8")
    _expect_clean(kind, path)


@FUZZ
@given(
    kind=st.sampled_from(KIND_NAMES),
    where=st.floats(0, 1),
    junk=st.sampled_from(
        [b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80", b"\xc0\xaf", b"\xfe\xff"]
    ),
)
def test_invalid_utf8(scratch, kind, where, junk):
    raw = SAMPLES[kind].read_bytes()
    cut = int(where * len(raw))
    path = scratch / f"utf8.{kind}.toml"
    path.write_bytes(raw[:cut] + junk + raw[cut:])
    with pytest.raises(ContentError, match="not valid UTF-8"):
        load_file(path, KINDS[kind])
    _expect_clean(kind, path)


@settings(FUZZ, max_examples=80)
@given(
    kind=st.sampled_from(KIND_NAMES),
    depth=st.integers(min_value=1, max_value=30_000),
    shape=st.sampled_from(["array", "table", "mixed", "header"]),
)
def test_deep_nesting(scratch, kind, depth, shape):
    if shape == "array":
        body = "id = " + "[" * depth + "]" * depth
    elif shape == "table":
        body = "id = " + "{a = " * depth + "1" + "}" * depth
    elif shape == "mixed":
        body = "x = " + "[{a = " * (depth // 2) + "1" + "}]" * (depth // 2)
    else:
        body = "[" + ".".join(["a"] * depth) + "]\nb = 1\n"
    path = scratch / f"deep.{kind}.toml"
    path.write_text(SAMPLES[kind].read_text() + "\n" + body + "\n")
    _expect_clean(kind, path)


@FUZZ
@given(
    kind=st.sampled_from(KIND_NAMES),
    size=st.sampled_from([2_001, 20_001, 500_000, 1_999_000, 2_000_001]),
    filler=st.sampled_from(["y", " ", "[ ", "é", "\\u0000"]),
    inside=st.booleans(),
)
def test_huge_strings_and_files(scratch, kind, size, filler, inside):
    """Huge values, lines that look like TOML headers inside multi-line strings, files over the limit."""
    source = SAMPLES[kind].read_text()
    big = (filler * (size // len(filler) + 1))[:size]
    if inside:
        text = re.sub(
            r'^(id = "[^"]*")$', lambda m: m.group(1) + f'\nzz_extra = """\n[{big}x\n"""', source, count=1, flags=re.M
        )
    else:
        text = re.sub(r'^(name|title) = "[^"]*"', lambda m: f'{m.group(1)} = """{big}"""', source, count=1, flags=re.M)
        text = text if text != source else source + f'\nzz_extra = """{big}"""\n'
    path = scratch / f"huge.{kind}.toml"
    path.write_text(text, encoding="utf-8")
    _expect_clean(kind, path)  # how fast a huge file loads is measured in bench/ (content)


@settings(FUZZ, max_examples=25)
@given(data=st.data())
def test_valid_files_beside_bad_ones_still_load(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("library")
    bad_count = 0
    for kind in KIND_NAMES:
        folder = root / kind
        folder.mkdir()
        shutil.copy(SAMPLES[kind], folder / "good.toml")
        for index in range(data.draw(st.integers(min_value=1, max_value=3))):
            if data.draw(st.booleans()):
                content = data.draw(st.binary(max_size=500))
            else:
                content = dump_toml(data.draw(mutated_documents(kind))).encode()
            (folder / f"bad-{index}.toml").write_bytes(content)
            bad_count += 1
    library = ContentLibrary(builtin_root=builtin_content_dir("problems").parent, user_root=root)
    errors = 0
    for kind in KIND_NAMES:
        catalog = library.catalog(kind)
        sample_id = tomllib.loads(SAMPLES[kind].read_text())["id"]
        assert sample_id in catalog.items, f"the valid {kind} file was not loaded"
        builtin_ids = {tomllib.loads(p.read_text())["id"] for p in builtin_content_dir(kind).glob("*.toml")}
        assert builtin_ids <= set(catalog.items), "a bad user file stopped a built-in from loading"
        for error in catalog.errors:
            assert isinstance(error, ContentError) and "\n" not in str(error)
            assert error.path.parent == root / kind
        errors += len(catalog.errors)
    assert errors <= bad_count  # a mutated file may still be valid; a bad one is one error, never more


# ----------------------------------------------------------------------------- the candidate script reader

script_lines = st.one_of(
    st.text(max_size=80).filter(lambda s: "\n" not in s),
    st.sampled_from(
        [
            '{"text": 1}',
            '{"text": null}',
            '{"text": ["a"]}',
            '{"text": {"a": 1}}',
            '{"txt": "x"}',
            '{"text": ""}',
            '{"text": "   "}',
            "[1, 2]",
            '{"text": "ok", "extra": 1}',
            "{",
            "{}",
            '{"text": "line\\nbreak\\u0000nul"}',
            '"just a string"',
            "{'text': 'single quotes'}",
        ]
    ),
    st.integers(min_value=1, max_value=100_000).map(lambda n: '{"text": ' + "[" * n + "]" * n + "}"),
    st.integers(min_value=1, max_value=100_000).map(lambda n: "{" * n),
    st.integers(min_value=4_000, max_value=20_000).map(lambda n: '{"text": 1' + "0" * n + "}"),
    st.integers(min_value=1, max_value=300_000).map(lambda n: "z" * n),
    st.text(alphabet=st.characters(codec="utf-8", categories=("Cc", "Cf", "Zl", "Zp")), max_size=20),
)


def _expect_script(path: Path) -> list[str] | None:
    try:
        messages = read_candidate_script(path)
    except ScriptError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message[:300]
        assert "\n" not in message and "\r" not in message, repr(message[:300])
        return None
    assert messages and all(isinstance(m, str) and m.strip() for m in messages)
    return messages


@settings(FUZZ, max_examples=300)
@given(data=st.binary(max_size=3_000))
def test_script_random_bytes(scratch, data):
    path = scratch / "script.bytes.txt"
    path.write_bytes(data)
    _expect_script(path)


@settings(FUZZ, max_examples=300)
@given(lines=st.lists(script_lines, min_size=0, max_size=8), junk=st.sampled_from([b"", b"\xff", b"\xc3("]))
def test_script_lines(scratch, lines, junk):
    path = scratch / "script.lines.txt"
    path.write_bytes("\n".join(lines).encode("utf-8") + junk)
    messages = _expect_script(path)
    if messages is not None and not junk:
        assert len(messages) <= max(1, len(lines))


def test_script_reader_edge_cases(tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for path in (folder, tmp_path / "missing.txt"):
        with pytest.raises(ScriptError) as caught:
            read_candidate_script(path)
        assert str(caught.value).startswith(str(path)) and "\n" not in str(caught.value)
    # One message per line, and only a newline ends a line: form feeds and other separators stay in the text.
    assert parse_candidate_script("a\x0cb\x1cc\u2028d\r\ne\n") == ["a\x0cb\x1cc\u2028d", "e"]
    assert parse_candidate_script('{"text": "two\\nlines\\u0000"}') == ["two\nlines\x00"]
