"""nginx in front of the module: proxy_cache with the slice module, which fetches the file in
1 MiB ranges of its own (every one a closed range, which the module answers exactly), stores
each slice apart and joins them, refusing to join slices whose ETags differ. nginx runs in
the foreground as one process, with its pid, logs, temporary files and cache in the class's
scratch directory."""
import os
import subprocess

from caches import CacheCase, Scenarios, stop_process, wait_for_port
from harness import free_port, write_file

SLICE = 1024 * 1024
CONF = """daemon off;
master_process off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{
    worker_connections 64;
}}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    proxy_cache_path {prefix}/cache keys_zone=audio:1m max_size=64m;
    server {{
        listen 127.0.0.1:{port};
        location /audio/ {{
            slice 1m;
            proxy_cache audio;
            proxy_cache_key $uri$is_args$args$slice_range;
            proxy_set_header Range $slice_range;
            proxy_cache_valid 200 206 1h;
            add_header X-Cache-Status $upstream_cache_status always;
            proxy_pass http://127.0.0.1:{origin};
        }}
    }}
}}
"""


class NginxSlice(Scenarios, CacheCase):
    # The slice holding RESUME_AT comes from the cache (the old file), the next from the origin
    # (the new one): nginx sees the ETags differ and stops.
    replaced_outcome = "cut short"
    after_replacement = ("cut short",)

    @classmethod
    def start_cache(cls):
        cls.cache_port = free_port()
        cls.prefix = os.path.join(cls.scratch, "nginx")
        os.makedirs(cls.prefix)
        conf = os.path.join(cls.prefix, "nginx.conf")
        write_file(conf, CONF.format(prefix=cls.prefix, port=cls.cache_port,
                                     origin=cls.origin.port).encode())
        cls.nginx = subprocess.Popen(
            ["nginx", "-p", cls.prefix, "-c", conf, "-e", os.path.join(cls.prefix, "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for_port(cls.cache_port, cls.nginx, "nginx")

    @classmethod
    def stop_cache(cls):
        stop_process(cls.nginx)

    def is_hit(self, resp):
        return resp.header("X-Cache-Status") == "HIT"

    def nginx_errors(self):
        with open(os.path.join(self.prefix, "error.log")) as f:
            return [line for line in f if self.name in line]

    def tearDown(self):
        super().tearDown()
        if self._testMethodName != "test_resume_across_a_replaced_file_never_mixes_versions":
            self.assertEqual(self.nginx_errors(), [], "unexpected nginx error lines")

    def test_slices_carry_one_strong_etag(self):
        """A plain GET is assembled from the origin's slices: each a 206 of the exact range
        nginx asked, all with the file's one strong ETag."""
        r = self.via(self.path)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.body == self.original, "the slices joined are the file")
        size = len(self.original)
        ranges = [f"bytes={a}-{a + SLICE - 1}" for a in range(0, size, SLICE)]
        fetches = self.origin_log(len(ranges))
        self.assertGreaterEqual(len(ranges), 2)
        self.assertEqual([(f[1], f[3]) for f in fetches], [(rng, "206") for rng in ranges])
        etags = {f[5] for f in fetches}
        self.assertEqual(etags, {'\\"' + r.header("ETag").strip('"') + '\\"'})
        self.assertRegex(r.header("ETag"), r'^"[0-9a-f]+-[0-9a-f]+"$')

    def test_resume_across_a_replaced_file_never_mixes_versions(self):
        """nginx stops at the slice whose ETag differs, before sending any of its bytes, and
        keeps doing so for every download that spans the stored old slice and a new one."""
        super().test_resume_across_a_replaced_file_never_mixes_versions()
        self.assertEqual(len(self.downloaded()), SLICE, "the old slice's bytes only")
        self.assertEqual(len(self.downloaded("after.mp3")), SLICE)
        mismatches = [line for line in self.nginx_errors() if "etag mismatch in slice" in line]
        self.assertEqual(len(mismatches), 2, self.nginx_errors())
