"""A workshop's comparison after an edit, updated from the last one, is exact.

:func:`leadsim.simulate.simulate` with a condition cache keeps the last
comparison's tallies and, after an edit of rule conditions, points or lists,
recounts only the leads whose draft outputs changed. Every test here holds
that result against a full comparison of the same evaluations and against a
fresh simulation without a cache, and checks that the update really ran.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsim import simulate as simulate_module
from leadsim.conditions import ConditionCache
from leadsim.criteria import load_criteria, parse_criteria
from leadsim.dataset import load_profile, prepare_leads
from leadsim.evaluate import evaluate
from leadsim.sample import generate
from leadsim.simulate import compare, simulate

ROOT = Path(__file__).resolve().parent.parent
CRITERIA = ROOT / "criteria" / "erp-lead-stages"
PROFILE = ROOT / "sample_leads" / "profile.yaml"


@pytest.fixture(scope="module")
def leads():
    frame, _ = generate(3000, seed=11)
    return prepare_leads(frame, load_profile(PROFILE), source="generated.csv")


@pytest.fixture(scope="module")
def baseline():
    return load_criteria(CRITERIA / "1.0.0.yaml")


@pytest.fixture(scope="module")
def draft_document():
    return load_criteria(CRITERIA / "drafts" / "workshop-draft.yaml").data


def _rule(document: dict, rule_id: str) -> dict:
    sections = [
        document["mql"]["exclude"],
        document["mql"]["fit"]["rules"],
        document["mql"]["engagement"]["rules"],
        document["mql"]["fast_track"],
        document["sql"]["require"],
        document["sql"]["require_any"]["rules"],
    ]
    return next(rule for rules in sections for rule in rules if rule["id"] == rule_id)


def _set_when(rule_id: str, make: Callable[[int], dict]) -> Callable:
    def edit(document: dict, value: int) -> None:
        _rule(document, rule_id)["when"] = make(value)

    return edit


def _set_points(rule_id: str) -> Callable:
    def edit(document: dict, value: int) -> None:
        _rule(document, rule_id)["points"] = value if value else 1

    return edit


def _shorten_list(name: str) -> Callable:
    def edit(document: dict, value: int) -> None:
        items = document["lists"][name]
        document["lists"][name] = items[value % len(items) :] or items[-1:]

    return edit


def _set_minimum(path: tuple[str, ...]) -> Callable:
    def edit(document: dict, value: int) -> None:
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


# Edits of rule conditions, points and lists: the comparison is updated.
UPDATED_EDITS = {
    "page-visits condition": (
        _set_when("page-visits", lambda v: {"field": "page_visits", "gte": v}),
        st.integers(1, 12),
    ),
    "webinar condition": (
        _set_when("webinar", lambda v: {"field": "webinar_attended", "gte": v}),
        st.integers(0, 3),
    ),
    "mid-market condition": (
        _set_when("mid-market", lambda v: {"field": "employees", "between": [v, 2000]}),
        st.integers(10, 400),
    ),
    "negative rule condition": (
        _set_when("too-small", lambda v: {"field": "employees", "lt": v}),
        st.integers(1, 80),
    ),
    "fit points": (_set_points("target-industry"), st.integers(-20, 40)),
    "engagement points": (_set_points("pricing-page"), st.integers(-20, 40)),
    "negative points": (_set_points("too-small"), st.integers(-30, 10)),
    "exclusion condition": (
        _set_when("student", lambda v: {"field": "employees", "lt": v}),
        st.integers(1, 30),
    ),
    "exclusion list": (_shorten_list("personal_email_domains"), st.integers(0, 5)),
    "fast-track condition": (
        _set_when(
            "demo-request-icp",
            lambda v: {
                "all": [
                    {"field": "demo_requested", "eq": True},
                    {"field": "last_activity_at", "within_days": v},
                ]
            },
        ),
        st.integers(5, 200),
    ),
    "sql condition": (
        _set_when(
            "timeline-6-months", lambda v: {"field": "timeline_months", "lte": v}
        ),
        st.integers(1, 24),
    ),
    "sql requirement": (
        _set_when(
            "decision-role",
            lambda v: {
                "field": "decision_role",
                "in": ["decision_maker", "champion"][:v],
            },
        ),
        st.integers(1, 2),
    ),
}
# Edits of what every lead's tallies rest on: everything is counted again.
RECOUNTED_EDITS = {
    "total threshold": (
        _set_minimum(("mql", "threshold", "total")),
        st.integers(40, 90),
    ),
    "fit cap": (_set_minimum(("mql", "fit", "cap")), st.integers(30, 70)),
}
EDITS = {**UPDATED_EDITS, **RECOUNTED_EDITS}


@st.composite
def edit_sequences(draw: st.DrawFn) -> list[tuple[str, int]]:
    names = draw(st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=5))
    return [(name, draw(EDITS[name][1])) for name in names]


def _simulate_and_check(draft, baseline, leads, cache: ConditionCache) -> bool:
    """Simulate with the workshop cache; check it; say whether it was updated."""
    incremental = simulate(draft, baseline, leads, capacity=150, cache=cache)
    tallies = cache.latest[simulate_module._LATEST]

    full = compare(*incremental.evaluations, capacity=150)
    assert incremental.to_dict() == full.to_dict()
    fresh = simulate(draft, baseline, leads, capacity=150)
    assert incremental.to_dict() == fresh.to_dict()
    return tallies.updated


def _evaluate_afresh(criteria, leads, cache=None, previous=None):
    """An evaluation that says nothing of the one before it."""
    return evaluate(criteria, leads, cache=cache)


@pytest.mark.parametrize(
    "derived",
    [
        pytest.param(True, id="evaluator-says-which-leads-changed"),
        pytest.param(False, id="comparison-finds-the-changed-leads"),
    ],
)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(edits=edit_sequences())
def test_edit_after_edit_gives_the_full_comparison(
    leads, baseline, draft_document, derived, edits
):
    cache = ConditionCache()
    document = copy.deepcopy(draft_document)
    draft = parse_criteria(yaml.safe_dump(document, sort_keys=False))
    assert not _simulate_and_check(draft, baseline, leads, cache)

    with pytest.MonkeyPatch.context() as patch:
        # Update however many leads an edit changes, so that every edit of
        # conditions, points or lists takes the update path.
        patch.setattr(simulate_module, "_UPDATE_SHARE", 1.0)
        if not derived:
            patch.setattr(simulate_module, "evaluate", _evaluate_afresh)
        for name, value in edits:
            before = copy.deepcopy(document)
            EDITS[name][0](document, value)
            draft = parse_criteria(yaml.safe_dump(document, sort_keys=False))

            updated = _simulate_and_check(draft, baseline, leads, cache)

            recounted = name in RECOUNTED_EDITS and document != before
            assert updated is not recounted, name


def test_a_small_edit_is_updated_with_the_default_share(
    leads, baseline, draft_document
):
    cache = ConditionCache()
    document = copy.deepcopy(draft_document)
    for visits in (5, 6, 7, 6):
        _rule(document, "page-visits")["when"]["gte"] = visits
        draft = parse_criteria(yaml.safe_dump(document, sort_keys=False))

        updated = _simulate_and_check(draft, baseline, leads, cache)

        assert updated is (visits != 5)


def test_another_baseline_counts_everything_again(leads, baseline, draft_document):
    cache = ConditionCache()
    draft = parse_criteria(yaml.safe_dump(draft_document, sort_keys=False))
    _simulate_and_check(draft, baseline, leads, cache)
    other = parse_criteria(yaml.safe_dump(draft_document, sort_keys=False))

    assert not _simulate_and_check(draft, other, leads, cache)
    assert _simulate_and_check(draft, other, leads, cache)


def _with_click_rules(document: dict, count: int) -> dict:
    """The draft with ``count`` more engagement rules, on email clicks."""
    wider = copy.deepcopy(document)
    wider["mql"]["engagement"]["rules"] += [
        {
            "id": f"clicks-{clicks}",
            "label": f"{clicks} email clicks",
            "points": 1,
            "when": {"field": "email_clicks", "gte": clicks},
        }
        for clicks in range(1, count + 1)
    ]
    return wider


@pytest.fixture
def any_share(monkeypatch):
    """Update however many leads an edit changes."""
    monkeypatch.setattr(simulate_module, "_UPDATE_SHARE", 1.0)


@pytest.mark.usefixtures("any_share")
def test_more_rules_than_one_word_of_bits(leads, baseline, draft_document):
    # 27 rules and 40 more: the bits of MQLs lost without each rule take
    # two 64-bit words per lead.
    cache = ConditionCache()
    document = _with_click_rules(draft_document, 40)
    steps = [
        lambda: None,
        lambda: _rule(document, "page-visits")["when"].update(gte=7),
        lambda: _rule(document, "clicks-3").update(points=12),
        lambda: _rule(document, "clicks-39").update(
            when={"field": "page_visits", "gte": 2}
        ),
    ]
    for number, step in enumerate(steps):
        step()
        draft = parse_criteria(yaml.safe_dump(document, sort_keys=False))
        assert len(draft.rules()) == 67

        updated = _simulate_and_check(draft, baseline, leads, cache)

        assert updated is (number > 0)


@pytest.mark.usefixtures("any_share")
def test_a_history_without_outcomes_segments_or_dates(baseline, draft_document):
    frame, _ = generate(1500, seed=5)
    profile = dataclasses.replace(
        load_profile(PROFILE), outcomes={}, segments=[], created_column=None
    )
    bare = prepare_leads(frame, profile, source="bare.csv")
    cache = ConditionCache()
    document = copy.deepcopy(draft_document)
    for visits in (5, 3, 8):
        _rule(document, "page-visits")["when"]["gte"] = visits
        draft = parse_criteria(yaml.safe_dump(document, sort_keys=False))

        updated = _simulate_and_check(draft, baseline, bare, cache)

        assert updated is (visits != 5)


def _listing_reference(baseline, draft, facts, flipped, limit):
    """The listing order as first written: one stable sort of every flip."""
    before = facts.baseline_stage[flipped].astype(np.int64)
    after = facts.draft_stage[flipped].astype(np.int64)
    kind = np.where(before != after, before * 4 + after, 16)
    distance = np.abs(after - before)
    change = np.abs(draft.total[flipped] - baseline.total[flipped])

    by_change = np.argsort(-change, kind="stable")
    sorted_kind = kind[by_change]
    queues = {
        int(code): by_change[sorted_kind == code][:limit]
        for code in np.unique(sorted_kind)
    }
    kinds = sorted(queues, key=lambda code: (-int(distance[queues[code][0]]), code))
    picked: list[int] = []
    longest = max((len(rows) for rows in queues.values()), default=0)
    for rank in range(min(limit, longest)):
        picked += [
            int(queues[code][rank]) for code in kinds if rank < len(queues[code])
        ]
        if len(picked) >= limit:
            break
    return flipped[np.asarray(picked[:limit], dtype=np.int64)]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), size=st.integers(0, 300), limit=st.integers(1, 40))
def test_flips_are_listed_as_one_stable_sort_would(data, size, limit):
    def column(values: st.SearchStrategy) -> list:
        return data.draw(st.lists(values, min_size=size, max_size=size))

    stages = np.array(column(st.integers(0, 3)), dtype=np.int8)
    draft_stages = np.array(column(st.integers(0, 3)), dtype=np.int8)
    # Few distinct totals: most score changes tie, and ties go in row order.
    totals = st.sampled_from([0.0, 5.0, 12.5, 20.0, 35.0])
    baseline = SimpleNamespace(total=np.array(column(totals), dtype=np.float64))
    draft = SimpleNamespace(total=np.array(column(totals), dtype=np.float64))
    queue_moved = np.array(column(st.booleans()), dtype=bool)
    facts = SimpleNamespace(baseline_stage=stages, draft_stage=draft_stages)
    flipped = np.flatnonzero((stages != draft_stages) | queue_moved)

    listed = simulate_module._listing_order(baseline, draft, facts, flipped, limit)

    expected = _listing_reference(baseline, draft, facts, flipped, limit)
    assert listed.tolist() == expected.tolist()


@given(
    keys=st.lists(
        st.sampled_from([-3.0, -1.0, -0.0, 0.0, 2.0, float("nan")]), max_size=80
    ),
    limit=st.integers(1, 30),
)
def test_smallest_first_is_the_head_of_a_stable_sort(keys, limit):
    values = np.array(keys, dtype=np.float64)

    found = simulate_module._smallest_first(values, limit)

    assert found.tolist() == np.argsort(values, kind="stable")[:limit].tolist()
