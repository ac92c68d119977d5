"""Headless Chromium for the HTML view: find it, drive it, screenshot a page once it is drawn.

Chromium is driven over the Chrome DevTools Protocol on a pipe (``--remote-debugging-pipe``:
NUL-separated JSON on file descriptors 3 and 4), so no extra Python package is needed and no
port is opened. A screenshot waits for the page's own signal (``window.kgxReady``, set by the
view script once the layout has settled and the first frame is drawn) instead of the load
event: the graph is laid out and drawn well after the page has loaded.
"""

from __future__ import annotations

import base64
import fcntl
import itertools
import json
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("kgx")

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ("install Chromium (Debian/Ubuntu: apt-get install chromium, or `make browser`; "
                "elsewhere Google Chrome) or put it on PATH")
WINDOW = (1280, 860)
READY = "window.kgxReady === true"


class BrowserError(OSError):
    """Chromium is missing, failed, or the page never signalled that it was drawn."""


def find_chromium() -> str:
    """The path of a Chromium or Chrome executable on PATH; a clear error naming what to install."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    raise BrowserError(f"no headless browser found (looked for {', '.join(BROWSERS)}): "
                       f"{INSTALL_HINT}")


class Chromium:
    """A headless Chromium driven over the DevTools Protocol on a pipe (fds 3 and 4)."""

    def __init__(self, binary: str, window: tuple[int, int] = WINDOW) -> None:
        self.profile = tempfile.mkdtemp(prefix="kgx-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # move the child's ends above 10, so redirecting them onto 3 and 4 cannot clobber them
        child_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
        child_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        args = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--disable-sync", "--disable-extensions", "--disable-default-apps", "--mute-audio",
            "--hide-scrollbars", "--no-default-browser-check", "--remote-debugging-pipe",
            f"--user-data-dir={self.profile}", f"--window-size={window[0]},{window[1]}",
            "about:blank",
        ]
        try:
            self.proc = subprocess.Popen(
                ["/bin/bash", "-c",
                 f'exec "$0" "$@" 3<&{child_r} 4>&{child_w} {child_r}<&- {child_w}>&-', binary,
                 *args],
                pass_fds=(child_r, child_w), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
        finally:
            os.close(child_r)
            os.close(child_w)
        self._ids = itertools.count(1)
        self._replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.events: list[dict[str, Any]] = []
        self._stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        q = self._replies.get(msg["id"])
                    if q is not None:
                        q.put(msg)
                else:
                    self.events.append(msg)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 60) -> dict[str, Any]:
        """One protocol command; its result, or RuntimeError with the browser's last words."""
        msg_id = next(self._ids)
        q: queue.Queue[dict[str, Any]] = queue.Queue()
        with self._lock:
            self._replies[msg_id] = q
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
            reply = q.get(timeout=timeout)
        except (queue.Empty, BrokenPipeError):
            stderr = b"".join(self._stderr[-20:]).decode(errors="replace")
            raise RuntimeError(f"chromium did not answer {method} in {timeout} s; "
                               f"its stderr ends: {stderr}") from None
        finally:
            with self._lock:
                self._replies.pop(msg_id, None)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        shutil.rmtree(self.profile, ignore_errors=True)


def _evaluate(browser: Chromium, session: str, expression: str) -> Any:
    """The expression's value; None while it throws or the page is between documents."""
    try:
        result = browser.send("Runtime.evaluate",
                              {"expression": expression, "returnByValue": True}, session)
    except RuntimeError:
        if browser.proc.poll() is not None:
            raise
        return None
    if "exceptionDetails" in result:
        return None
    return result["result"].get("value")


def _page_errors(browser: Chromium, session: str) -> list[str]:
    out = []
    for e in list(browser.events):
        if e.get("sessionId") == session and e["method"] == "Runtime.exceptionThrown":
            d = e["params"]["exceptionDetails"]
            out.append(str(d.get("exception", {}).get("description") or d.get("text")))
    return out


def screenshot(
    page: str | Path,
    png: str | Path,
    *,
    window: tuple[int, int] = WINDOW,
    timeout: float = 300.0,
    binary: str | None = None,
) -> dict[str, Any]:
    """Open the HTML file ``page`` in headless Chromium, wait until it signals that the layout
    has settled and is drawn (``window.kgxReady``), and write a PNG of the window to ``png``.

    Returns what the page reports about its first view (``kgxView.firstView()``: the entity in
    focus, the zoom, its label's box), or ``{}`` for a page without it.
    """
    binary = binary or find_chromium()
    if not os.access(binary, os.X_OK):
        raise BrowserError(f"{binary} is not an executable browser: {INSTALL_HINT}")
    url = Path(page).resolve().as_uri()
    browser = Chromium(binary, window)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget",
                               {"targetId": target, "flatten": True})["sessionId"]
        browser.send("Runtime.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": window[0], "height": window[1], "deviceScaleFactor": 1,
                      "mobile": False}, session)
        browser.send("Page.navigate", {"url": url}, session)
        started = time.monotonic()
        check = f"location.href === {json.dumps(url)} && {READY}"
        while not _evaluate(browser, session, check):
            if time.monotonic() - started > timeout:
                errors = _page_errors(browser, session)
                raise BrowserError(f"{page}: the page did not signal that it was drawn in "
                                   f"{timeout:.0f} s" + (f"; page errors: {errors}" if errors
                                                         else ""))
            time.sleep(0.1)
        info = _evaluate(browser, session,
                         "window.kgxView && kgxView.firstView ? kgxView.firstView() : {}") or {}
        data = browser.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
    except RuntimeError as e:
        raise BrowserError(f"{page}: {e}") from e
    finally:
        browser.close()
    out = Path(png)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(data))
    log.debug("screenshot of %s in %.1f s: %s", page, time.monotonic() - started, out)
    return dict(info)
