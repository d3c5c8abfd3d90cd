"""Session Replay Inspector: import, audit, replay and redact session-replay recordings."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("session-replay-inspector")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
