#!/usr/bin/env python3
"""Opens a report page in headless Chromium, through chromedriver's WebDriver
protocol (plain HTTP, so only the standard library is needed), and checks what
a person would see, twice: with JavaScript on and with it off.

- every chart is displayed, has an x and a y axis with tick labels and the
  axis titles asked for, and each series the number of points asked for (the
  line's vertices, the dots and the count the page states all agree);
- the page logs no console errors;
- with JavaScript on, pointing at a chart names a point in its readout line;
- with JavaScript off, the same charts and points are there, the given texts
  read in the page, and it looks the same (the screenshots are equal).
A full-page screenshot is saved.

usage: check_report_in_browser.py PAGE SCREENSHOT [--chart ID=XLABEL:SERIES=N,SERIES=N ...] [--charts N] [--text TEXT ...]
Exits 0 and prints what it saw; 1 with the first mismatch; 77 when Chromium or
chromedriver is not installed."""
import argparse
import base64
import json
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROMIUM = "/usr/bin/chromium"


def fail(message):
    print(f"check_report_in_browser: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


class WebDriver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.session = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        url = self.base + (f"/session/{self.session}" if self.session else "") + path
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as e:
            fail(f"{method} {path}: {e.code} {e.read().decode()[:400]}")

    def start(self, javascript):
        prefs = {} if javascript else {"profile.managed_default_content_settings.javascript": 2}
        options = {"binary": CHROMIUM, "prefs": prefs,
                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                            "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1440,900"]}
        capabilities = {"browserName": "chrome", "goog:chromeOptions": options, "goog:loggingPrefs": {"browser": "ALL"}}
        self.session = self.call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})["sessionId"]

    def stop(self):
        self.call("DELETE", "")
        self.session = None

    def find(self, css, under=None):
        path = f"/element/{under}/elements" if under else "/elements"
        return [found[ELEMENT] for found in self.call("POST", path, {"using": "css selector", "value": css})]

    def attribute(self, element, name):
        return self.call("GET", f"/element/{element}/attribute/{name}")

    def content(self, element):  # textContent: what an SVG text element holds
        return self.call("GET", f"/element/{element}/property/textContent")

    def text(self, element):
        return self.call("GET", f"/element/{element}/text")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def look(driver, page, javascript, screenshot):
    """What the page shows: its charts, console errors, text and a full-page screenshot."""
    driver.start(javascript)
    driver.call("POST", "/url", {"url": page.resolve().as_uri()})
    body = driver.find("body")[0]
    height = driver.call("GET", f"/element/{body}/rect")["height"]
    driver.call("POST", "/window/rect", {"width": 1440, "height": int(height) + 120})
    charts = {}
    for figure in driver.find("figure.chart"):
        name = driver.attribute(figure, "id")
        if not driver.call("GET", f"/element/{figure}/displayed"):
            fail(f"chart {name} is not displayed")
        rect = driver.call("GET", f"/element/{figure}/rect")
        if rect["width"] < 200 or rect["height"] < 150:
            fail(f"chart {name} is only {rect['width']}x{rect['height']} pixels")
        axes = {}
        for axis in ("x", "y"):
            found = driver.find(f"g.axis.{axis}", figure)
            if len(found) != 1:
                fail(f"chart {name} has {len(found)} {axis} axes")
            ticks = [driver.content(t) for t in driver.find("g.tick text", found[0])]
            label = driver.content(driver.find("text.label", found[0])[0])
            if len(ticks) < 2 or not all(tick.strip() for tick in ticks):
                fail(f"chart {name}: its {axis} axis has tick labels {ticks}")
            axes[axis] = (label, len(ticks))
        series = {}
        for g in driver.find("g.series", figure):
            stated = int(driver.attribute(g, "data-points"))
            line = driver.attribute(driver.find("polyline", g)[0], "points").split()
            dots = driver.find("circle", g)
            if len(line) != stated or (dots and len(dots) != stated):
                fail(f"chart {name}: series states {stated} points, draws {len(line)} vertices and {len(dots)} dots")
            series[driver.attribute(g, "data-name")] = stated
        charts[name] = {"axes": axes, "series": series, "figure": figure}
    png = base64.b64decode(driver.call("GET", "/screenshot"))  # before the pointer moves over anything
    screenshot.write_bytes(png)
    readout = None
    if javascript and charts:
        first = next(iter(charts.values()))["figure"]
        svg = driver.find("svg", first)[0]
        move = {"type": "pointerMove", "duration": 0, "origin": {ELEMENT: svg}, "x": 0, "y": 0}
        driver.call("POST", "/actions", {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                                                      "actions": [move]}]})
        readout = driver.text(driver.find(".readout", first)[0])
    console = [entry for entry in driver.call("POST", "/se/log", {"type": "browser"}) if entry["level"] == "SEVERE"]
    text = driver.text(body)
    driver.stop()
    return charts, console, readout, text, png


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page", type=pathlib.Path)
    parser.add_argument("screenshot", type=pathlib.Path)
    parser.add_argument("--chart", action="append", default=[], help="ID=XLABEL:SERIES=N,SERIES=N")
    parser.add_argument("--charts", type=int, help="how many charts the page has in all")
    parser.add_argument("--text", action="append", default=[])
    args = parser.parse_args()
    chromedriver = shutil.which("chromedriver")
    if not pathlib.Path(CHROMIUM).exists() or not chromedriver:
        print("check_report_in_browser: Chromium or chromedriver is not installed (Debian's chromium and "
              "chromium-driver; third_party/install_deps.sh installs them)")
        sys.exit(77)

    port = free_port()
    server = subprocess.Popen([chromedriver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        driver = WebDriver(port)
        for _ in range(100):
            try:
                if driver.call("GET", "/status")["ready"]:
                    break
            except OSError:
                time.sleep(0.1)
        seen, console, readout, _, png = look(driver, args.page, True, args.screenshot)
        nojs_shot = args.screenshot.with_name(args.screenshot.stem + ".nojs.png")
        seen_nojs, console_nojs, _, text_nojs, png_nojs = look(driver, args.page, False, nojs_shot)
    finally:
        server.terminate()
        server.wait()

    for entry in console + console_nojs:
        fail(f"console error: {entry['message']}")
    for expected in args.chart:
        name, _, rest = expected.partition("=")
        x_label, _, series_text = rest.partition(":")
        want = {s.split("=")[0]: int(s.split("=")[1]) for s in series_text.split(",") if s}
        for label, charts in (("JavaScript on", seen), ("JavaScript off", seen_nojs)):
            if name not in charts:
                fail(f"{label}: no chart {name} among {sorted(charts)}")
            chart = charts[name]
            if chart["axes"]["x"][0] != x_label:
                fail(f"{label}: chart {name}'s x axis is titled {chart['axes']['x'][0]!r}, not {x_label!r}")
            if chart["series"] != want:
                fail(f"{label}: chart {name} has series {chart['series']}, expected {want}")
        axes = seen[name]["axes"]
        print(f"{name}: x axis '{axes['x'][0]}' with {axes['x'][1]} ticks, y axis '{axes['y'][0]}' with {axes['y'][1]} ticks; "
              + ", ".join(f"{s} {n} points" for s, n in seen[name]["series"].items()))
    if args.charts is not None and len(seen) != args.charts:
        fail(f"the page has {len(seen)} charts ({sorted(seen)}), expected {args.charts}")
    if sorted(seen) != sorted(seen_nojs):
        fail(f"charts differ with JavaScript off: {sorted(seen)} and {sorted(seen_nojs)}")
    if not readout or ":" not in readout:
        fail(f"pointing at the first chart shows {readout!r} in its readout")
    print(f"pointer on the first chart reads: {readout}")
    for text in args.text:
        if text not in text_nojs:
            fail(f"with JavaScript off the page does not read {text!r}")
    if png != png_nojs:
        fail(f"the page looks different with JavaScript off (see {args.screenshot} and {nojs_shot})")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    print(f"{len(seen)} charts, no console errors, the same {width}x{height} screenshot with JavaScript off: {args.screenshot}")


if __name__ == "__main__":
    main()
