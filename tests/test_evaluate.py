"""The vectorized evaluator: hand-worked cases and agreement with the oracle."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadsim.conditions import ConditionCache
from leadsim.criteria import parse_criteria
from leadsim.dataset import Profile, prepare_leads
from leadsim.errors import DataError
from leadsim.evaluate import evaluate
from leadsim.reference import reference_evaluate

AS_OF = dt.date(2026, 6, 30)
PROFILE = Profile(
    id_column="lead_id",
    as_of=AS_OF,
    list_columns={"downloads": ";"},
    missing_values=["", "N/A", "-"],
    types={
        "industry": "text",
        "employees": "number",
        "downloads": "list",
        "last_activity": "date",
        "demo": "boolean",
        "account": "text",
        "department": "text",
        "role": "text",
    },
)

# Raw cells as a CRM export has them: case and spacing variants, blanks,
# placeholders, a negative number, a date after the as-of date.
CELLS = {
    "industry": ["Manufacturing", " manufacturing ", "RETAIL", "retail", "", "N/A"],
    "employees": ["10", "250", "1000", "", "-5", "3.5"],
    "downloads": ["Guide", "guide;Checklist", "checklist; webinar", "", "-", "webinar"],
    "last_activity": ["2026-06-01", "2026-06-30", "2026-07-05", "2025-12-01", ""],
    "demo": ["true", "False", "yes", "no", ""],
    "account": ["a1", "a2", "A1 ", "a3", ""],
    "department": ["it", "finance", "Operations", "", "N/A"],
    "role": ["cfo", "IT Manager", "analyst", ""],
}
VALUES = {
    "industry": ["manufacturing", "Retail", "distribution", "manu"],
    "employees": [0, 10, 250, 999],
    "downloads": ["guide", "CHECKLIST", "webinar", "other"],
    "last_activity": ["2026-06-01", "2026-01-01", "2026-06-30"],
    "demo": [True, False],
    "account": ["a1", "a2"],
    "department": ["it", "finance", "operations"],
    "role": ["cfo", "manager", "it manager"],
}
OPERATORS = {
    "text": ["eq", "ne", "in", "not_in", "contains", "contains_any", "contains_all"],
    "list": ["eq", "ne", "in", "not_in", "contains", "contains_any", "contains_all"],
    "number": ["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between"],
    "date": ["gt", "lt", "between", "within_days", "older_than_days", "eq"],
    "boolean": ["eq", "ne"],
}
MANY = {"in", "not_in", "contains_any", "contains_all"}


@st.composite
def leaves(draw: st.DrawFn) -> dict:
    field = draw(st.sampled_from(sorted(CELLS)))
    kind = PROFILE.types[field]
    operator = draw(st.sampled_from(OPERATORS[kind] + ["present"]))
    if operator == "present":
        return {"field": field, "present": draw(st.booleans())}
    if operator in {"within_days", "older_than_days"}:
        return {"field": field, operator: draw(st.integers(0, 200))}
    pool = st.sampled_from(VALUES[field])
    if operator in MANY:
        value = draw(st.lists(pool, min_size=1, max_size=3))
        if operator in {"in", "not_in"} and draw(st.booleans()):
            return {"field": field, operator: {"list": f"list-{field}"}}
    elif operator == "between":
        value = sorted(draw(st.lists(pool, min_size=2, max_size=2)))
    else:
        value = draw(pool)
    return {"field": field, operator: value}


def conditions(extra: st.SearchStrategy | None = None) -> st.SearchStrategy:
    base = leaves() if extra is None else st.one_of(leaves(), extra)
    return st.recursive(
        base,
        lambda inner: st.one_of(
            st.builds(
                lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)
            ),
            st.builds(
                lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)
            ),
            st.builds(lambda item: {"not": item}, inner),
        ),
        max_leaves=4,
    )


routing_leaves = st.one_of(
    st.builds(
        lambda stage: {"stage": stage},
        st.sampled_from(["disqualified", "lead", "mql", "sql"]),
    ),
    st.builds(
        lambda score, op, n: {"score": score, op: n},
        st.sampled_from(["fit", "engagement", "total"]),
        st.sampled_from(["gte", "lt", "eq"]),
        st.integers(0, 60),
    ),
)


@st.composite
def criteria_documents(draw: st.DrawFn) -> dict:
    counter = iter(range(1000))

    def rules(min_size: int, max_size: int, points: bool = False) -> list[dict]:
        made = []
        for _ in range(draw(st.integers(min_size, max_size))):
            rule = {
                "id": f"r{next(counter)}",
                "label": "Rule",
                "when": draw(conditions()),
            }
            if points:
                rule["points"] = draw(st.integers(-15, 30).filter(lambda n: n != 0))
            made.append(rule)
        return made

    fit = {"rules": rules(0, 3, points=True)}
    engagement = {"rules": rules(0, 3, points=True)}
    if draw(st.booleans()):
        fit["cap"] = draw(st.integers(5, 50))
    if draw(st.booleans()):
        engagement["cap"] = draw(st.integers(5, 50))
    if draw(st.booleans()):
        engagement["decay"] = {
            "half_life_days": draw(st.integers(1, 120)),
            "date_field": "last_activity",
        }
    threshold_keys = draw(
        st.lists(
            st.sampled_from(["total", "fit", "engagement"]), min_size=1, unique=True
        )
    )
    mql = {
        "exclude": rules(0, 2),
        "fit": fit,
        "engagement": engagement,
        "threshold": {key: draw(st.integers(0, 40)) for key in threshold_keys},
        "fast_track": rules(0, 2),
    }
    document = {
        "kind": "lead-criteria",
        "schema_version": 1,
        "id": "property-test",
        "version": "1.0.0",
        "title": "Property test",
        "owners": {"marketing": "Marketing Ops", "sales": "Sales Development"},
        "lists": {f"list-{field}": VALUES[field][:2] for field in CELLS},
        "mql": {key: value for key, value in mql.items() if value != []},
    }

    document["sql"] = {}
    if draw(st.booleans()):
        sql: dict = {"require": rules(0, 2)}
        optional = rules(0, 3)
        if optional:
            sql["require_any"] = {
                "min": draw(st.integers(1, len(optional))),
                "rules": optional,
            }
        if draw(st.booleans()):
            sql["account"] = {
                "key": "account",
                "min_contacts": draw(st.integers(1, 3)),
                "min_departments": draw(st.integers(1, 2)),
                "department_field": "department",
                "required": draw(st.booleans()),
            }
        sql = {key: value for key, value in sql.items() if value != []}
        document["sql"] = sql

    document["routing"] = [
        {
            "id": f"route-{index}",
            "when": draw(conditions(routing_leaves)),
            "queue": draw(st.sampled_from(["sdr", "ae", "nurture"])),
            **(
                {"follow_up_days": draw(st.integers(1, 90))}
                if draw(st.booleans())
                else {}
            ),
        }
        for index in range(draw(st.integers(0, 3)))
    ]
    document["fallback"] = {"queue": "general-nurture", "follow_up_days": 90}
    return document


@st.composite
def lead_tables(draw: st.DrawFn) -> pd.DataFrame:
    size = draw(st.integers(1, 25))
    columns = {
        field: draw(st.lists(st.sampled_from(cells), min_size=size, max_size=size))
        for field, cells in CELLS.items()
    }
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(size)], **columns})


def _compare(document: dict, frame: pd.DataFrame) -> None:
    criteria = parse_criteria(yaml.safe_dump(document, sort_keys=False))
    leads = prepare_leads(frame, PROFILE)
    table = evaluate(criteria, leads).table()
    expected = reference_evaluate(criteria, leads)

    for position, want in enumerate(expected):
        got = table.iloc[position]
        where = f"lead {want['lead_id']}"
        assert got["lead_id"] == want["lead_id"]
        for score in ("fit_score", "engagement_score", "total_score"):
            assert math.isclose(got[score], round(want[score], 2), abs_tol=0.011), where
        for column in ("stage", "mql_via", "sql_via", "queue", "matched_rules"):
            assert got[column] == want[column], f"{where}: {column}"
        follow_up = got["follow_up_days"]
        if want["follow_up_days"] is None:
            assert pd.isna(follow_up), where
        else:
            assert follow_up == want["follow_up_days"], where


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=criteria_documents(), frame=lead_tables())
def test_vectorized_evaluator_agrees_with_the_reference(
    document: dict, frame: pd.DataFrame
) -> None:
    _compare(document, frame)


# Hand-worked cases: each expected value is worked out in the comment.

SMALL = pd.DataFrame(
    {
        "lead_id": ["a", "b", "c", "d"],
        "industry": ["Manufacturing ", "retail", "", "MANUFACTURING"],
        "employees": ["250", "40", "900", "abc"],
        "downloads": ["Guide;checklist", "", "guide", "webinar"],
        "last_activity": ["2026-06-30", "2026-05-01", "", "2026-07-02"],
        "demo": ["yes", "no", "true", ""],
        "account": ["a1", "a1", "a2", ""],
        "department": ["it", "finance", "it", "it"],
        "role": ["cfo", "", "analyst", "cfo"],
    }
)


def _criteria(**mql: object) -> object:
    document = {
        "kind": "lead-criteria",
        "schema_version": 1,
        "id": "hand",
        "version": "1.0.0",
        "title": "Hand-worked",
        "owners": {"marketing": "Marketing Ops", "sales": "Sales Development"},
        "mql": {
            "fit": {
                "rules": [
                    {
                        "id": "industry",
                        "label": "Industry",
                        "points": 20,
                        "when": {"field": "industry", "eq": "manufacturing"},
                    }
                ]
            },
            "engagement": {
                "cap": 25,
                "decay": {"half_life_days": 30, "date_field": "last_activity"},
                "rules": [
                    {
                        "id": "checklist",
                        "label": "Checklist",
                        "points": 20,
                        "when": {"field": "downloads", "contains": "checklist"},
                    },
                    {
                        "id": "guide",
                        "label": "Guide",
                        "points": 10,
                        "when": {"field": "downloads", "contains": "GUIDE"},
                    },
                ],
            },
            "threshold": {"total": 30},
            **mql,
        },
        "sql": {},
        "fallback": {"queue": "nurture"},
    }
    return parse_criteria(yaml.safe_dump(document, sort_keys=False))


def test_scores_decay_cap_and_stage_by_hand() -> None:
    leads = prepare_leads(SMALL, PROFILE)
    evaluation = evaluate(_criteria(), leads)

    # a: fit 20; engagement 20 + 10 = 30, age 0 so no decay, capped at 25.
    # b: retail, no downloads: 0 and 0.
    # c: fit 0 (blank industry); guide 10, no date so undecayed.
    # d: fit 20 (case-insensitive); webinar matches nothing: engagement 0.
    assert evaluation.fit.tolist() == [20, 0, 0, 20]
    assert evaluation.engagement.tolist() == [25, 0, 10, 0]
    assert evaluation.stage.tolist() == ["mql", "lead", "lead", "lead"]
    assert evaluation.table()["matched_rules"].tolist() == [
        "industry;checklist;guide",
        "",
        "guide",
        "industry",
    ]


def test_decay_halves_engagement_after_one_half_life() -> None:
    frame = SMALL.assign(last_activity="2026-05-31")
    leads = prepare_leads(frame, PROFILE)

    evaluation = evaluate(_criteria(), leads)

    # a: 30 points, 30 days old with a 30-day half life: 15, under the cap.
    assert evaluation.engagement[0] == pytest.approx(15.0)
    assert evaluation.stage[0] == "mql"  # 20 + 15 = 35 >= 30


def test_fast_track_makes_an_mql_below_the_threshold() -> None:
    fast = [{"id": "demo", "label": "Demo", "when": {"field": "demo", "eq": True}}]
    leads = prepare_leads(SMALL, PROFILE)

    evaluation = evaluate(_criteria(fast_track=fast), leads)

    # c asked for a demo ("true") and scores 10: MQL by fast track.
    assert evaluation.stage.tolist() == ["mql", "lead", "mql", "lead"]
    assert evaluation.mql_via.tolist() == ["threshold", "", "fast_track", ""]


def test_text_in_a_numeric_field_used_by_a_rule_is_reported() -> None:
    fit = {
        "rules": [
            {
                "id": "size",
                "label": "Size",
                "points": 10,
                "when": {"field": "employees", "gte": 200},
            }
        ]
    }
    leads = prepare_leads(SMALL, PROFILE)

    with pytest.raises(DataError) as raised:
        evaluate(_criteria(fit=fit), leads)

    message = str(raised.value)
    assert "employees" in message and "'abc'" in message and "row 4" in message


def test_unknown_field_is_reported_with_what_to_do() -> None:
    fit = {
        "rules": [
            {"id": "x", "label": "X", "points": 5, "when": {"field": "nope", "eq": 1}}
        ]
    }
    leads = prepare_leads(SMALL, PROFILE)

    with pytest.raises(DataError, match="nope"):
        evaluate(_criteria(fit=fit), leads)


def test_cache_recomputes_only_the_edited_rule() -> None:
    leads = prepare_leads(SMALL, PROFILE)
    cache = ConditionCache()
    evaluate(_criteria(), leads, cache=cache)
    assert (cache.hits, cache.misses) == (0, 3)

    edited = _criteria()
    edited.data["mql"]["engagement"]["rules"][1]["when"] = {
        "field": "downloads",
        "contains": "webinar",
    }
    evaluation = evaluate(edited, leads, cache=cache)

    assert (cache.hits, cache.misses) == (2, 4)
    assert evaluation.matches["guide"].tolist() == [False, False, False, True]


def test_account_promotion_and_required() -> None:
    # a1 has a and b; only a is an MQL unless the threshold is 0.
    sql = {
        "require": [
            {"id": "cfo", "label": "CFO", "when": {"field": "role", "eq": "cfo"}}
        ],
        "account": {"key": "account", "min_contacts": 2, "min_departments": 2},
    }
    document = _criteria().data
    document["mql"]["threshold"] = {"total": 0}
    document["sql"] = sql
    criteria = parse_criteria(yaml.safe_dump(document, sort_keys=False))
    leads = prepare_leads(SMALL, PROFILE)

    evaluation = evaluate(criteria, leads)

    # Every lead is an MQL at threshold 0. a is a CFO: SQL by itself. Account
    # a1 has two MQL contacts in it and finance: sales-ready, so b becomes SQL
    # through the account. c (a2) is alone; d has no account and is a CFO.
    assert evaluation.stage.tolist() == ["sql", "sql", "mql", "sql"]
    assert evaluation.sql_via.tolist() == ["lead", "account", "", "lead"]

    sql["account"]["required"] = True
    sql["account"]["min_contacts"] = 2
    criteria = parse_criteria(yaml.safe_dump(document, sort_keys=False))
    evaluation = evaluate(criteria, leads)

    # d's account is d alone: one contact, not ready, so d stays an MQL.
    assert evaluation.stage.tolist() == ["sql", "sql", "mql", "mql"]


def test_every_lead_gets_a_queue_and_first_route_wins() -> None:
    document = _criteria().data
    document["routing"] = [
        {"id": "to-sdr", "when": {"stage": "mql"}, "queue": "sdr", "follow_up_days": 2},
        {"id": "all-fit", "when": {"score": "fit", "gte": 20}, "queue": "fit"},
    ]
    criteria = parse_criteria(yaml.safe_dump(document, sort_keys=False))
    leads = prepare_leads(SMALL, PROFILE)

    table = evaluate(criteria, leads).table()

    assert table["queue"].tolist() == ["sdr", "nurture", "nurture", "fit"]
    assert table["follow_up_days"].tolist()[0] == 2
    assert pd.isna(table["follow_up_days"].tolist()[3])


def test_empty_list_cell_counts_as_missing() -> None:
    leads = prepare_leads(SMALL, PROFILE)
    assert np.asarray(leads.columns["downloads"].missing).tolist() == [
        False,
        True,
        False,
        False,
    ]
