"""The leadsim workshop app: the entry script only builds the navigation.

Run it with ``streamlit run app.py``. The pages live in ``pages/`` and are
listed once, in ``pages.common.navigation_pages``; with ``st.navigation``
Streamlit ignores the ``pages/`` folder convention.
"""

from __future__ import annotations

import streamlit as st

from pages.common import ENTRY_KEY, navigation_pages

st.set_page_config(
    page_title="leadsim workshop",
    page_icon=":material/handshake:",
    layout="wide",
)

# Pages check this marker: without it they were served by the pages/ folder
# convention instead of this navigation (see pages/common.ensure_entry).
st.session_state[ENTRY_KEY] = True

st.navigation(navigation_pages()).run()
