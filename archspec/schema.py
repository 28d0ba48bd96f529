"""The JSON Schema of specs, generated from the pydantic models (schemas/archspec.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from archspec.spec import Spec

SCHEMA_ID = "https://archspec.dev/schemas/archspec.schema.json"


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that spec files follow."""
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "title": "archspec spec",
    }


def schema_text() -> str:
    """The schema as the checked-in file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
