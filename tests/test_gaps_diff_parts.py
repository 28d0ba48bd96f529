"""`cost_deltas`, where the mutation campaign found it unchecked (TESTING.md).

The diff's table matches parts by name and shows them in network order: the stem, the stages
by number, the head, the total. The golden diffs only add a fifth stage to a network with a
stem; these pin the order when one network has no stem (VGG) and when the stage counts differ
so much that a name's text order ('stage10' before 'stage2') is not its number's.
"""

from __future__ import annotations

import pytest

import archspec
from archspec.diff import cost_deltas


def network(stages: int, *, stem: bool) -> archspec.Graph:
    """A small network of `stages` one-block stages, with or without a stem."""
    spec = archspec.Spec.model_validate(
        {
            "name": f"parts{stages}",
            "input": {"shape": [16, 16, 3]},
            "stem": {"filters": 4} if stem else None,
            "stages": [{"block": "basic", "filters": 4, "stride": 1, "depth": 1}] * stages,
            "head": {"classes": 3},
        }
    )
    return archspec.lower(spec)


ORDER = ["stem", *(f"stage{i}" for i in range(1, 13)), "head", "total"]


@pytest.mark.parametrize("stemless_first", [True, False])
def test_parts_are_in_network_order_whichever_network_has_them(stemless_first):
    small, large = network(2, stem=False), network(12, stem=True)
    a, b = (small, large) if stemless_first else (large, small)
    deltas = cost_deltas(a, b)
    assert [d.part for d in deltas] == ORDER
    stem = deltas[0]
    assert (stem.before is None) is stemless_first
    assert (stem.after is None) is not stemless_first
    # Stages only one network has count in full on their side.
    stage12 = deltas[12]
    assert stage12.delta("params") == (1 if stemless_first else -1) * (
        (stage12.after or stage12.before).params
    )
