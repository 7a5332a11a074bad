"""ToonifyError: a failed call of the library, with its status (include/toonify/status.h)."""


class ToonifyError(RuntimeError):
    """A conversion, a model load or a lookup failed.

    status: the library's status name, e.g. "OVER_BUDGET"; code: its number; exit_code and
    http_code: what the CLI and the service answer for it; message: the library's words."""

    def __init__(self, lib, code, message):
        self.code = int(code)
        self.status = _STATUS_NAMES[code] if 0 <= code < len(_STATUS_NAMES) else str(code)
        self.exit_code = lib.toon_status_exit_code(code)
        self.http_code = lib.toon_status_http_code(code)
        self.message = message
        super().__init__("%s: %s" % (lib.toon_status_str(code).decode(), message))


# The order of TOON_STATUS_LIST in status.h.
_STATUS_NAMES = ["OK", "INVALID_ARGUMENT", "IO", "NOT_FOUND", "CORRUPT", "UNSUPPORTED",
                 "TOO_LARGE", "OVER_BUDGET", "NO_MEMORY", "MODEL", "CANCELLED", "INTERNAL",
                 "UNAVAILABLE", "NO_SPACE"]


def check(lib, code, err):
    if code != 0:
        raise ToonifyError(lib, code, err.msg.decode(errors="replace"))
