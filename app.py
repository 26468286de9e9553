"""The leadsim workshop app: the entry script only builds the navigation.

Run it with ``streamlit run app.py``. Each page lives in ``pages/`` and is
listed here with ``st.navigation``; Streamlit then ignores the ``pages/``
folder convention, so this list is the one place that decides the menu.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent


def _placeholder(title: str, issue: int):
    """A stand-in page for a page file that has not landed yet."""

    def page() -> None:
        st.title(title)
        st.info(f"This page is being built (issue {issue}).")

    page.__name__ = title.lower()
    return page


def _page(file: str, title: str, icon: str, issue: int, **options) -> st.Page:
    if (HERE / file).exists():
        return st.Page(file, title=title, icon=icon, **options)
    return st.Page(_placeholder(title, issue), title=title, icon=icon, **options)


st.set_page_config(
    page_title="leadsim workshop",
    page_icon=":material/handshake:",
    layout="wide",
)

navigation = st.navigation(
    [
        _page("pages/home.py", "Home", ":material/home:", 4, default=True),
        _page("pages/data.py", "Data", ":material/table_chart:", 6),
        _page("pages/design.py", "Design", ":material/edit_note:", 4),
        _page("pages/simulate.py", "Simulate", ":material/query_stats:", 4),
        _page("pages/publish.py", "Publish", ":material/verified:", 5),
    ]
)
navigation.run()
