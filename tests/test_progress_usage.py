"""Progress across interviews, and token use with a cost estimate."""

from __future__ import annotations

from types import SimpleNamespace

from interviewer.grading import grade_interview
from interviewer.grading.offline import OfflineGrader
from interviewer.progress import compute_progress
from interviewer.usage import price_of, totals
from tests.conftest import DATA
from tests.helpers import play


def _lines(name: str) -> list[str]:
    return [line for line in (DATA / name).read_text().splitlines() if line.strip()]


async def test_progress_tracks_each_dimension_and_names_the_weakest(repo):
    for script in ("spam-weak.txt", "spam-strong.txt", "spam-strong.txt"):
        session, _ = await play(repo, _lines(script))
        await grade_interview(repo, session.interview_id, OfflineGrader())
    _ungraded, _ = await play(repo, ["hello"])
    progress = compute_progress(repo)
    assert [i[0] for i in progress.interviews] == [1, 2, 3]  # oldest first; ungraded left out
    clarification = next(t for t in progress.trends if t.id == "clarification")
    assert clarification.scores[0] == 1 and clarification.scores[-1] >= 3
    weakest = progress.weakest
    assert weakest is not None
    assert weakest.recent_mean == min(t.recent_mean for t in progress.trends)


def test_no_gradings_no_weakest(repo):
    assert compute_progress(repo).weakest is None


def test_prices_and_totals():
    assert price_of("gpt-4.1-mini") == price_of("gpt-4.1-mini-2025-04-14")
    assert price_of("gpt-4.1-mini") != price_of("gpt-4.1")
    assert price_of("smollm2") is None
    turns = [
        SimpleNamespace(
            model="gpt-4.1-mini", prompt_tokens=1_000_000, cached_tokens=500_000, completion_tokens=100_000
        ),
        SimpleNamespace(model=None, prompt_tokens=None, cached_tokens=None, completion_tokens=None),
    ]
    total = totals(turns)
    assert total.prompt_tokens == 1_000_000
    assert round(total.cost_usd, 4) == round(0.5 * 0.40 + 0.5 * 0.10 + 0.1 * 1.60, 4)
    local = totals([*turns, SimpleNamespace(model="smollm2", prompt_tokens=10, cached_tokens=0, completion_tokens=5)])
    assert local.cost_usd is None and local.prompt_tokens == 1_000_010


async def test_progress_never_averages_gradings_made_with_different_rubrics(repo, library):
    senior = library.rubrics.get("ml-design-senior")
    first, _ = await play(repo, _lines("spam-strong.txt"))
    await grade_interview(repo, first.interview_id, OfflineGrader())
    second, _ = await play(repo, _lines("spam-weak.txt"))
    await grade_interview(repo, second.interview_id, OfflineGrader(), senior)
    # By default the rubric used last, alone; the other rubric's gradings are counted, not mixed in.
    latest = compute_progress(repo)
    assert latest.rubric_id == "ml-design-senior"
    assert [i[0] for i in latest.interviews] == [second.interview_id]
    assert latest.other_rubrics == {"ml-design": 1}
    mid = compute_progress(repo, rubric_id="ml-design")
    assert [i[0] for i in mid.interviews] == [first.interview_id]
    assert all(len(t.scores) == 1 for t in mid.trends)
    # An interview graded again with another rubric keeps its grading by each rubric, each in its own view.
    await grade_interview(repo, first.interview_id, OfflineGrader(), senior)
    both = compute_progress(repo, rubric_id="ml-design-senior")
    assert [i[0] for i in both.interviews] == [first.interview_id, second.interview_id]
    assert compute_progress(repo, rubric_id="ml-design").interviews[0][0] == first.interview_id
