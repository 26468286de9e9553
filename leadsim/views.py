"""What the Simulate page shows, computed from a simulation.

The page lays out widgets; this module turns a
:class:`~leadsim.simulate.Simulation` into the rows it renders: headline
KPIs with direction and significance, every flip as a table row, the story
of one lead under both versions, the rule impact table, the score histogram
bins, and a CSV that a spreadsheet cannot execute. Everything over leads is
column work; loops run over rules, KPIs and the few rows explained.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadsim.evaluate import Evaluation
from leadsim.importer import neutralise_formulas
from leadsim.simulate import Simulation, explain
from leadsim.stats import Delta

logger = logging.getLogger(__name__)

OUTCOMES = ("reached opportunity", "no opportunity", "not worked by sales")


@dataclass(frozen=True)
class Kpi:
    """One headline number, baseline against draft.

    ``significant`` is ``None`` for counts (history is counted, not
    sampled) and otherwise false whenever the 95% intervals overlap.
    ``better`` says whether the change is good for the business when it is
    significant (``None`` when it depends on the room's goal, as volume does).
    """

    name: str
    baseline: float | None
    draft: float | None
    difference: float | None
    unit: str
    significant: bool | None
    note: str
    better: bool | None = None

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat``."""
        if not self.difference:
            return "flat"
        return "up" if self.difference > 0 else "down"

    def value_text(self, which: str = "draft") -> str:
        """The draft (or baseline) value as a reader expects it."""
        value = self.draft if which == "draft" else self.baseline
        if value is None:
            return "–"
        if self.unit == "share":
            return f"{value:.1%}"
        if self.unit == "per week":
            return f"{value:,.1f}"
        return f"{value:,.0f}"

    @property
    def tone(self) -> str:
        """``good``, ``bad`` or ``neutral``: how to colour the change.

        Neutral for volume (it depends on the room's goal) and for changes
        that are not significant.
        """
        if self.better is None or not self.difference:
            return "neutral"
        return "good" if self.better else "bad"

    def change_text(self, significance: bool = True) -> str:
        """The change with its sign: ``+120``, ``−2.1 pts``, ``no change``.

        With ``significance``, a change whose intervals overlap says so.
        """
        if self.difference is None:
            return "not measurable"
        if self.difference == 0:
            return "no change"
        sign = "+" if self.difference > 0 else "−"
        size = abs(self.difference)
        if self.unit == "share":
            text = f"{sign}{size * 100:.1f} pts"
        elif self.unit == "per week":
            text = f"{sign}{size:,.1f}"
        else:
            text = f"{sign}{size:,.0f}"
        if significance and self.significant is False:
            text += " (not significant)"
        return text


def _rate_kpi(name: str, delta: Delta, what: str, better_up: bool) -> Kpi:
    base, draft = delta.baseline, delta.draft
    note = f"{what}. Baseline {_interval(base)}; draft {_interval(draft)}. " + (
        "The intervals do not overlap: the change is real on this history."
        if delta.significant
        else "The intervals overlap: not significant, no evidence either way."
    )
    better = None
    if delta.significant and delta.difference:
        better = (delta.difference > 0) == better_up
    return Kpi(
        name,
        base.value,
        draft.value,
        delta.difference,
        "share",
        delta.significant,
        note,
        better,
    )


def _interval(rate: Any) -> str:
    if rate.value is None:
        return "no leads"
    return (
        f"{rate.value:.1%} ({rate.successes:,} of {rate.n:,}; 95% interval "
        f"{rate.low:.1%}–{rate.high:.1%})"
    )


def headline_kpis(simulation: Simulation) -> list[Kpi]:
    """The headline numbers of a simulation, in reading order.

    MQLs and SQLs (counts), MQL→SQL rate, MQL precision (share reaching an
    opportunity), opportunity coverage, and MQLs a week against capacity.
    """
    base, draft = simulation.baseline, simulation.draft
    deltas = simulation.deltas
    load = simulation.load
    unobserved = (
        f" {draft.unobserved_mql:,} of the draft's MQLs were never worked by "
        "sales: counted here, left out of every rate."
        if draft.unobserved_mql
        else ""
    )
    capacity = simulation.capacity
    over = ""
    if capacity:
        over = (
            f" Weeks above the SDR capacity of {capacity:,.0f}: baseline "
            f"{load.baseline_weeks_over}, draft {load.draft_weeks_over} of "
            f"{load.weeks}."
        )
    return [
        Kpi(
            "MQLs",
            base.mql,
            draft.mql,
            draft.mql - base.mql,
            "leads",
            None,
            "Leads at MQL or beyond over the whole history." + unobserved,
        ),
        Kpi(
            "SQLs",
            base.sql,
            draft.sql,
            draft.sql - base.sql,
            "leads",
            None,
            "Leads sales would accept as ready for discovery.",
        ),
        _rate_kpi(
            "MQL → SQL",
            deltas["mql_to_sql"],
            "Share of MQLs that became SQLs",
            better_up=True,
        ),
        _rate_kpi(
            "MQL → opp.",
            deltas["mql_opportunity"],
            "Precision: share of MQLs that reached an opportunity",
            better_up=True,
        ),
        _rate_kpi(
            "Opps caught",
            deltas["opportunity_coverage"],
            "Coverage: share of all opportunities that were MQLs first",
            better_up=True,
        ),
        Kpi(
            "MQLs / week",
            load.baseline_mean,
            load.draft_mean,
            load.draft_mean - load.baseline_mean,
            "per week",
            None,
            f"Average SDR load; peak week baseline {load.baseline_peak:,}, "
            f"draft {load.draft_peak:,}." + over,
        ),
    ]


# --- flips ---------------------------------------------------------------------


def flips_frame(
    simulation: Simulation, segments: list[str] | None = None
) -> pd.DataFrame:
    """Every lead whose stage or queue differs, one row each.

    Columns: ``lead_id``, ``change`` (``lead → mql``), ``reason`` (filled
    for the flips the simulation explained; see :func:`add_reasons`),
    ``baseline_stage``, ``draft_stage``, ``baseline_queue``, ``draft_queue``,
    ``baseline_total``, ``draft_total``, ``worked_by_sales`` (when the
    profile says), the segment columns and ``row`` (the lead's position).
    Biggest stage moves first, then biggest score changes.
    """
    baseline, draft = _evaluations(simulation)
    leads = draft.leads
    base_stage, draft_stage = baseline.stage, draft.stage
    base_queue, draft_queue = baseline.queue, draft.queue
    rows = np.flatnonzero((base_stage != draft_stage) | (base_queue != draft_queue))

    distance = np.abs(draft.stage_code[rows].astype(int) - baseline.stage_code[rows])
    change = np.abs(draft.total[rows] - baseline.total[rows])
    rows = rows[np.lexsort((rows, -change, -distance))]

    frame = pd.DataFrame(
        {
            "lead_id": leads.ids[rows],
            "change": [
                f"{a} → {b}" for a, b in zip(base_stage[rows], draft_stage[rows])
            ],
            "baseline_stage": base_stage[rows],
            "draft_stage": draft_stage[rows],
            "baseline_queue": base_queue[rows],
            "draft_queue": draft_queue[rows],
            "baseline_total": np.round(baseline.total[rows], 1),
            "draft_total": np.round(draft.total[rows], 1),
        }
    )
    worked = leads.outcome("worked")
    if worked is not None:
        frame["worked_by_sales"] = np.asarray(worked, dtype=bool)[rows]
    for name in segments if segments is not None else leads.profile.segments:
        if name in leads.frame.columns:
            frame[name] = leads.frame[name].to_numpy()[rows]
    listed = {flip.lead_id: flip.reason for flip in simulation.flips.listed}
    frame.insert(2, "reason", frame["lead_id"].map(listed).fillna(""))
    frame["row"] = rows
    return frame


def add_reasons(
    frame: pd.DataFrame, simulation: Simulation, limit: int = 500
) -> pd.DataFrame:
    """A copy of a flips frame with the reason filled for its first rows.

    Explaining is per lead, so only the first ``limit`` rows (what a page
    shows) are explained; the rest keep what they had.
    """
    result = frame.copy()
    head = result.index[:limit]
    missing = head[result.loc[head, "reason"] == ""]
    if len(missing):
        baseline, draft = _evaluations(simulation)
        result.loc[missing, "reason"] = explain(
            baseline, draft, result.loc[missing, "row"].to_numpy()
        )
    return result


def filter_flips(
    frame: pd.DataFrame, changes: list[str] | None = None, text: str = ""
) -> pd.DataFrame:
    """Rows whose change is one of ``changes`` and that contain ``text``.

    ``text`` is looked for, case-insensitively, in the lead id, the queues,
    the segment values and the reason.
    """
    keep = np.ones(len(frame), dtype=bool)
    if changes:
        keep &= frame["change"].isin(changes).to_numpy()
    needle = text.strip().lower()
    if needle:
        searchable = frame.drop(columns=["row"], errors="ignore").astype(str)
        hits = np.zeros(len(frame), dtype=bool)
        for name in searchable.columns:
            hits |= (
                searchable[name]
                .str.lower()
                .str.contains(needle, regex=False)
                .to_numpy()
            )
        keep &= hits
    return frame[keep]


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with formula-like cells neutralised."""
    safe = neutralise_formulas(frame.drop(columns=["row"], errors="ignore"))
    return safe.to_csv(index=False).encode("utf-8")


# --- one lead --------------------------------------------------------------------


@dataclass
class LeadSide:
    """One lead under one criteria file."""

    stage: str
    mql_via: str
    sql_via: str
    fit: float
    engagement: float
    total: float
    queue: str
    follow_up_days: float | None
    rules: list[tuple[str, str, float | None]] = field(default_factory=list)


@dataclass
class LeadStory:
    """Why a lead lands where it does under the baseline and the draft."""

    lead_id: str
    row: int
    baseline: LeadSide
    draft: LeadSide
    reason: str
    fields: dict[str, str]

    @property
    def changed(self) -> bool:
        """True when the stage or queue differs."""
        return (self.baseline.stage, self.baseline.queue) != (
            self.draft.stage,
            self.draft.queue,
        )


def _side(evaluation: Evaluation, row: int) -> LeadSide:
    rules = []
    for rule in evaluation.criteria.rules():
        if evaluation.matches[rule.id][row]:
            rules.append((rule.section, rule.label, rule.points))
    follow = float(evaluation.follow_up_days[row])
    return LeadSide(
        stage=str(evaluation.stage[row]),
        mql_via=str(evaluation.mql_via[row]),
        sql_via=str(evaluation.sql_via[row]),
        fit=float(evaluation.fit[row]),
        engagement=float(evaluation.engagement[row]),
        total=float(evaluation.total[row]),
        queue=str(evaluation.queue[row]),
        follow_up_days=None if np.isnan(follow) else follow,
        rules=rules,
    )


def lead_story(simulation: Simulation, lead_id: str) -> LeadStory | None:
    """The story of one lead (``None`` when no lead has that id)."""
    baseline, draft = _evaluations(simulation)
    leads = draft.leads
    found = np.flatnonzero(leads.ids == lead_id.strip())
    if not len(found):
        return None
    row = int(found[0])
    record = leads.frame.iloc[row]
    fields = {name: str(value) for name, value in record.items() if str(value) != ""}
    return LeadStory(
        lead_id=lead_id.strip(),
        row=row,
        baseline=_side(baseline, row),
        draft=_side(draft, row),
        reason=explain(baseline, draft, [row])[0],
        fields=fields,
    )


# --- rules and scores ------------------------------------------------------------


def rule_impact_frame(simulation: Simulation) -> pd.DataFrame:
    """The rule impact table: one row per draft rule, in file order."""
    rows = []
    for impact in simulation.rules:
        matched, rest = impact.opportunity_matched, impact.opportunity_rest
        rows.append(
            {
                "rule": impact.label,
                "section": impact.section,
                "status": impact.status,
                "leads matched": impact.matched,
                "opportunity rate (matched)": matched.value,
                "opportunity rate (rest)": rest.value,
                "lift": impact.lift,
                "lift significant": impact.lift_significant,
                "MQLs lost without it": impact.mqls_lost_without,
                "MQLs gained without it": impact.mqls_gained_without,
            }
        )
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    # None (no leads to measure) becomes NaN; the page shows it as a dash.
    measured = ["opportunity rate (matched)", "opportunity rate (rest)", "lift"]
    frame[measured] = frame[measured].astype("float64")
    return frame


def score_bins(evaluation: Evaluation, width: float = 5.0) -> pd.DataFrame:
    """Total-score histogram counts by outcome, binned here (not in the browser).

    Columns ``start``, ``end``, ``outcome`` (one of :data:`OUTCOMES`),
    ``leads``. Leads sales never worked are their own outcome when the
    profile names a ``worked`` column.
    """
    leads = evaluation.leads
    size = len(leads)
    opportunity = leads.outcome("opportunity")
    opportunity = (
        np.zeros(size, bool) if opportunity is None else np.asarray(opportunity, bool)
    )
    worked = leads.outcome("worked")
    outcome = np.where(opportunity, 0, 1)
    if worked is not None:
        outcome = np.where(~np.asarray(worked, bool) & ~opportunity, 2, outcome)

    bins = np.floor(np.maximum(evaluation.total, 0) / width).astype(np.int64)
    count = int(bins.max()) + 1 if size else 1
    table = np.bincount(bins * 3 + outcome, minlength=count * 3).reshape(count, 3)
    bin_index, outcome_index = np.nonzero(table)
    return pd.DataFrame(
        {
            "start": bin_index * width,
            "end": (bin_index + 1) * width,
            "outcome": np.array(OUTCOMES, dtype=object)[outcome_index],
            "leads": table[bin_index, outcome_index],
        }
    )


def _evaluations(simulation: Simulation) -> tuple[Evaluation, Evaluation]:
    if simulation.evaluations is None:
        raise ValueError("this simulation kept no evaluations; simulate again")
    return simulation.evaluations
