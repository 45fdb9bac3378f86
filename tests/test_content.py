"""Content models and loading: built-ins, user overrides, and one clear line for a bad file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from interviewer.cli import main
from interviewer.content import ContentError, ContentLibrary, Persona, Problem, Rubric, load_file
from interviewer.content.templates import persona_template
from interviewer.stages import DIMENSION_IDS, STAGE_IDS
from tests.conftest import ROOT


def test_builtins_load_without_errors(library: ContentLibrary):
    for kind in ("personas", "problems", "rubrics"):
        catalog = library.catalog(kind)
        assert not catalog.errors, [str(e) for e in catalog.errors]
    assert len(library.problems.items) >= 3
    assert len(library.personas.items) >= 2
    assert "ml-design" in library.rubrics.items


def test_builtin_problems_span_every_stage(library: ContentLibrary):
    for loaded in library.problems.items.values():
        problem = loaded.model
        assert len(problem.facts) >= 8, problem.id
        assert len(problem.what_ifs) >= 3, problem.id
        assert set(problem.probes) == set(STAGE_IDS), problem.id
        assert set(problem.reference) == set(DIMENSION_IDS), problem.id


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _persona_source(persona_id: str = "custom", **replace: str) -> str:
    source = persona_template(persona_id, "x.toml")
    for old, new in replace.items():
        assert old in source
        source = source.replace(old, new)
    return source


def test_user_file_overrides_builtin_by_id(interviewer_home: Path):
    source = (ROOT / "personas" / "mentor.toml").read_text().replace('name = "Maya"', 'name = "Morgan"')
    _write(interviewer_home / "personas", "my-mentor.toml", source)
    library = ContentLibrary()
    assert library.personas.get("mentor").name == "Morgan"
    assert library.personas.items["mentor"].origin == "user"
    assert "mentor" in library.personas.overridden


def test_bad_file_names_file_field_and_line_and_others_still_load(interviewer_home: Path):
    bad = _write(
        interviewer_home / "personas", "bad.toml", _persona_source("bad", **{"strictness = 0.5": "strictness = 7"})
    )
    _write(interviewer_home / "personas", "good.toml", _persona_source("good"))
    library = ContentLibrary()
    assert "good" in library.personas.items
    assert "bad" not in library.personas.items
    [error] = library.personas.errors
    message = str(error)
    assert str(bad) in message
    assert "strictness" in message
    line = (
        bad.read_text().splitlines().index(next(x for x in bad.read_text().splitlines() if x.startswith("strictness")))
    )
    assert error.line == line + 1
    assert "\n" not in message


@pytest.mark.parametrize(
    ("mutation", "field", "fragment"),
    [
        ({'name = "Alex"': ""}, "name", "is required"),
        ({'name = "Alex"': 'name = "Alex"\nnmae = "typo"'}, "nmae", "not a known field"),
        ({'answer = ["Good question. {answer}", "{answer}"]': 'answer = ["Good question."]'}, "templates", "{answer}"),
        ({"closing = \"That's time.": "closing = \"That's {nope} time."}, "lines.closing", "unknown placeholder"),
        ({"probe_depth = 2": 'probe_depth = "deep"'}, "probe_depth", "integer"),
    ],
)
def test_persona_errors_are_one_clear_line(tmp_path: Path, mutation: dict, field: str, fragment: str):
    path = _write(tmp_path, "p.toml", _persona_source("p", **mutation))
    with pytest.raises(ContentError) as caught:
        load_file(path, Persona)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert field in message
    assert fragment in message
    assert "\n" not in message


def test_invalid_toml_reports_the_line(tmp_path: Path):
    path = _write(tmp_path, "broken.toml", 'id = "x"\nname = \n')
    with pytest.raises(ContentError) as caught:
        load_file(path, Persona)
    assert caught.value.line == 2
    assert "invalid TOML" in str(caught.value)


def test_invalid_utf8_reports_the_line(tmp_path: Path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'id = "x"\nname = "caf\xe9"\n')
    with pytest.raises(ContentError) as caught:
        load_file(path, Problem)
    assert "UTF-8" in str(caught.value) and caught.value.line == 2


def test_problem_error_in_array_of_tables_points_at_the_entry(tmp_path: Path):
    source = (ROOT / "problems" / "spam-filter.toml").read_text()
    source = source.replace('id = "labels"\nstage = "data"', 'id = "labels"\nstage = "dta"')
    path = _write(tmp_path, "p.toml", source)
    with pytest.raises(ContentError) as caught:
        load_file(path, Problem)
    assert "facts[2].stage" in str(caught.value)
    assert source.splitlines()[caught.value.line - 1].startswith('stage = "dta"')


def test_duplicate_fact_ids_are_rejected(tmp_path: Path):
    source = (ROOT / "problems" / "spam-filter.toml").read_text().replace('id = "labels"', 'id = "scale"')
    path = _write(tmp_path, "p.toml", source)
    with pytest.raises(ContentError, match="duplicate id 'scale' in facts"):
        load_file(path, Problem)


def test_rubric_thresholds_must_end_in_a_catch_all(tmp_path: Path):
    source = (ROOT / "rubrics" / "ml-design.toml").read_text()
    source = source.replace(
        'recommendation = "no hire"\nmin_overall = 1.0', 'recommendation = "no hire"\nmin_overall = 1.5'
    )
    path = _write(tmp_path, "r.toml", source)
    with pytest.raises(ContentError, match="catch-all"):
        load_file(path, Rubric)


def test_rubric_computes_overall_and_recommendation(library: ContentLibrary):
    rubric = library.rubrics.get("ml-design")
    all_four = {d.id: 4 for d in rubric.dimensions}
    assert rubric.overall(all_four) == 4.0
    assert rubric.recommend(4.0, all_four) == "strong hire"
    one_weak = dict(all_four, deployment=1)
    overall = rubric.overall(one_weak)
    assert overall < 4.0
    # A single 1 rules out every bar that asks for at least 2 in each dimension.
    assert rubric.recommend(overall, one_weak) == "lean no hire"


def test_persona_template_validates_as_written(tmp_path: Path):
    path = _write(tmp_path, "t.toml", persona_template("my-coach", "t.toml"))
    persona = load_file(path, Persona)
    assert persona.id == "my-coach"


# ----------------------------------------------------------------------------- CLI


def test_personas_new_writes_a_valid_template_that_is_used_at_once(interviewer_home: Path, capsys):
    assert main(["personas", "new", "coach-kim"]) == 0
    path = interviewer_home / "personas" / "coach-kim.toml"
    assert path.exists()
    assert main(["personas", "validate", str(path)]) == 0
    assert main(["personas", "new", "coach-kim"]) == 1  # no silent overwrite
    assert "already exists" in capsys.readouterr().err
    assert main(["personas", "list"]) == 0
    assert "coach-kim" in capsys.readouterr().out


def test_personas_new_rejects_a_bad_id(capsys):
    assert main(["personas", "new", "Bad Id"]) == 2
    assert "not a valid id" in capsys.readouterr().err


def test_validate_exit_code_two_on_a_bad_file(tmp_path: Path, capsys):
    bad = _write(tmp_path, "bad.toml", "id = 3\n")
    good = ROOT / "problems" / "spam-filter.toml"
    assert main(["problems", "validate", str(good)]) == 0
    assert main(["problems", "validate", str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "'id'" in err


@pytest.mark.parametrize("kind", ["personas", "problems", "rubrics"])
def test_list_and_show_json(kind: str, capsys):
    assert main([kind, "list", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert items and all("id" in item for item in items)
    first = items[0]["id"]
    assert main([kind, "show", first, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == first
    if kind == "problems":
        assert shown["facts"] and shown["reference"]  # the author's view includes the hidden spec


def test_show_unknown_id_lists_the_known_ones(capsys):
    assert main(["problems", "show", "nope"]) == 1
    err = capsys.readouterr().err
    assert "no problem with id 'nope'" in err and "spam-filter" in err


def test_list_warns_about_a_broken_user_file_and_lists_the_rest(interviewer_home: Path):
    _write(interviewer_home / "problems", "broken.toml", "title = ")
    result = subprocess.run(
        [sys.executable, "-m", "interviewer", "problems", "list"],
        capture_output=True,
        text=True,
        env={"INTERVIEWER_HOME": str(interviewer_home), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    assert result.returncode == 0
    assert "spam-filter" in result.stdout
    assert "broken.toml" in result.stderr and "Traceback" not in result.stderr
