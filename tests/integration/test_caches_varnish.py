"""Varnish 7.1 in front of the module: its builtin VCL, and a VCL that caches partial answers
per Range string as some CDNs do (CloudFront). varnishd runs in the foreground with a private
working directory under the class's scratch directory."""
import os
import subprocess

from caches import (DAY_AGO, MEDIA, PIECE, RESUME_AT, SECONDS, CacheCase, Scenarios, make_mp3,
                    run, stop_process, wait_for_port)
from harness import free_port, write_file

BACKEND = """vcl 4.1;

backend default {
    .host = "127.0.0.1";
    .port = "%d";
}
"""

def per_range_vcl(carried=("Range", "If-Range")):
    """VCL that stores partial answers per Range string, as some CDNs do.

    Varnish drops Range and If-Range from a miss's fetch and asks for the whole object; this
    carries the `carried` headers to the origin (under X- names through vcl_recv, where Varnish
    would drop them) and hashes them, so each Range string is an object of its own (a 206 is
    stored for an hour: Varnish gives 206 no heuristic TTL). Builtin VCL still runs after it:
    a Cache-Control: private answer is not stored. Varnish checks a 206 against the Range of
    the fetch as the client asked it, before VCL, which had none ("Unexpected content-range
    header": a 503), so Content-Range is kept under another name in the stored object and
    given back on delivery."""
    recv = "".join(f"    unset req.http.X-{h};\n    if (req.http.{h}) {{\n"
                   f"        set req.http.X-{h} = req.http.{h};\n    }}\n" for h in carried)
    hashed = "".join(f"    hash_data(req.http.X-{h});\n" for h in carried)
    fetch = "".join(f"    if (bereq.http.X-{h}) {{\n        set bereq.http.{h} = bereq.http.X-{h};\n"
                    f"    }}\n    unset bereq.http.X-{h};\n" for h in carried)
    return f"""
sub vcl_recv {{
{recv}}}

sub vcl_hash {{
{hashed}}}

sub vcl_backend_fetch {{
{fetch}}}

sub vcl_backend_response {{
    if (beresp.status == 206) {{
        set beresp.ttl = 1h;
        set beresp.http.X-Content-Range = beresp.http.Content-Range;
        unset beresp.http.Content-Range;
    }}
}}

sub vcl_deliver {{
    if (resp.http.X-Content-Range) {{
        set resp.http.Content-Range = resp.http.X-Content-Range;
        unset resp.http.X-Content-Range;
    }}
}}
"""


class VarnishCase(CacheCase):
    vcl = ""
    params = ()

    @classmethod
    def start_cache(cls):
        cls.cache_port = free_port()
        vcl = os.path.join(cls.scratch, "audio.vcl")
        write_file(vcl, ((BACKEND % cls.origin.port) + cls.vcl).encode())
        cls.varnish_log = open(os.path.join(cls.scratch, "varnishd.log"), "w")
        # -F: in the foreground, so that stopping it stops the manager and its child.
        cls.varnish = subprocess.Popen(
            ["varnishd", "-F", "-n", os.path.join(cls.scratch, "varnish"), "-a",
             f"127.0.0.1:{cls.cache_port}", "-T", "127.0.0.1:0", "-f", vcl, "-s", "malloc,64m",
             *[a for p in cls.params for a in ("-p", p)]],
            stdout=cls.varnish_log, stderr=subprocess.STDOUT)
        wait_for_port(cls.cache_port, cls.varnish, "varnishd")

    @classmethod
    def stop_cache(cls):
        stop_process(cls.varnish)
        cls.varnish_log.close()

    def is_hit(self, resp):
        # X-Varnish: this request's id, and the id of the one that stored the object.
        return len((resp.header("X-Varnish") or "").split()) == 2


class VarnishBuiltin(Scenarios, VarnishCase):
    """vcl 4.1 with a backend and nothing else."""

    replaced_outcome = "old"

    def test_a_miss_fetches_the_whole_file_without_range(self):
        """The media element's open range reaches the origin as a plain GET of the whole file:
        no piece window there (and, with AudioStreamStats, the origin sees one full download by
        the cache); later ranges of any kind are cut from the stored file by Varnish."""
        r = self.via(self.path, [("Range", "bytes=0-"), MEDIA])
        self.assertEqual(r.status, 206)
        self.assertEqual(r.body, self.original, "Varnish answers the open range to the end")
        self.assertIsNone(r.header("Cache-Control"))
        again = self.via(self.path, [("Range", f"bytes={PIECE}-"), MEDIA])
        self.assertEqual((again.status, again.body), (206, self.original[PIECE:]))
        self.assertTrue(self.is_hit(again))
        fetches = self.origin_log(1)
        self.assertEqual([(f[0].split()[0], f[1], f[3]) for f in fetches], [("GET", "-", "200")])


class VarnishPerRange(Scenarios, VarnishCase):
    """Partial answers stored per Range (and If-Range) string."""

    vcl = per_range_vcl()
    replaced_outcome = "refused"

    def test_capped_window_is_not_stored_and_exact_ranges_are(self):
        capped = [("Range", f"bytes={PIECE}-"), MEDIA]
        first, second = self.via(self.path, capped), self.via(self.path, capped)
        for r in (first, second):
            self.assertEqual(r.header("Content-Range"),
                             f"bytes {PIECE}-{2 * PIECE - 1}/{len(self.original)}")
            self.assertEqual(r.header("Cache-Control"), "private")
            self.assertEqual(r.body, self.original[PIECE:2 * PIECE])
        self.assertFalse(self.is_hit(second), "a capped 206 is not served from the cache")
        exact = [("Range", f"bytes={PIECE}-{2 * PIECE - 1}")]
        self.via(self.path, exact)
        hit = self.via(self.path, exact)
        self.assertTrue(self.is_hit(hit), "an exact 206 is stored")
        self.assertEqual(hit.body, self.original[PIECE:2 * PIECE])
        # The same Range string from a download tool reaches the origin, which sends it whole.
        tool = self.via(self.path, [("Range", f"bytes={PIECE}-")])
        self.assertEqual((tool.status, tool.body), (206, self.original[PIECE:]))


class VarnishCounting(VarnishCase):
    """What an origin that counts (AudioStreamStats On, mod_remoteip trusting the cache's
    X-Forwarded-For) sees behind the builtin VCL: the cache's fills, not the listeners."""

    origin_modules = ("mime", "headers", "socache_shmcb", "remoteip")
    origin_conf = ("AudioStreamStats On\nRemoteIPHeader X-Forwarded-For\n"
                   "RemoteIPInternalProxy 127.0.0.1\n")

    def test_origin_counts_the_fill_not_the_listeners(self):
        # A player that takes the first piece makes Varnish fetch the whole file: the origin
        # counts a download for that player, by the address the cache forwarded.
        piece = self.via(self.path, [("Range", f"bytes=0-{PIECE - 1}"), MEDIA,
                                     ("User-Agent", "Player/1.0"),
                                     ("X-Forwarded-For", "203.0.113.7")])
        self.assertEqual((piece.status, piece.body), (206, self.original[:PIECE]))
        # Two more listeners download it whole from the cache: the origin never hears of them.
        for agent, address in (("Listener/2.0", "203.0.113.8"), ("Listener/3.0", "203.0.113.9")):
            r = self.via(self.path, [("User-Agent", agent), ("X-Forwarded-For", address)])
            self.assertTrue(self.is_hit(r) and r.body == self.original)
        seen = [(f[1], f[3], f[6], f[7], f[8]) for f in self.origin_log(1)]
        self.assertEqual(seen, [("-", "200", "203.0.113.7", "Player/1.0", "counted")])


class VarnishPerRangeWithoutIfRange(VarnishCase):
    """The same cache carrying Range but not If-Range: why README says it must carry both."""

    vcl = per_range_vcl(carried=("Range",))

    def test_a_resume_across_a_replaced_file_joins_two_versions(self):
        """The origin never sees the resuming client's If-Range, so it cannot tell that the
        client holds the old version: it answers the range of the new one, and curl appends
        it to the old bytes with no error. Each answer was one version; the file is two."""
        self.partial(self.original)
        old_etag = self.direct(self.path).header("ETag")
        new = make_mp3(self.file, 660, SECONDS + 3, DAY_AGO + 3600)
        r = run(["curl", "-sS", "-C", "-", "-H", f"If-Range: {old_etag}", "-o", "out.mp3",
                 self.url()], self.work)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.downloaded() == self.original[:RESUME_AT] + new[RESUME_AT:],
                        "the old file's start and the new file's rest")
        fetch = self.origin_log(2)[-1]
        self.assertEqual((fetch[1], fetch[2], fetch[3]), (f"bytes={RESUME_AT}-", "-", "206"))
