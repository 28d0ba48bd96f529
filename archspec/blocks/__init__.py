"""The block types of the spec language, one module per family; importing this registers them.

See `archspec.blocks.base` for what a block type is and how to add one.
"""

from archspec.blocks import convnext, densenet, mobile, plain, resnet, separable
from archspec.blocks.base import StageSpec, block_types, stage_model, stage_models

__all__ = [
    "StageSpec",
    "block_types",
    "convnext",
    "densenet",
    "mobile",
    "plain",
    "resnet",
    "separable",
    "stage_model",
    "stage_models",
]
