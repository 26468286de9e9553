"""Chart builders: the right data, the two version colours, the marked lines."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from leadsim import charts


def _spec(chart) -> dict:
    return charts.projector(chart).to_dict()


def _layers(spec: dict) -> list[dict]:
    found = []
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "mark" in node:
                found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _datasets(spec: dict) -> list[list[dict]]:
    return list(spec.get("datasets", {}).values())


def test_version_colours_are_the_same_everywhere():
    scale = charts.version_colour().to_dict()

    assert scale == {
        "domain": ["baseline", "draft"],
        "range": [charts.BASELINE_COLOUR, charts.DRAFT_COLOUR],
    }


def test_funnel_keeps_the_step_order_given():
    stages = pd.DataFrame(
        {
            "step": ["MQL", "MQL", "SQL", "SQL"],
            "version": ["baseline", "draft", "baseline", "draft"],
            "leads": [1200, 1500, 300, 280],
        }
    )

    spec = _spec(charts.funnel_chart(stages))

    bars = [layer for layer in _layers(spec) if layer["mark"]["type"] == "bar"]
    assert bars[0]["encoding"]["y"]["sort"] == ["MQL", "SQL"]
    assert spec["config"]["axis"]["labelFontSize"] == charts.FONT_SIZE


def test_weekly_chart_draws_capacity_on_the_mql_panel_only():
    weekly = pd.DataFrame(
        {
            "week": pd.to_datetime(["2026-01-05", "2026-01-05"] * 2),
            "stage": ["MQL", "MQL", "SQL", "SQL"],
            "version": ["baseline", "draft"] * 2,
            "leads": [100, 130, 20, 25],
        }
    )

    spec = _spec(charts.weekly_chart(weekly, capacity=120))

    mql_panel, sql_panel = spec["hconcat"]
    mql_rules = [
        layer for layer in _layers(mql_panel) if layer["mark"]["type"] == "rule"
    ]
    assert len(mql_rules) == 1
    assert not [
        layer for layer in _layers(sql_panel) if layer["mark"]["type"] == "rule"
    ]
    capacity_rows = [rows for rows in _datasets(spec) if "capacity" in rows[0]]
    assert capacity_rows == [[{"capacity": 120, "label": "SDR capacity 120/week"}]]


def test_segment_chart_marks_small_samples():
    segments = pd.DataFrame(
        {
            "value": ["retail", "retail"],
            "version": ["baseline", "draft"],
            "rate": [0.2, 0.25],
            "low": [0.1, 0.15],
            "high": [0.3, 0.35],
            "leads": [12, 14],
            "small": [True, False],
        }
    )

    spec = _spec(charts.segment_chart(segments, "MQL → SQL"))

    rows = _datasets(spec)[0]
    assert [row["reading"] for row in rows] == ["too small to read", "ok"]


def test_histogram_draws_the_threshold():
    scores = pd.DataFrame(
        {
            "total": [10, 70, 80],
            "outcome": ["no opportunity"] + ["reached opportunity"] * 2,
        }
    )

    spec = _spec(charts.histogram_chart(scores, threshold=60))

    text = json.dumps(spec)
    assert '"label": "MQL threshold 60"' in text


def test_sweep_marks_the_current_threshold_on_both_panels():
    sweep = pd.DataFrame(
        {
            "threshold": [0, 50, 100],
            "mqls": [900, 400, 10],
            "precision": [0.1, 0.2, 0.5],
            "coverage": [1.0, 0.6, 0.05],
        }
    )

    spec = _spec(charts.sweep_chart(sweep, current=50, capacity_mqls=300))

    text = json.dumps(spec)
    assert text.count('"label": "now 50"') == 1  # one shared dataset
    assert '"label": "SDR capacity over the history: 300"' in text
    rules = [layer for layer in _layers(spec) if layer["mark"]["type"] == "rule"]
    assert len(rules) == 3


@pytest.mark.parametrize(
    ("image_format", "magic"), [("png", b"\x89PNG"), ("svg", b"<svg")]
)
def test_chart_image_renders_without_a_browser(image_format, magic):
    stages = pd.DataFrame(
        {"step": ["MQL", "MQL"], "version": ["baseline", "draft"], "leads": [5, 7]}
    )

    image = charts.chart_image(
        charts.projector(charts.funnel_chart(stages)), image_format
    )

    assert image[:4] == magic


def test_chart_image_refuses_unknown_formats():
    stages = pd.DataFrame({"step": ["MQL"], "version": ["draft"], "leads": [1]})

    with pytest.raises(ValueError, match="use png or svg"):
        charts.chart_image(charts.funnel_chart(stages), "gif")
