"""AudioStreamSnapshotDir: HTTP/2 snapshots in unnamed files of a tmpfs directory.

On a tmpfs mounted with huge=within_size the kernel keeps those files in 2 MiB pages, which it
copies and reads two to three times faster than the 4 KiB pages of memfd_create's memory files
(BENCHMARKS.md). Bodies of at least 1 MiB (half such a page) go there, smaller ones stay in
memory files; the pool's budget counts whole huge pages; a directory too full to give a body
its pages sends that body in chunks; a directory that is not a tmpfs with huge pages, or where
the server's user cannot make files, is warned about (AS0061) and memory files are used.

The tests mount their own tmpfs (they run as root, as the whole suite does: httpd starts as
root and drops to nobody) and unmount it afterwards.
"""
import os
import subprocess
import tempfile
import time

import test_transports as tt
from harness import ConfigTestCase, ServerTestCase, write_file
from test_ranges import aged

MIB = tt.MIB
HUGE = 2 * MIB


def mount_tmpfs(options, mode="1777"):
    """A fresh tmpfs with `options`, by default writable by everyone (the children run as
    nobody)."""
    d = tempfile.mkdtemp(prefix="audio_stream_snapshot_dir_")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"{options},mode={mode}", "audio-stream-test", d],
                   check=True, capture_output=True)
    return d


def page_of_a_slot(d):
    """st_blksize of an unnamed file of a slot's 16 MiB in `d`: 2 MiB where huge pages are."""
    fd = os.open(d, os.O_TMPFILE | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, 16 * MIB)
        return os.fstat(fd).st_blksize
    finally:
        os.close(fd)


def unmount(d):
    subprocess.run(["umount", d], capture_output=True)
    os.rmdir(d)


def used_bytes(d):
    st = os.statvfs(d)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def pool_files(server, prefix):
    """How many distinct files under `prefix` the server's children hold open."""
    inodes = set()
    for _, link, target in tt.child_descriptors(server):
        if target and target.startswith(prefix):
            try:
                inodes.add(os.stat(link).st_ino)
            except OSError:
                pass  # closed meanwhile
    return len(inodes)


class OwnMounts:
    """For a test class that mounts tmpfs directories (`mounts`) before its servers start:
    unmounts them after the class, or when the servers fail to start."""

    mounts = ()

    @classmethod
    def setUpClass(cls):
        try:
            super().setUpClass()
        except Exception:
            cls.unmount_all()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.unmount_all()

    @classmethod
    def unmount_all(cls):
        for d in cls.mounts:
            unmount(d)
        cls.mounts = ()


class TransportsWithASnapshotDirectory(OwnMounts, tt.Transports):
    """Every test of test_transports.Transports again, each server with AudioStreamSnapshotDir on
    a tmpfs of its own with huge pages, and what only the directory does."""

    @classmethod
    def setUpClass(cls):
        cls.huge_dirs = cls.mounts = tuple(mount_tmpfs("huge=within_size,size=256m") for _ in range(2))
        if page_of_a_slot(cls.huge_dirs[0]) != HUGE:
            cls.unmount_all()
            raise AssertionError("this kernel gives the tmpfs no huge pages (shmem_enabled deny?)")
        cls.clear_conf = f"AudioStreamSnapshotDir {cls.huge_dirs[0]}\n"
        cls.tls_conf = f"AudioStreamSnapshotDir {cls.huge_dirs[1]}\n"
        cls.snapshot_file_prefixes = tt.Transports.snapshot_file_prefixes + cls.huge_dirs
        super().setUpClass()

    def test_snapshot_files_are_unnamed_and_held_in_huge_pages(self):
        url, _ = self.fresh_file("placed.mp3")
        for rng, first, last in (("3000000-4048575", 3000000, 4048575), ("100-65635", 100, 65635)):
            self.server.mark_log()
            rc, body, err = self.curl("h2c", url, rng=rng, rate="500M")
            self.assertEqual(rc, 0, err)
            self.assertTrue(body == self.data[first:last + 1], f"{rng}: {len(body)} bytes, not the file's")
            self.assertEqual(self.plans(), ["snapshot"])
        # Slots of both kinds (which body went where: AFullSnapshotDirectory).
        self.assertGreater(pool_files(self.server, self.huge_dirs[0]), 0)
        self.assertGreater(pool_files(self.server, "/memfd:audio-stream-snapshot"), 0)
        used = used_bytes(self.huge_dirs[0])
        self.assertGreater(used, 0)
        self.assertEqual(used % HUGE, 0, f"{used} bytes: not in huge pages")
        self.assertEqual(os.listdir(self.huge_dirs[0]), [], "the snapshot files are unnamed")

    def test_the_budget_counts_whole_huge_pages(self):
        # 40 different 1 MiB windows of a settled file: each is published and kept in a slot of
        # its own, 2 MiB of huge pages each. Counted as the 1 MiB written, 80 MiB would stay
        # held; counted as the 2 MiB they hold, the child's 64 MiB budget drops the oldest.
        url, _ = self.fresh_file("budget.mp3")
        time.sleep(tt.SETTLED)
        for i in range(40):
            first = i * (MIB // 2) + 17
            rc, body, err = self.curl("h2c", url, rng=f"{first}-{first + MIB - 1}", rate="500M")
            self.assertEqual(rc, 0, err)
            self.assertTrue(body == self.data[first:first + MIB], f"window {i}: not the file's bytes")
        used = used_bytes(self.huge_dirs[0])
        self.assertGreaterEqual(used, 20 * HUGE, "the windows should have been kept warm")
        self.assertLessEqual(used, 64 * MIB, f"{used / MIB:.0f} MiB held: over the child's budget")


class AFullSnapshotDirectory(tt.ClearAndTls):
    """A directory with room for two huge pages: the third large body cannot have its pages and
    goes in chunks (never SIGBUS from writing into a page the tmpfs cannot give); small bodies
    still go to memory files."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.small_dir = mount_tmpfs("huge=within_size,size=4m")
        try:
            cls.start_servers(dict(extra_conf=f"AudioStreamSnapshotDir {cls.small_dir}\n"), {})
        except Exception:
            unmount(cls.small_dir)
            raise

    @classmethod
    def prepare_docroot(cls, docroot):
        cls.data = os.urandom(12 * MIB)
        cls.path = os.path.join(docroot, "audio", "full.mp3")
        write_file(cls.path, cls.data)
        aged(cls.path)

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            unmount(cls.small_dir)

    def curl(self, rng):
        done = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-r", rng, "-o", "-",
                               f"http://127.0.0.1:{self.server.port}/audio/full.mp3"],
                              capture_output=True, timeout=60)
        return done.returncode, done.stdout, done.stderr.decode(errors="replace")

    def plans(self):
        return [l.rstrip().rsplit(") ", 1)[-1] for l in self.server.log_since_mark() if "AS0010" in l]

    def test_a_body_the_directory_has_no_room_for_goes_in_chunks(self):
        time.sleep(tt.SETTLED)  # published and kept: the first two windows hold their pages
        self.server.mark_log()
        windows = [(i * 2 * MIB + 5, i * 2 * MIB + 5 + MIB + 99) for i in range(4)]
        for first, last in windows + [windows[0], (7, 65542)]:
            rc, body, err = self.curl(f"{first}-{last}")
            self.assertEqual(rc, 0, err)
            self.assertTrue(body == self.data[first:last + 1], f"{first}-{last}: not the file's bytes")
        plans = self.plans()
        self.assertEqual(plans[:2], ["snapshot", "snapshot"], plans)
        self.assertEqual(plans[2:4], ["chunks", "chunks"], plans)
        # The first window again: still held, shared; 64 KiB: a memory file.
        self.assertEqual(plans[4:], ["shared snapshot", "snapshot"], plans)
        self.assertLessEqual(used_bytes(self.small_dir), 4 * MIB)
        self.assertEqual([l for l in self.server.log_since_mark() if "exit signal" in l or "AH00052" in l], [])


def assert_snapshot_in_a_memory_file(case, name, directory):
    """A 2 MiB range of a new file over h2c: exact, a snapshot, and in a memory file (the
    children hold one, and nothing in `directory`)."""
    path = os.path.join(case.server.docroot, "audio", name)
    data = os.urandom(3 * MIB)
    write_file(path, data)
    case.server.mark_log()
    done = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-r", "0-2097151", "-o", "-",
                           f"http://127.0.0.1:{case.server.port}/audio/{name}"], capture_output=True)
    case.assertEqual(done.returncode, 0, done.stderr)
    case.assertTrue(done.stdout == data[:2 * MIB])
    case.assertTrue(any(l.rstrip().endswith(") snapshot") for l in case.server.log_since_mark()))
    case.assertGreater(pool_files(case.server, "/memfd:audio-stream-snapshot"), 0)
    case.assertEqual(pool_files(case.server, directory), 0)


class SnapshotDirNotInMemory(ServerTestCase):
    """A directory on a disk (/var/tmp; checked not to be a tmpfs): one warning at start, memory
    files used."""

    extra_conf = "AudioStreamSnapshotDir /var/tmp\n"
    expected_log = (r"AS0061: snapshot directory /var/tmp is not a directory on a tmpfs with huge pages",)

    def test_the_warning_once_and_snapshots_still_made(self):
        self.assertNotEqual(subprocess.run(["stat", "-f", "-c", "%T", "/var/tmp"], capture_output=True,
                                           text=True).stdout.strip(), "tmpfs")
        with open(self.server.error_log, errors="replace") as f:
            warnings = [l for l in f if "AS0061" in l]
        self.assertEqual(len(warnings), 1, warnings)
        assert_snapshot_in_a_memory_file(self, "disk.mp3", "/var/tmp")


class SnapshotDirWithoutHugePages(ServerTestCase):
    """A tmpfs without huge pages (a directory of /dev/shm): no faster than memory files, so one
    warning at start and memory files."""

    expected_log = (r"AS0061: snapshot directory \S+ is not a directory on a tmpfs with huge pages",)

    @classmethod
    def setUpClass(cls):
        cls.plain = tempfile.mkdtemp(prefix="audio_stream_plain_", dir="/dev/shm")
        os.chmod(cls.plain, 0o1777)
        cls.extra_conf = f"AudioStreamSnapshotDir {cls.plain}\n"
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.rmdir(cls.plain)

    def test_the_warning_once_and_snapshots_in_memory_files(self):
        self.assertEqual(page_of_a_slot(self.plain), 4096)
        with open(self.server.error_log, errors="replace") as f:
            warnings = [l for l in f if "AS0061" in l]
        self.assertEqual(len(warnings), 1, warnings)
        assert_snapshot_in_a_memory_file(self, "plain.mp3", self.plain)


class SnapshotDirTheUserCannotWrite(OwnMounts, ServerTestCase):
    """A huge tmpfs only root may write: each child warns once, memory files used."""

    expected_log = (r"AS0061: snapshot directory \S+: the server's user cannot make files there",)

    @classmethod
    def setUpClass(cls):
        cls.private = mount_tmpfs("huge=within_size,size=64m", mode="0700")
        cls.mounts = (cls.private,)
        cls.extra_conf = f"AudioStreamSnapshotDir {cls.private}\n"
        super().setUpClass()

    def test_a_warning_per_child_and_snapshots_still_made(self):
        assert_snapshot_in_a_memory_file(self, "private.mp3", self.private)
        with open(self.server.error_log, errors="replace") as f:
            warnings = [l for l in f if "AS0061" in l]
        self.assertGreaterEqual(len(warnings), 1)
        self.assertTrue(all(self.private in l for l in warnings), warnings)
        self.assertEqual(os.listdir(self.private), [])


class SnapshotDirDirectiveContext(ConfigTestCase):

    def test_only_in_the_server_config(self):
        self.assert_refused("<Directory /tmp>\nAudioStreamSnapshotDir /dev/shm\n</Directory>\n",
                            "AudioStreamSnapshotDir not allowed in <Directory> context")
        self.assert_refused("AudioStreamSnapshotDir\n", "AudioStreamSnapshotDir takes one argument")
        self.assert_accepted("AudioStreamSnapshotDir /dev/shm\n")
        self.assert_accepted("AudioStreamSnapshotDir none\n")
