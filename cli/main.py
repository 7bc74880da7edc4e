"""``aion``: operate the engine from a shell (README, "Operating").

    aion [--address ADDR] [--namespace NS] [--history-file PATH] COMMAND [ARGS] [-o FORMAT]

The global options come before the command (the running cluster and namespace ``aion`` by
default; ``--history-file`` reads a store file or a Parquet export with no engine); each
command's own options, ``-o table|json|jsonl|csv`` and ``--time-format`` among them, after
it. Every failure is one line on stderr and an exit code of its kind (``errors.ExitCode``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from aion_ray.cli import data, health, history, replay, schedules, verbs, workflows
from aion_ray.cli.connection import Target
from aion_ray.cli.errors import ExitCode, exit_code, one_line

COMMANDS: tuple[click.Command, ...] = (
    workflows.list_command,
    workflows.describe,
    history.show,
    history.timeline,
    workflows.start,
    workflows.signal,
    workflows.query,
    workflows.result,
    *(verbs.verb_command(verb) for verb in verbs.VERBS),
    data.sql,
    data.export,
    replay.replay_command,
    health.health,
    schedules.schedule_group,
)
DEBUG_VARIABLE = "AION_DEBUG"
"""Set to 1 to see the traceback of an unexpected error instead of its one line."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--address", help="The Ray cluster (default: RAY_ADDRESS, else the running one).")
@click.option("--namespace", default="aion", show_default=True, help="The engine's namespace.")
@click.option(
    "--history-file",
    type=click.Path(exists=True, path_type=Path),
    help="Read a store file or a Parquet export instead, with no engine running.",
)
@click.pass_context
def cli(
    context: click.Context, address: str | None, namespace: str, history_file: Path | None
) -> None:
    """Operate aion-ray workflows: list, inspect, start, signal, cancel, query the history."""
    context.obj = Target(address=address, namespace=namespace, history_file=history_file)


for _command in COMMANDS:
    cli.add_command(_command)


def main() -> None:
    """The ``aion`` process: run the command line on ``sys.argv`` and exit with its code.

    A command that joined the cluster exits without Ray's driver shutdown (about a second
    of tearing down what a finished command no longer needs; the cluster sees the driver
    leave either way), once its output is flushed."""
    code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        os._exit(code)
    sys.exit(code)


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the process's exit code (see ``errors.ExitCode``)."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None, prog_name="aion", standalone_mode=False
        )
    except click.exceptions.Exit as done:  # --help, --version
        return done.exit_code
    except click.exceptions.Abort:
        _fail("aborted")
        return 130
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "aion"
        _fail(" ".join(exc.format_message().split()) + f" (see {command} --help)")
        return ExitCode.USAGE
    except click.ClickException as exc:
        _fail(" ".join(exc.format_message().split()))
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (`aion list | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as exc:
        if os.environ.get(DEBUG_VARIABLE) == "1":
            raise
        _fail(one_line(exc))
        return exit_code(exc)
    return ExitCode.OK


def _fail(message: str) -> None:
    sys.stdout.flush()
    print(f"aion: {message}", file=sys.stderr)
