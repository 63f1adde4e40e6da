"""The Debian package (make deb, debian/), in the REAL system Apache.

Builds the .deb from a copy of the tree (scripts/build-deb), asks lintian for no error and no
warning, then installs it with apt-get: the postinst enables the module the Debian way
(dh_apache2's apache2_invoke enmod, i.e. a2enmod), apache2ctl -t passes, and a directory with
SetHandler audio-stream, on a port of its own (a conf-available snippet enabled with a2enconf),
answers a Range with 206 and ?t= with a cut only the module makes. apt-get purge then leaves
none of the package's files and no mods-enabled link.

The system is put back as it was, even when a check fails: the package purged, the snippet
gone, apache2 running or stopped as before, /etc/apache2 and /var/lib/apache2 (a2enmod's
state) identical file by file, and the run and lock directories apache2ctl makes removed if
they were not there. A system where the module is already installed (the package, or make
install) is refused: the test could not put it back. AUDIO_STREAM_DEB=path checks that .deb
instead of building one.
"""
import hashlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
import unittest
import wave

from harness import REPO, free_port, request

PACKAGE = "libapache2-mod-audio-stream"
MODULE_SO = "/usr/lib/apache2/modules/mod_audio_stream.so"
MODS = "/etc/apache2/mods-available"
TEST_CONF = "audio-stream-package-test"
WATCHED = ("/etc/apache2", "/var/lib/apache2")
INDEX_DIR = "/var/run/apache2/audio-stream-index"  # the module's seek indexes (postrm purges it)
RUNTIME_DIRS = ("/var/run/apache2", "/var/lock/apache2")  # apache2ctl makes them if missing
APT_ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
# Other users of the machine may hold dpkg's lock for a while: wait for it, not fail.
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=600"]


def run(*args, check=True):
    """A command's exit status and output (stdout and stderr together); fails on a non-zero
    status when check."""
    proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=APT_ENV, timeout=1800)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: exit {proc.returncode}\n{proc.stdout}")
    return proc.returncode, proc.stdout


def listing(roots=WATCHED):
    """Every path under roots: its type, mode, and sha256 or link target."""
    out = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    out[path] = ("link", os.readlink(path))
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        out[path] = ("file", oct(st.st_mode), hashlib.sha256(f.read()).hexdigest())
                else:
                    out[path] = ("other", oct(st.st_mode))
    return out


def deb_paths(deb):
    """The paths a .deb holds, as dpkg -L names them."""
    _, output = run("dpkg-deb", "--contents", deb)
    return {os.path.normpath(line.split(None, 5)[5].split(" -> ")[0].lstrip(".") or "/")
            for line in output.splitlines()}


def apache_pid():
    """The system apache2's main process, from its pid file; None when it is not running.
    (Not pidof: the other tests' private httpds are apache2 processes too.)"""
    try:
        with open("/var/run/apache2/apache2.pid") as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid if os.readlink(f"/proc/{pid}/exe").endswith("apache2") else None
    except (OSError, ValueError):
        return None


def wait_until(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def write_tone(path, seconds=3, rate=8000):
    """A mono 16-bit WAV: a square wave, so that every second's bytes differ from silence."""
    frames = bytearray()
    for i in range(seconds * rate):
        frames += (8000 if (i // 20) % 2 else -8000).to_bytes(2, "little", signed=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    os.chmod(path, 0o644)


class DebianPackage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = tempfile.mkdtemp(prefix="audio_stream_deb_out_")
        # AUDIO_STREAM_DEB: check that .deb (built elsewhere, or by make deb) instead.
        cls.deb = os.environ.get("AUDIO_STREAM_DEB")
        if cls.deb:
            return
        started = time.monotonic()
        _, output = run(os.path.join(REPO, "scripts", "build-deb"), cls.out)
        cls.deb = output.strip().splitlines()[-1]
        print(f"\n  built {os.path.basename(cls.deb)} in {time.monotonic() - started:.0f} s", flush=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.out, ignore_errors=True)

    def test_lintian_finds_no_error_and_no_warning(self):
        status, output = run("lintian", "--fail-on", "error,warning", self.deb, check=False)
        # lintian says on stderr that it runs as root; every tag line starts with a letter code.
        tags = [line for line in output.splitlines() if line[:2] in ("E:", "W:", "I:", "P:", "X:")]
        self.assertEqual((status, tags), (0, []), output)

    def test_installs_enabled_serves_206_and_purges_without_trace(self):
        found, status = run("dpkg-query", "-W", "-f", "${db:Status-Status}", PACKAGE, check=False)
        self.assertTrue(found != 0 or status.strip() == "not-installed",
                        f"{PACKAGE} is installed: the test could not put the system back")
        for path in (MODULE_SO, f"{MODS}/audio_stream.load", f"{MODS}/audio_stream.conf"):
            self.assertFalse(os.path.lexists(path), f"{path} exists (make install?): the test "
                             "could not put the system back")
        was_running = apache_pid() is not None
        before = listing()
        # What of the package's paths is there already: directories such as /etc/apache2.
        existed = {p for p in deb_paths(self.deb) if os.path.lexists(p)}
        index_before = os.path.lexists(INDEX_DIR)
        runtime_before = [d for d in RUNTIME_DIRS if os.path.lexists(d)]
        docroot = tempfile.mkdtemp(prefix="audio_stream_deb_docroot_")
        files = []
        try:
            files = self.install_and_check(docroot, was_running)
        finally:
            shutil.rmtree(docroot, ignore_errors=True)
            self.put_back(was_running, before, runtime_before)
        # dpkg -L as it was before the purge: none of it is left but directories that were
        # there before the install.
        left = [p for p in files if os.path.lexists(p) and not (p in existed and os.path.isdir(p))]
        self.assertEqual(left, [], "the package's paths left after apt-get purge")
        self.assertFalse(os.path.lexists("/etc/apache2/mods-enabled/audio_stream.load"))
        self.assertFalse(os.path.lexists("/etc/apache2/mods-enabled/audio_stream.conf"))
        if not index_before:
            self.assertFalse(os.path.lexists(INDEX_DIR), "the seek index directory is left")
        self.assertEqual(apache_pid() is not None, was_running, "apache2 is not as it was")
        after = listing()
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        self.assertEqual(changed, [], "/etc/apache2 or /var/lib/apache2 differ from before")

    def install_and_check(self, docroot, was_running):
        """Installs the package and checks it in the system Apache; the package's files."""
        run(*APT, "install", "--no-install-recommends", self.deb)
        _, listed = run("dpkg", "-L", PACKAGE)
        files = [os.path.normpath(p) for p in listed.splitlines()]
        self.assertIn(MODULE_SO, files)
        # Enabled the Debian way: a2enmod's links, made by the postinst.
        for suffix in ("load", "conf"):
            self.assertEqual(os.readlink(f"/etc/apache2/mods-enabled/audio_stream.{suffix}"),
                             f"../mods-available/audio_stream.{suffix}")
        with open(f"{MODS}/audio_stream.load") as f:
            self.assertIn(f"LoadModule audio_stream_module {MODULE_SO}\n", f.read())
        _, query = run("a2query", "-m", "audio_stream")
        self.assertIn("enabled by maintainer script", query)

        os.chmod(docroot, 0o755)
        tone = os.path.join(docroot, "tone.wav")
        write_tone(tone)
        with open(tone, "rb") as f:
            data = f.read()
        port = free_port()
        with open(f"/etc/apache2/conf-available/{TEST_CONF}.conf", "w") as f:
            f.write(f"# {__file__}: removed when the test ends\n"
                    f"Listen 127.0.0.1:{port}\n<VirtualHost 127.0.0.1:{port}>\n"
                    f"    DocumentRoot {docroot}\n    <Directory {docroot}>\n"
                    "        Require all granted\n        SetHandler audio-stream\n"
                    "    </Directory>\n</VirtualHost>\n")
        run("a2enconf", "-q", TEST_CONF)
        _, configtest = run("apache2ctl", "-t")
        self.assertIn("Syntax OK", configtest)
        run("apache2ctl", "restart" if was_running else "start")
        wait_until(lambda: apache_pid() is not None and port_open(port), f"apache2 on port {port}")

        resp = request(port, "GET", "/tone.wav", [("Range", "bytes=100-199")])
        self.assertEqual(resp.status, 206)
        self.assertEqual(resp.header("Content-Range"), f"bytes 100-199/{len(data)}")
        self.assertEqual(resp.body, data[100:200])
        # ?t=1 is the module's alone (Apache's own handler ignores it): one second less of
        # 16 000 bytes, under a header of its own.
        resp = request(port, "GET", "/tone.wav?t=1", [])
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.body[:4], b"RIFF")
        self.assertEqual(resp.body[-1000:], data[-1000:])
        self.assertLess(len(resp.body), len(data) - 15000)
        return files

    def put_back(self, was_running, before, runtime_before):
        """The snippet gone, the package purged, apache2 as it was; every step runs whatever
        the others did, and the failures are raised at the end."""
        errors = []

        def step(*args):
            try:
                run(*args)
            except AssertionError as e:
                errors.append(str(e))

        if os.path.lexists(f"/etc/apache2/conf-enabled/{TEST_CONF}.conf"):
            step("a2disconf", "-q", "-p", TEST_CONF)
        if os.path.lexists(f"/etc/apache2/conf-available/{TEST_CONF}.conf"):
            os.remove(f"/etc/apache2/conf-available/{TEST_CONF}.conf")
        step(*APT, "purge", PACKAGE)
        pid = apache_pid()
        if was_running:
            # Restarted on the configuration as it was: without the module and the snippet.
            step("apache2ctl", "restart" if pid else "start")
            try:
                wait_until(lambda: apache_pid() is not None, "apache2 to run again")
            except AssertionError as e:
                errors.append(str(e))
        elif pid:
            step("apache2ctl", "stop")
            try:
                wait_until(lambda: apache_pid() is None, "apache2 to stop")
            except AssertionError as e:
                errors.append(str(e))
        if not was_running:
            for d in set(RUNTIME_DIRS) - set(runtime_before):
                shutil.rmtree(d, ignore_errors=True)
        # a2enconf, a2disconf and the maintainer scripts' a2enmod/a2dismod make their marker
        # directories (module/disabled_by_maint, ...) and leave them behind, empty, where they
        # mean nothing: those that were not there before go.
        for path in sorted(set(listing(["/var/lib/apache2"])) - set(before), reverse=True):
            if os.path.isdir(path) and not os.path.islink(path) and not os.listdir(path):
                os.rmdir(path)
        if errors:
            raise AssertionError("putting the system back: " + "\n".join(errors))


if __name__ == "__main__":
    unittest.main()
