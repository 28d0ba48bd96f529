"""The `archspec` command: a thin layer over the public API.

Exit codes: 0 success; 1 an invalid spec (or a budget exceeded); 2 a usage error, or a file
that cannot be read or written (standard output included). No command prints a traceback for
bad input. Every option is checked when it is parsed, before any work; outputs are checked
against the command's inputs once the spec is read, before it is lowered or built.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
from click.core import ParameterSource

from archspec.errors import Diagnostic, SpecError, UnreadableError, printable
from archspec.files import OutputError
from archspec.ir import Graph
from archspec.limits import (
    DEFAULT_MAX_ACTIVATION_BYTES,
    DEFAULT_MAX_LAYERS,
    DEFAULT_MAX_PARAMS,
    Limits,
)
from archspec.loader import (
    PRESETS_DIR,
    load,
    override_path,
    read_resolved,
    spec_file,
    validate_document,
)
from archspec.lower import analyze, lower
from archspec.spec import Spec

if TYPE_CHECKING:
    from rich.console import Console

EXIT_INVALID = 1
EXIT_USAGE = 2


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream) and stream.isatty()
    except (ValueError, OSError):  # a closed stream
        return False


class LazyConsole:
    """A rich console for standard output or standard error, made when it first prints.

    Importing rich takes about a fifth of `archspec validate`'s start-up, and commands that
    print JSON or GitHub annotations never need it.
    """

    def __init__(self, *, stderr: bool) -> None:
        self.stderr = stderr

    @cached_property
    def console(self) -> Console:
        """The console: `_width`'s width, no highlighting or emoji codes in spec text."""
        from rich.console import Console

        class _Console(Console):
            def on_broken_pipe(self) -> None:
                # Raise the error again (exit 2 in `Group.invoke`) instead of rich's exit 1.
                raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

        stream = sys.stderr if self.stderr else sys.stdout
        return _Console(stderr=self.stderr, highlight=False, emoji=False, width=_width(stream))

    @property
    def width(self) -> int:
        """The console's width in columns."""
        return self.console.width

    @width.setter
    def width(self, columns: int) -> None:
        self.console.width = columns

    def print(self, *objects: Any, **options: Any) -> None:
        """`rich.console.Console.print` on this console."""
        self.console.print(*objects, **options)


UNBOUNDED = 10_000
"""Piped output's width when COLUMNS does not say: tables as wide as their contents."""


def _width(stream: Any) -> int | None:
    """A terminal's own width; else COLUMNS when it is set; else no bound (CI logs, files).

    Tables fit the width they get (`render.Fitted`), so a narrow terminal gets narrower
    layouts, never cut names or numbers.
    """
    if _is_terminal(stream):
        return None
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and 0 < int(columns) <= UNBOUNDED else UNBOUNDED


stdout = LazyConsole(stderr=False)
stderr = LazyConsole(stderr=True)


# --- option types: every value is checked when it is parsed ----------------------------------

_NUMBER = r"(?P<number>\d{1,3}(?:,\d{3})+|\d+(?:_\d+)*(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+)"
_COUNT_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_BYTE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


class Amount(click.ParamType):
    """A whole amount, with an optional suffix: a count or a size in bytes.

    For counts, k, M, G, T are powers of 1000; for sizes, K, M, G, T are powers of 1024,
    optionally followed by B or iB. Numbers may be written 25000000, 25_000_000, 25,000,000
    or 2.5e7.
    """

    def __init__(self, *, byte_size: bool = False, minimum: int = 1) -> None:
        self.byte_size = byte_size
        self.minimum = minimum
        self.name = "size" if byte_size else "count"
        units = "(?:i?b)?" if byte_size else ""
        self.pattern = re.compile(rf"\s*{_NUMBER}\s*(?P<unit>[kmgt]?){units}\s*", re.IGNORECASE)

    def example(self) -> str:
        """Values this option takes, for messages."""
        return "512M, 4G or 4GiB" if self.byte_size else "25000000, 25_000_000, 2.5e7 or 25M"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """The amount as an int; a usage error that names the option otherwise."""
        if isinstance(value, int):
            return value
        match = self.pattern.fullmatch(str(value))
        if not match or (not self.byte_size and str(value).strip().lower().endswith("b")):
            self.fail(f"{value!r} is not an amount such as {self.example()}", param, ctx)
        units = _BYTE_UNITS if self.byte_size else _COUNT_UNITS
        amount = (
            float(match["number"].replace(",", "").replace("_", "")) * units[match["unit"].lower()]
        )
        if not math.isfinite(amount) or amount != int(amount):
            self.fail(f"{value!r} is not a whole amount, such as {self.example()}", param, ctx)
        if amount < self.minimum:
            self.fail(f"{value!r} is less than {self.minimum}", param, ctx)
        return int(amount)


def _shown_count(count: int) -> str:
    """25000000 -> '25M': a default as people write it."""
    for suffix, unit in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if count >= unit and count % unit == 0:
            return f"{count // unit}{suffix}"
    return str(count)


COUNT_HELP = "A count: 25000000, 25_000_000, 2.5e7, or with k, M, G (thousands, millions...)."
SIZE_HELP = "A size in bytes: 512M, 4G, 4GiB (K, M, G, T are powers of 1024)."


class InputSize(click.ParamType):
    """`HxW`, or `N` for a square N x N input."""

    name = "HxW"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, int]:
        """(height, width); a usage error that names the option otherwise."""
        if isinstance(value, tuple):
            return value
        match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", str(value))
        if not match:
            self.fail(
                f"{value!r} is not HxW (such as 224x224) or N (N x N); the channels are the spec's",
                param,
                ctx,
            )
        height, width = int(match[1]), int(match[2] or match[1])
        if not (1 <= height <= 8192 and 1 <= width <= 8192):
            self.fail(f"{value!r}: each side must be from 1 to 8192", param, ctx)
        return height, width


class Percent(click.ParamType):
    """A finite percentage of at least 0."""

    name = "PCT"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The percentage; a usage error that names the option otherwise."""
        try:
            number = float(str(value).strip().removesuffix("%"))
        except ValueError:
            self.fail(f"{value!r} is not a number such as 10 or 2.5", param, ctx)
        if not math.isfinite(number) or number < 0:
            self.fail(f"{value!r} is not a finite percentage of at least 0", param, ctx)
        return number


class OutputPath(click.ParamType):
    """A file to write; an empty value is an error, not the current folder."""

    name = "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        """The path; an empty value is a usage error that names the option."""
        if isinstance(value, Path):
            return value
        if not str(value).strip():
            self.fail("the output path is empty", param, ctx)
        return Path(value)


def limit_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """--max-params, --max-activation-memory and --max-layers, passed on as `limits`."""

    @click.option(
        "--max-params",
        type=Amount(),
        default=_shown_count(DEFAULT_MAX_PARAMS),
        show_default=True,
        help=f"Refuse specs with more parameters than this. {COUNT_HELP}",
    )
    @click.option(
        "--max-activation-memory",
        type=Amount(byte_size=True),
        default=f"{DEFAULT_MAX_ACTIVATION_BYTES >> 30}G",
        show_default=True,
        help=f"Refuse specs whose activations for one sample (float32) exceed this. {SIZE_HELP}",
    )
    @click.option(
        "--max-layers",
        type=Amount(),
        default=DEFAULT_MAX_LAYERS,
        show_default=True,
        help=f"Refuse specs with more layers than this. {COUNT_HELP}",
    )
    @wraps(function)
    def wrapper(
        *args: Any, max_params: int, max_activation_memory: int, max_layers: int, **kwargs: Any
    ) -> Any:
        limits = Limits(max_params, max_activation_memory, max_layers)
        return function(*args, limits=limits, **kwargs)

    return wrapper


ROOT_OPTION = click.option(
    "--root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The folder that specs and the files they extend must lie under (presets excepted). "
    "Default: each spec's own folder.",
)


class Assignment(click.ParamType):
    """`KEY=VALUE`: a spec value set by key, the value in YAML syntax."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """An `Override` located at this option; a usage error that names the option otherwise."""
        from archspec.io import parse_document
        from archspec.loader import Override, override_path

        if not isinstance(value, str):
            return value
        key, equals, text = value.partition("=")
        label = f"--set {value}"
        if not equals or not key.strip():
            self.fail(f"{value!r} is not KEY=VALUE, such as head.classes=10", param, ctx)
        if override_path(key.strip()) is None:
            self.fail(
                f"{key!r} is not a key: write keys separated by dots, list positions in "
                "brackets (stages[1].depth)",
                param,
                ctx,
            )
        try:
            data = parse_document(text, label).data
        except SpecError as exc:
            problem = exc.diagnostics[0]
            what = "the value is not YAML: " if problem.code == "syntax" else ""
            self.fail(f"{value!r}: {what}{problem.message}", param, ctx)
        return Override(key.strip(), data, printable(label))


class WarningCodeType(click.ParamType):
    """The code of a warning (`archspec.warning_codes`); a misspelt one gets the nearest."""

    name = "CODE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """The code; a usage error with the nearest code and the list otherwise."""
        import difflib

        from archspec.warning_codes import WARNING_CODES

        if value in WARNING_CODES:
            return str(value)
        close = difflib.get_close_matches(str(value)[:64], list(WARNING_CODES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self.fail(
            f"{value!r} is no warning's code{hint} (codes: {', '.join(WARNING_CODES)})",
            param,
            ctx,
        )


@dataclass(frozen=True)
class SpecReading:
    """How a command reads specs: --root, --set, --ignore and --strict."""

    root: Path | None = None
    overrides: tuple[Any, ...] = ()
    ignore: tuple[str, ...] = ()
    strict: bool = False

    def spec(self, argument: str) -> tuple[Spec, tuple[Path, ...]]:
        """The validated spec an argument names, and the real paths of every file read."""
        from archspec.loader import apply_overrides

        document = read_resolved(spec_file(argument), root=self.root)
        return validate_document(apply_overrides(document, self.overrides)), document.files

    def lower(self, spec: Spec, limits: Limits, input_size: tuple[int, int] | None = None) -> Graph:
        """The spec's graph; its warnings printed on stderr, as `lowered` prints them."""
        ((_, graph),) = self.lowered([spec], limits, input_size)
        return graph

    def lowered(
        self,
        arguments: Sequence[str | Spec],
        limits: Limits,
        input_size: tuple[int, int] | None = None,
    ) -> list[tuple[Spec, Graph]]:
        """Each spec (or the spec an argument names) with its graph.

        Every error and warning of every one of them is printed on stderr, in order: a spec
        that cannot be read or is invalid does not hide the problems of the others. Exit 2
        when one cannot be read, 1 when one has errors or, with --strict, warnings: before
        any work.
        """
        diagnostics: list[Diagnostic] = []
        unreadable = False
        found: list[tuple[Spec, Graph]] = []
        for argument in arguments:
            try:
                spec = argument if isinstance(argument, Spec) else self.spec(argument)[0]
            except SpecError as exc:
                diagnostics += exc.diagnostics
                unreadable = unreadable or isinstance(exc, UnreadableError)
                continue
            analysis = analyze(spec, input_size=input_size, limits=limits, ignore=self.ignore)
            diagnostics += analysis.diagnostics
            if analysis.graph is not None:
                found.append((spec, analysis.graph))
        print_diagnostics(diagnostics)
        if unreadable:
            sys.exit(EXIT_USAGE)
        if any(d.severity == "error" for d in diagnostics):
            sys.exit(EXIT_INVALID)
        warnings = sum(d.severity == "warning" for d in diagnostics)
        if self.strict and warnings:
            error(f"{_plural(warnings, 'warning')}, and --strict makes warnings errors")
            sys.exit(EXIT_INVALID)
        return found


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


STRICT_HELP = "Treat warnings as errors: exit 1 before any work."


def spec_options(
    *, strict: bool = True, strict_help: str = STRICT_HELP
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--root, --set, --ignore (and --strict), passed on as `reading`, a `SpecReading`."""
    from archspec.warning_codes import WARNING_CODES

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @ROOT_OPTION
        @click.option(
            "--set",
            "overrides",
            type=Assignment(),
            multiple=True,
            help="Set a spec value, in YAML syntax, without editing the file (repeatable): "
            "--set head.classes=10 --set input.shape=[128,128,3] --set stages[1].depth=4.",
        )
        @click.option(
            "--ignore",
            type=WarningCodeType(),
            multiple=True,
            help=f"Do not report warnings of this code (repeatable): {', '.join(WARNING_CODES)}.",
        )
        @wraps(function)
        def wrapper(
            *args: Any,
            root: Path | None,
            overrides: tuple[Any, ...],
            ignore: tuple[str, ...],
            strict: bool = False,
            **kwargs: Any,
        ) -> Any:
            reading = SpecReading(root, overrides, ignore, strict)
            return function(*args, reading=reading, **kwargs)

        if strict:
            return click.option("--strict", is_flag=True, help=strict_help)(wrapper)
        return wrapper

    return decorate


def format_option(*choices: str, help: str) -> Callable[..., Any]:
    """--format with the given choices, the first the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help=help,
    )


def format_of_output(output_format: str, output: Path | None, suffixes: dict[str, str]) -> str:
    """--format as given, or, where it was left out, the format `-o FILE`'s suffix names."""
    context = click.get_current_context()
    if output is None or context.get_parameter_source("output_format") != ParameterSource.DEFAULT:
        return output_format
    return suffixes.get(output.suffix.lower(), output_format)


def output_option(help: str) -> Callable[..., Any]:
    """-o/--output FILE, written atomically."""
    return click.option("-o", "--output", type=OutputPath(), help=help)


PRECISION_OPTION = click.option(
    "--precision",
    type=click.Choice(["float32", "mixed_float16", "mixed_bfloat16"]),
    default="float32",
    show_default=True,
    help="Dtype policy of every layer; the classifier's output stays float32.",
)
INPUT_OPTION = click.option(
    "--input",
    "input_size",
    type=InputSize(),
    metavar="HxW",
    help="Evaluate at another input size: HxW, or N for N x N (the spec's channels are kept).",
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
SEED_OPTION = click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    help="Seed the initial weights (0 to 2**32-1): same seed, same weights.",
)


class WeightsPath(click.Path):
    """An existing `.weights.h5` or `.keras` file, checked before any work."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The path; a usage error naming the option for anything but Keras weights."""
        from archspec.weights import KERAS_WEIGHTS_SUFFIXES

        path = super().convert(value, param, ctx)
        if not Path(str(path)).name.endswith(KERAS_WEIGHTS_SUFFIXES):
            self.fail(f"{str(value)!r} is not a .weights.h5 or .keras file", param, ctx)
        return path


WEIGHTS_OPTION = click.option(
    "--weights",
    "weights_path",
    type=WeightsPath(),
    help="Load a .weights.h5 or .keras file by layer name; print what loaded and what not. "
    "With --for inference, they are loaded into the training model, then folded.",
)
WEIGHTS_STRICT_OPTION = click.option(
    "--weights-strict", is_flag=True, help="Exit 1 if any layer's weights were not loaded."
)


def check_weights_options(weights_path: Path | None, weights_strict: bool) -> None:
    """Before any work: --weights-strict means nothing without --weights."""
    if weights_strict and weights_path is None:
        raise click.BadParameter(
            "it checks what --weights loads; give --weights FILE too",
            param_hint="'--weights-strict'",
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


# --- errors: one place turns them into messages and exit codes -------------------------------


class _ClosedStream:
    """Stands in for a standard output that was closed before archspec started."""

    def write(self, text: str) -> int:
        raise OSError(9, "Bad file descriptor (it was closed)")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class Command(click.Command):
    """A command whose one-line summary in `archspec --help` is never cut."""

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first paragraph of the help text, whole; the help listing wraps it."""
        return (self.short_help or (self.help or "").split("\n\n")[0]).replace("\n", " ").strip()


class Group(click.Group):
    """Runs a command and turns whatever goes wrong into a message and an exit code."""

    command_class = Command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; print errors plainly; exit 1 for invalid specs, 2 for I/O."""
        if sys.stdout is None:
            sys.stdout = _ClosedStream()
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
            return result
        except UnreadableError as exc:
            print_diagnostics(exc.diagnostics)
            sys.exit(EXIT_USAGE)
        except SpecError as exc:
            print_diagnostics(exc.diagnostics)
            sys.exit(EXIT_INVALID)
        except OutputError as exc:
            error(f"{exc.path}: {exc.reason}")
            sys.exit(EXIT_USAGE)
        except OSError as exc:
            if exc.filename is not None:
                error(f"{exc.filename}: {exc.strerror or exc}")
            else:  # reading and writing files name their path; this is standard output
                _silence_stdout()
                error(f"standard output: {exc.strerror or exc}")
            sys.exit(EXIT_USAGE)


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - lives until the process ends


def color() -> bool | None:
    """Whether click's styles are printed: never with NO_COLOR, always with FORCE_COLOR.

    Otherwise click decides: styles on a terminal only (rich reads these variables the same way).
    """
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return None


def error(message: str) -> None:
    """`error: message` on stderr, whatever the message holds."""
    with contextlib.suppress(OSError):  # stderr gone too: the exit code still says it
        click.echo(f"error: {printable(message)}", err=True)


def print_paragraph(text: str, *, indent: str = "", style: str | None = None) -> None:
    """Text wrapped between words to stdout's width: no number split, no trailing spaces.

    The first line is indented by `indent`, the lines it wraps onto by two spaces more.
    """
    import textwrap

    lines = textwrap.wrap(
        text,
        stdout.width,
        initial_indent=indent,
        subsequent_indent=indent + "  " if indent else "",
        break_long_words=False,
        break_on_hyphens=False,
    )
    for line in lines:
        stdout.print(line, soft_wrap=True, markup=False, style=style)


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    """Diagnostics as validate prints them (`file:line:col: warning: ...`), on stderr."""
    for diagnostic in diagnostics:
        click.echo(diagnostic.format(), err=True)


def checked_output(output: Path | None, inputs: Sequence[Path] = ()) -> Path | None:
    """Before any work: the path to write, refused if it is an input, special or read-only."""
    from archspec.files import check_output_path

    if output is None:
        return None
    return check_output_path(output, inputs, protected=[PRESETS_DIR])


def emit(text: str, output: Path | None, shown: Path | None = None) -> None:
    """Print `text`, or write it atomically to `output` and say so on stderr."""
    from archspec.files import write_atomic

    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
        click.echo(f"wrote {printable(str(shown or output))}", err=True)


class MissingBackend(click.ClickException):
    """Keras or its backend is not installed: not an invalid spec, so exit 2."""

    exit_code = EXIT_USAGE


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
        raise MissingBackend(
            f"building models needs Keras 3 and a backend ({exc.name} is missing): "
            "pip install 'archspec[tensorflow]'"
        ) from None
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return backend


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


# --- commands ---------------------------------------------------------------------------------


@click.group(
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="archspec")
def main() -> None:
    """Validate, build, generate and cost CNNs described by YAML or JSON specs.

    SPEC is a spec file or a preset name (`archspec presets` lists them). A bare preset name
    always means the preset; write ./NAME for a file or folder of that name.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True)
@format_option(
    "text",
    "json",
    "github",
    help="text for people, json for tools, github for workflow annotations on a PR's diff.",
)
@click.option(
    "--exclude",
    metavar="GLOB",
    multiple=True,
    help="Skip files and folders matching GLOB in folders and globs searched (repeatable); "
    "a GLOB matches a path relative to the folder searched, or any one name in it.",
)
@spec_options(strict_help="Treat warnings as errors: a file with a warning is invalid (exit 1).")
@limit_options
def validate(
    paths: tuple[str, ...],
    output_format: str,
    exclude: tuple[str, ...],
    reading: SpecReading,
    limits: Limits,
) -> None:
    """Check spec files, folders, globs or presets; report every problem with file:line:col.

    A folder is searched for .yaml, .yml and .json files that are specs: files that name
    archspec's $schema, or whose top-level keys are spec keys. Hidden files and folders are
    skipped. Exit 0 when every file is valid, 1 when any is invalid, 2 when a path cannot be
    read or names no spec (or on usage errors). Never imports TensorFlow.
    """
    from archspec import report
    from archspec.check import check_file, select_files, without_repeats

    root, strict = reading.root, reading.strict
    selection = select_files(paths, exclude=exclude, root=root)
    reports = without_repeats(
        [
            item
            if not isinstance(item, Path)
            else check_file(
                item, limits, root=root, overrides=reading.overrides, ignore=reading.ignore
            )
            for item in selection.items
        ]
    )
    skipped = len(selection.skipped)
    if output_format == "json":
        click.echo(report.reports_json(reports, strict=strict, skipped=selection.skipped))
    elif output_format == "github":
        text = report.reports_github(reports, strict=strict)
        if text:
            click.echo(text)
        click.echo(report.summary_line(reports, strict=strict, skipped=skipped))
    else:
        text = report.reports_text(reports, strict=strict, skipped=skipped)
        click.echo(text, color=color())
    sys.stdout.flush()
    if not all(report.readable for report in reports):
        sys.exit(EXIT_USAGE)
    if not all(report.ok(strict=strict) for report in reports):
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("spec_path", metavar="SPEC")
@output_option(
    "Save the model to this .keras file (written atomically). Without it, nothing is saved."
)
@PRECISION_OPTION
@SEED_OPTION
@WEIGHTS_OPTION
@WEIGHTS_STRICT_OPTION
@FOR_OPTION
@spec_options()
@limit_options
def build(
    spec_path: str,
    output: Path | None,
    precision: str,
    seed: int | None,
    weights_path: Path | None,
    weights_strict: bool,
    purpose: str,
    reading: SpecReading,
    limits: Limits,
) -> None:
    """Compile SPEC into a Keras model and print its per-stage summary."""
    from archspec import render
    from archspec.files import write_atomic

    if output is not None and output.suffix != ".keras":
        raise click.BadParameter("the output file must end in .keras", param_hint="'-o'")
    check_weights_options(weights_path, weights_strict)
    spec, inputs = reading.spec(spec_path)
    weights = (weights_path.resolve(),) if weights_path is not None else ()
    target = checked_output(output, (*inputs, *weights))
    graph = reading.lower(spec, limits)
    shown, note = for_purpose(graph, purpose)
    stdout.print(render.summary_table(shown))
    if note:
        print_paragraph(note, style="dim")
    model = build_keras_model(graph, purpose, precision, seed, weights_path, weights_strict)
    print_paragraph(
        f"Keras model '{model.name}': {len(model.layers)} layers, "
        f"{model.count_params():,} parameters"
    )
    if target is None:
        stdout.print("not saved (give -o FILE.keras to save it)", soft_wrap=True)
    else:
        write_atomic(target, model.save)
        stdout.print(f"saved {printable(str(output))}", soft_wrap=True, markup=False)


def load_weights_into(backend: Any, model: Any, path: Path, *, strict: bool) -> None:
    """`build --weights`: load by layer name, print the table; exit 1 if strict and not all."""
    from archspec import render
    from archspec.weights import WeightsError

    try:
        report = backend.load_weights(model, path)
    except WeightsError as exc:
        error(str(exc))
        sys.exit(EXIT_USAGE)
    stdout.print(render.load_report_table(report))
    if strict and not report.complete:
        left = len(report.missing) + len(report.mismatched)
        error(f"{left} layers were not loaded from {path}")
        sys.exit(EXIT_INVALID)


@main.command()
@click.argument("spec_path", metavar="SPEC")
@output_option("Write the module to this .py file (atomically) instead of stdout.")
@FOR_OPTION
@spec_options()
@limit_options
def codegen(
    spec_path: str, output: Path | None, purpose: str, reading: SpecReading, limits: Limits
) -> None:
    """Write SPEC as a self-contained Keras module: block functions and build_model()."""
    from archspec.backends.python import generate

    spec, inputs = reading.spec(spec_path)
    target = checked_output(output, inputs)
    graph, _ = for_purpose(reading.lower(spec, limits), purpose)
    emit(generate(graph), target, output)


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
    type=OutputPath(),
    required=True,
    help="The folder (savedmodel) or file to write, atomically.",
)
@SEED_OPTION
@WEIGHTS_OPTION
@WEIGHTS_STRICT_OPTION
@FOR_OPTION
@spec_options()
@limit_options
def export(
    spec_path: str,
    export_format: str,
    output: Path,
    seed: int | None,
    weights_path: Path | None,
    weights_strict: bool,
    purpose: str,
    reading: SpecReading,
    limits: Limits,
) -> None:
    """Export SPEC's model for serving: a SavedModel folder, an ONNX or a TFLite file.

    It holds the forward pass in inference mode for any batch size, with the weights of
    --weights (or the initial ones, --seed's); `--for inference` exports the inference build,
    those weights folded in.
    """
    from archspec.files import check_folder_output, write_atomic, write_directory_atomic

    suffix = EXPORT_SUFFIXES.get(export_format)
    if suffix is not None and output.suffix != suffix:
        raise click.BadParameter(
            f"the output file of --format {export_format} must end in {suffix}",
            param_hint="'-o'",
        )
    check_weights_options(weights_path, weights_strict)
    spec, inputs = reading.spec(spec_path)
    weights = (weights_path.resolve(),) if weights_path is not None else ()
    if suffix is None:
        target = check_folder_output(
            output, (*inputs, *weights), "saved_model.pb", protected=[PRESETS_DIR]
        )
    else:
        target = cast(Path, checked_output(output, (*inputs, *weights)))
    graph = reading.lower(spec, limits)
    model = build_keras_model(graph, purpose, "float32", seed, weights_path, weights_strict)
    from archspec.backends.keras import export_model

    def write(path: Path) -> None:
        export_model(model, path, export_format)  # type: ignore[arg-type]

    try:
        if suffix is None:
            write_directory_atomic(target, write)
        else:
            write_atomic(target, write)
    except NotImplementedError as exc:
        raise click.UsageError(str(exc)) from None
    except ImportError as exc:
        raise MissingBackend(
            f"exporting to {export_format} needs a package that is not installed ({exc}): "
            "pip install 'archspec[export]'"
        ) from None
    stdout.print(
        f"exported {printable(str(output))} ({export_format}, for {purpose})",
        soft_wrap=True,
        markup=False,
    )


@main.command()
@click.argument("spec_path", metavar="SPEC")
@click.option(
    "--depth",
    type=click.Choice(["stage", "block", "layer"]),
    default="stage",
    show_default=True,
    help="One row per stage, per block, or per layer (--format json has all three).",
)
@format_option("text", "json", help="text: a table for people; json: every figure, for tools.")
@INPUT_OPTION
@FOR_OPTION
@spec_options()
@limit_options
def inspect(
    spec_path: str,
    depth: str,
    output_format: str,
    input_size: tuple[int, int] | None,
    purpose: str,
    reading: SpecReading,
    limits: Limits,
) -> None:
    """Shapes, parameters, MACs and activation memory of SPEC, without building it."""
    import json

    from archspec.cost import graph_json

    spec, _ = reading.spec(spec_path)
    graph, note = for_purpose(reading.lower(spec, limits, input_size), purpose)
    if output_format == "json":
        click.echo(json.dumps(graph_json(graph), indent=2))
        return
    from archspec import render  # rich: only for the table

    stdout.print(render.inspect_table(graph, depth))  # type: ignore[arg-type]
    print_paragraph(render.cost_footnote(graph), style="dim")
    if note:
        print_paragraph(note, style="dim")


@main.command()
@click.argument("before", metavar="A")
@click.argument("after", metavar="B")
@format_option(
    "text", "markdown", "json", help="markdown gives a table to paste into a pull-request comment."
)
@click.option(
    "--fail-on-increase",
    type=Percent(),
    help="Exit 1 if B has more than PCT percent more parameters or MACs than A.",
)
@INPUT_OPTION
@spec_options()
@limit_options
def diff(
    before: str,
    after: str,
    output_format: str,
    fail_on_increase: float | None,
    input_size: tuple[int, int] | None,
    reading: SpecReading,
    limits: Limits,
) -> None:
    """What changed from spec A to spec B, and what it does to parameters, MACs and memory.

    --set applies to both A and B (so `diff A A --set ...` finds no change): to cost a change,
    make B a file that extends A and sets it.
    """
    import json

    from archspec import diff as diffing
    from archspec import render

    (spec_a, graph_a), (spec_b, graph_b) = reading.lowered([before, after], limits, input_size)
    changes = diffing.spec_changes(spec_a, spec_b)
    deltas = diffing.cost_deltas(graph_a, graph_b)
    if output_format == "json":
        click.echo(json.dumps(diffing.diff_json(spec_a, spec_b, changes, deltas), indent=2))
    elif output_format == "markdown":
        click.echo(diffing.diff_markdown(spec_a, spec_b, changes, deltas), nl=False)
    else:
        stdout.print(f"[bold]{spec_a.name} -> {spec_b.name}[/]", soft_wrap=True)
        for change in changes:
            print_paragraph(printable(change.describe()), indent="  ")
        if not changes:
            stdout.print("  no setting differs")
        stdout.print(render.diff_table("cost", deltas))
    if fail_on_increase is not None:
        grown = diffing.increase_over(deltas, fail_on_increase)
        for reason in grown:
            error(reason)
        if grown:
            sys.stdout.flush()
            sys.exit(EXIT_INVALID)


@main.command()
@click.argument("spec_path", metavar="SPEC")
@format_option("yaml", "json", help="yaml for people; json for tools (the default for -o *.json).")
@output_option("Write the spec to this file (atomically) instead of stdout.")
@spec_options()
@limit_options
def show(
    spec_path: str, output_format: str, output: Path | None, reading: SpecReading, limits: Limits
) -> None:
    """SPEC fully resolved: `extends` and --set applied, every default written out."""
    from archspec import render

    output_format = format_of_output(output_format, output, {".json": "json"})
    spec, inputs = reading.spec(spec_path)
    target = checked_output(output, inputs)
    reading.lower(spec, limits)  # its errors and warnings, as every command reports them
    quiet = unused_once_written(spec, limits)
    emit(render.resolved_spec(spec, output_format, leave_out=quiet), target, output)


def unused_once_written(spec: Spec, limits: Limits) -> list[tuple[str | int, ...]]:
    """Defaults that `show` would write out and that, written, have no effect.

    A setting such as `input.nominal_size` takes effect only in some specs; where it does not,
    stating it is reported as unused. `show` leaves out such a setting where the spec did not
    state it, so that what it prints validates as cleanly as the spec itself (whatever
    --ignore this run was given: the output is read without it).
    """
    from archspec.io import Document, SourceMap
    from archspec.render import resolved_data

    def unused(analysis: Any) -> set[str]:
        return {d.path for d in analysis.diagnostics if d.code == "unused"}

    written = validate_document(Document(resolved_data(spec), SourceMap(), "<shown>"))
    extra = unused(analyze(written, limits=limits)) - unused(analyze(spec, limits=limits))
    return [path for path in map(override_path, sorted(extra)) if path is not None]


@main.command()
@click.argument("spec_path", metavar="SPEC")
@format_option(
    "mermaid",
    "dot",
    help="mermaid renders in GitHub/GitLab markdown; dot renders with graphviz (the default "
    "for -o *.dot or *.gv).",
)
@output_option("Write the diagram to this file (atomically) instead of stdout.")
@FOR_OPTION
@spec_options()
@limit_options
def graph(
    spec_path: str,
    output_format: str,
    output: Path | None,
    purpose: str,
    reading: SpecReading,
    limits: Limits,
) -> None:
    """A block-level diagram of SPEC: stem, each block with its shortcut, head; shapes on edges."""
    from archspec.diagram import render_diagram

    output_format = format_of_output(output_format, output, {".dot": "dot", ".gv": "dot"})
    spec, inputs = reading.spec(spec_path)
    target = checked_output(output, inputs)
    graph, _ = for_purpose(reading.lower(spec, limits), purpose)
    emit(render_diagram(graph, output_format), target, output)  # type: ignore[arg-type]


@main.command()
@click.argument("spec_path", metavar="SPEC")
@click.option(
    "--batch-size",
    type=Amount(),
    default=32,
    show_default=True,
    help="Images per step. A count, as for every count option.",
)
@click.option("--steps", type=Amount(), default=10, show_default=True,
              help="Timed steps per repeat.")  # fmt: skip
@click.option(
    "--warmup",
    type=Amount(minimum=0),
    default=3,
    show_default=True,
    help="Untimed steps first (compilation, caches).",
)
@click.option(
    "--repeats",
    type=Amount(),
    default=3,
    show_default=True,
    help="Timed runs of --steps steps; the report gives their median and spread.",
)
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
@format_option("text", "json", help="text: a table for people; json: every figure, for tools.")
@spec_options()
@limit_options
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
    reading: SpecReading,
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
        raise click.BadParameter(
            "--for inference builds a model for inference only: --phase infer",
            param_hint="'--phase'",
        )
    spec, _ = reading.spec(spec_path)
    graph, _ = for_purpose(reading.lower(spec, limits), purpose)
    import_keras_backend()
    default: tuple[str, ...] = ("infer",) if purpose == "inference" else ("train", "infer")
    chosen = cast("tuple[Phase, ...]", phases or default)  # click checked the choices
    settings = BenchSettings(batch_size, steps, warmup, repeats, precision, jit, chosen, distribute)
    total = len(settings.phases) * (warmup + repeats * steps)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=stderr.console, transient=True) as progress:
        task = progress.add_task(f"benchmarking {graph.name}", total=total)
        try:
            result = run_benchmark(graph, settings, lambda n: progress.advance(task, n))
        except NotImplementedError as exc:
            raise click.UsageError(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    from archspec import render

    print_paragraph(
        f"{result.model}: {result.params:,} parameters on {result.backend}, {result.device}, "
        f"{result.replicas} replica(s); batch {batch_size}, {precision}, "
        f"jit {'default' if jit is None else jit}"
    )
    stdout.print(render.bench_table(result))


@main.command()
@output_option("Write the schema to this file (atomically) instead of stdout.")
@click.option(
    "--path",
    "show_path",
    is_flag=True,
    help="Print where the schema file shipped inside the installed package is, for editors.",
)
def schema(output: Path | None, show_path: bool) -> None:
    """Print (or write) the JSON Schema of specs, generated from the pydantic models."""
    from archspec.schema import SHIPPED_SCHEMA, schema_text

    if show_path:
        if output is not None:
            raise click.UsageError("--path prints a path; it takes no -o")
        if not SHIPPED_SCHEMA.is_file():
            error(f"this installation has no {SHIPPED_SCHEMA}; write one: archspec schema -o FILE")
            sys.exit(EXIT_USAGE)
        click.echo(str(SHIPPED_SCHEMA))
        return
    target = checked_output(output)
    emit(schema_text(), target, output)


@main.group(cls=Group)
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
@spec_options()
@limit_options
def import_weights(
    source: str,
    state_path: Path,
    spec_path: str,
    output: Path,
    reading: SpecReading,
    limits: Limits,
) -> None:
    """Convert a PyTorch state dict (FILE) into Keras weights for SPEC's model.

    FILE is a .safetensors file (read without PyTorch) or a .pth file (where PyTorch is
    installed) of the torchvision or timm model that SPEC equals. Every tensor must find its
    layer and every layer its tensors, with the right shapes; otherwise nothing is written
    and the table says what did not fit (exit 1). Load the result with `archspec build SPEC
    --weights OUT`, also into a spec changed from SPEC.
    """
    from archspec import render
    from archspec.files import write_atomic
    from archspec.weights import WeightsError, convert, read_state_dict

    if not output.name.endswith(".weights.h5"):
        raise click.BadParameter("the output file must end in .weights.h5", param_hint="'-o'")
    spec, inputs = reading.spec(spec_path)
    target = checked_output(output, (*inputs, state_path.resolve()))
    assert target is not None  # -o is required
    graph = reading.lower(spec, limits)
    # Keras first: importing PyTorch's CUDA build before TensorFlow can crash the process.
    backend = import_keras_backend()
    try:
        state = read_state_dict(state_path)
    except WeightsError as exc:
        error(str(exc))
        sys.exit(EXIT_USAGE)
    try:
        conversion = convert(graph, cast(Any, source), state)
    except WeightsError as exc:
        error(str(exc))
        sys.exit(EXIT_INVALID)
    stdout.print(render.conversion_table(conversion, source))
    if not conversion.complete:
        error(f"{state_path} does not fit {graph.name}; nothing was written")
        sys.exit(EXIT_INVALID)
    model = backend.build_model(graph)
    backend.assign_weights(model, conversion.weights)
    write_atomic(target, model.save_weights)
    stdout.print(f"wrote {printable(str(output))}", soft_wrap=True, markup=False)


@main.command()
@format_option("text", "json", help="text: a table for people; json: every figure, for tools.")
def presets(output_format: str) -> None:
    """List the built-in presets that `extends:` and every command accept by name."""
    import json

    from archspec import render
    from archspec.cost import format_shape
    from archspec.loader import preset_names

    rows = []
    for name in preset_names():
        spec = load(name)
        graph = lower(spec)
        summary = spec.description.split(":")[0].split(". ")[0].rstrip(".")
        rows.append((name, spec, graph, summary))
    if output_format == "json":
        listing = [
            {
                "name": name,
                "description": spec.description,
                "input_shape": list(spec.input.shape),
                "output_shape": list(graph[graph.output].shape),
                "layers": graph.layer_count,
                "params": graph.params,
                "macs": graph.macs,
            }
            for name, spec, graph, _ in rows
        ]
        click.echo(json.dumps(listing, indent=2))
        return
    table = [
        (name, format_shape(spec.input.shape), graph.layer_count, graph.params, graph.macs, what)
        for name, spec, graph, what in rows
    ]
    stdout.print(render.presets_table(table))


if __name__ == "__main__":
    main()
