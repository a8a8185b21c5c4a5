"""JSON as the standard has it, for every JSON answer: NaN and the infinities are no JSON
numbers (Python's `json` writes `NaN` and `Infinity`, which `JSON.parse` refuses), so they
are written `null`, like a value that is missing.

Knows nothing of pages or the API: it writes what it is given.
"""

from __future__ import annotations

import json
import math
from typing import Any


def dumps(data: Any, **options: Any) -> str:
    """`json.dumps` that never writes NaN or Infinity; `options` as `json.dumps` takes them.

    >>> dumps({"value": float("inf"), "points": [1.5, float("nan")]})
    '{"value": null, "points": [1.5, null]}'
    """
    try:
        return json.dumps(data, allow_nan=False, **options)
    except ValueError:  # rare: only then is the whole answer walked
        return json.dumps(finite(data), allow_nan=False, **options)


def finite(data: Any) -> Any:
    """`data` with every float that is not finite replaced by None (dicts, lists, tuples)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {key: finite(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [finite(value) for value in data]
    return data
