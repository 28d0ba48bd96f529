"""Where CPU inference time goes: Grappler's rewrites and per-op time, twin vs inference build.

For one preset and its keras.applications twin (default resnet50v2; resnet50 where the preset
exists), at batch 1:
1. the graph `predict_on_batch` runs, before and after TensorFlow's graph optimizer
   (Grappler): op counts, and which ops it fused into each conv (`_FusedConv2D`'s fused_ops)
   and whether oneDNN may treat the filter as a constant (`is_filter_const`);
2. TensorFlow's profiler: milliseconds per step by op type;
3. CPU time per image of each model as Keras runs it (weights in variables) and as a frozen
   graph (weights turned into constants, as TFLite and ONNX files hold them), where Grappler's
   constant folding can fold BN itself.
Findings are written down in RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2
from tensorflow.tsl.profiler.protobuf import xplane_pb2

import archspec

TWINS = {"resnet50": "ResNet50", "resnet50v2": "ResNet50V2", "mobilenetv2": "MobileNetV2"}


def run_metadata(function, images):
    """RunMetadata of the first call of a new tf.function: graphs before and after Grappler."""
    context.context().enable_run_metadata()
    try:
        function(images)
        return context.context().export_run_metadata()
    finally:
        context.context().disable_run_metadata()


def rewrites(label: str, model: keras.Model, images) -> None:
    metadata = run_metadata(tf.function(lambda x: model(x, training=False)), images)
    for graphs in metadata.function_graphs:
        before = collections.Counter(n.op for n in graphs.pre_optimization_graph.node)
        after = collections.Counter(n.op for n in graphs.post_optimization_graph.node)
        print(f"{label}: {sum(before.values())} ops before Grappler, {sum(after.values())} after")
        print(f"  before: {dict(before.most_common(12))}")
        print(f"  after:  {dict(after.most_common(12))}")
        fused = collections.Counter()
        const = collections.Counter()
        for graph in graphs.partition_graphs:
            for node in graph.node:
                if "Conv2D" in node.op:
                    ops = [s.decode() for s in node.attr["fused_ops"].list.s]
                    fused[f"{node.op}[{', '.join(ops)}]"] += 1
                    const[node.attr["is_filter_const"].b] += 1
        print(f"  convs as run (oneDNN): {dict(fused)}; is_filter_const: {dict(const)}")


def op_times(label: str, model: keras.Model, images, steps: int = 5) -> None:
    for _ in range(3):
        model.predict_on_batch(images)
    with tempfile.TemporaryDirectory() as folder:
        tf.profiler.experimental.start(folder)
        for _ in range(steps):
            model.predict_on_batch(images)
        tf.profiler.experimental.stop()
        (path,) = Path(folder).glob("plugins/profile/*/*.xplane.pb")
        space = xplane_pb2.XSpace()
        space.ParseFromString(path.read_bytes())
    milliseconds = collections.Counter()
    counts = collections.Counter()
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" in name:  # "layer/op_name:OpType" are the kernels
                    op = name.rsplit(":", 1)[1]
                    milliseconds[op] += event.duration_ps / 1e9 / steps
                    counts[op] += 1 / steps
    kernels = {op: ms for op, ms in milliseconds.items() if op not in ("Process", "Run")}
    total = sum(ms for op, ms in kernels.items() if not op.startswith(" "))
    print(f"{label}: {total:.1f} ms of kernels per step")
    for op, ms in sorted(kernels.items(), key=lambda item: -item[1])[:10]:
        if not op.startswith(" "):
            print(f"  {op:32} {ms:8.2f} ms  {100 * ms / total:5.1f}%  {counts[op]:5.0f} per step")


def frozen(model: keras.Model, images):
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec(images.shape, tf.float32))
    constant = convert_variables_to_constants_v2(concrete)
    return lambda: constant(images)


def cpu_times(runs: dict, rounds: int = 5, steps: int = 10) -> None:
    for run in runs.values():
        for _ in range(3):
            run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.process_time()
            for _ in range(steps):
                run()
            seconds[name].append((time.process_time() - start) / steps)
    for name, values in seconds.items():
        print(f"  {name:44} {1000 * statistics.median(values):7.1f} CPU ms per step")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet50v2", choices=list(TWINS))
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    twin = getattr(keras.applications, TWINS[args.model])(weights=None)
    ours = archspec.build(args.model, for_inference=True, seed=0)
    shape = (args.batch, *twin.input_shape[1:])
    images = tf.constant(np.random.default_rng(0).uniform(-1, 1, shape).astype("float32"))
    print(f"# {args.model}, batch {args.batch}, load average {os.getloadavg()[0]:.2f}")
    for label, model in (("twin", twin), ("archspec --for inference", ours)):
        rewrites(label, model, images)
    for label, model in (("twin", twin), ("archspec --for inference", ours)):
        op_times(label, model, images)
    print("CPU time (process time over threads):")
    cpu_times(
        {
            "twin, predict_on_batch": lambda: twin.predict_on_batch(images),
            "archspec --for inference, predict_on_batch": lambda: ours.predict_on_batch(images),
            "twin, frozen graph": frozen(twin, images),
            "archspec --for inference, frozen graph": frozen(ours, images),
        }
    )


if __name__ == "__main__":
    main()
