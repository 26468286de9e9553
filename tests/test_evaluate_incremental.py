"""An edit applied to the rows it touches gives what a full evaluation gives."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_evaluate import (
    PROFILE,
    SMALL,
    VALUES,
    conditions,
    criteria_documents,
    lead_tables,
)

from leadsim.conditions import ConditionCache
from leadsim.criteria import parse_criteria
from leadsim.dataset import prepare_leads
from leadsim.evaluate import Evaluation, evaluate

# The hand-worked leads, with lead d's employees blank instead of unreadable.
READABLE = SMALL.assign(employees=["250", "40", "900", ""])

OUTPUTS = (
    "fit",
    "engagement",
    "total",
    "stage_code",
    "mql_via_code",
    "sql_via_code",
    "queue_code",
    "follow_up_days",
    "lead_sql",
)


def _rules(document: dict) -> list[dict]:
    """Every rule dict of a criteria document, in any section."""
    mql, sql = document.get("mql", {}), document.get("sql") or {}
    found = [*mql.get("exclude", []), *mql.get("fast_track", [])]
    found += mql.get("fit", {}).get("rules", [])
    found += mql.get("engagement", {}).get("rules", [])
    found += sql.get("require", [])
    found += (sql.get("require_any") or {}).get("rules", [])
    return found


def _assert_same(got: Evaluation, want: Evaluation) -> None:
    for name in OUTPUTS:
        assert np.array_equal(
            getattr(got, name), getattr(want, name), equal_nan=True
        ), name
    assert got.queues == want.queues
    assert list(got.matches) == list(want.matches)


def _parse(document: dict) -> object:
    return parse_criteria(yaml.safe_dump(document, sort_keys=False))


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(document=criteria_documents(), frame=lead_tables(), data=st.data())
def test_edits_applied_incrementally_equal_a_full_evaluation(
    document: dict, frame: pd.DataFrame, data: st.DataObject
) -> None:
    """Two edits in a row, each built on the evaluation before it."""
    leads = prepare_leads(frame, PROFILE)
    cache = ConditionCache()
    before = evaluate(_parse(document), leads, cache=cache)
    edited = copy.deepcopy(document)
    for _ in range(2):
        structural = _edit(edited, data)
        criteria = _parse(edited)
        after = evaluate(criteria, leads, cache=cache, previous=before)
        _assert_same(after, evaluate(criteria, leads))
        if not structural:
            # The edit was built on, not evaluated again from scratch.
            assert after.changed is not None and after.changed[0] == before.serial
        before = after


def _edit(document: dict, data: st.DataObject) -> bool:
    """Edit rule conditions, points and lists in place; rarely the threshold.

    Returns whether the edit is one that cannot be built on.
    """
    rules = _rules(document)
    for _ in range(data.draw(st.integers(0, 3)) if rules else 0):
        rule = data.draw(st.sampled_from(rules))
        if "points" in rule and data.draw(st.booleans()):
            rule["points"] = data.draw(st.integers(-15, 30).filter(lambda n: n != 0))
        else:
            rule["when"] = data.draw(conditions())
    structural = False
    if data.draw(st.booleans()):
        field = data.draw(st.sampled_from(sorted(VALUES)))
        document["lists"][f"list-{field}"] = data.draw(
            st.lists(st.sampled_from(VALUES[field]), min_size=1, max_size=2)
        )
        # A list that a route reads can move any lead's queue.
        structural = f"list-{field}" in json.dumps(document["routing"])
    if data.draw(st.integers(0, 9)) == 0:
        structural = True
        document["mql"]["threshold"] = {"total": data.draw(st.integers(0, 40))}
    return structural


def _one_fit_rule(minimum_employees: int) -> dict:
    """Criteria with one fit rule (30 points at the given employees), MQL at 20."""
    return {
        "kind": "lead-criteria",
        "schema_version": 1,
        "id": "edit",
        "version": "1.0.0",
        "title": "Edit",
        "owners": {"marketing": "M", "sales": "S"},
        "mql": {
            "fit": {
                "rules": [
                    {
                        "id": "staffed",
                        "label": "Staffed",
                        "points": 30,
                        "when": {"field": "employees", "gte": minimum_employees},
                    }
                ]
            },
            "threshold": {"total": 20},
        },
        "sql": {},
        "fallback": {"queue": "nurture"},
    }


def test_an_edit_touches_its_rows_and_the_accounts_they_move() -> None:
    """Only the rows whose rule column moved are evaluated again, plus the
    members of an account whose promotion they change."""
    leads = prepare_leads(READABLE, PROFILE)
    document = _one_fit_rule(minimum_employees=30)
    document["sql"] = {
        "require": [
            {"id": "demo", "label": "Demo", "when": {"field": "demo", "eq": True}}
        ],
        "account": {
            "key": "account",
            "min_contacts": 2,
            "min_departments": 2,
            "department_field": "department",
        },
    }
    document["routing"] = [{"id": "mql", "when": {"stage": "mql"}, "queue": "sdr"}]
    cache = ConditionCache()
    before = evaluate(_parse(document), leads, cache=cache)
    # employees a 250, b 40, c 900, d blank: a, b and c are MQLs. Demo: a
    # yes, b no, c true, d blank: a and c are SQLs. Account a1 holds a (it)
    # and b (finance): two engaged contacts in two departments with an SQL,
    # so b is promoted.
    assert before.stage.tolist() == ["sql", "sql", "sql", "lead"]
    assert before.sql_via.tolist() == ["lead", "account", "lead", ""]

    # The SQL requirement becomes 500+ employees: a (250) loses it, c (900)
    # keeps it; b and d judge the same. Only a's column moved, but a1 now has
    # no SQL, so b falls back to MQL as well; c and d are left alone.
    document["sql"]["require"][0]["when"] = {"field": "employees", "gte": 500}
    criteria = _parse(document)
    after = evaluate(criteria, leads, cache=cache, previous=before)

    assert after.changed is not None
    assert after.changed[1].tolist() == [0, 1]
    assert after.stage.tolist() == ["mql", "mql", "sql", "lead"]
    assert after.queue.tolist() == ["sdr", "sdr", "nurture", "nurture"]
    _assert_same(after, evaluate(criteria, leads))

    # Then fewer points for staff: a, b and c score 25, still MQLs, so no
    # account is counted again; b must stay an MQL, as a1 is no longer ready.
    document["mql"]["fit"]["rules"][0]["points"] = 25
    criteria = _parse(document)
    again = evaluate(criteria, leads, cache=cache, previous=after)
    assert again.changed is not None
    assert again.changed[1].tolist() == [0, 1, 2]
    assert again.stage.tolist() == ["mql", "mql", "sql", "lead"]
    assert again.fit.tolist() == [25, 25, 25, 0]
    _assert_same(again, evaluate(criteria, leads))


def test_a_threshold_move_is_evaluated_in_full() -> None:
    leads = prepare_leads(READABLE, PROFILE)
    document = _one_fit_rule(minimum_employees=200)
    before = evaluate(_parse(document), leads)
    document["mql"]["threshold"]["total"] = 40
    after = evaluate(_parse(document), leads, previous=before)
    assert after.changed is None
    assert after.stage.tolist() == ["lead"] * 4
