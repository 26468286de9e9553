"""Chart builders: the right data, the two version colours, the marked lines."""

from __future__ import annotations

import pandas as pd
import pytest

from leadsim import charts


def _layers(spec: dict) -> list[dict]:
    found = []
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "mark" in node:
                found.append(node)
            stack.extend(value for key, value in node.items() if key != "datasets")
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _marks(spec: dict, kind: str) -> list[dict]:
    return [layer for layer in _layers(spec) if layer["mark"]["type"] == kind]


def test_version_colours_are_the_same_everywhere():
    scale = charts.version_colour().to_dict()

    assert scale == {
        "domain": ["baseline", "draft"],
        "range": [charts.BASELINE_COLOUR, charts.DRAFT_COLOUR],
    }


def test_funnel_keeps_the_step_order_given():
    stages = pd.DataFrame(
        {
            "step": ["SQL", "SQL", "MQL", "MQL"],
            "version": ["baseline", "draft", "baseline", "draft"],
            "leads": [300, 280, 1200, 1500],
        }
    )

    spec = charts.funnel_chart(stages)

    rows = spec["datasets"]["funnel"]
    assert [(row["step"], row["order"]) for row in rows] == [
        ("SQL", 0),
        ("SQL", 0),
        ("MQL", 1),
        ("MQL", 1),
    ]
    bar = _marks(spec, "bar")[0]
    assert bar["encoding"]["y"]["sort"] == {"field": "order", "op": "min"}
    assert bar["encoding"]["color"]["scale"]["range"] == [
        charts.BASELINE_COLOUR,
        charts.DRAFT_COLOUR,
    ]
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

    spec = charts.weekly_chart(weekly, capacity=120)

    mql_panel, sql_panel = spec["hconcat"]
    assert len(_marks(mql_panel, "rule")) == 1
    assert not _marks(sql_panel, "rule")
    assert spec["datasets"]["capacity"] == [
        {"capacity": 120, "label": "SDR capacity 120/week"}
    ]
    assert spec["datasets"]["weekly"][0]["week"].startswith("2026-01-05")


def test_weekly_chart_without_capacity_has_no_line_data():
    weekly = pd.DataFrame(
        {"week": [], "stage": [], "version": [], "leads": []}, dtype=object
    )

    spec = charts.weekly_chart(weekly, capacity=None)

    assert spec["datasets"]["capacity"] == []


def test_redraws_do_not_share_data():
    stages = pd.DataFrame({"step": ["MQL"], "version": ["draft"], "leads": [1]})
    first = charts.funnel_chart(stages)

    second = charts.funnel_chart(stages.assign(leads=[2]))

    assert first["datasets"]["funnel"][0]["leads"] == 1
    assert second["datasets"]["funnel"][0]["leads"] == 2


def test_segment_chart_marks_small_samples_and_grows_with_values():
    segments = pd.DataFrame(
        {
            "value": [f"v{i // 2}" for i in range(24)],
            "version": ["baseline", "draft"] * 12,
            "rate": [0.2] * 24,
            "low": [0.1] * 24,
            "high": [0.3] * 24,
            "leads": [12] * 24,
            "small": [True, False] * 12,
        }
    )

    spec = charts.segment_chart(segments, "MQL → SQL")

    rows = spec["datasets"]["segments"]
    assert [row["reading"] for row in rows[:2]] == ["too small to read", "ok"]
    assert spec["height"] == 12 * charts.ROW_HEIGHT


def test_histogram_draws_the_threshold():
    bins = pd.DataFrame(
        {
            "start": [10, 70],
            "end": [15, 75],
            "outcome": ["no opportunity", "reached opportunity"],
            "leads": [4, 2],
        }
    )

    spec = charts.histogram_chart(bins, threshold=60)

    assert spec["datasets"]["threshold"] == [{"at": 60, "label": "MQL threshold 60"}]
    assert charts.histogram_chart(bins, None)["datasets"]["threshold"] == []


def test_sweep_marks_the_current_threshold_on_both_panels():
    sweep = pd.DataFrame(
        {
            "threshold": [0, 50, 100],
            "mqls": [900, 400, 10],
            "precision": pd.array([0.1, 0.2, None], dtype="Float64"),
            "coverage": [1.0, 0.6, 0.05],
        }
    )

    spec = charts.sweep_chart(sweep, current=50, capacity_mqls=300)

    assert spec["datasets"]["now"] == [{"at": 50, "label": "now 50"}]
    assert spec["datasets"]["capacity"] == [
        {"capacity": 300, "label": "SDR capacity over the history: 300"}
    ]
    assert spec["datasets"]["sweep"][2]["precision"] is None
    volume, quality = spec["hconcat"]
    assert len(_marks(volume, "rule")) == 2  # capacity and now
    assert len(_marks(quality, "rule")) == 1  # now


@pytest.mark.parametrize(
    ("image_format", "magic"), [("png", b"\x89PNG"), ("svg", b"<svg")]
)
def test_chart_image_renders_without_a_browser(image_format, magic):
    stages = pd.DataFrame(
        {"step": ["MQL", "MQL"], "version": ["baseline", "draft"], "leads": [5, 7]}
    )

    image = charts.chart_image(charts.funnel_chart(stages), image_format)

    assert image[:4] == magic


def test_chart_image_refuses_unknown_formats():
    stages = pd.DataFrame({"step": ["MQL"], "version": ["draft"], "leads": [1]})

    with pytest.raises(ValueError, match="use png or svg"):
        charts.chart_image(charts.funnel_chart(stages), "gif")


def test_warm_templates_builds_every_layout_once():
    charts.warm_templates(("MQL → SQL rate",))

    assert charts._funnel_template.cache_info().currsize == 1
    assert charts._sweep_template.cache_info().currsize == 1
    hits = charts._segment_template.cache_info().hits
    charts.segment_chart(
        pd.DataFrame(
            {
                "value": ["a"],
                "version": ["draft"],
                "rate": [0.5],
                "low": [0.2],
                "high": [0.8],
                "leads": [4],
                "small": [True],
            }
        ),
        "MQL → SQL rate",
    )
    assert charts._segment_template.cache_info().hits == hits + 1
