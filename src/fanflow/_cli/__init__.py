"""The `fanflow` command line: one module per command group, errors as one line."""

from __future__ import annotations

import os
import sqlite3
import sys
import traceback
from typing import Annotated

import typer
from typer.exceptions import TyperException

from .._errors import FanflowError
from .._journal import close_all
from .._journal._full import JournalFull, find_in, is_full
from .._redact import redact
from .._views import visible
from ._inspect import ls_command, show_command
from ._lifecycle import cancel_command, resume_command, watch_command
from ._models_cmd import models_command, tools_command
from ._plan_cmd import do_command, plan_command
from ._run_cmd import run_command
from ._ui_cmd import ui_command
from ._worker import exec_command
from ._workflows import save_command

app = typer.Typer(
    name="fanflow",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Run dynamic LLM workflows: a sandboxed script fans a job out to subagents.",
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"fanflow {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Run dynamic LLM workflows: a sandboxed script fans a job out to subagents."""


app.command("run")(run_command)
app.command("plan")(plan_command)
app.command("do")(do_command)
app.command("ls")(ls_command)
app.command("show")(show_command)
app.command("watch")(watch_command)
app.command("cancel")(cancel_command)
app.command("resume")(resume_command)
app.command("save")(save_command)
app.command("ui")(ui_command)
app.command("models")(models_command)
app.command("tools")(tools_command)
app.command("_exec", hidden=True)(exec_command)


def invoke(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; user errors become one line on stderr."""
    try:
        result = app(args=argv, prog_name="fanflow", standalone_mode=False)
        if isinstance(result, int):  # typer.Exit(code) comes back as a return value here
            return result
    except typer.Exit as exc:
        return exc.exit_code
    except TyperException as exc:  # bad flags and arguments: one line, exit 2
        command = (argv or sys.argv[1:])[:1]
        hint = (
            f"fanflow {command[0]} --help"
            if command and not command[0].startswith("-")
            else "fanflow --help"
        )
        message = " ".join(exc.format_message().split()).rstrip(".")
        sys.stderr.write(f"fanflow: error: {message}; see {hint}\n")
        return exc.exit_code
    except typer.Abort:
        sys.stderr.write("fanflow: aborted\n")
        return 130
    except KeyboardInterrupt:
        sys.stderr.write("fanflow: cancelled\n")
        return 130
    except FanflowError as exc:  # its text may quote a script or a model: shown inert
        sys.stderr.write(f"fanflow: error: {visible(redact(str(exc)))}\n")
        return exc.exit_code
    except BaseExceptionGroup as group:  # every agent's write failed at once (disk full)
        first = find_in(group, JournalFull) or find_in(group, FanflowError)
        if first is None:
            raise
        sys.stderr.write(f"fanflow: error: {visible(redact(str(first)))}\n")
        return first.exit_code  # type: ignore[attr-defined]
    except sqlite3.OperationalError as exc:  # busy past the timeout, disk full, read-only
        if is_full(exc):
            why = "the disk under it is full: free space"
        elif "locked" in str(exc) or "busy" in str(exc):
            why = "another fanflow may hold it: wait and retry"
        else:
            why = "check that $FANFLOW_HOME is writable"
        sys.stderr.write(
            f"fanflow: error: the journal cannot be written ({exc}); {why}, or set FANFLOW_HOME\n"
        )
        return 1
    except sqlite3.DatabaseError as exc:
        sys.stderr.write(
            f"fanflow: error: the journal is damaged ({exc}); move "
            "$FANFLOW_HOME/fanflow.db aside and run again\n"
        )
        return 2
    except Exception as exc:  # a bug of ours: one line, the traceback only on request
        if os.environ.get("FANFLOW_DEBUG"):
            traceback.print_exc()
        sys.stderr.write(
            f"fanflow: internal error: {type(exc).__name__}: {visible(redact(str(exc)))} "
            "(set FANFLOW_DEBUG=1 for the traceback and please report it)\n"
        )
        return 1
    return 0


def main() -> None:
    code = invoke()
    close_all()
    sys.stdout.flush()
    sys.stderr.flush()
    # The sandbox's native worker threads can abort interpreter finalization
    # (seen ~3% of exits); everything is flushed and committed, so skip it.
    os._exit(code)
