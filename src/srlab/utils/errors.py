"""The one exception type for user mistakes: entry points print it in a few lines and exit 1."""


class SRLabError(Exception):
    """A mistake in input or configuration; the message names the file or key and the fix."""
