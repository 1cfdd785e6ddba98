"""Long-lived processes the tests start (servers, projectors) end when the test run ends.

A finalizer stops them when pytest exits normally; when pytest itself is killed, no finalizer
runs, so each such child also asks Linux to send it SIGTERM the moment its parent dies
(``PR_SET_PDEATHSIG``). Without this a killed test run left `callcraft serve` holding its port
and its store.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def ends_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen``; None where the kernel has no such request."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def ask_for_sigterm_when_orphaned() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the parent died before the request was in place
            os._exit(0)

    return ask_for_sigterm_when_orphaned
