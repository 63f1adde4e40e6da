"""Many-range requests cannot amplify a response: with AudioStreamMaxRanges unlimited as well as
by default, 1000 ranges, 300 overlapping ranges, ranges in descending order and reversed
(invalid) ranges are answered with a 200 of the file, a 416, or a 206 of at most twice the
file's bytes; every byte answered is the file's. (test_ranges.Amplification: the default limit.)
"""
import os

from harness import ServerTestCase, write_file
from test_ranges import SMALL_LEN, aged, parse_multipart, pseudo_random

DIRS = ("", "unlimited/")  # the default AudioStreamMaxRanges (200), and unlimited


class ManyRanges(ServerTestCase):
    # 1000 distinct ranges take more than the default 8190 bytes of a header line.
    extra_conf = "LimitRequestFieldSize 32768\n"

    @classmethod
    def prepare_docroot(cls, docroot):
        cls.small = pseudo_random(SMALL_LEN, 1)
        audio = os.path.join(docroot, "audio")
        for d in DIRS:
            for name, data in (("small.mp3", cls.small), ("tiny.mp3", b"0123456789")):
                write_file(os.path.join(audio, d, name), data)
                aged(os.path.join(audio, d, name))
        os.chmod(os.path.join(audio, "unlimited"), 0o755)
        write_file(os.path.join(audio, "unlimited", ".htaccess"), b"AudioStreamMaxRanges unlimited\n")

    def answer(self, path, ranges, data):
        """GET with `ranges`; asserts the bound and that every byte is the file's; returns
        (status, number of parts)."""
        r = self.get(path, [("Range", "bytes=" + ",".join(ranges))])
        self.assertLessEqual(len(r.body), 2 * max(len(data), 1), f"{path}: amplified")
        self.assertEqual(r.header("Content-Length"), str(len(r.body)))
        if r.status == 200:
            self.assertEqual(r.body, data)
            return 200, 1
        self.assertEqual(r.status, 206, r)
        if r.header("Content-Range"):
            first, last = map(int, r.header("Content-Range").split()[1].split("/")[0].split("-"))
            self.assertEqual(r.body, data[first:last + 1])
            return 206, 1
        parts = parse_multipart(r)
        previous = -2
        for headers, body in parts:
            first, last = map(int, headers["Content-Range"].split()[1].split("/")[0].split("-"))
            self.assertGreater(first, previous + 1, "parts sorted, neither overlapping nor adjacent")
            self.assertEqual(body, data[first:last + 1])
            previous = last
        return 206, len(parts)

    def test_1000_ranges(self):
        ranges = [f"{i * 97}-{i * 97}" for i in range(1000)]
        self.assertGreater(len(",".join(ranges)), 8190)
        self.assertEqual(self.answer("/audio/small.mp3", ranges, self.small), (200, 1))
        status, parts = self.answer("/audio/unlimited/small.mp3", ranges, self.small)
        self.assertIn((status, parts), ((206, 1000), (200, 1)))

    def test_1000_ranges_of_a_tiny_file_give_the_file(self):
        ranges = [f"{i % 10}-{i % 10}" for i in range(1000)]
        # Default limit: ignored (200). Unlimited: coalesced, the ten single bytes are the whole
        # file, one 206 of 10 bytes.
        self.assertEqual(self.answer("/audio/tiny.mp3", ranges, b"0123456789"), (200, 1))
        self.assertEqual(self.answer("/audio/unlimited/tiny.mp3", ranges, b"0123456789"), (206, 1))
        ranges = [f"{i % 5 * 2}-{i % 5 * 2}" for i in range(1000)]  # 0,2,4,6,8: 5 parts > 2x
        self.assertEqual(self.answer("/audio/unlimited/tiny.mp3", ranges, b"0123456789"), (200, 1))

    def test_300_overlapping_ranges_give_one_part(self):
        ranges = [f"{i * 10}-{i * 10 + 50000}" for i in range(300)]
        for d in DIRS:
            with self.subTest(dir=d):
                status, parts = self.answer(f"/audio/{d}small.mp3", ranges, self.small)
                # Default limit: more than 200 ranges are ignored (200); unlimited: coalesced.
                self.assertEqual((status, parts), (200, 1) if d == "" else (206, 1))

    def test_300_copies_of_the_whole_file_give_it_once(self):
        for d in DIRS:
            with self.subTest(dir=d):
                status, _ = self.answer(f"/audio/{d}small.mp3", ["0-"] * 300, self.small)
                self.assertIn(status, (200, 206))

    def test_300_ranges_in_descending_order_are_sorted(self):
        ranges = [f"{i * 300}-{i * 300 + 9}" for i in reversed(range(300))]
        self.assertEqual(self.answer("/audio/unlimited/small.mp3", ranges, self.small), (206, 300))

    def test_reversed_ranges_are_invalid_and_give_200(self):
        for ranges in ([f"{i + 10}-{i}" for i in range(300)], ["0-9"] * 150 + ["500-100"]):
            for d in DIRS:
                with self.subTest(dir=d, first=ranges[0]):
                    self.assertEqual(self.answer(f"/audio/{d}small.mp3", ranges, self.small), (200, 1))

    def test_unsatisfiable_ranges_give_416(self):
        r = self.get("/audio/unlimited/small.mp3",
                     [("Range", "bytes=" + ",".join(f"{SMALL_LEN + i}-" for i in range(1000)))])
        self.assertEqual(r.status, 416)
        self.assertEqual(r.header("Content-Range"), f"bytes */{SMALL_LEN}")
        self.assertLess(len(r.body), 1024)
