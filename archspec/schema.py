"""The JSON Schema of specs, generated from the pydantic models (schemas/archspec.schema.json).

The file ships inside the package (`archspec/schemas` links to `schemas/`, and wheels copy it),
next to the presets, whose `$schema=../schemas/archspec.schema.json` line therefore resolves in
an installed package as in this repository; `archspec schema --path` prints where it is.

A spec that `extends:` another states only what it changes, so for such a file nothing is
required at any level; a stage is still complete, since lists replace wholesale. Editors get
this from an if/then/else on `extends`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archspec.spec import Spec

SCHEMA_ID = "https://archspec.dev/schemas/archspec.schema.json"
REGENERATE = "archspec schema -o schemas/archspec.schema.json"
SHIPPED_SCHEMA = Path(__file__).parent / "schemas" / "archspec.schema.json"
"""The schema file inside the installed package, for editors' settings."""


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that spec files follow."""
    full = Spec.model_json_schema(by_alias=True, mode="validation")
    definitions = full.pop("$defs")
    # Stage models are whole: a stage list replaces the base's list, item by item complete.
    whole = {name for name, d in definitions.items() if "block" in d.get("properties", {})}
    partial = {
        f"Partial{name}": _partial(definition, whole)
        for name, definition in definitions.items()
        if name not in whole
    }
    definitions.update(partial)
    definitions["Spec"] = full
    definitions["PartialSpec"] = _partial(full, whole)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "archspec spec",
        "description": full.get("description", ""),
        "if": {"required": ["extends"], "properties": {"extends": {"type": "string"}}},
        "then": {"$ref": "#/$defs/PartialSpec"},
        "else": {"$ref": "#/$defs/Spec"},
        "$defs": definitions,
    }


def _partial(node: Any, whole: set[str]) -> Any:
    """A copy of a schema node with nothing required and references to partial definitions."""
    if isinstance(node, list):
        return [_partial(item, whole) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "required":
            continue
        if key == "$ref" and isinstance(value, str):
            name = value.rsplit("/", 1)[-1]
            out[key] = value if name in whole else f"#/$defs/Partial{name}"
        else:
            out[key] = _partial(value, whole)
    return out


def schema_text() -> str:
    """The schema as the checked-in file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
