"""Read a raw lead export into a frame of text cells.

A first, minimal reader: CSV (UTF-8) and Parquet. Encoding and delimiter
detection, Excel and size limits come with the data import work.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from leadsim.errors import DataError


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file with every cell as raw text.

    Empty cells are empty strings; nothing is converted to NA here, because
    what counts as missing is the dataset profile's decision.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError.single(
            "file not found; check the path", file=str(path)
        )

    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path).astype(str)
    return pd.read_csv(path, dtype=str, keep_default_na=False)
