"""One download client for every fetcher: timeouts, retries, a checksummed cache, atomic writes.

Why one client? Boundaries, police archives, population tables and school
lists come from four public services that fail in the same ways: the machine
is offline, a server is slow, a proxy answers with a login page, a gateway
returns 502 for a minute, a download breaks halfway. Each fetcher used to
handle some of these; now :class:`DownloadClient` handles all of them once:

* every request has a timeout (``timeout`` seconds to connect and between
  bytes);
* connection errors, timeouts, HTTP 429 and 5xx are retried ``retries``
  times with exponential backoff (``backoff``, 2×``backoff``, ... seconds,
  or the server's ``Retry-After`` when longer, capped at 60 s); other 4xx
  answers are not retried;
* every failure is one :class:`~gangmap.errors.DownloadError` line naming the
  host or URL and the fix, and when the network cannot be reached it names
  the page where the file can be downloaded by hand (``manual``);
* :meth:`DownloadClient.download` streams a file to a temporary name beside
  the target, hashing it on the way (SHA-256), and renames it into place only
  when complete (``os.replace``): a file is never half-written;
* :func:`cached` and :func:`write_sidecar` keep a provenance sidecar
  ``<file>.source.json`` beside every file written, holding its SHA-256: a
  cache entry whose bytes no longer match (truncated, edited) is treated as
  absent and downloaded again.

:func:`atomic_path` is the same temp-file-and-rename for files the fetchers
compose themselves, and :func:`refuse_input` stops an output from replacing
one of the command's inputs.

Examples
--------
>>> from gangmap.fetch.client import DownloadClient
>>> with DownloadClient(timeout=5, retries=1, manual="download it from https://example.org/") as c:
...     meta = c.download("https://example.org/x.csv", "out/x.csv", what="x")  # doctest: +SKIP
>>> meta["sha256"]  # doctest: +SKIP
'3a7b...'
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import DownloadError
from ..outputs import atomic_path, check_not_input

__all__ = ["DownloadClient", "USER_AGENT", "LICENCE", "LICENCE_URL", "sidecar_path", "read_sidecar",
           "write_sidecar", "cached", "sha256_file", "atomic_path", "refuse_input", "one_line",
           "utc_now", "default_cache_dir"]

USER_AGENT = "gangmap (public data fetch)"
LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
#: Longest wait between two attempts, whatever Retry-After says.
MAX_DELAY = 60.0
_CHUNK = 1 << 20


def one_line(text, limit: int = 300) -> str:
    """``text`` on one line, at most ``limit`` characters (for error messages)."""
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def utc_now() -> str:
    """The current UTC time as ISO 8601 to the second (for sidecars)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_cache_dir() -> Path:
    """Where large downloads (police archives, GIAS extracts) are kept between runs.

    ``$GANGMAP_CACHE`` if set, else ``$XDG_CACHE_HOME/gangmap``, else
    ``~/.cache/gangmap``. Every command takes ``--cache DIR`` to override it.
    """
    env = os.environ.get("GANGMAP_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "gangmap"


def sha256_file(path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def sidecar_path(path) -> Path:
    """The provenance file beside a downloaded file: ``<file>.source.json``."""
    path = Path(path)
    return path.with_name(path.name + ".source.json")


def read_sidecar(path, *, fix: str) -> dict:
    """Read the sidecar of ``path``; a missing or broken one is a DownloadError ending in ``fix``."""
    side = sidecar_path(path)
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DownloadError(f"{side}: provenance file not found; {fix}.") from None
    except (ValueError, OSError) as exc:
        raise DownloadError(f"{side}: cannot read the provenance file ({one_line(exc, 120)}); {fix}.") from None


def cached(path, match: dict | None = None) -> dict | None:
    """The sidecar of a usable cached file, else None.

    Usable means: the file and its sidecar exist, the sidecar is JSON, every
    ``match`` key has the same value in it (the same query), and the file's
    SHA-256 equals the recorded one. A truncated or edited file is therefore
    not usable, and the caller downloads it again.
    """
    path = Path(path)
    side = sidecar_path(path)
    if not (path.is_file() and side.is_file()):
        return None
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return None
    if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in (match or {}).items()):
        return None
    if not meta.get("sha256") or meta["sha256"] != sha256_file(path):
        return None
    return meta


def write_sidecar(path, meta: dict) -> Path:
    """Write ``meta`` (plus the file's SHA-256 and name) as ``<file>.source.json``, atomically."""
    path = Path(path)
    meta["sha256"] = sha256_file(path)
    meta["file"] = path.name
    side = sidecar_path(path)
    with atomic_path(side) as part:
        part.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return side


def refuse_input(out, inputs, *, option: str = "--out") -> None:
    """Raise ConfigError if ``out`` is (or resolves to) one of the ``inputs`` (see gangmap.outputs)."""
    check_not_input(out, [i for i in inputs if i is not None], what=option)


def _plural(n: int) -> str:
    return f"{n} attempt{'s' if n != 1 else ''}"


class DownloadClient:
    """HTTP GET with timeouts, retries with backoff and one-line errors (see the module docs).

    Parameters
    ----------
    timeout : float
        Seconds to wait to connect and between received bytes.
    retries : int
        Extra attempts after connection errors, timeouts, HTTP 429 and 5xx.
    backoff : float
        First wait between attempts, seconds (doubled each time).
    manual : str
        How to get the data by hand, e.g. ``"download it from https://...
        and pass it to --x"``; ends every network error message.
    session : requests.Session, optional
        For proxies or certificates; one is made (and closed) otherwise.
    user_agent : str
        Sent with every request the client's own session makes.
    """

    def __init__(self, *, timeout: float = 30, retries: int = 3, backoff: float = 1.0, manual: str = "",
                 session=None, user_agent: str = USER_AGENT):
        import requests  # here, not at import time: `gangmap --version` stays fast

        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self.manual = manual or "try again later"
        self._own = session is None
        self.session = session if session is not None else requests.Session()
        if self._own:
            self.session.headers["User-Agent"] = user_agent
        self.requests = 0
        self._retry_after: str | None = None

    def __enter__(self) -> DownloadClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if the client made it."""
        if self._own:
            self.session.close()

    # ------------------------------------------------------------------ requests
    def _delay(self, attempt: int) -> float:
        delay = self.backoff * 2 ** (attempt - 1)
        try:
            if self._retry_after is not None:
                delay = max(delay, min(float(self._retry_after), MAX_DELAY))
        except ValueError:
            pass
        return delay

    def _attempts(self, url: str, what: str, once: Callable[[], object]):
        """Run ``once`` until it returns something other than a retry reason (a str)."""
        import requests

        attempts = self.retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._delay(attempt))
            self._retry_after = None
            self.requests += 1
            try:
                result = once()
            except requests.exceptions.ConnectTimeout:
                result = "unreachable"
            except requests.exceptions.Timeout:
                result = "timeout"
            except requests.exceptions.ConnectionError as exc:
                result = "timeout" if "timed out" in str(exc).lower() else "unreachable"
            except requests.exceptions.ChunkedEncodingError:
                result = "the download broke off"
            except requests.exceptions.RequestException as exc:
                raise DownloadError(f"request to {urlsplit(url).netloc or url} for the {what} failed "
                                    f"({one_line(exc, 150)}); {self.manual}.") from None
            if not isinstance(result, str):
                return result
            last = result
        raise self._gave_up(url, what, last, attempts)

    def _gave_up(self, url: str, what: str, last: str, attempts: int) -> DownloadError:
        host = urlsplit(url).netloc or url
        if last == "unreachable":
            return DownloadError(f"cannot reach {host} ({url}): the network is unreachable or the machine "
                                 f"is offline ({_plural(attempts)}); {self.manual}.")
        if last == "timeout":
            return DownloadError(f"{url} did not answer within {self.timeout:g} s ({_plural(attempts)}) "
                                 f"while getting the {what}; try again later or with a longer --timeout, "
                                 f"or {self.manual}.")
        return DownloadError(f"{url} kept failing ({last}, {_plural(attempts)}) while getting the {what}; "
                             f"try again later, or {self.manual}.")

    def _check_status(self, resp, url: str, what: str, allow, hint404: str | None):
        """None when the answer is usable, a retry reason (str), or raise for a refused request."""
        code = resp.status_code
        if code in allow:
            return None
        if code == 429 or code >= 500:
            self._retry_after = resp.headers.get("Retry-After")
            resp.close()
            return f"HTTP {code}"
        if code >= 400:
            resp.close()
            hint = hint404 if (code == 404 and hint404) else "the request was refused"
            raise DownloadError(f"HTTP {code} from {url} ({what}): {hint}; {self.manual}.")
        return None

    def get(self, url: str, params=None, *, what: str, allow=(), hint404: str | None = None,
            stream: bool = False):
        """GET ``url`` with retries; return the response (2xx/3xx, or a status in ``allow``)."""
        def once():
            resp = self.session.get(url, params=params, timeout=self.timeout, stream=stream)
            return self._check_status(resp, url, what, allow, hint404) or resp
        return self._attempts(url, what, once)

    def get_json(self, url: str, params=None, *, what: str, check: Callable | None = None,
                 hint404: str | None = None):
        """GET JSON with retries. ``check(data)`` may return a retry reason (str) or raise."""
        def once():
            resp = self.session.get(url, params=params, timeout=self.timeout)
            bad = self._check_status(resp, url, what, (), hint404)
            if bad:
                return bad
            try:
                data = resp.json()
            except ValueError:
                raise DownloadError(f"{urlsplit(url).netloc} did not answer with JSON for the {what} (a "
                                    f"proxy or login page?): {one_line(resp.text, 80)!r}; "
                                    f"{self.manual}.") from None
            reason = check(data) if check else None
            return reason if reason else _Boxed(data)
        return self._attempts(url, what, once).value

    def get_text(self, url: str, params=None, *, what: str, encoding: str = "utf-8",
                 hint404: str | None = None) -> str:
        """GET a text answer (CSV) with retries, decoded with ``encoding``."""
        def once():
            resp = self.session.get(url, params=params, timeout=self.timeout)
            bad = self._check_status(resp, url, what, (), hint404)
            if bad:
                return bad
            try:
                return _Boxed(resp.content.decode(encoding))
            except UnicodeDecodeError:
                raise DownloadError(f"{url} ({what}) is not {encoding} text; {self.manual}.") from None
        return self._attempts(url, what, once).value

    def download(self, url: str, dest, *, what: str, params=None, allow=(),
                 hint404: str | None = None) -> dict:
        """Stream ``url`` into ``dest`` atomically; return ``{"url", "bytes", "sha256", "status"}``.

        The body goes to a temporary file beside ``dest`` while its SHA-256
        is computed; a broken transfer (short body, reset, read timeout) is
        retried and never leaves a partial ``dest``. A status in ``allow``
        (e.g. 404 when probing for a file) is returned without writing.
        """
        dest = Path(dest)

        def once():
            resp = self.session.get(url, params=params, timeout=self.timeout, stream=True)
            bad = self._check_status(resp, url, what, allow, hint404)
            if bad:
                return bad
            if resp.status_code in allow:
                resp.close()
                return _Boxed({"url": resp.url, "status": resp.status_code})
            return self._save(resp, dest, url)
        return self._attempts(url, what, once).value

    def _save(self, resp, dest: Path, url: str):
        import requests

        expected = resp.headers.get("Content-Length")
        h = hashlib.sha256()
        size = 0
        try:
            with atomic_path(dest) as part, open(part, "wb") as f:
                for block in resp.iter_content(_CHUNK):
                    f.write(block)
                    h.update(block)
                    size += len(block)
                if expected is not None and expected.isdigit() and int(expected) != size:
                    raise _Short(f"short body: {size} of {expected} bytes")
        except _Short as exc:
            return str(exc)
        except requests.exceptions.RequestException:
            raise  # retried by _attempts
        except OSError as exc:
            raise DownloadError(f"cannot write {dest} ({one_line(exc, 120)}); check the folder exists, is "
                                "writable and the disk is not full.") from None
        finally:
            resp.close()
        return _Boxed({"url": resp.url or url, "bytes": size, "sha256": h.hexdigest(),
                       "status": resp.status_code})


class _Boxed:
    """A successful result (so that a str result can mean "retry")."""

    def __init__(self, value):
        self.value = value


class _Short(Exception):
    pass
