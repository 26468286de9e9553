"""Altair charts of a simulation, legible on a projector.

Every builder takes a small long-form frame (columns documented on each
function) and returns an Altair chart with tooltips. Baseline and draft are
drawn in the same two colours everywhere (:data:`BASELINE_COLOUR`,
:data:`DRAFT_COLOUR`); fonts are sized for a room, not a laptop. Altair is a
runtime dependency of the app only; the command line never imports this.
"""

from __future__ import annotations

import logging

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
LABEL_LIMIT = 320


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


def funnel_chart(stages: pd.DataFrame) -> alt.Chart:
    """Baseline beside draft at each funnel step.

    ``stages`` columns: ``step`` (ordered as given: e.g. MQL, SQL,
    opportunity), ``version`` (baseline/draft), ``leads`` (count).
    """
    order = list(dict.fromkeys(stages["step"]))
    base = alt.Chart(stages).encode(
        y=alt.Y(
            "step:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)
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
    return (bars + labels).properties(
        title="Funnel: baseline beside draft", width=WIDTH, height=HEIGHT
    )


def weekly_chart(weekly: pd.DataFrame, capacity: float | None) -> alt.HConcatChart:
    """Weekly MQL and SQL volume, baseline and draft, with the SDR capacity.

    ``weekly`` columns: ``week`` (date of the week's Monday), ``stage``
    (``MQL``/``SQL``), ``version``, ``leads``. The capacity line (leads a
    week) is drawn on the MQL panel, where the SDR team's load shows.
    """
    panels = []
    for stage in ("MQL", "SQL"):
        rows = weekly[weekly["stage"] == stage]
        lines = (
            alt.Chart(rows)
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
        layer = lines
        if stage == "MQL" and capacity:
            label = f"SDR capacity {capacity:,.0f}/week"
            layer = lines + _capacity_rule(capacity, label)
        panels.append(
            layer.properties(title=f"{stage}s per week", width=WIDTH, height=HEIGHT)
        )
    return alt.hconcat(*panels)


def _capacity_rule(capacity: float, label: str) -> alt.LayerChart:
    """A dashed horizontal line at ``capacity`` with its label."""
    frame = pd.DataFrame({"capacity": [capacity], "label": [label]})
    encoding = {"y": alt.Y("capacity:Q")}
    rule = (
        alt.Chart(frame)
        .mark_rule(color=CAPACITY_COLOUR, strokeDash=[8, 4], strokeWidth=2)
        .encode(**encoding, tooltip=[alt.Tooltip("label:N", title="line")])
    )
    text = (
        alt.Chart(frame)
        .mark_text(
            color=CAPACITY_COLOUR,
            align="left",
            baseline="bottom",
            dx=4,
            dy=-4,
            fontSize=FONT_SIZE - 2,
        )
        .encode(**encoding, text="label:N")
    )
    return rule + text.encode(x=alt.value(0))


def segment_chart(segments: pd.DataFrame, rate_title: str) -> alt.LayerChart:
    """A rate per segment value, baseline and draft, with 95% interval bars.

    ``segments`` columns: ``value`` (segment value), ``version``, ``rate``,
    ``low``, ``high`` (0–1), ``leads`` (the rate's denominator) and ``small``
    (bool: too few leads or too wide an interval to read). Small samples are
    drawn hollow and say so in the tooltip.
    """
    frame = segments.assign(
        reading=segments["small"].map({True: "too small to read", False: "ok"})
    )
    order = list(dict.fromkeys(frame["value"]))
    base = alt.Chart(frame).encode(
        y=alt.Y(
            "value:N", sort=order, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)
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
    height = max(HEIGHT, 34 * len(order))
    return (bars + points).properties(width=WIDTH, height=height)


def histogram_chart(bins: pd.DataFrame, threshold: float | None) -> alt.LayerChart:
    """Total score histogram split by historical outcome, threshold drawn.

    ``bins`` columns: ``start``, ``end`` (score range), ``outcome`` (one of
    :data:`OUTCOME_COLOURS`) and ``leads``: counted beforehand, so that a
    page sends a few hundred rows to the browser, not one per lead.
    """
    bars = (
        alt.Chart(bins)
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
    chart = bars
    if threshold is not None:
        chart = bars + _threshold_rule(threshold, "MQL threshold")
    return chart.properties(
        title="Who scores what, by what happened next", width=WIDTH, height=HEIGHT
    )


def _threshold_rule(threshold: float, label: str) -> alt.LayerChart:
    frame = pd.DataFrame({"at": [threshold], "label": [f"{label} {threshold:g}"]})
    rule = (
        alt.Chart(frame)
        .mark_rule(color=DRAFT_COLOUR, strokeWidth=3)
        .encode(x="at:Q", tooltip=[alt.Tooltip("label:N", title="line")])
    )
    text = (
        alt.Chart(frame)
        .mark_text(
            color="#333333", align="left", dx=5, baseline="top", fontSize=FONT_SIZE
        )
        .encode(x="at:Q", y=alt.value(2), text="label:N")
    )
    return rule + text


def sweep_chart(
    sweep: pd.DataFrame, current: float | None, capacity_mqls: float | None
) -> alt.HConcatChart:
    """MQL volume, precision and coverage as the total threshold moves.

    ``sweep`` columns: ``threshold``, ``mqls`` (count), ``precision`` and
    ``coverage`` (0–1). ``current`` marks the draft's threshold;
    ``capacity_mqls`` the number of MQLs the SDR team can take over the
    history, drawn as a horizontal line on the volume panel.
    """
    volume = (
        alt.Chart(sweep)
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
    if capacity_mqls:
        label = f"SDR capacity over the history: {capacity_mqls:,.0f}"
        volume = volume + _capacity_rule(capacity_mqls, label)

    rates = sweep.melt(
        id_vars=["threshold"],
        value_vars=["precision", "coverage"],
        var_name="measure",
        value_name="rate",
    )
    quality = (
        alt.Chart(rates)
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
    if current is not None:
        volume = volume + _threshold_rule(current, "now")
        quality = quality + _threshold_rule(current, "now")
    return alt.hconcat(
        volume.properties(title="MQL volume", width=WIDTH, height=HEIGHT),
        quality.properties(
            title="Precision (MQLs → opportunity) and coverage",
            width=WIDTH,
            height=HEIGHT,
        ),
    )


def chart_image(chart: alt.TopLevelMixin, image_format: str) -> bytes:
    """The chart as ``png`` or ``svg`` bytes, for download.

    Uses vl-convert, which renders Vega-Lite without a browser.
    """
    import vl_convert

    spec = chart.to_dict()
    if image_format == "svg":
        return vl_convert.vegalite_to_svg(spec).encode("utf-8")
    if image_format == "png":
        return vl_convert.vegalite_to_png(spec, scale=2)
    raise ValueError(f"unknown image format {image_format!r}; use png or svg")
