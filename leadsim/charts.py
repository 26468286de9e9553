"""Vega-Lite charts of a simulation, legible on a projector.

Every builder takes a small long-form frame (columns documented on each
function) and returns a Vega-Lite specification (a plain dict) with
tooltips, ready for ``st.vega_lite_chart`` or for :func:`chart_image`.
Baseline and draft are drawn in the same two colours everywhere
(:data:`BASELINE_COLOUR`, :data:`DRAFT_COLOUR`); fonts are sized for a room,
not a laptop.

The charts are written with Altair, but Altair takes a tenth of a second or
more to build a layered chart, which a live workshop cannot afford on every
slider move. So each chart's layout is built once, with its data referred to
by name, validated and cached as a template; a redraw copies the template
and attaches the current rows as named datasets. Anything that changes
between redraws (a threshold, a capacity, the order of segment values) is
data, not layout.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
from typing import Any

import altair as alt
import pandas as pd

logger = logging.getLogger(__name__)

BASELINE_COLOUR = "#4C78A8"
DRAFT_COLOUR = "#F58518"
CAPACITY_COLOUR = "#D62728"
VERSIONS = ("baseline", "draft")

OUTCOME_COLOURS = {
    "reached opportunity": "#2CA02C",
    "no opportunity": "#9D9D9D",
    "not worked by sales": "#D8C9A3",
}

FONT_SIZE = 16
TITLE_SIZE = 20
WIDTH = 520
HEIGHT = 360
ROW_HEIGHT = 34
LABEL_LIMIT = 320

Spec = dict[str, Any]


def version_colour() -> alt.Scale:
    """The colour scale that maps ``baseline`` and ``draft`` to their colours."""
    return alt.Scale(domain=list(VERSIONS), range=[BASELINE_COLOUR, DRAFT_COLOUR])


def projector(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Large fonts and a quiet frame, for a chart seen from the back of a room."""
    return (
        chart.configure_axis(
            labelFontSize=FONT_SIZE,
            titleFontSize=FONT_SIZE,
            titleFontWeight="normal",
            gridOpacity=0.4,
        )
        .configure_legend(
            labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE, orient="top"
        )
        .configure_title(fontSize=TITLE_SIZE, anchor="start")
        .configure_header(labelFontSize=FONT_SIZE, titleFontSize=FONT_SIZE)
        .configure_view(strokeWidth=0)
    )


def _data(name: str) -> alt.Chart:
    return alt.Chart(alt.NamedData(name=name))


def _template(chart: alt.TopLevelMixin) -> Spec:
    """The chart as a validated Vega-Lite dict, projector styling applied."""
    return projector(chart).to_dict()


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON values: dates as ISO text, missing values as null."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def _fill(template: Spec, **datasets: pd.DataFrame | list[dict]) -> Spec:
    spec = copy.deepcopy(template)
    spec["datasets"] = {
        name: rows if isinstance(rows, list) else _records(rows)
        for name, rows in datasets.items()
    }
    return spec


def _ordered(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The frame with an ``order`` column: first appearance of ``column``."""
    first = {value: rank for rank, value in enumerate(dict.fromkeys(frame[column]))}
    return frame.assign(order=frame[column].map(first))


# --- funnel --------------------------------------------------------------------


@functools.cache
def _funnel_template() -> Spec:
    base = _data("funnel").encode(
        y=alt.Y(
            "step:N",
            sort=alt.EncodingSortField(field="order", op="min"),
            title=None,
            axis=alt.Axis(labelLimit=LABEL_LIMIT),
        ),
        yOffset=alt.YOffset("version:N", sort=list(VERSIONS)),
        x=alt.X("leads:Q", title="leads"),
        color=alt.Color("version:N", scale=version_colour(), title=None),
        tooltip=[
            alt.Tooltip("step:N", title="step"),
            alt.Tooltip("version:N"),
            alt.Tooltip("leads:Q", format=","),
        ],
    )
    bars = base.mark_bar(height={"band": 0.9})
    labels = base.mark_text(align="left", dx=4, fontSize=FONT_SIZE).encode(
        text=alt.Text("leads:Q", format=",")
    )
    return _template(
        (bars + labels).properties(
            title="Funnel: baseline beside draft", width=WIDTH, height=HEIGHT
        )
    )


def funnel_chart(stages: pd.DataFrame) -> Spec:
    """Baseline beside draft at each funnel step.

    ``stages`` columns: ``step`` (ordered as given: e.g. MQL, SQL,
    opportunity), ``version`` (baseline/draft), ``leads`` (count).
    """
    return _fill(_funnel_template(), funnel=_ordered(stages, "step"))


# --- weekly volume -------------------------------------------------------------


def _capacity_layers(dataset: str) -> alt.LayerChart:
    """A dashed horizontal line at the dataset's ``capacity``, labelled."""
    rule = (
        _data(dataset)
        .mark_rule(color=CAPACITY_COLOUR, strokeDash=[8, 4], strokeWidth=2)
        .encode(y="capacity:Q", tooltip=[alt.Tooltip("label:N", title="line")])
    )
    text = (
        _data(dataset)
        .mark_text(
            color=CAPACITY_COLOUR,
            align="left",
            baseline="bottom",
            dx=4,
            dy=-4,
            fontSize=FONT_SIZE - 2,
        )
        .encode(y="capacity:Q", x=alt.value(0), text="label:N")
    )
    return rule + text


@functools.cache
def _weekly_template() -> Spec:
    panels = []
    for stage in ("MQL", "SQL"):
        lines = (
            _data("weekly")
            .transform_filter(alt.datum.stage == stage)
            .mark_line(point=True, strokeWidth=3)
            .encode(
                x=alt.X("week:T", title="week created"),
                y=alt.Y("leads:Q", title=f"{stage}s per week"),
                color=alt.Color("version:N", scale=version_colour(), title=None),
                tooltip=[
                    alt.Tooltip("week:T", title="week of", format="%d %b %Y"),
                    alt.Tooltip("version:N"),
                    alt.Tooltip("leads:Q", title=f"{stage}s", format=","),
                ],
            )
        )
        layer = lines + _capacity_layers("capacity") if stage == "MQL" else lines
        panels.append(
            layer.properties(title=f"{stage}s per week", width=WIDTH, height=HEIGHT)
        )
    return _template(alt.hconcat(*panels))


def weekly_chart(weekly: pd.DataFrame, capacity: float | None) -> Spec:
    """Weekly MQL and SQL volume, baseline and draft, with the SDR capacity.

    ``weekly`` columns: ``week`` (date of the week's Monday), ``stage``
    (``MQL``/``SQL``), ``version``, ``leads``. The capacity line (leads a
    week) is drawn on the MQL panel, where the SDR team's load shows.
    """
    line = []
    if capacity:
        line = [{"capacity": capacity, "label": f"SDR capacity {capacity:,.0f}/week"}]
    return _fill(_weekly_template(), weekly=weekly, capacity=line)


# --- segments ------------------------------------------------------------------


@functools.cache
def _segment_template(rate_title: str) -> Spec:
    base = _data("segments").encode(
        y=alt.Y(
            "value:N",
            sort=alt.EncodingSortField(field="order", op="min"),
            title=None,
            axis=alt.Axis(labelLimit=LABEL_LIMIT),
        ),
        yOffset=alt.YOffset("version:N", sort=list(VERSIONS)),
        color=alt.Color(
            "version:N",
            scale=version_colour(),
            legend=alt.Legend(title=None, symbolType="circle"),
        ),
    )
    tooltip = [
        alt.Tooltip("value:N", title="segment"),
        alt.Tooltip("version:N"),
        alt.Tooltip("rate:Q", title=rate_title, format=".1%"),
        alt.Tooltip("low:Q", title="95% low", format=".1%"),
        alt.Tooltip("high:Q", title="95% high", format=".1%"),
        alt.Tooltip("leads:Q", format=","),
        alt.Tooltip("reading:N", title="sample"),
    ]
    bars = base.mark_rule(strokeWidth=3).encode(
        x=alt.X("low:Q", title=rate_title, axis=alt.Axis(format="%")),
        x2="high:Q",
        tooltip=tooltip,
    )
    points = base.mark_point(size=140, strokeWidth=2.5).encode(
        x="rate:Q",
        fill=alt.condition(
            "datum.small",
            alt.value("white"),
            alt.Color("version:N", scale=version_colour(), legend=None),
        ),
        shape=alt.Shape(
            "reading:N",
            scale=alt.Scale(
                domain=["ok", "too small to read"], range=["circle", "diamond"]
            ),
            legend=None,
        ),
        tooltip=tooltip,
    )
    return _template((bars + points).properties(width=WIDTH, height=HEIGHT))


def segment_chart(segments: pd.DataFrame, rate_title: str) -> Spec:
    """A rate per segment value, baseline and draft, with 95% interval bars.

    ``segments`` columns: ``value`` (segment value), ``version``, ``rate``,
    ``low``, ``high`` (0–1), ``leads`` (the rate's denominator) and ``small``
    (bool: too few leads or too wide an interval to read). Small samples are
    drawn as hollow diamonds and say so in the tooltip.
    """
    frame = _ordered(segments, "value").assign(
        reading=segments["small"].map({True: "too small to read", False: "ok"})
    )
    spec = _fill(_segment_template(rate_title), segments=frame)
    spec["height"] = max(HEIGHT, ROW_HEIGHT * frame["value"].nunique())
    return spec


# --- score histogram -----------------------------------------------------------


def _threshold_layers(dataset: str) -> alt.LayerChart:
    """A vertical line at the dataset's ``at``, labelled."""
    rule = (
        _data(dataset)
        .mark_rule(color=DRAFT_COLOUR, strokeWidth=3)
        .encode(x="at:Q", tooltip=[alt.Tooltip("label:N", title="line")])
    )
    text = (
        _data(dataset)
        .mark_text(
            color="#333333", align="left", dx=5, baseline="top", fontSize=FONT_SIZE
        )
        .encode(x="at:Q", y=alt.value(2), text="label:N")
    )
    return rule + text


def _threshold_rows(threshold: float | None, label: str) -> list[dict]:
    if threshold is None:
        return []
    return [{"at": threshold, "label": f"{label} {threshold:g}"}]


@functools.cache
def _histogram_template() -> Spec:
    bars = (
        _data("bins")
        .mark_bar(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "start:Q",
                title="total score (draft)",
                scale=alt.Scale(domainMin=0, nice=False),
            ),
            x2="end:Q",
            y=alt.Y("sum(leads):Q", title="leads", stack=True),
            color=alt.Color(
                "outcome:N",
                scale=alt.Scale(
                    domain=list(OUTCOME_COLOURS), range=list(OUTCOME_COLOURS.values())
                ),
                title=None,
            ),
            order=alt.Order("outcome:N"),
            tooltip=[
                alt.Tooltip("start:Q", title="score from"),
                alt.Tooltip("end:Q", title="score below"),
                alt.Tooltip("outcome:N"),
                alt.Tooltip("sum(leads):Q", title="leads", format=","),
            ],
        )
    )
    return _template(
        (bars + _threshold_layers("threshold")).properties(
            title="Who scores what, by what happened next", width=WIDTH, height=HEIGHT
        )
    )


def histogram_chart(bins: pd.DataFrame, threshold: float | None) -> Spec:
    """Total score histogram split by historical outcome, threshold drawn.

    ``bins`` columns: ``start``, ``end`` (score range), ``outcome`` (one of
    :data:`OUTCOME_COLOURS`) and ``leads``: counted beforehand, so that a
    page sends a few hundred rows to the browser, not one per lead.
    """
    return _fill(
        _histogram_template(),
        bins=bins,
        threshold=_threshold_rows(threshold, "MQL threshold"),
    )


# --- threshold sweep -----------------------------------------------------------


@functools.cache
def _sweep_template() -> Spec:
    volume = (
        _data("sweep")
        .mark_line(color=DRAFT_COLOUR, strokeWidth=3)
        .encode(
            x=alt.X("threshold:Q", title="MQL total threshold"),
            y=alt.Y("mqls:Q", title="MQLs"),
            tooltip=[
                alt.Tooltip("threshold:Q"),
                alt.Tooltip("mqls:Q", title="MQLs", format=","),
                alt.Tooltip("precision:Q", format=".1%"),
                alt.Tooltip("coverage:Q", format=".1%"),
            ],
        )
    )
    quality = (
        _data("sweep")
        .transform_fold(["precision", "coverage"], as_=["measure", "rate"])
        .mark_line(strokeWidth=3)
        .encode(
            x=alt.X("threshold:Q", title="MQL total threshold"),
            y=alt.Y("rate:Q", title="share", axis=alt.Axis(format="%")),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(
                    domain=["precision", "coverage"], range=["#2CA02C", "#555555"]
                ),
                title=None,
            ),
            tooltip=[
                alt.Tooltip("threshold:Q"),
                alt.Tooltip("measure:N"),
                alt.Tooltip("rate:Q", format=".1%"),
            ],
        )
    )
    return _template(
        alt.hconcat(
            (
                volume + _capacity_layers("capacity") + _threshold_layers("now")
            ).properties(title="MQL volume", width=WIDTH, height=HEIGHT),
            (quality + _threshold_layers("now")).properties(
                title="Precision (MQLs → opportunity) and coverage",
                width=WIDTH,
                height=HEIGHT,
            ),
        )
    )


def sweep_chart(
    sweep: pd.DataFrame, current: float | None, capacity_mqls: float | None
) -> Spec:
    """MQL volume, precision and coverage as the total threshold moves.

    ``sweep`` columns: ``threshold``, ``mqls`` (count), ``precision`` and
    ``coverage`` (0–1). ``current`` marks the draft's threshold;
    ``capacity_mqls`` the number of MQLs the SDR team can take over the
    history, drawn as a horizontal line on the volume panel.
    """
    line = []
    if capacity_mqls:
        label = f"SDR capacity over the history: {capacity_mqls:,.0f}"
        line = [{"capacity": capacity_mqls, "label": label}]
    return _fill(
        _sweep_template(),
        sweep=sweep,
        capacity=line,
        now=_threshold_rows(current, "now"),
    )


def warm_templates(rate_titles: tuple[str, ...] = ()) -> None:
    """Build and validate every chart layout now, so the first redraw is quick.

    Building the layouts takes about a second once per process; the app
    calls this in the background when it starts.
    """
    _funnel_template()
    _weekly_template()
    _histogram_template()
    _sweep_template()
    for title in rate_titles:
        _segment_template(title)
    logger.debug("chart templates ready")


# --- export --------------------------------------------------------------------


def chart_image(spec: Spec, image_format: str) -> bytes:
    """The chart as ``png`` or ``svg`` bytes, for download.

    Uses vl-convert, which renders Vega-Lite without a browser.
    """
    import vl_convert

    if image_format == "svg":
        return vl_convert.vegalite_to_svg(spec).encode("utf-8")
    if image_format == "png":
        return vl_convert.vegalite_to_png(spec, scale=2)
    raise ValueError(f"unknown image format {image_format!r}; use png or svg")
