"""Run the ``hegui`` command in tests: in this process (fast) or as a real ``python -m hegui`` process.

A fresh ``python -m hegui`` pays ~1.5 s of imports, plus whatever the command builds, on every call. Most CLI
tests only check what a command prints, writes and exits with, so ``hegui(...)`` runs the real entry point
(``hegui.cli.main.run``, which turns user errors into one line and exit 2) in this process, with the state a
child process would start with: argv, working directory, environment (the developer's ``HEGUI_*`` removed),
stdin, stdout/stderr that are pipes rather than terminals, ``SystemExit`` as the exit code, an uncaught
exception as a traceback and exit 1, warnings and log records that reach no handler printed on stderr. The
result has the ``returncode``/``stdout``/``stderr`` of ``subprocess.run(..., text=True)``.

``process=True`` starts the real process instead: tests about the process itself (serve, crashes, signals)
and one smoke test per command group, so the installed entry point stays covered.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

#: cwd, os.environ, sys.std* and sys.argv belong to the whole process: one in-process command at a time
_PROCESS_STATE = threading.Lock()

#: what ``Console.__init__`` detects from the process it starts in (the rest is read when printing)
_CONSOLE_DETECTED = ("_color_system", "_force_terminal", "_width", "_height", "no_color", "is_jupyter",
                     "legacy_windows")


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment the CLI tests give ``hegui``: this one without the developer's ``HEGUI_*``
    settings (``HEGUI_TEST_*`` too), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    env.update(extra or {})
    return env


def hegui(*args: str, cwd: Path | str | None = None, env: Mapping[str, str] | None = None, stdin: str | None = None,
          process: bool = False, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``hegui ARGS`` in ``cwd`` (default: the current directory, the test's tmp_path) with
    ``child_env(env)``; ``stdin`` is the whole input (None: empty, as the /dev/null pytest's capture
    gives a child). ``process=True``: a real ``python -m hegui`` process with ``timeout``."""
    if process:
        return subprocess.run([sys.executable, "-m", "hegui", *args], capture_output=True, text=True,
                              env=child_env(env), cwd=cwd, input=stdin, timeout=timeout)
    with _PROCESS_STATE:
        return _in_process(list(args), cwd, child_env(env), stdin)


class _Pipe(io.BytesIO):
    """The write end of a pipe: keeps what was written even after the command closes its stream."""

    def close(self) -> None:
        pass


def _in_process(args: list[str], cwd: Path | str | None, env: dict[str, str],
                stdin: str | None) -> subprocess.CompletedProcess[str]:
    from hegui.cli import common, main

    out_raw, err_raw = _Pipe(), _Pipe()
    # as in a child on pipes with the C.UTF-8 locale: UTF-8, surrogateescape, not a terminal
    out = io.TextIOWrapper(out_raw, encoding="utf-8", errors="surrogateescape")
    err = io.TextIOWrapper(err_raw, encoding="utf-8", errors="backslashreplace", line_buffering=True)
    inp = io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8", errors="surrogateescape")
    with ExitStack() as stack:
        stack.enter_context(_environ(env))
        if cwd is not None:
            stack.enter_context(_working_dir(Path(cwd)))
        stack.enter_context(_std_streams(inp, out, err))
        stack.enter_context(_as_python_m_hegui(args))
        stack.enter_context(_consoles_as_in_a_child(common.console, common.err_console))
        stack.enter_context(_unhandled_warnings_and_logs_to(err))
        code = _exit_code(main.run, err)
        common.STATE.close()  # run() closes it too; a command that raised past run() must not leak it
        common.STATE.config_file = None
        for stream in (out, err):
            with suppress(ValueError):  # the command closed it; what it wrote is in the pipe
                stream.flush()
    return subprocess.CompletedProcess([sys.executable, "-m", "hegui", *args], code,
                                       _as_text(out_raw.getvalue()), _as_text(err_raw.getvalue()))


def _as_text(data: bytes) -> str:
    """As ``subprocess.run(text=True)`` reads a pipe: locale encoding (UTF-8), universal newlines."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def _exit_code(entry: Callable[[], None], err: TextIO) -> int:
    """What the interpreter would exit with after ``entry()``."""
    try:
        entry()
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=err)
        return 1
    except KeyboardInterrupt:
        raise
    except BaseException:  # the interpreter prints any uncaught exception and exits 1
        traceback.print_exc(file=err)
        return 1
    return 0


def _set_environ(env: dict[str, str]) -> None:
    """Make ``os.environ`` exactly ``env``, key by key (so keys that stay the same never vanish)."""
    for k in [k for k in os.environ if k not in env]:
        del os.environ[k]
    for k, v in env.items():
        if os.environ.get(k) != v:
            os.environ[k] = v


@contextmanager
def _environ(env: dict[str, str]) -> Iterator[None]:
    """``os.environ`` is exactly ``env`` meanwhile."""
    saved = dict(os.environ)
    try:
        _set_environ(env)
        yield
    finally:
        _set_environ(saved)


@contextmanager
def _working_dir(path: Path) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


@contextmanager
def _std_streams(inp: TextIO, out: TextIO, err: TextIO) -> Iterator[None]:
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = inp, out, err
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


@contextmanager
def _as_python_m_hegui(args: list[str]) -> Iterator[None]:
    """argv and ``__main__`` as ``python -m hegui`` has them, so click names the program as there
    ("Usage: python -m hegui ..."). The stand-in ``__main__`` has no spec or file: a spawned worker
    then imports no main module, as for a real ``hegui.__main__``."""
    import hegui

    saved_argv, saved_main = sys.argv, sys.modules["__main__"]
    stand_in = types.ModuleType("__main__")
    stand_in.__package__ = "hegui"
    sys.argv = [str(Path(hegui.__file__).with_name("__main__.py")), *args]
    sys.modules["__main__"] = stand_in
    try:
        yield
    finally:
        sys.argv = saved_argv
        sys.modules["__main__"] = saved_main


@contextmanager
def _consoles_as_in_a_child(*consoles: Console) -> Iterator[None]:
    """The CLI's rich consoles were made when this process imported them (maybe on a terminal, under
    ``pytest -s``); a child makes them on its pipes and environment. Meanwhile they carry what a console
    made now detects (no colour on a pipe); the output stream itself is looked up on every print."""
    saved = [{name: vars(c)[name] for name in _CONSOLE_DETECTED if name in vars(c)} for c in consoles]
    try:
        for c in consoles:
            fresh = Console(stderr=c.stderr)
            for name in _CONSOLE_DETECTED:
                if name in vars(fresh):
                    setattr(c, name, getattr(fresh, name))
        yield
    finally:
        for c, attrs in zip(consoles, saved, strict=True):
            vars(c).update(attrs)


@contextmanager
def _unhandled_warnings_and_logs_to(err: TextIO) -> Iterator[None]:
    """A child prints warnings (default filters) and WARNING+ log records on stderr; pytest would
    collect them instead."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        err.write(warnings.formatwarning(message, category, filename, lineno, line))

    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    root = logging.getLogger()
    with warnings.catch_warnings():
        warnings.resetwarnings()
        for action, category in (("ignore", DeprecationWarning), ("ignore", PendingDeprecationWarning),
                                 ("ignore", ImportWarning), ("ignore", ResourceWarning)):
            warnings.simplefilter(action, category)  # type: ignore[arg-type]
        warnings.showwarning = show
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)
