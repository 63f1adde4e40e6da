"""Apache as a caching reverse proxy in front of the module: a second private httpd, without
it, with mod_proxy_http, mod_cache and mod_cache_disk (CacheRoot in its own directory), once
with the cache in the quick handler (httpd's default) and once as a normal handler."""
import os

from caches import CacheCase, MEDIA, Scenarios
from harness import Httpd

FRONT_MODULES = ("proxy", "proxy_http", "cache", "cache_disk")


class ProxyCacheCase(CacheCase):
    quick_handler = "On"

    @classmethod
    def start_cache(cls):
        cls.front = Httpd(module=None, modules=FRONT_MODULES, log_level="warn")
        cache_root = os.path.join(cls.front.root, "cache")
        os.makedirs(cache_root)
        os.chmod(cache_root, 0o777)  # the workers (nobody) write it
        cls.front.extra_conf = (
            f"ProxyPass /audio/ http://127.0.0.1:{cls.origin.port}/audio/\n"
            f"CacheRoot {cache_root}\n"
            "CacheEnable disk /audio/\n"
            f"CacheQuickHandler {cls.quick_handler}\n"
            # X-Cache: HIT, MISS or REVALIDATE, and why.
            "CacheHeader on\n"
            # The default (1,000,000 bytes) is less than the file.
            "CacheMaxFileSize 16000000\n")
        cls.front.start()
        cls.cache_port = cls.front.port

    @classmethod
    def stop_cache(cls):
        cls.front.cleanup()

    def setUp(self):
        super().setUp()
        self.front.mark_log()

    def tearDown(self):
        super().tearDown()
        self.assertEqual(self.front.unexpected_log_lines(), [], "unexpected proxy log lines")

    def is_hit(self, resp):
        return (resp.header("X-Cache") or "").startswith("HIT")


class ProxyScenarios:
    def test_capped_window_is_not_stored(self):
        """The media element's 206 (private) is passed on and never answers a later request;
        the whole file, stored once fetched, answers the media element from byte 0 whole."""
        capped = [("Range", "bytes=0-"), MEDIA]
        for _ in range(2):
            r = self.via(self.path, capped)
            self.assertEqual((r.status, r.header("Cache-Control")), (206, "private"))
            self.assertFalse(self.is_hit(r), r.headers)
        self.assertTrue(self.via(self.path).body == self.original)
        hit = self.via(self.path, capped)
        self.assertTrue(self.is_hit(hit), hit.headers)
        self.assertEqual((hit.status, hit.header("Content-Range")),
                         (206, f"bytes 0-{len(self.original) - 1}/{len(self.original)}"))
        self.assertTrue(hit.body == self.original)


class ProxyCacheQuickHandler(Scenarios, ProxyScenarios, ProxyCacheCase):
    quick_handler = "On"
    replaced_outcome = "refused"


class ProxyCacheNormalHandler(Scenarios, ProxyScenarios, ProxyCacheCase):
    quick_handler = "Off"
    replaced_outcome = "refused"
