"""leadsim: agree MQL and SQL criteria, replay them on history, publish them.

The package is importable without Streamlit. See ``docs/ARCHITECTURE.md`` for
how the modules fit together.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
