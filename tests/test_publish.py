"""Publishing: approvals, bumps, the publication record, history and rollback."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import multiprocessing
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from leadsim.cli import main
from leadsim.criteria import Criteria, parse_criteria
from leadsim.errors import CriteriaError, LeadsimError, PublishError
from leadsim.publish import (
    check_approvals,
    headline_figures,
    history,
    parse_approvals,
    plan_publication,
    publish,
    render_changelog,
    render_headline,
    rollback,
)
from leadsim.store import CriteriaStore

CRITERIA_ID = "erp-lead-stages"
BRIEF = Path(__file__).parent / "criteria_examples" / "valid" / "product-brief.yaml"
APPROVALS = {"marketing": "Ana Ruiz", "sales": "Ben Cole"}
NOW = dt.datetime(2026, 12, 3, 13, 40, 5, 123456, tzinfo=dt.timezone.utc)
# Children fork from a clean, single-threaded server process: safe even when
# the Streamlit tests left threads running.
FORK = multiprocessing.get_context("forkserver")
FORK.set_forkserver_preload(["leadsim.publish", "pytest", "yaml"])


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, to prove nothing changed."""
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def brief_text(**replacements: str) -> str:
    """The brief's example criteria (version 1.2.0) with text replaced."""
    text = BRIEF.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    return text


def draft(text: str | None = None) -> Criteria:
    return parse_criteria(text or brief_text(), "<draft>")


# The brief example with the evaluation checklist worth 30 instead of 25.
MORE_POINTS = {"points: 25": "points: 30"}


@pytest.fixture
def store(tmp_path: Path) -> CriteriaStore:
    return CriteriaStore(tmp_path / "criteria")


@pytest.fixture
def published(store: CriteriaStore) -> CriteriaStore:
    """A store holding version 1.2.0 of the brief's example."""
    publish(store, draft(), APPROVALS, now=NOW)
    return store


# -- approvals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marketing", "sales"),
    [("Ana Ruiz", "Ana Ruiz"), ("Ana Ruiz", "  ana   RUIZ "), ("Zoë", "ZOË")],
)
def test_one_person_approving_for_both_teams_is_refused(
    marketing: str, sales: str
) -> None:
    with pytest.raises(PublishError, match="cannot approve for both"):
        check_approvals({"marketing": marketing, "sales": sales})


@pytest.mark.parametrize(
    ("approvals", "message"),
    [
        ({"marketing": "Ana"}, "no sales approval"),
        ({"sales": "Ben"}, "no marketing approval"),
        ({"marketing": "Ana", "sales": "  "}, "no sales approval"),
        (
            {"marketing": "Ana", "sales": "Ben", "finance": "Cy"},
            "'finance' is not a team",
        ),
        ({"marketing": "Ana", "sales": "\x1b[31mBen"}, "not a plain name"),
        ({"marketing": "A" * 81, "sales": "Ben"}, "at most 80 characters"),
    ],
)
def test_bad_approvals_are_refused(approvals: dict, message: str) -> None:
    with pytest.raises(PublishError, match=message):
        check_approvals(approvals)


def test_approver_names_are_tidied() -> None:
    approvals = check_approvals({"marketing": "  Ana   Ruiz ", "sales": "Ben"})

    assert [(a.role, a.name) for a in approvals] == [
        ("marketing", "Ana Ruiz"),
        ("sales", "Ben"),
    ]


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["marketing"], "has no name"),
        (["marketing=Ana", "Marketing=Bea"], "marketing is approved twice"),
    ],
)
def test_bad_command_line_approvals_are_refused(pairs: list[str], message: str) -> None:
    with pytest.raises(PublishError, match=message):
        parse_approvals(pairs)


def test_command_line_approvals_keep_the_whole_name() -> None:
    assert parse_approvals(["Sales=Ben = Cole", "marketing=Ana"]) == {
        "sales": "Ben = Cole",
        "marketing": "Ana",
    }


# -- publishing ----------------------------------------------------------------------


def test_the_first_version_keeps_the_drafts_version_and_records_the_approvals(
    store: CriteriaStore,
) -> None:
    result = publish(store, draft(), APPROVALS, now=NOW)

    path = store.root / CRITERIA_ID / "1.2.0.yaml"
    assert (result.version, result.path, result.previous_version) == (
        "1.2.0",
        path,
        None,
    )
    record = yaml.safe_load(path.read_text(encoding="utf-8"))["publication"]
    assert record["approvals"] == [
        {"role": "marketing", "name": "Ana Ruiz"},
        {"role": "sales", "name": "Ben Cole"},
    ]
    assert record["published_at"] == "2026-12-03T13:40:05Z"
    assert record["previous_version"] is None
    assert record["summary"] == "First published version."


def test_the_content_hash_covers_the_file_without_its_publication_block(
    published: CriteriaStore,
) -> None:
    text = published.version_text(CRITERIA_ID, "1.2.0")
    content, block = text.split("publication:\n")

    assert hashlib.sha256(content.encode()).hexdigest() in block
    assert content.startswith("kind: lead-criteria\nschema_version: 1\nid: ")
    assert "version: 1.2.0\n" in content


def test_the_next_version_follows_the_bump_the_changes_call_for(
    published: CriteriaStore,
) -> None:
    result = publish(published, draft(brief_text(**MORE_POINTS)), APPROVALS, now=NOW)

    assert (result.version, result.previous_version) == ("1.3.0", "1.2.0")
    assert [change.text for change in result.changes] == [
        "Evaluation checklist: 25 → 30 points"
    ]
    assert result.summary == "Evaluation checklist: 25 → 30 points"
    assert result.warnings == []
    assert [str(v) for v in published.versions(CRITERIA_ID)] == ["1.2.0", "1.3.0"]


@pytest.mark.parametrize(
    ("bump", "expected", "warns"),
    [("major", "2.0.0", False), ("minor", "1.3.0", False), ("patch", "1.2.1", True)],
)
def test_the_chosen_bump_wins_and_a_smaller_one_warns(
    published: CriteriaStore, bump: str, expected: str, warns: bool
) -> None:
    result = publish(published, draft(brief_text(**MORE_POINTS)), APPROVALS, bump)

    assert result.version == expected
    assert bool(result.warnings) is warns


def test_a_version_records_the_dataset_and_headline_it_was_approved_on(
    published: CriteriaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    figures = {"leads": 3, "baseline_mql": 1, "draft_mql": 2}
    monkeypatch.setattr(
        "leadsim.publish.simulate_impact", lambda draft, baseline, leads: figures
    )
    leads = SimpleNamespace(source="leads.csv", fingerprint="ab12", ids=[1, 2, 3])

    result = publish(
        published, draft(brief_text(**MORE_POINTS)), APPROVALS, leads=leads
    )

    record = yaml.safe_load(result.path.read_text(encoding="utf-8"))["publication"]
    assert record["dataset"] == {
        "source": "leads.csv",
        "fingerprint": "ab12",
        "leads": 3,
    }
    assert record["headline"] == figures


def _funnel(leads: int, mql: int, sql: int, disqualified: int, rates: dict):
    return SimpleNamespace(
        leads=leads,
        mql=mql,
        sql=sql,
        stages={"disqualified": disqualified},
        rates={name: SimpleNamespace(value=value) for name, value in rates.items()},
        unobserved_mql=7,
    )


def test_headline_figures_read_both_funnels() -> None:
    simulation = SimpleNamespace(
        baseline=_funnel(100, 20, 5, 3, {"mql_to_sql": 0.25, "mql_opportunity": 0.1}),
        draft=_funnel(100, 30, 6, 3, {"mql_to_sql": 0.2, "opportunity_coverage": None}),
    )

    figures = headline_figures(simulation)

    assert figures == {
        "leads": 100,
        "baseline_mql": 20,
        "baseline_sql": 5,
        "baseline_disqualified": 3,
        "baseline_mql_to_sql": 0.25,
        "baseline_mql_opportunity": 0.1,
        "baseline_opportunity_coverage": None,
        "draft_mql": 30,
        "draft_sql": 6,
        "draft_disqualified": 3,
        "draft_mql_to_sql": 0.2,
        "draft_mql_opportunity": None,
        "draft_opportunity_coverage": None,
        "draft_mql_without_sales_history": 7,
    }
    assert render_headline(figures).splitlines() == [
        "Leads simulated: 100",
        "MQLs: 20 → 30",
        "SQLs: 5 → 6",
        "Disqualified: 3 → 3",
        "MQL→SQL rate: 25.0% → 20.0%",
        "MQLs that reached an opportunity: 10.0% → n/a",
        "MQLs under the draft that sales never worked: 7 "
        "(no outcome is known for them)",
    ]


# -- refusals leave the store untouched --------------------------------------------


def _invalid_draft() -> Criteria:
    criteria = draft(brief_text(**MORE_POINTS))
    criteria.data["mql"]["threshold"]["total"] = "high"
    return criteria


REFUSALS = {
    "same person": (
        lambda: draft(brief_text(**MORE_POINTS)),
        {"sales": "ana ruiz"},
        {},
    ),
    "unknown role": (lambda: draft(brief_text(**MORE_POINTS)), {"it": "Cy"}, {}),
    "missing sales": (lambda: draft(brief_text(**MORE_POINTS)), {"sales": ""}, {}),
    "invalid draft": (_invalid_draft, {}, {}),
    "nothing changed": (draft, {}, {}),
    "unknown bump": (lambda: draft(brief_text(**MORE_POINTS)), {}, {"bump": "huge"}),
    "backwards": (
        lambda: draft(brief_text(**MORE_POINTS)),
        {},
        {"version": "1.1.9"},
    ),
    "collision": (lambda: draft(brief_text(**MORE_POINTS)), {}, {"version": "1.2.0"}),
    "bump and version": (
        lambda: draft(brief_text(**MORE_POINTS)),
        {},
        {"bump": "major", "version": "3.0.0"},
    ),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_failed_publish_leaves_the_store_untouched(
    published: CriteriaStore, case: tuple
) -> None:
    make_draft, approval_changes, options = case
    published.save_draft(CRITERIA_ID, "workshop", "a draft\n", None)
    before = tree(published.root)

    with pytest.raises(LeadsimError) as caught:
        publish(published, make_draft(), {**APPROVALS, **approval_changes}, **options)

    assert tree(published.root) == before
    assert caught.value.render()  # says what to do, not a bare exception


@pytest.mark.parametrize(
    ("version", "message"),
    [("1.1.9", "would go backwards"), ("1.2.0", "already published")],
)
def test_backwards_and_colliding_versions_say_what_to_do(
    published: CriteriaStore, version: str, message: str
) -> None:
    with pytest.raises(PublishError, match=message) as caught:
        publish(published, draft(brief_text(**MORE_POINTS)), APPROVALS, version=version)

    assert "choose" in str(caught.value)


def test_an_invalid_draft_reports_its_problems(published: CriteriaStore) -> None:
    with pytest.raises(CriteriaError, match="threshold"):
        publish(published, _invalid_draft(), APPROVALS)


def test_a_publish_reviewed_against_an_older_version_is_refused(
    published: CriteriaStore,
) -> None:
    reviewed = plan_publication(published, draft(brief_text(**MORE_POINTS)))
    publish(published, draft(brief_text(**{"total: 60": "total: 55"})), APPROVALS)
    before = tree(published.root)

    with pytest.raises(PublishError, match="published after this review started"):
        publish(published, draft(brief_text(**MORE_POINTS)), APPROVALS, plan=reviewed)

    assert tree(published.root) == before


def _publish_in_child(root: str, approvals: dict, barrier: object, results: object):
    store = CriteriaStore(root)
    criteria = draft(brief_text(**MORE_POINTS))
    barrier.wait()  # type: ignore[attr-defined]
    try:
        publish(store, criteria, approvals)
        results.put(("won", approvals["sales"]))  # type: ignore[attr-defined]
    except PublishError:
        results.put(("lost", approvals["sales"]))  # type: ignore[attr-defined]


def test_two_processes_publishing_at_once_exactly_one_wins(tmp_path: Path) -> None:
    for attempt in range(10):
        store = CriteriaStore(tmp_path / f"attempt-{attempt}")
        publish(store, draft(), APPROVALS)
        barrier, results = FORK.Barrier(2), FORK.Queue()
        children = [
            FORK.Process(
                target=_publish_in_child,
                args=(
                    str(store.root),
                    {**APPROVALS, "sales": seller},
                    barrier,
                    results,
                ),
            )
            for seller in ("Sam Seller", "Sue Seller")
        ]
        for child in children:
            child.start()
        outcomes = sorted(results.get(timeout=60) for _ in children)
        for child in children:
            child.join()

        assert [outcome for outcome, _ in outcomes] == ["lost", "won"]
        winner = next(name for outcome, name in outcomes if outcome == "won")
        assert [str(v) for v in store.versions(CRITERIA_ID)] == ["1.2.0", "1.3.0"]
        written = store.load_version(CRITERIA_ID, "1.3.0")
        assert written.data["publication"]["approvals"][1]["name"] == winner


# -- history, changelog, rollback ----------------------------------------------------


def test_history_lists_versions_newest_first_with_approvers(
    published: CriteriaStore,
) -> None:
    publish(published, draft(brief_text(**MORE_POINTS)), APPROVALS, now=NOW)

    entries = history(published, CRITERIA_ID)

    assert [(e.version, e.previous_version, e.intact) for e in entries] == [
        ("1.3.0", "1.2.0", True),
        ("1.2.0", None, True),
    ]
    assert entries[0].approver("sales") == "Ben Cole"
    changelog = published.changelog_path(CRITERIA_ID).read_text(encoding="utf-8")
    assert changelog.splitlines()[-2:] == [
        "| 1.3.0 | 2026-12-03 13:40:05 | Ana Ruiz | Ben Cole | 1.2.0 | "
        "Evaluation checklist: 25 → 30 points |",
        "| 1.2.0 | 2026-12-03 13:40:05 | Ana Ruiz | Ben Cole | — | "
        "First published version. |",
    ]


def test_history_flags_a_tampered_version(published: CriteriaStore) -> None:
    path = published.version_path(CRITERIA_ID, "1.2.0")
    path.write_text(path.read_text().replace("points: 25", "points: 26"))

    assert history(published, CRITERIA_ID)[0].intact is False


def test_a_version_written_by_hand_is_listed_without_a_record(
    store: CriteriaStore,
) -> None:
    store.create_version(CRITERIA_ID, "1.0.0", brief_text(**{"1.2.0": "1.0.0"}))

    entries = history(store, CRITERIA_ID)

    assert [(e.version, e.approvals, e.intact) for e in entries] == [
        ("1.0.0", (), None)
    ]
    assert render_changelog(CRITERIA_ID, entries).splitlines()[-1] == (
        "| 1.0.0 | — | — | — | — | (no publication record) |"
    )
    result = publish(store, draft(brief_text(**MORE_POINTS)), APPROVALS)
    assert (result.version, result.previous_version) == ("1.1.0", "1.0.0")


def test_rollback_publishes_the_old_content_as_a_new_version(
    published: CriteriaStore,
) -> None:
    publish(published, draft(brief_text(**MORE_POINTS)), APPROVALS)
    original = published.version_text(CRITERIA_ID, "1.2.0")
    restorers = {"marketing": "Mia Lund", "sales": "Noah Berg"}

    result = rollback(published, CRITERIA_ID, "1.2.0", restorers)

    assert (result.version, result.previous_version) == ("1.4.0", "1.3.0")
    assert result.summary == "Roll back to 1.2.0: Evaluation checklist: 30 → 25 points"
    restored = published.load_version(CRITERIA_ID, "1.4.0").data
    old = yaml.safe_load(original)
    for document in (restored, old):
        document.pop("publication")
        document.pop("version")
    assert restored == old
    assert published.version_text(CRITERIA_ID, "1.2.0") == original
    assert history(published, CRITERIA_ID)[0].approver("marketing") == "Mia Lund"


def test_publishing_does_not_change_the_drafts_data(store: CriteriaStore) -> None:
    criteria = draft()
    before = copy.deepcopy(criteria.data)

    publish(store, criteria, APPROVALS)

    assert criteria.data == before


# -- command line ----------------------------------------------------------------------


def test_the_publish_command_prints_the_diff_and_the_path(
    published: CriteriaStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft_file = tmp_path / "draft.yaml"
    draft_file.write_text(brief_text(**MORE_POINTS), encoding="utf-8")
    approve = ["--approve", "marketing=Ana Ruiz", "--approve", "sales=Ben Cole"]

    status = main(["publish", str(draft_file), *approve, "--root", str(published.root)])

    out = capsys.readouterr().out
    assert status == 0
    assert "  - Evaluation checklist: 25 → 30 points" in out
    assert str(published.root / CRITERIA_ID / "1.3.0.yaml") in out


def test_the_publish_command_refuses_one_person_for_both_teams(
    published: CriteriaStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft_file = tmp_path / "draft.yaml"
    draft_file.write_text(brief_text(**MORE_POINTS), encoding="utf-8")
    approve = ["--approve", "marketing=Ana", "--approve", "sales=ANA"]
    before = tree(published.root)

    status = main(["publish", str(draft_file), *approve, "--root", str(published.root)])

    assert status == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"{draft_file}: Ana cannot approve for both marketing and sales"
    )
    assert tree(published.root) == before


def test_the_publish_command_reports_an_invalid_draft_at_its_line(
    published: CriteriaStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft_file = tmp_path / "draft.yaml"
    draft_file.write_text(
        brief_text(**{"points: 25": "points: lots"}), encoding="utf-8"
    )
    approve = ["--approve", "marketing=Ana", "--approve", "sales=Ben"]

    status = main(["publish", str(draft_file), *approve, "--root", str(published.root)])

    err = capsys.readouterr().err
    line = (
        brief_text()
        .splitlines()
        .index("      - {id: eval-checklist, label: Evaluation checklist, points: 25,")
    )
    assert status == 1
    assert err.startswith(f"{draft_file}:{line + 1}:")


# -- the Publish page ------------------------------------------------------------------


def _page(draft_text: str, revision: str | None = None):
    """The Publish page inside the app, with this session's draft set."""
    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parent.parent / "app.py"
    page = AppTest.from_file(str(app), default_timeout=180)
    page.session_state["leadsim_draft_text"] = draft_text
    page.session_state["leadsim_draft_name"] = "workshop"
    page.session_state["leadsim_draft_revision"] = revision
    page.run()
    page.switch_page("pages/publish.py")
    return page


def _shipped_with(criteria_root: Path, old: str, new: str) -> str:
    text = (criteria_root / CRITERIA_ID / "1.0.0.yaml").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def _submit(page, marketing: str, sales: str) -> None:
    page.text_input(key="publish_marketing").input(marketing)
    page.text_input(key="publish_sales").input(sales)
    next(button for button in page.button if button.label == "Publish").click()
    page.run()


def test_the_page_publishes_only_with_two_different_approvers(
    criteria_root: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo_root)
    page = _page(_shipped_with(criteria_root, "total: 65", "total: 70"))
    page.run()

    assert not page.exception
    assert any("- MQL total threshold 65 → 70" in m.value for m in page.markdown)
    assert page.radio(key="publish_bump").value == "minor"
    before = tree(criteria_root)

    _submit(page, "Ana Ruiz", " ana RUIZ")
    assert "cannot approve for both" in " ".join(e.value for e in page.error)
    assert tree(criteria_root) == before

    _submit(page, "Ana Ruiz", "Ben Cole")
    assert not page.exception
    assert page.success[0].value.startswith("Published erp-lead-stages 1.1.0")
    record = yaml.safe_load((criteria_root / CRITERIA_ID / "1.1.0.yaml").read_text())
    assert record["publication"]["dataset"]["leads"] == 20_000
    assert record["publication"]["headline"]["leads"] == 20_000
    assert page.dataframe[0].value["version"].tolist() == ["1.1.0", "1.0.0"]


def test_the_page_shows_an_invalid_draft_at_its_line(criteria_root: Path) -> None:
    text = _shipped_with(criteria_root, "total: 65", "total: lots")
    page = _page(text)
    page.run()

    line = 1 + next(
        n for n, row in enumerate(text.splitlines()) if "total: lots" in row
    )
    assert not page.exception
    assert any(f"line {line}," in error.value for error in page.error)
    assert not [b for b in page.button if b.label == "Publish"]


def test_the_page_shows_a_stale_draft_beside_the_users_and_keeps_the_choice(
    criteria_root: Path,
) -> None:
    store = CriteriaStore(criteria_root)
    opened = store.save_draft(
        CRITERIA_ID,
        "workshop",
        _shipped_with(criteria_root, "total: 65", "total: 70"),
        None,
    )
    theirs = _shipped_with(criteria_root, "total: 65", "total: 75")
    store.save_draft(CRITERIA_ID, "workshop", theirs, opened)
    mine = _shipped_with(criteria_root, "total: 65", "total: 80")
    page = _page(mine, opened)
    page.run()

    next(b for b in page.button if b.label.startswith("Save draft")).click()
    page.run()

    assert "saved by someone else" in page.warning[0].value
    shown = [block.value.strip() for block in page.code][:2]
    assert shown == [mine.strip(), theirs.strip()]
    assert any("MQL total threshold 75 → 80" in m.value for m in page.markdown)
    next(b for b in page.button if b.label == "Keep mine and save it").click()
    page.run()
    assert store.read_draft(CRITERIA_ID, "workshop").text == mine


def test_publishing_an_old_version_file_rolls_back(
    published: CriteriaStore, capsys: pytest.CaptureFixture[str]
) -> None:
    publish(published, draft(brief_text(**MORE_POINTS)), APPROVALS)
    old = published.version_path(CRITERIA_ID, "1.2.0")
    approve = ["--approve", "marketing=Mia Lund", "--approve", "sales=Noah Berg"]

    status = main(["publish", str(old), *approve, "--root", str(published.root)])

    assert status == 0
    assert "  - Evaluation checklist: 30 → 25 points" in capsys.readouterr().out
    restored = published.load_version(CRITERIA_ID, "1.4.0").data
    assert restored["mql"] == yaml.safe_load(old.read_text())["mql"]
    assert restored["publication"]["previous_version"] == "1.3.0"


def test_the_page_refuses_a_publish_when_another_version_appeared_meanwhile(
    criteria_root: Path,
) -> None:
    page = _page(_shipped_with(criteria_root, "total: 65", "total: 70"))
    page.run()
    store = CriteriaStore(criteria_root)
    other = parse_criteria(_shipped_with(criteria_root, "total: 65", "total: 75"))
    publish(store, other, {"marketing": "Cy", "sales": "Di"})

    _submit(page, "Ana Ruiz", "Ben Cole")

    assert "changed while you were approving" in page.error[0].value
    assert [str(v) for v in store.versions(CRITERIA_ID)] == ["1.0.0", "1.1.0"]
    assert any("MQL total threshold 75 → 70" in m.value for m in page.markdown)
