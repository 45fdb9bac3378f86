"""``interviewer personas|problems|rubrics list|show|validate`` and ``personas new``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from interviewer import paths
from interviewer.cli import EXIT_INVALID, EXIT_OK, CommandError
from interviewer.config import load_settings
from interviewer.content.loader import MAX_FILE_BYTES, ContentError, ContentLibrary, load_file
from interviewer.content.models import KINDS, Persona, Problem, Rubric
from interviewer.files import FileTooLarge, read_limited
from interviewer.terminal import json_text


def _report_errors(library: ContentLibrary, kind: str) -> None:
    for error in library.catalog(kind).errors:
        print(f"warning: skipped {error}", file=sys.stderr)


def _summary(kind: str, item: object) -> dict:
    if isinstance(item, Persona):
        return {"id": item.id, "name": item.name, "description": item.description, "strictness": item.strictness}
    if isinstance(item, Problem):
        return {"id": item.id, "title": item.title, "difficulty": item.difficulty, "tags": item.tags}
    assert isinstance(item, Rubric)
    return {"id": item.id, "name": item.name, "level": item.level, "dimensions": [d.id for d in item.dimensions]}


def list_(args: argparse.Namespace) -> int:
    library = ContentLibrary()
    catalog = library.catalog(args.kind)
    _report_errors(library, args.kind)
    if args.json:
        items = []
        for item_id in catalog.ids():
            loaded = catalog.items[item_id]
            data = loaded.model.model_dump(mode="json")
            data["_source"] = {"path": str(loaded.path), "origin": loaded.origin}
            items.append(data)
        print(json_text(items, indent=2))
        return EXIT_OK
    if not catalog.items:
        print(
            f"No {args.kind} found. Built-ins: {library.builtin_dir(args.kind)}; yours: {library.user_dir(args.kind)}"
        )
        return EXIT_OK
    for item_id in catalog.ids():
        loaded = catalog.items[item_id]
        summary = _summary(args.kind, loaded.model)
        origin = "" if loaded.builtin else "  [user]"
        if args.kind == "personas":
            line = f"{item_id:<22} {summary['name']:<10} {summary['description']}"
        elif args.kind == "problems":
            tags = ", ".join(summary["tags"])
            line = f"{item_id:<28} {summary['difficulty']:<7} {summary['title']}  ({tags})"
        else:
            line = f"{item_id:<22} {summary['level']:<12} {summary['name']}"
        print(line + origin)
    return EXIT_OK


def show(args: argparse.Namespace) -> int:
    library = ContentLibrary()
    catalog = library.catalog(args.kind)
    item = catalog.get(args.id)
    loaded = catalog.items[args.id]
    if args.json:
        print(json_text(item.model_dump(mode="json"), indent=2))
        return EXIT_OK
    print(f"# {args.kind[:-1]} '{args.id}' ({loaded.origin}: {loaded.path})")
    print("# The author's view: hidden parts included.\n")
    try:
        source = read_limited(loaded.path, MAX_FILE_BYTES).decode("utf-8", errors="replace")
    except (OSError, FileTooLarge) as exc:
        raise CommandError(f"cannot read {loaded.path}: {getattr(exc, 'strerror', None) or exc}") from None
    print(source.rstrip())
    return EXIT_OK


def validate(args: argparse.Namespace) -> int:
    model = KINDS[args.kind]
    failed = 0
    for name in args.files:
        try:
            item = load_file(Path(name), model)
        except ContentError as exc:
            print(f"invalid: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"ok: {name} ({args.kind[:-1]} '{item.id}')")  # type: ignore[attr-defined]
    return EXIT_INVALID if failed else EXIT_OK


def lint(args: argparse.Namespace) -> int:
    from interviewer.content.lint import lint_persona, lint_problem, lint_rubric

    library = ContentLibrary()
    model = KINDS[args.kind]
    items: list[tuple[str, object]] = []
    failed = 0
    if args.files:
        for name in args.files:
            try:
                items.append((name, load_file(Path(name), model)))
            except ContentError as exc:
                print(f"invalid: {exc}", file=sys.stderr)
                failed += 1
    else:
        catalog = library.catalog(args.kind)
        for error in catalog.errors:
            print(f"invalid: {error}", file=sys.stderr)
            failed += 1
        items = [(str(catalog.items[i].path), catalog.items[i].model) for i in catalog.ids()]
    rubric = library.rubrics.items.get(load_settings().rubric)
    for name, item in items:
        if isinstance(item, Problem):
            findings = lint_problem(item, rubric.model if rubric else None)
        elif isinstance(item, Persona):
            findings = lint_persona(item)
        else:
            findings = lint_rubric(item)  # type: ignore[arg-type]
        for finding in findings:
            print(f"{name}: {finding}", file=sys.stderr)
        failed += bool(findings)
    print(f"{len(items)} {args.kind} checked, {failed} with problems")
    return EXIT_INVALID if failed else EXIT_OK


def new_persona(args: argparse.Namespace) -> int:
    from interviewer.content.templates import TemplateError, write_persona_template

    try:
        target = write_persona_template(args.id, paths.user_content_dir("personas"), force=args.force)
    except TemplateError as exc:
        raise CommandError(str(exc), exc.exit_code) from None
    print(f"Wrote {target}")
    print(f"Edit it, check it with `interviewer personas validate {target}`, and use it with --persona {args.id}.")
    return EXIT_OK
