"""scripts/audio-stream-report: the HTML page it makes of audiostats log lines (no httpd needed).

The log is written here, line by line, with mod_log_config's escaping: four UTC days of which
the second has no line at all, three files (one whose path holds <script>, a quote, "&amp;" and
UTF-8), probes, bots, an Apple Watch, duplicates, partial listens, an IPv6 listener, a User-Agent
with an escaped quote and backslash, an absent User-Agent, and eight lines that are not
audiostats lines. The expected figures are worked out by hand beside the lines (LOG below), not
recomputed. The page is read with html.parser, and once by headless Chromium (--dump-dom).
"""
import collections
import gzip
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import REPO, chromium_dump_dom

SCRIPT = os.path.join(REPO, "scripts", "audio-stream-report")
CHROMIUM_TIMEOUT = 90

DAY_A, DAY_B, DAY_C, DAY_D = 1709251200, 1709337600, 1709424000, 1709510400  # 2024-03-01..04
EP1, EP2 = "/audio/ep1.mp3", "/audio/ep2.mp3"
ODD = '/audio/<script>alert("x")</script>&amp; caf\u00e9.mp3'
# Listeners: (IP, User-Agent); None is an absent header.
L1 = ("192.0.2.1", "Mozilla/5.0 Firefox/125.0")
L2 = ("2001:db8::1", "AppleCoreMedia/1.0.0")
L3 = ("192.0.2.1", 'Castro "Beta" \\ 2.0')  # L1's address, another User-Agent: another listener
BOT = ("198.51.100.7", "Googlebot/2.1")
WATCH = ("198.51.100.8", "atc/1.0 watchOS/10.4")
NO_UA = ("203.0.113.5", None)
PRIVATE = ("192.0.2.1", "2001:db8", "198.51.100", "203.0.113", "Firefox", "AppleCoreMedia",
           "Castro", "Googlebot", "atc/1.0")


CONTROLS = {"\b": "\\b", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def log_escape(text):
    """ap_escape_logitem's escaping: \\" \\\\ \\t (and \\b \\n \\r \\v), \\xhh for other bytes."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        out.append("\\" + char if char in '"\\' else CONTROLS.get(char) or
                   (char if 32 <= byte < 127 else f"\\x{byte:02x}"))
    return "".join(out)


def line(sec, who, path, status, kind, sent, client, state, download):
    ip, agent = who
    return (f'{sec} {ip} "{log_escape(path)}" {status} {kind} {sent} 0.000-60.000 1048576 '
            f'{client} {state} {download} "{"-" if agent is None else log_escape(agent)}"')


# Columns: downloads, unique listeners, requests, probes filtered, bots filtered, bytes sent.
LOG = [
    # Day A, EP1: [2 downloads, 3 listeners (L1 L2 L3), 6 requests, 1 probe, 1 bot, 12197154]
    line(DAY_A + 10, L1, EP1, 206, "probe", "0-1/5000000", "ok", "ignored", "-"),
    line(DAY_A + 11, L1, EP1, 206, "range", "0-1048575/5000000", "ok", "counted", "1"),
    line(DAY_A + 12, L1, EP1, 206, "range", "1048576-2097151/5000000", "ok", "dup", "-"),
    line(DAY_A + 20, L2, EP1, 200, "full", "0-4999999/5000000", "ok", "counted", "1"),
    line(DAY_A + 30, L3, EP1, 206, "range", "0-99999/5000000", "ok", "partial", "-"),
    line(DAY_A + 40, BOT, EP1, 200, "full", "0-4999999/5000000", "bot", "ignored", "-"),
    # Day A, EP2: [1, 1 (L2), 5, 0, 1 (the watch), 2048776]
    line(DAY_A + 50, WATCH, EP2, 206, "range", "0-1048575/3000000", "watchos", "ignored", "-"),
    line(DAY_A + 60, L1, EP2, 200, "head", "-", "ok", "ignored", "-"),
    line(DAY_A + 70, L2, EP2, 206, "range", "0-99,200-299/3000000", "ok", "partial", "-"),
    line(DAY_A + 71, L2, EP2, 206, "range", "0-999999/3000000", "ok", "counted", "1"),
    line(DAY_A + 80, NO_UA, EP2, 304, "notmod", "-", "none", "ignored", "-"),
    # Day B: nothing. Day C: EP1 [1, 1, 1, 0, 0, 5000000], EP2 [1, 1, 1, 0, 0, 3000000],
    # ODD [2, 2 (L2, NO_UA), 3, 1, 1, 2097154]; the day [4, 3 (L1 L2 NO_UA), 5, 1, 1, 10097154]
    line(DAY_C + 5, L1, EP1, 200, "full", "0-4999999/5000000", "ok", "counted", "1"),
    line(DAY_C + 6, L1, EP2, 200, "full", "0-2999999/3000000", "ok", "counted", "1"),
    line(DAY_C + 7, L2, ODD, 206, "range", "0-1048575/2000000", "ok", "counted", "1"),
    line(DAY_C + 8, NO_UA, ODD, 206, "range", "0-1048575/2000000", "none", "counted", "1"),
    line(DAY_C + 86399, BOT, ODD, 206, "probe", "0-1/2000000", "bot", "ignored", "-"),
    # Day D, from its first second to its last: EP1 [1, 1, 2, 0, 0, 5000001]
    line(DAY_D, L3, EP1, 200, "cut", "0-4999999/5000000", "ok", "counted", "1"),
    line(DAY_D + 86399, L3, EP1, 206, "range", "0-0/5000000", "ok", "dup", "-"),
]
SKIPPED = [
    "garbage",
    "",
    '192.0.2.1 - - [01/Mar/2024:00:00:00 +0000] "GET /audio/ep1.mp3 HTTP/1.1" 200 5000000 "-" "x"',
    '127.0.0.1 "GET /audio/ep1.mp3 HTTP/1.1" 206 1024',  # harness's access log format
    line(DAY_A, L1, EP1, 200, "stream", "0-9/10", "ok", "counted", "1"),  # unknown kind
    line(DAY_A, ("999.1.1.1", "x"), EP1, 200, "full", "0-9/10", "ok", "counted", "1"),
    line(DAY_A, L1, EP1, 206, "range", "5-3/10", "ok", "partial", "-"),  # ends before it starts
    line(DAY_A, L1, EP1, 206, "range", "0-9/10", "ok", "partial", "-")[:40],  # cut short
]
LINES = LOG[:9] + SKIPPED[:4] + LOG[9:] + SKIPPED[4:]

BY_DAY = {"2024-03-01": [3, 3, 11, 1, 2, 14245930], "2024-03-02": [0, 0, 0, 0, 0, 0],
          "2024-03-03": [4, 3, 5, 1, 1, 10097154], "2024-03-04": [1, 1, 2, 0, 0, 5000001]}
OVERALL = [8, 4, 18, 2, 3, 29343085]
BY_FILE = {EP1: [4, 3, 9, 1, 1, 22197155], EP2: [2, 2, 6, 0, 1, 5048776],
           ODD: [2, 2, 3, 1, 1, 2097154]}
BY_DAY_AND_FILE = {
    "2024-03-01": {EP1: [2, 3, 6, 1, 1, 12197154], EP2: [1, 1, 5, 0, 1, 2048776]},
    "2024-03-03": {EP1: [1, 1, 1, 0, 0, 5000000], EP2: [1, 1, 1, 0, 0, 3000000],
                   ODD: [2, 2, 3, 1, 1, 2097154]},
    "2024-03-04": {EP1: [1, 1, 2, 0, 0, 5000001]},
}
BAR_TITLES = ["2024-03-01: 3 downloads", "2024-03-02: 0 downloads", "2024-03-03: 4 downloads",
              "2024-03-04: 1 download"]
TITLE = "Downloads <b>&</b> more"


class Page(html.parser.HTMLParser):
    """What the tests read of a page: its tables, the SVG's rects, each tag's count, the text
    of the element with id="lines", and all the text."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tables, self.rects, self.tags = [], [], collections.Counter()
        self.lines_text, self.text = "", []
        self._cell = self._row = self._part = self._rect = None
        self._in_lines = self._in_rect_title = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] += 1
        if tag == "table":
            self.tables.append({"class": attrs.get("class"), "day": attrs.get("data-day"),
                                "thead": [], "tbody": [], "tfoot": []})
        elif tag in ("thead", "tbody", "tfoot"):
            self._part = self.tables[-1][tag]
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "rect":
            self._rect = {"attrs": attrs, "title": ""}
            self.rects.append(self._rect)
        elif tag == "title" and self._rect is not None:
            self._in_rect_title = True
        elif tag == "p" and attrs.get("id") == "lines":
            self._in_lines = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._part.append(self._row)
        elif tag == "rect":
            self._rect = None
        elif tag == "title":
            self._in_rect_title = False
        elif tag == "p":
            self._in_lines = False

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._in_rect_title:
            self._rect["title"] += data
        if self._in_lines:
            self.lines_text += data

    def table(self, css_class, day=None):
        """({first cell: figures} of the body rows in order, the footer's figures)."""
        found = [t for t in self.tables if t["class"] == css_class and t["day"] == day]
        assert len(found) == 1, f"{len(found)} tables of class {css_class} day {day}"
        rows = {row[0]: figures(row) for row in found[0]["tbody"]}
        return rows, figures(found[0]["tfoot"][0])

    def bars(self):
        return [r for r in self.rects if r["attrs"].get("class") == "bar"]


def figures(row):
    return [int(cell.replace(",", "")) for cell in row[1:]]


def run_report(args, stdin=None):
    """Runs the script in a far-off time zone (the days must be UTC's all the same)."""
    env = dict(os.environ, TZ="Pacific/Kiritimati")
    return subprocess.run([sys.executable, SCRIPT, *args], input=stdin, capture_output=True,
                          env=env, timeout=60)


class ListenersTest(unittest.TestCase):
    """Who a listener is: the key the module logs (AUDIO_LISTENER), "-" for a duplicate it
    answered from memory, or in older logs with %a the address (an IPv6 one cut to its /64)
    and the User-Agent."""

    def figures(self, lines):
        with tempfile.TemporaryDirectory(prefix="audio_stream_report_") as d:
            log = os.path.join(d, "access.log")
            with open(log, "w", encoding="ascii") as f:
                f.write("\n".join(lines) + "\n")
            result = run_report(["-o", os.path.join(d, "r.html"), log])
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(os.path.join(d, "r.html"), encoding="utf-8") as f:
                rows, overall = Page(f.read()).table("by-day")
        return rows, overall

    def test_two_addresses_of_one_slash64_are_one_listener(self):
        ua = "AppleCoreMedia/1.0.0"
        rows, _ = self.figures([
            line(DAY_A + 1, ("2001:db8:1:2::5", ua), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
            line(DAY_A + 2, ("2001:db8:1:2:ffff::9", ua), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
            line(DAY_A + 3, ("2001:db8:1:3::5", ua), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
            line(DAY_A + 4, ("::ffff:192.0.2.1", ua), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
            line(DAY_A + 5, ("192.0.2.1", ua), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
        ])
        self.assertEqual(rows["2024-03-01"][1], 3)

    def test_keys_are_listeners_and_a_remembered_dup_is_none(self):
        a, b = "0c86ff900d527ffe", "8637641c136083ca"
        rows, overall = self.figures([
            line(DAY_A + 1, (a, "App/1"), EP1, 200, "full", "0-4999999/5000000", "ok", "counted", "1"),
            line(DAY_A + 2, ("-", "App/1"), EP1, 206, "range", "0-99/5000000", "ok", "dup", "-"),
            line(DAY_A + 3, (a, "App/2"), EP2, 206, "range", "0-99/3000000", "ok", "partial", "-"),
            line(DAY_A + 4, (b, "App/1"), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
            line(DAY_C + 1, (a, "App/1"), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
            line(DAY_C + 2, ("0C86FF900D527FFE", "App/1"), EP1, 206, "range", "0-99/5000000", "ok", "partial", "-"),
        ])
        self.assertEqual(rows["2024-03-01"][:3], [1, 2, 4])  # a's User-Agent is in its key
        self.assertEqual(rows["2024-03-03"][:3], [0, 1, 1])  # an upper-case "key" is no line
        self.assertEqual(overall[1], 2)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="audio_stream_report_")
        cls.log = os.path.join(cls.dir, "access.log")
        with open(cls.log, "w", encoding="ascii") as f:
            f.write("\n".join(LINES) + "\n")
        cls.out = os.path.join(cls.dir, "report.html")
        cls.result = run_report(["-o", cls.out, "--title", TITLE, cls.log])
        with open(cls.out, encoding="utf-8") as f:
            cls.html = f.read()
        cls.page = Page(cls.html)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assert_figures(self, page):
        """The three summary tables and each day's, against the figures worked out by hand."""
        self.assertEqual(page.table("by-day"), (BY_DAY, OVERALL))
        self.assertEqual(list(page.table("by-day")[0]), sorted(BY_DAY), "days in order")
        self.assertEqual(page.table("by-file"), (BY_FILE, OVERALL))
        for day, files in BY_DAY_AND_FILE.items():
            self.assertEqual(page.table("day", day), (files, BY_DAY[day]), day)
        self.assertEqual(sorted(t["day"] for t in page.tables if t["class"] == "day"),
                         sorted(BY_DAY_AND_FILE), "a table for each day with lines, no other")

    def test_report_exit_status_and_stderr(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertEqual(self.result.stdout, b"", "the page goes to -o")
        self.assertIn(b"8 of 26 lines skipped", self.result.stderr)

    def test_report_figures_per_day_per_file_and_overall(self):
        self.assert_figures(self.page)

    def test_report_counts_lines_skipped(self):
        self.assertIn(f"lines read: {len(LINES)} from {self.log}", self.page.lines_text)
        self.assertIn(f"lines skipped: {len(SKIPPED)} ", self.page.lines_text)

    def test_report_chart_has_one_bar_a_day_in_proportion(self):
        self.assertEqual(self.page.tags["svg"], 1)
        bars = self.page.bars()
        self.assertEqual(len(bars), len(BY_DAY), "one bar a day, the empty day included")
        self.assertEqual(self.page.tags["rect"], len(bars), "no rect but the bars")
        self.assertEqual([b["title"] for b in bars], BAR_TITLES)
        num = [{k: float(b["attrs"][k]) for k in ("x", "y", "width", "height")} for b in bars]
        heights = [n["height"] for n in num]
        self.assertEqual(heights[1], 0.0, "the day without lines is a zero-height bar")
        self.assertAlmostEqual(heights[0] / heights[2], 3 / 4, places=3)
        self.assertAlmostEqual(heights[3] / heights[2], 1 / 4, places=3)
        self.assertEqual(len({round(n["y"] + n["height"], 2) for n in num}), 1, "one baseline")
        self.assertEqual(len({n["width"] for n in num}), 1, "equal widths")
        self.assertEqual([n["x"] for n in num], sorted(n["x"] for n in num), "days left to right")
        text = "".join(self.page.text)
        for label in ("03-01", "03-02", "03-03", "03-04", "UTC day", "Downloads"):
            self.assertIn(label, text)

    def test_report_escapes_strings_from_the_log(self):
        self.assertNotIn("<script", self.html.lower())
        self.assertEqual(self.page.tags["script"] + self.page.tags["b"], 0)
        self.assertIn(ODD, self.page.table("by-file")[0], "the path, read back exactly")
        self.assertIn("&amp;amp; caf\u00e9.mp3", self.html, "& escaped, UTF-8 from \\xhh")
        self.assertIn("<title>Downloads &lt;b&gt;&amp;&lt;/b&gt; more</title>", self.html)
        self.assertIn("<h1>Downloads &lt;b&gt;&amp;&lt;/b&gt; more</h1>", self.html)

    def test_report_never_prints_addresses_or_user_agents(self):
        for private in PRIVATE:
            self.assertNotIn(private, self.html)

    def test_report_is_self_contained_and_explains_the_method(self):
        for external in ("<link", "<img", "<iframe", "src=", "href=", "url(", "@import"):
            self.assertNotIn(external, self.html)
        self.assertEqual(self.html.count("http://") + self.html.count("https://"),
                         self.html.count('xmlns="http://www.w3.org/2000/svg"'))
        text = " ".join("".join(self.page.text).split())
        for words in ("IAB Podcast Measurement Technical Guidelines v2.3", "HEAD", "304",
                      "2-byte probes", "Apple Watch", "bots", "one minute of audio",
                      "per fixed UTC day"):
            self.assertIn(words, text)

    def test_report_reads_stdin_and_writes_stdout(self):
        lines = [line(DAY_B + 1, L2, "/audio/caf\u00e9\t\"x\".mp3", 200, "full", "0-9/10", "ok",
                      "counted", "1"), "garbage"]
        result = run_report(["-"], stdin=("\n".join(lines) + "\n").encode())
        self.assertEqual(result.returncode, 0, result.stderr)
        page = Page(result.stdout.decode("utf-8"))
        self.assertEqual(page.table("by-day"),
                         ({"2024-03-02": [1, 1, 1, 0, 0, 10]}, [1, 1, 1, 0, 0, 10]))
        self.assertEqual(page.table("by-file")[0], {"/audio/caf\u00e9\t\"x\".mp3":
                                                    [1, 1, 1, 0, 0, 10]})
        self.assertIn("lines read: 2 from stdin", page.lines_text)
        self.assertIn("lines skipped: 1 ", page.lines_text)
        self.assertEqual(len(page.bars()), 1)

    def test_report_reads_gzip_and_several_logs(self):
        plain = os.path.join(self.dir, "part1.log")
        packed = os.path.join(self.dir, "part2.log.gz")
        with open(plain, "w", encoding="ascii") as f:
            f.write("\n".join(LINES[:13]) + "\n")
        with gzip.open(packed, "wt", encoding="ascii") as f:
            f.write("\n".join(LINES[13:]) + "\n")
        out = os.path.join(self.dir, "two.html")
        result = run_report(["--output", out, plain, packed])
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(out, encoding="utf-8") as f:
            page = Page(f.read())
        self.assert_figures(page)
        self.assertIn(f"lines read: {len(LINES)} from {plain}, {packed}", page.lines_text)
        self.assertIn(f"lines skipped: {len(SKIPPED)} ", page.lines_text)

    def test_report_of_no_audiostats_line_is_a_page_without_chart(self):
        result = run_report(["-"], stdin=("\n".join(SKIPPED) + "\n").encode())
        self.assertEqual(result.returncode, 0, result.stderr)
        page = Page(result.stdout.decode("utf-8"))
        self.assertIn("No audiostats lines", page.lines_text)
        self.assertIn(f"lines skipped: {len(SKIPPED)} ", page.lines_text)
        self.assertEqual((page.tags["svg"], page.tags["table"]), (0, 0))

    def test_report_of_a_missing_log_fails_with_a_message(self):
        result = run_report([os.path.join(self.dir, "missing.log")])
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b"audio-stream-report: ", result.stderr)
        self.assertNotIn(b"Traceback", result.stderr)
        self.assertEqual(result.stdout, b"")

    def test_report_in_headless_chromium(self):
        done = chromium_dump_dom("file://" + self.out, timeout=CHROMIUM_TIMEOUT)
        if done is None:
            self.fail(f"chromium did not finish within {CHROMIUM_TIMEOUT} s")
        returncode, dom, err = done
        self.assertEqual(returncode, 0, err[-3000:])
        page = Page(dom)
        self.assertEqual(page.tags["svg"], 1, dom[:2000])
        self.assertEqual([b["title"] for b in page.bars()], BAR_TITLES)
        self.assertEqual(page.tags["rect"], len(BY_DAY))
        self.assertEqual(page.tags["script"], 0)
        self.assertIn(ODD, page.table("by-file")[0], "the browser read the path as text")
        self.assertTrue(re.search(r"lines skipped: 8\b", page.lines_text), page.lines_text)


if __name__ == "__main__":
    unittest.main()
