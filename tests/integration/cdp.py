"""A small driver for Debian's headless Chromium over the DevTools protocol
(python3-websocket), for test_console_browser.py.

Chromium starts with a fresh --user-data-dir under the test's tmp path,
picks its own debugging port (--remote-debugging-port=0; the port is read
back from DevToolsActivePort) and never touches the network beyond the
loopback URLs a test opens. As root it needs --no-sandbox.

Every console message, uncaught exception, log entry (CSP violations and
failed loads are log entries), JavaScript dialog and network request of
the page is recorded, so a test can assert that none happened.
"""
import base64
import json
import os
import shutil
import subprocess
import time

import websocket  # python3-websocket

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path():
    for n in CHROMIUM_NAMES:
        p = shutil.which(n)
        if p:
            return p
    return None


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, workdir, width=1280, height=800):
        self.workdir = workdir
        profile = os.path.join(workdir, "chromium-profile")
        os.makedirs(profile, exist_ok=True)
        args = [chromium_path(), "--headless=new", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-default-apps",
                "--metrics-recording-only", "--password-store=basic",
                "--hide-scrollbars", "--font-render-hinting=none",
                f"--user-data-dir={profile}", "--remote-debugging-port=0",
                f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")
        self.log = open(os.path.join(workdir, "chromium.log"), "ab")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not os.path.exists(port_file) or os.path.getsize(port_file) == 0:
            if self.proc.poll() is not None or time.time() > deadline:
                raise CDPError("chromium did not start; see " + self.log.name)
            time.sleep(0.1)
        time.sleep(0.2)
        with open(port_file) as f:
            port = int(f.readline().strip())
        self.port = port
        self._ws = None
        self._id = 0
        self.events = []
        self.expected_http = []
        self.intercept = None
        self._attach()

    def _attach(self):
        import urllib.request
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list",
                                            timeout=5) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                if pages:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise CDPError("no page target")
            time.sleep(0.2)
        self._ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60,
                                               suppress_origin=True)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")

    def close(self):
        try:
            if self._ws:
                self._ws.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()

    # --- protocol --------------------------------------------------------

    def call(self, method, **params):
        self._id += 1
        my = self._id
        self._ws.send(json.dumps({"id": my, "method": method, "params": params}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == my:
                if "error" in msg:
                    raise CDPError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self._event(msg)

    def _send(self, method, **params):
        """A command whose answer nobody waits for (call() skips it)."""
        self._id += 1
        self._ws.send(json.dumps({"id": self._id, "method": method, "params": params}))

    def _event(self, msg):
        self.events.append(msg)
        if msg["method"] == "Fetch.requestPaused":
            p = msg["params"]
            answer = self.intercept(p["request"]) if self.intercept else None
            if answer is None:
                self._send("Fetch.continueRequest", requestId=p["requestId"])
            else:
                status, ctype, body = answer
                self._send("Fetch.fulfillRequest", requestId=p["requestId"],
                           responseCode=status,
                           responseHeaders=[{"name": "Content-Type", "value": ctype}],
                           body=base64.b64encode(body).decode())
            return
        if msg["method"] == "Page.javascriptDialogOpening":
            # Recorded (a test asserts there was none) and dismissed, so
            # that a dialog never blocks the page.
            self._send("Page.handleJavaScriptDialog", accept=False)

    def answer_for(self, url_pattern, fn):
        """Requests matching url_pattern (a CDP Fetch pattern: * and ?) are
        answered by fn(request) -> (status, content_type, body bytes), or
        go to the server when fn returns None. fn None: stop."""
        self.intercept = fn
        if fn is None:
            self.call("Fetch.disable")
        else:
            self.call("Fetch.enable", patterns=[{"urlPattern": url_pattern}])

    def pump(self, seconds=0.05):
        """Reads the events that arrived (a call with nothing to do)."""
        self.call("Runtime.evaluate", expression="0")
        time.sleep(seconds)

    # --- what a test uses ---------------------------------------------------

    def expect_http(self, status, path):
        """A failed load the test provokes (a 401 for a wrong token, a 404
        for what is not revoked; status may also be a network error such
        as "net::ERR_CONNECTION_REFUSED"): Chromium logs it as an error,
        which problems() then leaves out. Cleared by goto."""
        what = status if isinstance(status, str) else f"status of {status} "
        self.expected_http.append((what, path))

    def _expected(self, entry):
        return entry.get("source") == "network" and any(
            what in entry.get("text", "") and path in entry.get("url", "")
            for what, path in self.expected_http)

    def goto(self, url):
        self.events.clear()
        self.expected_http.clear()
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete'")

    def js(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise CDPError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expression, timeout=60, what=None):
        """Polls expression until truthy; a generous deadline, never a
        timing assertion."""
        deadline = time.time() + timeout
        while True:
            v = self.js(expression)
            if v:
                return v
            if time.time() > deadline:
                raise AssertionError(f"timed out waiting for: {what or expression}")
            time.sleep(0.1)

    def text(self, selector):
        return self.js(f"document.querySelector({json.dumps(selector)}).textContent")

    def focus(self, selector):
        self.js(f"document.querySelector({json.dumps(selector)}).focus()")

    def active_id(self):
        return self.js("document.activeElement && document.activeElement.id")

    def type(self, text):
        self.call("Input.insertText", text=text)

    def key(self, name):
        codes = {"Enter": (13, "\r"), "Tab": (9, ""), "Escape": (27, ""), "Space": (32, " ")}
        code, text = codes[name]
        key = " " if name == "Space" else name
        down = {"type": "keyDown", "key": key, "code": name, "windowsVirtualKeyCode": code,
                "nativeVirtualKeyCode": code}
        if text:
            down["text"] = text
        self.call("Input.dispatchKeyEvent", **down)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=name,
                  windowsVirtualKeyCode=code, nativeVirtualKeyCode=code)

    def select(self, selector, value):
        self.js(f"""(() => {{ const s = document.querySelector({json.dumps(selector)});
            s.value = {json.dumps(value)}; s.dispatchEvent(new Event('change'));
            return s.value; }})()""")

    def viewport(self, width, height, mobile=False, scale=1):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=scale, mobile=mobile)

    def shot(self, name, full_page=False):
        """Saves the screen as <workdir>/screens/<name>.png and, when
        REVOKD_SCREENSHOTS names a folder, there too. Returns: the path."""
        d = os.path.join(self.workdir, "screens")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name + ".png")
        self.screenshot(path, full_page=full_page)
        extra = os.environ.get("REVOKD_SCREENSHOTS")
        if extra:
            os.makedirs(extra, exist_ok=True)
            shutil.copy(path, os.path.join(extra, name + ".png"))
        return path

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            m = self.call("Page.getLayoutMetrics")
            size = m.get("cssContentSize") or m["contentSize"]
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": size["height"], "scale": 1}
        data = base64.b64decode(self.call("Page.captureScreenshot", **params)["data"])
        with open(path, "wb") as f:
            f.write(data)

    # --- what happened ------------------------------------------------------

    def problems(self):
        """Console errors and warnings (the page's own), uncaught
        exceptions, error log entries (CSP violations and failed loads among
        them; the browser's own warnings vary by version and are left out)
        and JavaScript dialogs."""
        self.pump()
        out = []
        for e in self.events:
            m, p = e["method"], e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(("console." + p["type"], [a.get("value", a.get("description"))
                                                     for a in p.get("args", [])]))
            elif m == "Runtime.exceptionThrown":
                out.append(("exception", p["exceptionDetails"].get("text"),
                            p["exceptionDetails"].get("exception", {}).get("description")))
            elif m == "Log.entryAdded" and p["entry"]["level"] == "error" \
                    and not self._expected(p["entry"]):
                out.append(("log", p["entry"].get("source"), p["entry"].get("text"),
                            p["entry"].get("url")))
            elif m == "Page.javascriptDialogOpening":
                out.append(("dialog", p.get("type"), p.get("message")))
        return out

    def requests(self):
        self.pump()
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"]

    def responses(self):
        self.pump()
        return [e["params"]["response"] for e in self.events
                if e["method"] == "Network.responseReceived"]
