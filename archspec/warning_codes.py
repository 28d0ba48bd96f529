"""Every warning archspec gives, by its stable code: the one list that all others come from.

A warning flags a legal but suspicious choice. Its code is what a team writes to silence it:
`--ignore CODE` on the command line, `warnings: {ignore: [CODE]}` in a spec. The spec
language's list of codes, the command line's check of `--ignore`, the JSON Schema and the
README's table of warnings are all derived from `WARNING_CODES`; a warning reported with a
code missing here is a bug (`GraphBuilder.report` refuses it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

WarningCode = Literal[
    "uneven-stride", "redundant-norm", "unused", "single-class-softmax", "channels-first"
]
"""The codes, as the spec language's `warnings.ignore` accepts them."""


@dataclass(frozen=True, slots=True)
class WarningKind:
    """One kind of warning: its code and what it flags, in the README's words."""

    code: WarningCode
    flags: str


WARNING_CODES: dict[str, WarningKind] = {
    kind.code: kind
    for kind in (
        WarningKind(
            "uneven-stride",
            "a stride that does not divide the size it is applied to, so a row or column "
            "of pixels is padded or dropped",
        ),
        WarningKind(
            "redundant-norm",
            "`stem.norm: true` before a pre-activation block, which starts with BN -> ReLU again",
        ),
        WarningKind("unused", "a setting that has no effect in this spec"),
        WarningKind("single-class-softmax", "a softmax over one class, which always outputs 1"),
        WarningKind(
            "channels-first",
            "an `input.shape` written channels first (`[3, 224, 224]`), as PyTorch writes "
            "it; archspec reads `[height, width, channels]`",
        ),
    )
}
"""Code -> kind, in the order the README lists them."""

if set(WARNING_CODES) != set(get_args(WarningCode)):  # pragma: no cover - caught on import
    raise RuntimeError("WarningCode and WARNING_CODES must list the same codes")
