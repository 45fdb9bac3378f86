"""``interviewer list``: stored interviews, newest first.

Apart from the interview commands, so that listing imports the database layer and nothing of the engine
(the content models, the backends, the settings): it is the command run most often, to look something up.
"""

from __future__ import annotations

import argparse

from interviewer.cli import EXIT_OK
from interviewer.services import open_repository
from interviewer.terminal import json_text


def list_(args: argparse.Namespace) -> int:
    repo = open_repository()
    rows = repo.list_interviews(limit=args.limit, status=args.status)
    if args.json:
        print(
            json_text(
                [
                    {
                        "id": r.id,
                        "created_at": r.created_at.isoformat(timespec="seconds") + "Z",
                        "status": r.status,
                        "problem": r.problem_id,
                        "persona": r.persona_id,
                        "title": r.title,
                        "backend": r.backend,
                        "turns": r.turn_count,
                        "elapsed_minutes": round(r.elapsed_seconds / 60.0, 1),
                        "budget_minutes": r.budget_minutes,
                        "overall": r.overall,
                        "recommendation": r.recommendation,
                    }
                    for r in rows
                ]
            )
        )
        return EXIT_OK
    if not rows:
        print("No interviews yet. Start one with `interviewer chat` (or `interviewer run` for a scripted one).")
        return EXIT_OK
    print(f"{'ID':>5}  {'DATE':16}  {'PROBLEM':28} {'PERSONA':12} {'TURNS':>5} {'MIN':>5}  {'SCORE':>5}  STATUS")
    for r in rows:
        score = f"{r.overall:.2f}" if r.overall is not None else "-"
        print(
            f"{r.id:>5}  {r.created_at:%Y-%m-%d %H:%M}  {r.problem_id[:28]:28} {r.persona_id[:12]:12} "
            f"{r.turn_count:>5} {r.elapsed_seconds / 60:>5.1f}  {score:>5}  {r.status}"
        )
    return EXIT_OK
