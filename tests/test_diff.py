"""The semantic diff: every change in words, matched by rule id, with its bump."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from leadsim.cli import main
from leadsim.criteria import dump_criteria, load_criteria, parse_criteria
from leadsim.diff import (
    Change,
    describe_condition,
    diff_criteria,
    diff_documents,
    render_diff,
    suggest_bump,
    summarize,
)

BRIEF = Path(__file__).parent / "criteria_examples" / "valid" / "product-brief.yaml"


def brief() -> dict:
    """The brief's example criteria as plain data."""
    return yaml.safe_load(BRIEF.read_text(encoding="utf-8"))


def edited(edit: Callable[[dict], object]) -> list[Change]:
    """The changes from the brief's example to a copy changed by ``edit``."""
    old = brief()
    new = copy.deepcopy(old)
    edit(new)
    return diff_documents(old, new)


def fit_rules(doc: dict) -> list:
    return doc["mql"]["fit"]["rules"]


def engagement_rules(doc: dict) -> list:
    return doc["mql"]["engagement"]["rules"]


def set_in(doc: dict, path: tuple, value: object) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def delete_in(doc: dict, path: tuple) -> None:
    for key in path[:-1]:
        doc = doc[key]
    del doc[path[-1]]


PRICING = {
    "id": "pricing",
    "label": "Pricing page",
    "points": 10,
    "when": {"field": "pricing_page_visits", "gte": 2},
}

CASES: dict[str, tuple[Callable[[dict], object], list[tuple[str, str]], str]] = {
    "points": (
        lambda d: engagement_rules(d)[0].update(points=30),
        [("Engagement rules", "Evaluation checklist: 25 → 30 points")],
        "minor",
    ),
    "list items in a condition": (
        lambda d: fit_rules(d)[0].update(
            when={"field": "industry", "in": ["manufacturing", "retail"]}
        ),
        [
            (
                "Fit rules",
                "Target industry: industry is in the list target_industries → is one "
                "of manufacturing, retail",
            )
        ],
        "minor",
    ),
    "values added and removed": (
        lambda d: d["sql"]["require"][0]["when"].update(
            **{"in": ["decision_maker", "influencer"]}
        ),
        [
            (
                "SQL requirements",
                "Decision role confirmed: now also matches influencer; "
                "no longer matches champion",
            )
        ],
        "minor",
    ),
    "a number in a condition": (
        lambda d: d["sql"]["require_any"]["rules"][0]["when"].update(lte=6),
        [
            (
                "Optional SQL requirements",
                "Selection within a year: timeline months is at most 12 → is at most 6",
            )
        ],
        "minor",
    ),
    "label": (
        lambda d: fit_rules(d)[0].update(label="Target industry (ICP)"),
        [
            (
                "Fit rules",
                "Rule target-industry renamed: “Target industry” → "
                "“Target industry (ICP)”",
            )
        ],
        "patch",
    ),
    "question": (
        lambda d: d["sql"]["require"][0].update(question="Who signs the contract?"),
        [
            (
                "SQL requirements",
                "Decision role confirmed: discovery question “Who signs off the ERP "
                "selection?” → “Who signs the contract?”",
            )
        ],
        "patch",
    ),
    "rule added": (
        lambda d: engagement_rules(d).append(PRICING),
        [
            (
                "Engagement rules",
                "Engagement rule added: Pricing page (+10 points), when pricing page "
                "visits is at least 2",
            )
        ],
        "minor",
    ),
    "rule removed": (
        lambda d: d["mql"].update(exclude=[]),
        [("Exclusions", "Exclusion removed: Competitor domain")],
        "major",
    ),
    "rule moved between sections": (
        lambda d: (
            fit_rules(d).append(engagement_rules(d).pop()),
            engagement_rules(d).append(PRICING),
        ),
        [
            (
                "Fit rules",
                "Evaluation checklist moved from engagement rules to fit rules",
            ),
            (
                "Engagement rules",
                "Engagement rule added: Pricing page (+10 points), when pricing page "
                "visits is at least 2",
            ),
        ],
        "major",
    ),
    "part of a combination added": (
        lambda d: d["routing"][1]["when"]["all"].append(
            {"field": "region", "ne": "emea"}
        ),
        [("Routing", "Route high-fit-mql: now also requires region is not emea")],
        "minor",
    ),
    "rules reordered": (
        lambda d: d["sql"]["require_any"]["rules"].reverse(),
        [
            (
                "Optional SQL requirements",
                "Optional SQL requirements reordered: timeline, budget → budget, "
                "timeline",
            )
        ],
        "patch",
    ),
    "cap changed": (
        lambda d: set_in(d, ("mql", "fit", "cap"), 45),
        [("Fit rules", "Fit cap 50 → 45")],
        "minor",
    ),
    "cap removed": (
        lambda d: delete_in(d, ("mql", "engagement", "cap")),
        [("Engagement rules", "Engagement cap removed (was 60)")],
        "minor",
    ),
    "decay": (
        lambda d: d["mql"]["engagement"]["decay"].update(
            half_life_days=45, date_field="created_at"
        ),
        [
            ("Engagement rules", "Engagement decay half-life 60 → 45 days"),
            (
                "Engagement rules",
                "Engagement decay measured from last activity at → created at",
            ),
        ],
        "minor",
    ),
    "decay removed": (
        lambda d: delete_in(d, ("mql", "engagement", "decay")),
        [
            (
                "Engagement rules",
                "Engagement decay removed (was half-life 60 days from last activity "
                "at)",
            )
        ],
        "minor",
    ),
    "thresholds": (
        lambda d: set_in(d, ("mql", "threshold"), {"total": 65, "engagement": 10}),
        [
            ("MQL threshold", "MQL total threshold 60 → 65"),
            ("MQL threshold", "MQL engagement threshold added: 10"),
            ("MQL threshold", "MQL fit threshold removed (was 20)"),
        ],
        "minor",
    ),
    "fast track condition": (
        lambda d: d["mql"]["fast_track"][0]["when"]["all"][0].update(eq=False),
        [("Fast-track rules", "Demo request from ICP: demo requested is yes → is no")],
        "minor",
    ),
    "require_any min": (
        lambda d: d["sql"]["require_any"].update(min=2),
        [
            (
                "Optional SQL requirements",
                "SQL: at least 1 → 2 of the optional requirements must hold",
            )
        ],
        "minor",
    ),
    "account numbers": (
        lambda d: d["sql"]["account"].update(min_contacts=3, department_field="team"),
        [
            ("Account promotion", "Account promotion: minimum MQL contacts 2 → 3"),
            (
                "Account promotion",
                "Account promotion: department field department → team",
            ),
        ],
        "minor",
    ),
    "account required": (
        lambda d: d["sql"]["account"].update(required=True),
        [
            (
                "Account promotion",
                "Account promotion now required: an SQL whose account is not "
                "sales-ready stays MQL",
            )
        ],
        "major",
    ),
    "account removed": (
        lambda d: delete_in(d, ("sql", "account")),
        [
            (
                "Account promotion",
                "Account promotion removed (was: an account is sales-ready with at "
                "least 2 MQL contacts across 2 department values)",
            )
        ],
        "major",
    ),
    "route queue and follow-up": (
        lambda d: d["routing"][2].update(queue="sdr-review", follow_up_days=14),
        [
            ("Routing", "Route mql-nurture: queue nurture → sdr-review"),
            ("Routing", "Route mql-nurture: follow-up 30 → 14 days"),
        ],
        "minor",
    ),
    "route added": (
        lambda d: d["routing"].insert(
            0, {"id": "dq", "when": {"stage": "disqualified"}, "queue": "closed"}
        ),
        [
            (
                "Routing",
                "Route added at position 1: dq sends stage is disqualified to closed",
            )
        ],
        "minor",
    ),
    "route removed": (
        lambda d: d["routing"].pop(1),
        [
            (
                "Routing",
                "Route removed: high-fit-mql (sent stage is mql and fit score is at "
                "least 35 to sdr-review)",
            )
        ],
        "major",
    ),
    "routes reordered": (
        lambda d: d["routing"].insert(1, d["routing"].pop(2)),
        [
            (
                "Routing",
                "Routes reordered: sql-to-ae, high-fit-mql, mql-nurture → sql-to-ae, "
                "mql-nurture, high-fit-mql",
            )
        ],
        "minor",
    ),
    "fallback": (
        lambda d: d["fallback"].update(queue="nurture", follow_up_days=60),
        [
            ("Fallback", "Fallback queue general-nurture → nurture"),
            ("Fallback", "Fallback follow-up 90 → 60 days"),
        ],
        "minor",
    ),
    "glossary": (
        lambda d: d.update(
            glossary={"active project": "A funded ERP selection.", "ICP": "Fit."}
        ),
        [
            ("Glossary", "“active project” now reads: A funded ERP selection."),
            ("Glossary", "Added “ICP”: Fit."),
        ],
        "patch",
    ),
    "list items": (
        lambda d: d["lists"].update(
            target_industries=["Manufacturing", "distribution", "retail"]
        ),
        [("Lists", "List target_industries: added retail; removed wholesale")],
        "minor",
    ),
    "owners and title": (
        lambda d: d.update(title="ERP stages", owners={"marketing": "Demand Gen"}),
        [
            ("Criteria", "Title “ERP lead stages” → “ERP stages”"),
            ("Criteria", "Marketing owner Marketing Ops → Demand Gen"),
            ("Criteria", "Sales owner removed (was Sales Development)"),
        ],
        "patch",
    ),
    "version and publication only": (
        lambda d: d.update(version="9.9.9", publication={"summary": "x"}),
        [],
        None,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_change_is_named_in_words(case: tuple) -> None:
    edit, expected, level = case

    changes = edited(edit)

    assert [(change.area, change.text) for change in changes] == expected
    assert suggest_bump(changes) == level


def test_a_change_points_at_its_place_in_the_new_file() -> None:
    changes = edited(lambda d: engagement_rules(d)[0].update(points=30))

    assert changes[0].path == ("mql", "engagement", "rules", 0, "points")


def test_reformatting_a_file_changes_nothing() -> None:
    original = parse_criteria(BRIEF.read_text(encoding="utf-8"))
    rewritten = parse_criteria(dump_criteria(original.data))

    assert diff_criteria(original, rewritten) == []


@pytest.mark.parametrize(
    ("when", "words"),
    [
        ({"field": "industry", "in": ["a", "b"]}, "industry is one of a, b"),
        (
            {"field": "industry", "not_in": {"list": "x"}},
            "industry is not in the list x",
        ),
        (
            {"field": "employees", "between": [50, 500]},
            "employees is between 50 and 500",
        ),
        ({"field": "job_title", "present": False}, "job title is empty"),
        (
            {"field": "last_activity_at", "within_days": 30},
            "last activity at is within the last 30 days",
        ),
        (
            {"not": {"field": "demo_requested", "eq": True}},
            "not (demo requested is yes)",
        ),
        (
            {
                "any": [
                    {"stage": "mql"},
                    {"all": [{"score": "fit", "gt": 1}, {"stage": "sql"}]},
                ]
            },
            "stage is mql or (fit score is more than 1 and stage is sql)",
        ),
    ],
)
def test_conditions_read_as_sentences(when: dict, words: str) -> None:
    assert describe_condition(when) == words


def test_bump_policy_takes_the_largest_level() -> None:
    changes = [
        Change("Glossary", "a", "patch"),
        Change("Fit rules", "b", "minor"),
    ]

    assert suggest_bump(changes) == "minor"
    assert suggest_bump([*changes, Change("Routing", "c", "major")]) == "major"
    assert suggest_bump([]) is None


def test_render_and_summary() -> None:
    changes = [
        Change("Fit rules", "Fit cap 50 → 45", "minor"),
        Change("Fit rules", "Target industry: 20 → 25 points", "minor"),
        Change("Routing", "Route x: queue a → b", "minor"),
    ]

    assert render_diff(changes) == (
        "**Fit rules**\n- Fit cap 50 → 45\n- Target industry: 20 → 25 points\n\n"
        "**Routing**\n- Route x: queue a → b"
    )
    assert render_diff(changes, markdown=False).splitlines()[:2] == [
        "Fit rules:",
        "  - Fit cap 50 → 45",
    ]
    assert summarize(changes) == (
        "Fit cap 50 → 45; Target industry: 20 → 25 points; and 1 more"
    )
    assert render_diff([]) == "No changes."


def test_the_diff_command_prints_the_changes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(
        BRIEF.read_text(encoding="utf-8").replace("total: 60", "total: 65"),
        encoding="utf-8",
    )

    status = main(["diff", str(BRIEF), str(new)])

    assert status == 0
    assert capsys.readouterr().out == (
        "MQL threshold:\n  - MQL total threshold 60 → 65\n\nSuggested bump: minor\n"
    )


# -- the shipped draft against the published version ---------------------------


@pytest.fixture
def shipped(tmp_path: Path, repo_root: Path) -> Path:
    """A copy of the shipped criteria, so nothing here touches the repository."""
    folder = tmp_path / "erp-lead-stages"
    shutil.copytree(repo_root / "criteria" / "erp-lead-stages", folder)
    return folder


# Written by reading 1.0.0.yaml and drafts/workshop-draft.yaml side by side.
SHIPPED_CHANGES = [
    (
        "Criteria",
        "Description now reads: When an ERP lead is worth a sales look (MQL) and "
        "when sales has confirmed it is ready for discovery (SQL), and where each "
        "lead goes next. Agreed by Marketing Ops and Sales Development for the 2026 "
        "pipeline. Workshop draft: fewer, better MQLs for the SDR team, and account "
        "promotion only when three departments are engaged.",
        "patch",
    ),
    (
        "Engagement rules",
        "Engagement rule removed: Signed up for the general newsletter (was 5 points)",
        "major",
    ),
    ("Engagement rules", "Signed up at an event or trade show: 10 → 5 points", "minor"),
    (
        "Engagement rules",
        "Signed up at an event or trade show: note added: “Lowered in the workshop; "
        "booth scans rarely turn into projects.”",
        "patch",
    ),
    ("Engagement rules", "Visited five or more pages: 10 → 5 points", "minor"),
    (
        "Engagement rules",
        "Visited five or more pages: note added: “Halved in the workshop; page "
        "views alone flooded the SDR queue.”",
        "patch",
    ),
    ("Engagement rules", "Looked at the pricing page: 15 → 25 points", "minor"),
    (
        "Engagement rules",
        "Looked at the pricing page: note added: “Raised in the workshop; the "
        "strongest single sign of a live project.”",
        "patch",
    ),
    (
        "Engagement rules",
        "Engagement rule added: Used the ERP ROI calculator (+15 points), when "
        "content downloads contains erp-roi-calculator",
        "minor",
    ),
    ("MQL threshold", "MQL total threshold 65 → 70", "minor"),
    (
        "Fast-track rules",
        "Rule demo-request-icp renamed: “Asked for a demo and fits our industry "
        "and buying roles” → “Asked for a demo in the last 60 days and fits our "
        "industry and buying roles”",
        "patch",
    ),
    (
        "Fast-track rules",
        "Asked for a demo in the last 60 days and fits our industry and buying "
        "roles: now also requires last activity at is within the last 60 days",
        "minor",
    ),
    (
        "Optional SQL requirements",
        "Optional SQL requirement added: Named the integrations or data migration "
        "they need, when required modules contains any of integrations, data "
        "migration; discovery question: “Which systems must it connect to, and "
        "what data moves over?”",
        "minor",
    ),
    ("Account promotion", "Account promotion: minimum departments 2 → 3", "minor"),
    ("Routing", "Route mql-nurture: follow-up 30 → 21 days", "minor"),
]


def test_the_shipped_draft_names_every_change_and_nothing_else(shipped: Path) -> None:
    published = load_criteria(shipped / "1.0.0.yaml")
    draft = load_criteria(shipped / "drafts" / "workshop-draft.yaml")

    changes = diff_criteria(published, draft)

    assert [(c.area, c.text, c.level) for c in changes] == SHIPPED_CHANGES
    assert suggest_bump(changes) == "major"  # the newsletter rule is gone
    assert summarize(changes) == (
        "Engagement rule removed: Signed up for the general newsletter (was 5 "
        "points); Signed up at an event or trade show: 10 → 5 points; and 13 more"
    )
    assert diff_criteria(published, published) == []


# -- nothing is missed -----------------------------------------------------------


def _leaves(node: object, path: tuple = ()) -> list[tuple]:
    """Every key path of the document that holds a scalar or is a list item."""
    if isinstance(node, dict):
        found = []
        for key, value in node.items():
            found += _leaves(value, (*path, key))
        return found
    if isinstance(node, list):
        found = [(*path, index) for index in range(len(node))]
        for index, value in enumerate(node):
            if isinstance(value, dict | list):
                found += _leaves(value, (*path, index))
        return found
    return [path]


def _changed(value: object) -> object:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "-x"
    return None  # a list item that is a mapping or list: remove it


SHIPPED_PUBLISHED = Path(__file__).resolve().parent.parent / "criteria"
DOCUMENTS = [BRIEF, SHIPPED_PUBLISHED / "erp-lead-stages" / "1.0.0.yaml"]


@pytest.mark.parametrize("source", DOCUMENTS, ids=lambda path: path.name)
def test_every_edit_anywhere_is_reported(source: Path) -> None:
    old = yaml.safe_load(source.read_text(encoding="utf-8"))
    ignored = {"version", "kind"}
    missed = []
    for path in _leaves(old):
        if path[0] in ignored:
            continue
        new = copy.deepcopy(old)
        parent = new
        for key in path[:-1]:
            parent = parent[key]
        old_value = parent[path[-1]]
        replacement = _changed(old_value)
        if replacement is None:
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
        if not diff_documents(old, new):
            missed.append(path)
        if isinstance(path[-1], str):
            without = copy.deepcopy(old)
            parent = without
            for key in path[:-1]:
                parent = parent[key]
            del parent[path[-1]]
            # Dropping ``required: false`` keeps its meaning: false is the default.
            default_kept = path[-1] == "required" and old_value is False
            if not diff_documents(old, without) and not default_kept:
                missed.append(("deleted", *path))

    assert missed == []
