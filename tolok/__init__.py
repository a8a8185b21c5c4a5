"""tolok: key performance indicators as code."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tolok")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
