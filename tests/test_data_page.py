"""The Data page (Streamlit AppTest): pick, review, check and use a dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@pytest.fixture
def uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "uploads"
    monkeypatch.setenv("LEADSIM_UPLOAD_DIR", str(folder))
    return folder


def open_page() -> AppTest:
    page = AppTest.from_file(APP, default_timeout=120)
    page.switch_page("pages/data.py").run()
    return page


def pick_path(page: AppTest, path: Path) -> AppTest:
    page.selectbox[0].select("Another path…").run()
    page.text_input[0].input(str(path)).run()
    return page


def test_the_sample_is_read_and_reviewed(uploads: Path, criteria_root: Path) -> None:
    page = open_page()

    assert not page.exception
    metrics = {metric.label: metric.value for metric in page.metric}
    assert metrics["Leads"] == "20,000"
    text = " ".join(block.value for block in page.markdown)
    assert "The profile below starts from the saved profile" in text
    assert "sample_leads/profile.yaml" in text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"id,name\n", "header row but no leads", id="header-only"),
        pytest.param(b"id,name\n1,a\n2\n", "row 3 has 1 fields", id="ragged"),
        pytest.param(b"id,id\n1,2\n", "appears twice", id="duplicate-header"),
        pytest.param(b"\x00\x01\x02" * 100, "binary", id="binary"),
    ],
)
def test_bad_files_show_an_inline_error(
    tmp_path: Path, uploads: Path, criteria_root: Path, content: bytes, expected: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)

    page = pick_path(open_page(), bad)

    assert not page.exception
    assert any(expected in error.value for error in page.error)


def test_a_profile_naming_missing_columns_is_an_inline_error(
    tmp_path: Path, uploads: Path, criteria_root: Path
) -> None:
    data = tmp_path / "leads.csv"
    data.write_text("lead_id,industry\n1,retail\n2,it\n")
    (tmp_path / "leads.profile.yaml").write_text(
        "kind: lead-dataset\nid_column: lead_id\nsegments: [territory]\n"
    )

    page = pick_path(open_page(), data)

    assert not page.exception
    assert any("'territory' is not a column" in error.value for error in page.error)


def test_saving_a_profile_makes_the_dataset_current(
    tmp_path: Path, uploads: Path, criteria_root: Path
) -> None:
    data = tmp_path / "export.csv"
    data.write_text(
        "Record ID,Create Date,Industry,Converted\n"
        "1,2026-01-02,Retail,1\n2,2026-01-03,Select,0\n3,2026-01-09,retail,0\n"
    )
    page = pick_path(open_page(), data)

    save = next(b for b in page.button if b.label == "Save and use this dataset")
    save.click().run()

    saved = uploads / "export.profile.yaml"
    assert not page.exception
    assert saved.is_file()
    assert "Create Date: created_at" in saved.read_text()
    assert page.session_state["leadsim_data_path"] == str(data)
    assert any("The other pages now use these 3 leads" in s.value for s in page.success)


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED / "x-education-leads.csv").is_file(), reason="no data")
def test_the_x_education_export_with_its_example_profile(
    uploads: Path, criteria_root: Path
) -> None:
    page = open_page()
    page.selectbox[0].select("shared data: x-education-leads.csv").run()
    page.selectbox[1].select("examples: x-education/profile.yaml").run()
    next(b for b in page.button if b.label == "Load").click().run()

    assert not page.exception
    warnings = " ".join(warning.value for warning in page.warning)
    assert "tags all but decides the opportunity outcome" in warnings
    assert "lead_quality all but decides the opportunity outcome" in warnings
