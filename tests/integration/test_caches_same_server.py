"""mod_cache on the same server as the module (CacheEnable disk on the origin itself): what a
hit skips, and the setup that keeps the module's paths out of the cache.

Measured here: mod_cache stores the module's whole-file 200s and its cuts (given a lifetime by
README's recipe), never a capped 206 (Cache-Control: private). A hit is served by mod_cache
itself, in the quick handler (CacheQuickHandler On, the default) or as the first handler (Off)
alike: the module does not run, so the piece window is not applied (an open range gets the
rest of the file), and nothing is counted (the AUDIO_* variables stay unset). With
CacheDisable on the module's path every request reaches it, while the rest of the site is
still cached.
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

    def tearDown(self):
        self.assertEqual(self.server.unexpected_log_lines(), [], "unexpected error-log lines")

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
    """CacheEnable over the module's path: the facts the module docstring states."""

    def test_capped_window_is_never_stored(self):
        for _ in range(2):
            r = self.get(self.path, [("Range", "bytes=0-"), MEDIA])
            self.assert_window(r, 0, self.original)
            self.assertTrue(r.header("X-Cache").startswith("MISS"), r.headers)
        self.assertEqual(self.logged(), [("MISS", "range", "partial")] * 2)

    def test_a_hit_skips_the_window_and_the_count(self):
        hit = self.fill(self.path)
        self.assertTrue(hit.body == self.original)
        media = self.get(self.path, [("Range", "bytes=0-"), MEDIA], listener="Player/2.0")
        self.assertEqual((media.status, media.header("X-Cache")[:3]), (206, "HIT"))
        self.assertEqual(media.header("Content-Range"),
                         f"bytes 0-{len(self.original) - 1}/{len(self.original)}",
                         "the whole rest of the file, not a piece")
        self.assertIsNone(media.header("Cache-Control"))
        download = self.get(self.path, listener="Downloader/3.0")
        self.assertTrue(download.body == self.original)
        # Only the requests that reached the module were seen by it: the others' variables are
        # unset, and the second and third listeners' downloads are counted nowhere.
        rows = self.logged()
        self.assertEqual(rows[0], ("MISS", "full", "counted"))
        self.assertEqual(rows[-3:], [("HIT", "-", "-")] * 3)
        self.assertTrue(all(row[1:] == ("-", "-") for row in rows if row[0] == "HIT"))

    def test_a_cut_is_stored_and_served_without_the_module(self):
        first = self.get(self.path + "?t=10")
        self.assertEqual(first.header("Cache-Control"), "public, max-age=86400")
        hit = self.fill(self.path + "?t=10")
        self.assertEqual((hit.header("ETag"), hit.body), (first.header("ETag"), first.body))
        media = self.get(self.path + "?t=10", [("Range", "bytes=0-"), MEDIA])
        self.assertEqual(media.header("Content-Range"),
                         f"bytes 0-{len(first.body) - 1}/{len(first.body)}")
        self.assertEqual(self.logged()[-1], ("HIT", "-", "-"))


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
