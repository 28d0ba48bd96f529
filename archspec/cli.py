"""The `archspec` command: a thin layer over the public API.

Exit codes: 0 success; 1 an invalid spec (or a budget exceeded); 2 a usage error or a file
that cannot be read or written. No command prints a traceback for bad input.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console

from archspec.check import UnreadableError, check_file, expand_paths
from archspec.errors import SpecError
from archspec.ir import Graph
from archspec.limits import (
    DEFAULT_MAX_ACTIVATION_BYTES,
    DEFAULT_MAX_LAYERS,
    DEFAULT_MAX_PARAMS,
    Limits,
)
from archspec.loader import load
from archspec.lower import lower

EXIT_INVALID = 1
EXIT_USAGE = 2

# Piped output (CI logs, files) gets wide tables instead of rich's 80-column default.
stdout = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


def _whole_number(value: float, text: str, example: str) -> int:
    """A finite value of at least 1, as an int; a usage error otherwise."""
    if not math.isfinite(value) or value < 1:
        raise click.BadParameter(
            f"{text!r} is not a finite amount of at least 1, such as {example}"
        )
    return int(value)


def _parse_size(text: str) -> int:
    units = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    cleaned = text.strip().lower().removesuffix("ib").removesuffix("b")
    number, unit = cleaned, ""
    if cleaned and cleaned[-1] in units:
        number, unit = cleaned[:-1], cleaned[-1]
    try:
        value = float(number) * units[unit]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 512M or 4G") from None
    return _whole_number(value, text, "512M or 4G")


def _parse_count(text: str) -> int:
    try:
        value = float(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a number such as 25000000 or 2.5e7") from None
    return _whole_number(value, text, "25000000 or 2.5e7")


def limit_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--max-params, --max-activation-memory and --max-layers, passed on as `limits`."""

    @click.option(
        "--max-params",
        default=str(DEFAULT_MAX_PARAMS),
        show_default=True,
        help="Refuse specs with more parameters than this.",
    )
    @click.option(
        "--max-activation-memory",
        default=f"{DEFAULT_MAX_ACTIVATION_BYTES >> 30}G",
        show_default=True,
        help="Refuse specs whose activations for one sample (float32) exceed this.",
    )
    @click.option(
        "--max-layers",
        default=DEFAULT_MAX_LAYERS,
        show_default=True,
        type=click.IntRange(min=1),
        help="Refuse specs with more layers than this.",
    )
    @wraps(function)
    def wrapper(
        *args: Any, max_params: str, max_activation_memory: str, max_layers: int, **kwargs: Any
    ) -> Any:
        limits = Limits(_parse_count(max_params), _parse_size(max_activation_memory), max_layers)
        return function(*args, limits=limits, **kwargs)

    return wrapper


def format_option(*choices: str, help: str | None = None) -> Callable[..., Any]:
    """--format with the given choices, the first the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def output_option(help: str) -> Callable[..., Any]:
    """-o/--output FILE, written atomically."""
    return click.option(
        "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


PRECISION_OPTION = click.option(
    "--precision",
    type=click.Choice(["float32", "mixed_float16", "mixed_bfloat16"]),
    default="float32",
    show_default=True,
    help="Dtype policy of every layer; the classifier's output stays float32.",
)


FOR_OPTION = click.option(
    "--for",
    "purpose",
    type=click.Choice(["training", "inference"]),
    default="training",
    show_default=True,
    help="inference: every BN that follows a conv folded into it, dropout left out; the same "
    "outputs, computed faster.",
)


def for_purpose(graph: Graph, purpose: str) -> tuple[Graph, str]:
    """The graph itself for training; its inference graph (`archspec.inference`) otherwise.

    Also returns a line that says what the rewrite did ('' for training).
    """
    if purpose != "inference":
        return graph, ""
    from archspec.inference import plan_inference

    plan = plan_inference(graph)
    return plan.graph, plan.summary()


def fail_on_spec_error(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a SpecError into its located messages and exit 1; unreadable files exit 2."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except SpecError as exc:
            for diagnostic in exc.diagnostics:
                stderr.print(diagnostic.format(), soft_wrap=True, markup=False)
            sys.exit(EXIT_INVALID)
        except (OSError, UnreadableError) as exc:
            message = f"{exc.filename}: {exc.strerror}" if isinstance(exc, OSError) else str(exc)
            stderr.print(f"error: {message}", soft_wrap=True, markup=False)
            sys.exit(EXIT_USAGE)

    return wrapper


def check_output(output: Path | None, spec_path: str | None) -> None:
    """Before any work: refuse an output that would overwrite the input or has no folder."""
    from archspec.files import check_output_path

    if output is not None:
        check_output_path(output, [spec_path] if spec_path else [])


def emit(text: str, output: Path | None) -> None:
    """Print `text`, or write it atomically to `output` and say so on stderr."""
    from archspec.files import write_atomic

    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
        stderr.print(f"wrote {output}", soft_wrap=True)


SEED_OPTION = click.option(
    "--seed", type=int, help="Seed the initial weights: same seed, same weights."
)
WEIGHTS_OPTION = click.option(
    "--weights",
    "weights_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Load a .weights.h5 or .keras file by layer name; print what loaded and what not. "
    "With --for inference, they are loaded into the training model, then folded.",
)
WEIGHTS_STRICT_OPTION = click.option(
    "--weights-strict", is_flag=True, help="Exit 1 if any layer's weights were not loaded."
)


def build_keras_model(
    graph: Graph,
    purpose: str,
    precision: str,
    seed: int | None,
    weights_path: Path | None = None,
    weights_strict: bool = False,
) -> Any:
    """The Keras model of `graph` with `weights_path` loaded (what loaded is printed).

    For inference, the weights are loaded into the training model, then folded into the
    inference model's.
    """
    backend = import_keras_backend()
    model = backend.build_model(graph, precision=precision, seed=seed)
    if weights_path is not None:
        load_weights_into(backend, model, weights_path, strict=weights_strict)
    if purpose == "inference":
        from archspec.inference import plan_inference

        model = backend.fold_model(model, plan_inference(graph), precision=precision)
    return model


def import_keras_backend() -> Any:
    """Import the Keras backend, keeping TensorFlow's native start-up log off the terminal.

    TensorFlow writes its C++ log lines before any setting can silence them, on import and
    when it first looks for devices, so the process's stderr is pointed at /dev/null for the
    import and one tiny operation only.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        from archspec.backends import keras as backend

        backend.keras.ops.zeros((1,))  # initialises the devices while the log is muted
    except ImportError as exc:
        raise click.ClickException(
            f"building models needs Keras 3 and a backend ({exc.name} is missing): "
            "pip install 'archspec[tensorflow]'"
        ) from None
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return backend


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="archspec")
def main() -> None:
    """Validate, build, generate and cost residual CNNs described by YAML or JSON specs."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@format_option(
    "text",
    "json",
    "github",
    help="text for people, json for tools, github for workflow annotations on a PR's diff.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@limit_options
def validate(paths: tuple[str, ...], output_format: str, strict: bool, limits: Limits) -> None:
    """Check spec files, folders or globs; report every problem with file:line:col.

    Exit 0 when every file is valid, 1 when any is invalid, 2 on usage errors or unreadable
    files. Never imports TensorFlow.
    """
    from archspec import render

    try:
        reports = [check_file(path, limits) for path in expand_paths(paths)]
    except UnreadableError as exc:
        stderr.print(f"error: {exc}", soft_wrap=True, markup=False)
        sys.exit(EXIT_USAGE)
    if output_format == "json":
        click.echo(render.reports_json(reports, strict=strict))
    elif output_format == "github":
        text = render.reports_github(reports)
        if text:
            click.echo(text)
        click.echo(render.summary_line(reports, strict=strict))
    else:
        render.print_reports_text(stdout, reports, strict=strict)
    if not all(report.ok(strict=strict) for report in reports):
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("spec_path", metavar="SPEC")
@output_option("Save the model as a .keras file (written atomically).")
@PRECISION_OPTION
@SEED_OPTION
@WEIGHTS_OPTION
@WEIGHTS_STRICT_OPTION
@FOR_OPTION
@limit_options
@fail_on_spec_error
def build(
    spec_path: str,
    output: Path | None,
    precision: str,
    seed: int | None,
    weights_path: Path | None,
    weights_strict: bool,
    purpose: str,
    limits: Limits,
) -> None:
    """Compile SPEC into a Keras model and print its per-stage summary."""
    from archspec import render
    from archspec.files import write_atomic

    if output is not None and output.suffix != ".keras":
        raise click.UsageError("the output file must end in .keras")
    check_output(output, spec_path)
    if output is not None and weights_path is not None:
        check_output(output, str(weights_path))
    graph = lower(load(spec_path), limits=limits)
    shown, note = for_purpose(graph, purpose)
    stdout.print(render.summary_table(shown))
    if note:
        stdout.print(note, soft_wrap=True, style="dim")
    model = build_keras_model(graph, purpose, precision, seed, weights_path, weights_strict)
    stdout.print(
        f"Keras model '{model.name}': {len(model.layers)} layers, "
        f"{model.count_params():,} parameters",
        soft_wrap=True,
    )
    if output is not None:
        write_atomic(output, model.save)
        stdout.print(f"saved {output}", soft_wrap=True)


def load_weights_into(backend: Any, model: Any, path: Path, *, strict: bool) -> None:
    """`build --weights`: load by layer name, print the table; exit 1 if strict and not all."""
    from archspec import render
    from archspec.weights import WeightsError

    try:
        report = backend.load_weights(model, path)
    except WeightsError as exc:
        stderr.print(f"error: {exc}", soft_wrap=True, markup=False)
        sys.exit(EXIT_USAGE)
    stdout.print(render.load_report_table(report))
    if strict and not report.complete:
        left = len(report.missing) + len(report.mismatched)
        stderr.print(f"error: {left} layers were not loaded from {path}", soft_wrap=True)
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("spec_path", metavar="SPEC")
@output_option("Write the module to this .py file (atomically) instead of stdout.")
@FOR_OPTION
@limit_options
@fail_on_spec_error
def codegen(spec_path: str, output: Path | None, purpose: str, limits: Limits) -> None:
    """Write SPEC as a self-contained Keras module: block functions and build_model()."""
    from archspec.backends.python import generate

    check_output(output, spec_path)
    graph, _ = for_purpose(lower(load(spec_path), limits=limits), purpose)
    emit(generate(graph), output)


def _input_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    parts = text.lower().split("x")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 224x224 or 224") from None
    if len(sizes) == 1:
        sizes *= 2
    if len(sizes) != 2 or min(sizes) < 1 or max(sizes) > 8192:
        raise click.BadParameter("give HxW with sides from 1 to 8192, such as 224x224")
    return sizes[0], sizes[1]


INPUT_OPTION = click.option(
    "--input",
    "input_size",
    metavar="HxW",
    help="Evaluate at another input size (the spec's channels are kept).",
)


EXPORT_SUFFIXES = {"onnx": ".onnx", "tflite": ".tflite"}
"""The file name endings of the file formats; a SavedModel is a folder."""


@main.command()
@click.argument("spec_path", metavar="SPEC")
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["savedmodel", "onnx", "tflite"]),
    required=True,
    help="savedmodel: a TensorFlow SavedModel folder (TF Serving); onnx: an .onnx file "
    "(onnxruntime); tflite: a .tflite file (LiteRT, the TFLite interpreter).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The folder (savedmodel) or file to write, atomically.",
)
@SEED_OPTION
@WEIGHTS_OPTION
@WEIGHTS_STRICT_OPTION
@FOR_OPTION
@limit_options
@fail_on_spec_error
def export(
    spec_path: str,
    export_format: str,
    output: Path,
    seed: int | None,
    weights_path: Path | None,
    weights_strict: bool,
    purpose: str,
    limits: Limits,
) -> None:
    """Export SPEC's model for serving: a SavedModel folder, an ONNX or a TFLite file.

    It holds the forward pass in inference mode for any batch size, with the weights of
    --weights (or the initial ones, --seed's); `--for inference` exports the inference build,
    those weights folded in.
    """
    from archspec.files import check_folder_output, write_atomic, write_directory_atomic

    inputs = [spec_path, *([str(weights_path)] if weights_path is not None else [])]
    if export_format == "savedmodel":
        check_folder_output(output, inputs, "saved_model.pb")
    else:
        suffix = EXPORT_SUFFIXES[export_format]
        if output.suffix != suffix:
            raise click.UsageError(
                f"the output file of --format {export_format} must end in {suffix}"
            )
        for source in inputs:
            check_output(output, source)
    graph = lower(load(spec_path), limits=limits)
    model = build_keras_model(graph, purpose, "float32", seed, weights_path, weights_strict)
    from archspec.backends.keras import export_model

    def write(path: Path) -> None:
        export_model(model, path, export_format)  # type: ignore[arg-type]

    try:
        if export_format == "savedmodel":
            write_directory_atomic(output, write)
        else:
            write_atomic(output, write)
    except NotImplementedError as exc:
        raise click.UsageError(str(exc)) from None
    except ImportError as exc:
        raise click.ClickException(
            f"exporting to {export_format} needs a package that is not installed ({exc}): "
            "pip install 'archspec[export]'"
        ) from None
    stdout.print(f"exported {output} ({export_format}, for {purpose})", soft_wrap=True)


@main.command()
@click.argument("spec_path", metavar="SPEC")
@click.option(
    "--depth",
    type=click.Choice(["stage", "block", "layer"]),
    default="stage",
    show_default=True,
    help="One row per stage, per block, or per layer.",
)
@format_option("text", "json")
@INPUT_OPTION
@FOR_OPTION
@limit_options
@fail_on_spec_error
def inspect(
    spec_path: str,
    depth: str,
    output_format: str,
    input_size: str | None,
    purpose: str,
    limits: Limits,
) -> None:
    """Shapes, parameters, MACs and activation memory of SPEC, without building it."""
    import json

    from archspec import render
    from archspec.cost import graph_json

    graph = lower(load(spec_path), input_size=_input_size(input_size), limits=limits)
    graph, note = for_purpose(graph, purpose)
    if output_format == "json":
        click.echo(json.dumps(graph_json(graph), indent=2))
        return
    stdout.print(render.inspect_table(graph, depth))  # type: ignore[arg-type]
    stdout.print(render.cost_footnote(graph), soft_wrap=True, style="dim")
    if note:
        stdout.print(note, soft_wrap=True, style="dim")


@main.command()
@click.argument("before", metavar="A")
@click.argument("after", metavar="B")
@format_option(
    "text", "markdown", "json", help="markdown gives a table to paste into a pull-request comment."
)
@click.option(
    "--fail-on-increase",
    type=click.FloatRange(min=0),
    metavar="PCT",
    help="Exit 1 if B has more than PCT percent more parameters or MACs than A.",
)
@INPUT_OPTION
@limit_options
@fail_on_spec_error
def diff(
    before: str,
    after: str,
    output_format: str,
    fail_on_increase: float | None,
    input_size: str | None,
    limits: Limits,
) -> None:
    """What changed from spec A to spec B, and what it does to parameters, MACs and memory."""
    import json

    from archspec import diff as diffing
    from archspec import render

    size = _input_size(input_size)
    spec_a, spec_b = load(before), load(after)
    graph_a = lower(spec_a, input_size=size, limits=limits)
    graph_b = lower(spec_b, input_size=size, limits=limits)
    changes = diffing.spec_changes(spec_a, spec_b)
    deltas = diffing.cost_deltas(graph_a, graph_b)
    if output_format == "json":
        click.echo(json.dumps(diffing.diff_json(spec_a, spec_b, changes, deltas), indent=2))
    elif output_format == "markdown":
        click.echo(diffing.diff_markdown(spec_a, spec_b, changes, deltas), nl=False)
    else:
        stdout.print(f"[bold]{spec_a.name} -> {spec_b.name}[/]", soft_wrap=True)
        for change in changes:
            stdout.print(f"  {change.describe()}", soft_wrap=True, markup=False)
        if not changes:
            stdout.print("  no setting differs")
        stdout.print(render.diff_table("cost", deltas))
    if fail_on_increase is not None:
        grown = diffing.increase_over(deltas, fail_on_increase)
        for reason in grown:
            stderr.print(f"error: {reason}", soft_wrap=True)
        if grown:
            sys.exit(EXIT_INVALID)


@main.command()
@click.argument("spec_path", metavar="SPEC")
@format_option(
    "mermaid", "dot", help="mermaid renders in GitHub/GitLab markdown; dot renders with graphviz."
)
@output_option("Write the diagram to this file (atomically) instead of stdout.")
@FOR_OPTION
@limit_options
@fail_on_spec_error
def graph(
    spec_path: str, output_format: str, output: Path | None, purpose: str, limits: Limits
) -> None:
    """A block-level diagram of SPEC: stem, each block with its shortcut, head; shapes on edges."""
    from archspec.diagram import render_diagram

    check_output(output, spec_path)
    graph, _ = for_purpose(lower(load(spec_path), limits=limits), purpose)
    emit(render_diagram(graph, output_format), output)  # type: ignore[arg-type]


@main.command()
@click.argument("spec_path", metavar="SPEC")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--steps", type=click.IntRange(min=1), default=10, show_default=True,
              help="Timed steps per repeat.")  # fmt: skip
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True)
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True)
@PRECISION_OPTION
@click.option(
    "--jit/--no-jit",
    default=None,
    help="Force XLA compilation on or off (default: the backend's own choice).",
)
@click.option(
    "--phase",
    "phases",
    type=click.Choice(["train", "infer"]),
    multiple=True,
    help="What to time (default: both).",
)
@click.option("--distribute", is_flag=True, help="Data-parallel over every visible device.")
@FOR_OPTION
@format_option("text", "json")
@limit_options
@fail_on_spec_error
def bench(
    spec_path: str,
    batch_size: int,
    steps: int,
    warmup: int,
    repeats: int,
    precision: str,
    jit: bool | None,
    phases: tuple[str, ...],
    distribute: bool,
    purpose: str,
    output_format: str,
    limits: Limits,
) -> None:
    """Time training and inference steps of SPEC's model on synthetic data.

    The backend is Keras's (set KERAS_BACKEND=jax or torch to change it); the report says
    which backend and device ran. `--for inference` times inference steps of the inference
    build (it has no BN to train).
    """
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from archspec.bench import BenchSettings, Phase, run_benchmark

    if purpose == "inference" and "train" in phases:
        raise click.UsageError("--for inference builds a model for inference only: --phase infer")
    graph, _ = for_purpose(lower(load(spec_path), limits=limits), purpose)
    import_keras_backend()
    default: tuple[str, ...] = ("infer",) if purpose == "inference" else ("train", "infer")
    chosen = cast("tuple[Phase, ...]", phases or default)  # click checked the choices
    settings = BenchSettings(batch_size, steps, warmup, repeats, precision, jit, chosen, distribute)
    total = len(settings.phases) * (warmup + repeats * steps)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(f"benchmarking {graph.name}", total=total)
        try:
            result = run_benchmark(graph, settings, lambda n: progress.advance(task, n))
        except NotImplementedError as exc:
            raise click.UsageError(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    from rich.table import Table

    stdout.print(
        f"{result.model}: {result.params:,} parameters on {result.backend}, {result.device}, "
        f"{result.replicas} replica(s); batch {batch_size}, {precision}, "
        f"jit {'default' if jit is None else jit}",
        soft_wrap=True,
    )
    table = Table("phase", "images/s", "spread", "ms/step", box=None)
    for phase in result.phases:
        table.add_row(
            phase.phase,
            f"{phase.median:,.1f}",
            f"±{100 * phase.spread:.1f}%",
            f"{phase.milliseconds_per_step:.1f}",
        )
    stdout.print(table)


@main.command()
@output_option("Write the schema to this file (atomically) instead of stdout.")
def schema(output: Path | None) -> None:
    """Print (or write) the JSON Schema of specs, generated from the pydantic models."""
    from archspec.schema import schema_text

    check_output(output, None)
    emit(schema_text(), output)


@main.group()
def weights() -> None:
    """Weights from other libraries, for archspec's models."""


@weights.command("import")
@click.option(
    "--from",
    "source",
    type=click.Choice(["torchvision", "timm"]),
    required=True,
    help="The library whose model the state dict is from (its names and layouts).",
)
@click.argument(
    "state_path", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.argument("spec_path", metavar="SPEC")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The Keras weights to write, a .weights.h5 file (atomically).",
)
@limit_options
@fail_on_spec_error
def import_weights(
    source: str, state_path: Path, spec_path: str, output: Path, limits: Limits
) -> None:
    """Convert a PyTorch state dict (FILE) into Keras weights for SPEC's model.

    FILE is a .safetensors file (read without PyTorch) or a .pth file (where PyTorch is
    installed) of the torchvision or timm model that SPEC equals. Every tensor must find its
    layer and every layer its tensors, with the right shapes; otherwise nothing is written
    and the table says what did not fit (exit 1). Load the result with `archspec build SPEC
    --weights OUT`, also into a spec changed from SPEC.
    """
    from archspec import render
    from archspec.files import check_output_path, write_atomic
    from archspec.weights import WeightsError, convert, read_state_dict

    if not output.name.endswith(".weights.h5"):
        raise click.UsageError("the output file must end in .weights.h5")
    check_output_path(output, [spec_path, state_path])
    graph = lower(load(spec_path), limits=limits)
    # Keras first: importing PyTorch's CUDA build before TensorFlow can crash the process.
    backend = import_keras_backend()
    try:
        state = read_state_dict(state_path)
    except WeightsError as exc:
        stderr.print(f"error: {exc}", soft_wrap=True, markup=False)
        sys.exit(EXIT_USAGE)
    try:
        conversion = convert(graph, cast(Any, source), state)
    except WeightsError as exc:
        stderr.print(f"error: {exc}", soft_wrap=True, markup=False)
        sys.exit(EXIT_INVALID)
    stdout.print(render.conversion_table(conversion, source))
    if not conversion.complete:
        stderr.print(
            f"error: {state_path} does not fit {graph.name}; nothing was written", soft_wrap=True
        )
        sys.exit(EXIT_INVALID)
    model = backend.build_model(graph)
    backend.assign_weights(model, conversion.weights)
    write_atomic(output, model.save_weights)
    stdout.print(f"wrote {output}", soft_wrap=True)


@main.command()
def presets() -> None:
    """List the built-in presets that `extends:` and every command accept by name."""
    from rich.table import Table

    from archspec.loader import preset_names

    table = Table("preset", "input", "layers", "params", "GMACs", "what it is", box=None)
    for name in preset_names():
        spec = load(name)
        graph = lower(spec)
        summary = spec.description.split(":")[0].split(". ")[0].rstrip(".")
        shape = "x".join(map(str, spec.input.shape))
        table.add_row(
            name, shape, str(len(graph)), f"{graph.params:,}", f"{graph.macs / 1e9:.2f}", summary
        )
    stdout.print(table)


if __name__ == "__main__":
    main()
