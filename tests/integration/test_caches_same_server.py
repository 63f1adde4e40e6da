"""mod_cache on the same server as the module (CacheEnable disk on the origin itself): the
module keeps its answers out of it, and the setup README gives.

Measured before the module did (README): mod_cache stored the module's whole-file 200s and its
cuts (given a lifetime by README's recipe), never a capped 206 (Cache-Control: private), and
served its hits itself, in the quick handler (CacheQuickHandler On, the default) or as the
first handler (Off) alike: the module did not run, so the piece window was not applied (an open
range got the rest of the file) and nothing was counted. Now an answer of the module under
CacheEnable is not stored (r->no_cache, with one AS0027 warning per child), so every request
reaches the module either way; with CacheDisable on the module's path (the right setup) there
is no warning, and the rest of the site is still cached.
"""
import os
import tempfile
import unittest

from caches import DAY_AGO, MEDIA, PIECE, log_rows, make_mp3, origin_httpd
from harness import request, write_file

MODULES = ("mime", "headers", "cache", "cache_disk", "socache_shmcb")
LOG_FORMAT = (r"%r\t%{Range}i\t%>s\t%b\t%{X-Cache}o\t%{AUDIO_KIND}e\t%{AUDIO_STATE}e"
              r"\t%{User-Agent}i")
OTHER = b"a page that is not audio\n"


class SameServerCase(unittest.TestCase):
    """The module and mod_cache in one httpd, AudioStreamStats On, a 64 KiB piece."""

    quick_handler = "On"
    cache_conf = "CacheEnable disk /audio/\n"

    @classmethod
    def setUpClass(cls):
        cls.server = origin_httpd(MODULES, "AudioStreamStats On\n", LOG_FORMAT)
        cache_root = os.path.join(cls.server.root, "cache")
        os.makedirs(cache_root)
        os.chmod(cache_root, 0o777)  # the workers (nobody) write it
        cls.server.extra_conf += (
            f"CacheRoot {cache_root}\nCacheQuickHandler {cls.quick_handler}\n"
            "CacheHeader on\nCacheMaxFileSize 16000000\n" + cls.cache_conf)
        with tempfile.TemporaryDirectory() as work:
            cls.original = make_mp3(os.path.join(work, "a.mp3"), 440)
        other = os.path.join(cls.server.docroot, "other.txt")
        write_file(other, OTHER)
        os.utime(other, (DAY_AGO, DAY_AGO))  # fresh for a while by mod_cache's heuristic
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def setUp(self):
        self.server.mark_log()
        self.sent = 0
        self.path = f"/audio/{self._testMethodName}.mp3"
        path = os.path.join(self.server.docroot, self.path.lstrip("/"))
        write_file(path, self.original)
        os.utime(path, (DAY_AGO, DAY_AGO))

    expected = ()  # error-log lines the class expects

    def tearDown(self):
        self.assertEqual(self.server.unexpected_log_lines(self.expected), [], "unexpected error-log lines")

    def get(self, path, headers=(), listener="Listener/1.0"):
        self.sent += path.startswith(self.path)
        return request(self.server.port, "GET", path, list(headers) + [("User-Agent", listener)])

    def logged(self):
        """(X-Cache, AUDIO_KIND, AUDIO_STATE) of each request this test made for its file, once
        all are in the access log."""
        rows = log_rows(os.path.join(self.server.root, "access.log"), self.path, self.sent)
        return [(row[4].split()[0], row[5], row[6]) for row in rows]

    def assert_window(self, resp, first, data):
        self.assertEqual((resp.status, resp.header("Cache-Control")), (206, "private"))
        self.assertEqual(resp.header("Content-Range"),
                         f"bytes {first}-{first + PIECE - 1}/{len(data)}")
        self.assertTrue(resp.body == data[first:first + PIECE])

    def fill(self, path):
        """Asks for path until mod_cache answers from its store (at most three times; with
        CacheQuickHandler Off the entity is found one request later); the last answer."""
        for _ in range(3):
            r = self.get(path)
            if (r.header("X-Cache") or "").startswith("HIT"):
                return r
        self.fail(f"{path} never came from the cache: {r.headers}")


class CachedScenarios:
    """CacheEnable over the module's path: nothing of the module's is stored, and each child
    says so once."""

    expected = (r"AS0027: mod_cache is enabled for /audio/\w+\.mp3 \(CacheEnable\)",)

    def test_capped_window_is_never_stored(self):
        for _ in range(2):
            r = self.get(self.path, [("Range", "bytes=0-"), MEDIA])
            self.assert_window(r, 0, self.original)
            self.assertTrue(r.header("X-Cache").startswith("MISS"), r.headers)
        self.assertEqual(self.logged(), [("MISS", "range", "partial")] * 2)

    def test_every_request_reaches_the_module(self):
        for _ in range(3):
            r = self.get(self.path)
            self.assertTrue(r.body == self.original)
            self.assertTrue(r.header("X-Cache").startswith("MISS"), r.headers)
        media = self.get(self.path, [("Range", "bytes=0-"), MEDIA], listener="Player/2.0")
        self.assert_window(media, 0, self.original)
        download = self.get(self.path, listener="Downloader/3.0")
        self.assertTrue(download.body == self.original)
        rows = self.logged()
        self.assertEqual(rows[:3], [("MISS", "full", "counted")] + [("MISS", "full", "dup")] * 2)
        # Two listeners one after the other: httpd may log the second first.
        self.assertEqual(sorted(rows[3:]), [("MISS", "full", "counted"), ("MISS", "range", "partial")])

    def test_a_cut_is_made_by_the_module_every_time(self):
        cuts = [self.get(self.path + "?t=10") for _ in range(3)]
        self.assertEqual([c.status for c in cuts], [200] * 3)
        self.assertEqual(cuts[0].header("Cache-Control"), "public, max-age=86400")
        self.assertTrue(all(c.body == cuts[0].body and c.header("ETag") == cuts[0].header("ETag")
                            for c in cuts))
        self.assertEqual([row[:2] for row in self.logged()], [("MISS", "cut")] * 3)

    def test_the_warning_names_the_fix_once_per_child(self):
        self.get(self.path)
        self.logged()
        lines = [l for l in self.server.read_all_logs().splitlines() if "AS0027" in l]
        self.assertGreaterEqual(len(lines), 1)
        self.assertLessEqual(len(lines), len(self.server.children()) + 1, lines)
        self.assertIn("add CacheDisable for this path", lines[0])


class DisabledScenarios:
    """CacheEnable for the site, CacheDisable for the module's path: the setup README gives."""

    def test_every_request_reaches_the_module(self):
        for _ in range(3):
            self.assertTrue(self.get(self.path).body == self.original)
        r = self.get(self.path, [("Range", "bytes=0-"), MEDIA], listener="Player/2.0")
        self.assert_window(r, 0, self.original)
        self.assertIsNone(r.header("X-Cache"))
        self.assertEqual(self.logged(), [("-", "full", "counted")] + [("-", "full", "dup")] * 2
                         + [("-", "range", "partial")])

    def test_cuts_are_built_by_the_module_every_time(self):
        first, second = self.get(self.path + "?t=10"), self.get(self.path + "?t=10")
        self.assertEqual((first.status, second.status), (200, 200))
        self.assertEqual(first.header("Cache-Control"), "public, max-age=86400")
        self.assertTrue(first.body == second.body)
        self.assert_window(self.get(self.path + "?t=10", [("Range", "bytes=0-"), MEDIA]), 0,
                           first.body)
        self.assertEqual([row[:2] for row in self.logged()], [("-", "cut")] * 3)

    def test_the_rest_of_the_site_is_still_cached(self):
        hit = self.fill("/other.txt")
        self.assertEqual(hit.body, OTHER)


class QuickHandlerOverTheModule(CachedScenarios, SameServerCase):
    quick_handler = "On"


class NormalHandlerOverTheModule(CachedScenarios, SameServerCase):
    quick_handler = "Off"


DISABLED = "CacheEnable disk /\nCacheDisable /audio/\n"


class QuickHandlerWithTheModuleDisabled(DisabledScenarios, SameServerCase):
    quick_handler = "On"
    cache_conf = DISABLED


class NormalHandlerWithTheModuleDisabled(DisabledScenarios, SameServerCase):
    quick_handler = "Off"
    cache_conf = DISABLED
