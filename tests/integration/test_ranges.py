"""Range requests against a real httpd: status, every header that matters, exact bytes."""
import email.utils
import os
import random
import re
import time

from harness import ServerTestCase, write_file

DAY_AGO = time.time() - 86400
SMALL_LEN = 100_000
BIG_LEN = 20 * 1024 * 1024 + 12345  # more than two default pieces, not a multiple of one
PIECE = 8 * 1024 * 1024


def pseudo_random(n, seed):
    return random.Random(seed).randbytes(n)


def aged(path):
    """Make a file a day old, so that its ETag and Last-Modified are strong."""
    os.utime(path, (DAY_AGO, DAY_AGO))


def parse_multipart(resp):
    m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", resp.header("Content-Type"))
    assert m, resp.header("Content-Type")
    boundary = m.group(1).encode()
    body = resp.body
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n"), body[-80:]
    parts = []
    chunks = body[: -len(b"\r\n--" + boundary + b"--\r\n")].split(b"\r\n--" + boundary + b"\r\n")
    assert chunks[0] == b"", chunks[0]
    for chunk in chunks[1:]:
        head, data = chunk.split(b"\r\n\r\n", 1)
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n"))
        parts.append((headers, data))
    return parts


class RangeTestCase(ServerTestCase):
    @classmethod
    def prepare_docroot(cls, docroot):
        cls.small = pseudo_random(SMALL_LEN, 1)
        cls.big = pseudo_random(BIG_LEN, 2)
        audio = os.path.join(docroot, "audio")
        files = {
            "small.mp3": cls.small,
            "big.mp3": cls.big,
            "empty.mp3": b"",
            "tiny.mp3": b"0123456789",
            "all/big.mp3": cls.big,
            "nocap/big.mp3": cls.big,
            "max3/small.mp3": cls.small,
        }
        for name, data in files.items():
            write_file(os.path.join(audio, name), data)
            aged(os.path.join(audio, name))
        for d in ("all", "nocap", "max3"):
            os.chmod(os.path.join(audio, d), 0o755)
        write_file(os.path.join(audio, "all", ".htaccess"),
                   b"AudioStreamPieceScope all\nAudioStreamPieceSize 1M\n")
        write_file(os.path.join(audio, "nocap", ".htaccess"), b"AudioStreamPieceSize 0\n")
        write_file(os.path.join(audio, "max3", ".htaccess"), b"AudioStreamMaxRanges 3\n")

    def assert_206(self, resp, first, last, total, data):
        self.assertEqual(resp.status, 206, resp)
        self.assertEqual(resp.header("Content-Range"), f"bytes {first}-{last}/{total}")
        self.assertEqual(resp.header("Content-Length"), str(last - first + 1))
        self.assertEqual(resp.header("Accept-Ranges"), "bytes")
        self.assertEqual(resp.body, data[first:last + 1])

    def assert_whole(self, resp, data):
        self.assertEqual(resp.status, 200, resp)
        self.assertIsNone(resp.header("Content-Range"))
        self.assertEqual(resp.header("Content-Length"), str(len(data)))
        self.assertEqual(resp.body, data)

    def assert_416(self, resp, total):
        self.assertEqual(resp.status, 416, resp)
        self.assertEqual(resp.header("Content-Range"), f"bytes */{total}")


class WholeFile(RangeTestCase):
    def test_get_without_range_sends_whole_file_with_validators(self):
        r = self.get("/audio/small.mp3")
        self.assert_whole(r, self.small)
        self.assertEqual(r.header("Accept-Ranges"), "bytes")
        self.assertEqual(r.header("Content-Type"), "audio/mpeg")
        mtime = os.stat(os.path.join(self.server.docroot, "audio/small.mp3")).st_mtime
        self.assertEqual(r.header("Last-Modified"), email.utils.formatdate(int(mtime), usegmt=True))
        # Apache's FileETag MTime Size: "size-mtime", strong for a file a day old.
        self.assertRegex(r.header("ETag"), r'^"%x-[0-9a-f]+"$' % SMALL_LEN)

    def test_head_has_the_headers_of_get_and_no_body(self):
        g = self.get("/audio/small.mp3")
        h = self.get("/audio/small.mp3", method="HEAD")
        self.assertEqual(h.status, 200)
        self.assertEqual(h.body, b"")
        for name in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"):
            self.assertEqual(h.header(name), g.header(name), name)

    def test_head_with_range_has_the_headers_of_the_206(self):
        h = self.get("/audio/small.mp3", [("Range", "bytes=10-19")], method="HEAD")
        self.assertEqual(h.status, 206)
        self.assertEqual(h.header("Content-Range"), f"bytes 10-19/{SMALL_LEN}")
        self.assertEqual(h.header("Content-Length"), "10")
        self.assertEqual(h.body, b"")

    def test_empty_file_without_range_is_200_empty(self):
        r = self.get("/audio/empty.mp3")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Length"), "0")
        self.assertEqual(r.body, b"")

    def test_debug_log_tells_the_plan(self):
        self.get("/audio/small.mp3", [("Range", "bytes=0-9")])
        lines = self.server.log_since_mark()
        self.assertTrue(any(f"AS0010: range 'bytes=0-9' -> 206 bytes 0-9/{SMALL_LEN} (10 bytes, exact)"
                            in l for l in lines), lines)


class SingleRange(RangeTestCase):
    def test_rfc9110_14_1_2_closed_range(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "bytes=100-199")]),
                        100, 199, SMALL_LEN, self.small)

    def test_rfc9110_14_1_2_open_range(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "bytes=99000-")]),
                        99000, SMALL_LEN - 1, SMALL_LEN, self.small)

    def test_rfc9110_14_1_2_suffix_range(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "bytes=-500")]),
                        SMALL_LEN - 500, SMALL_LEN - 1, SMALL_LEN, self.small)

    def test_rfc9110_14_1_2_last_pos_past_end_is_clipped(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "bytes=99990-5000000")]),
                        99990, SMALL_LEN - 1, SMALL_LEN, self.small)

    def test_rfc9110_14_1_2_suffix_longer_than_file_selects_all(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "bytes=-999999999")]),
                        0, SMALL_LEN - 1, SMALL_LEN, self.small)

    def test_huge_last_pos_of_5000_digits_clips(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "bytes=5-" + "9" * 5000)]),
                        5, SMALL_LEN - 1, SMALL_LEN, self.small)

    def test_huge_first_pos_of_5000_digits_is_unsatisfiable(self):
        self.assert_416(self.get("/audio/small.mp3", [("Range", "bytes=" + "9" * 5000 + "-")]),
                        SMALL_LEN)

    def test_unit_is_case_insensitive(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "Bytes=0-0")]),
                        0, 0, SMALL_LEN, self.small)


class Unsatisfiable(RangeTestCase):
    def test_rfc9110_15_5_17_first_pos_at_length(self):
        self.assert_416(self.get("/audio/small.mp3", [("Range", f"bytes={SMALL_LEN}-")]), SMALL_LEN)

    def test_rfc9110_14_1_2_suffix_zero(self):
        self.assert_416(self.get("/audio/small.mp3", [("Range", "bytes=-0")]), SMALL_LEN)

    def test_empty_file_with_range(self):
        self.assert_416(self.get("/audio/empty.mp3", [("Range", "bytes=0-")]), 0)

    def test_head_416_has_no_body(self):
        r = self.get("/audio/small.mp3", [("Range", "bytes=999999-")], method="HEAD")
        self.assert_416(r, SMALL_LEN)
        self.assertEqual(r.body, b"")


class InvalidRangeIsIgnored(RangeTestCase):
    def test_rfc9110_14_2_invalid_ranges_give_the_whole_file(self):
        for value in ("bytes=5-1", "items=0-1", "bytes=abc", "bytes=", "bytes=0-1;x", "0-1",
                      "bytes=--1", "bytes=1-2-3"):
            with self.subTest(range=value):
                self.assert_whole(self.get("/audio/small.mp3", [("Range", value)]), self.small)


class Multipart(RangeTestCase):
    def test_rfc9110_14_6_two_ranges_give_multipart_byteranges(self):
        r = self.get("/audio/small.mp3", [("Range", "bytes=0-9,1000-1099")])
        self.assertEqual(r.status, 206)
        self.assertIsNone(r.header("Content-Range"))
        self.assertEqual(int(r.header("Content-Length")), len(r.body))
        parts = parse_multipart(r)
        self.assertEqual([h["Content-Range"] for h, _ in parts],
                         [f"bytes 0-9/{SMALL_LEN}", f"bytes 1000-1099/{SMALL_LEN}"])
        self.assertEqual([h["Content-Type"] for h, _ in parts], ["audio/mpeg"] * 2)
        self.assertEqual([d for _, d in parts], [self.small[0:10], self.small[1000:1100]])

    def test_rfc9110_14_3_parts_are_sorted(self):
        parts = parse_multipart(self.get("/audio/small.mp3", [("Range", "bytes=-10,0-9")]))
        self.assertEqual([d for _, d in parts], [self.small[:10], self.small[-10:]])

    def test_overlapping_ranges_coalesce_into_a_single_206(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", "bytes=0-99,50-149,150-199")]),
                        0, 199, SMALL_LEN, self.small)

    def test_identical_requests_give_identical_bytes(self):
        a = self.get("/audio/small.mp3", [("Range", "bytes=0-9,20-29")])
        b = self.get("/audio/small.mp3", [("Range", "bytes=0-9,20-29")])
        self.assertEqual(a.header("Content-Type"), b.header("Content-Type"))
        self.assertEqual(a.body, b.body)

    def test_unsatisfiable_parts_are_dropped(self):
        self.assert_206(self.get("/audio/small.mp3", [("Range", f"bytes=0-9,{SMALL_LEN + 5}-")]),
                        0, 9, SMALL_LEN, self.small)


class Amplification(RangeTestCase):
    def test_more_ranges_than_max_ranges_gives_200(self):
        self.assert_whole(self.get("/audio/max3/small.mp3",
                                   [("Range", "bytes=0-0,2-2,4-4,6-6")]), self.small)

    def test_max_ranges_allows_exactly_the_limit(self):
        r = self.get("/audio/max3/small.mp3", [("Range", "bytes=0-0,2-2,4-4")])
        self.assertEqual(len(parse_multipart(r)), 3)

    def test_1000_ranges_give_200_under_the_default_limit_of_200(self):
        # 4 KB: within httpd's LimitRequestFieldSize, so the module is what answers.
        value = "bytes=" + ",".join(["0-0"] * 1000)
        self.assert_whole(self.get("/audio/small.mp3", [("Range", value)]), self.small)

    def test_default_limit_is_exactly_200_ranges(self):
        ranges = [f"{i * 20}-{i * 20 + 1}" for i in range(201)]
        r = self.get("/audio/small.mp3", [("Range", "bytes=" + ",".join(ranges[:200]))])
        self.assertEqual(len(parse_multipart(r)), 200)
        self.assertLessEqual(len(r.body), 2 * SMALL_LEN)
        self.assert_whole(self.get("/audio/small.mp3", [("Range", "bytes=" + ",".join(ranges))]),
                          self.small)

    def test_150_overlapping_ranges_cost_one_copy(self):
        # 150, under the default AudioStreamMaxRanges (200); 300 are in test_amplification.
        value = "bytes=" + ",".join(f"{i}-{i + 1000}" for i in range(150))
        r = self.get("/audio/small.mp3", [("Range", value)])
        self.assert_206(r, 0, 1149, SMALL_LEN, self.small)

    def test_reversed_ranges_are_invalid_and_give_200(self):
        value = "bytes=" + ",".join(f"{i + 10}-{i}" for i in range(100))
        self.assert_whole(self.get("/audio/small.mp3", [("Range", value)]), self.small)

    def test_multipart_larger_than_twice_the_file_gives_200(self):
        self.assert_whole(self.get("/audio/tiny.mp3", [("Range", "bytes=0-0,2-2,4-4")]),
                          b"0123456789")


class PieceWindow(RangeTestCase):
    def test_open_range_from_media_element_is_capped_to_exactly_one_piece(self):
        r = self.get("/audio/big.mp3", [("Range", "bytes=1000-"), ("Sec-Fetch-Dest", "audio")])
        self.assert_206(r, 1000, 1000 + PIECE - 1, BIG_LEN, self.big)

    def test_a_capped_answer_is_private_and_varies_on_the_destination(self):
        # A shared cache keyed by the Range must not give the short answer to a download tool.
        r = self.get("/audio/big.mp3", [("Range", "bytes=0-"), ("Sec-Fetch-Dest", "audio")])
        self.assertEqual(r.header("Cache-Control"), "private")
        self.assertEqual(r.header("Vary"), "Sec-Fetch-Dest")
        # Scope all: the cap does not depend on the header, so nothing varies on it.
        r = self.get("/audio/all/big.mp3", [("Range", "bytes=10-3000000")])
        self.assertEqual((r.header("Cache-Control"), r.header("Vary")), ("private", None))

    def test_uncapped_answers_carry_no_cache_signal(self):
        for headers in ([("Range", "bytes=1000-")], [("Range", f"bytes=0-{BIG_LEN - 1}"), ("Sec-Fetch-Dest", "audio")],
                        [("Sec-Fetch-Dest", "audio")], [("Range", "bytes=0-99"), ("Sec-Fetch-Dest", "audio")]):
            r = self.get("/audio/big.mp3", headers)
            self.assertIn(r.status, (200, 206), headers)
            self.assertEqual((r.header("Cache-Control"), r.header("Vary")), (None, None), headers)
        r = self.get("/audio/nocap/big.mp3", [("Range", "bytes=0-"), ("Sec-Fetch-Dest", "audio")])
        self.assertEqual((r.header("Cache-Control"), r.header("Vary")), (None, None))

    def test_video_destination_is_capped_too(self):
        r = self.get("/audio/big.mp3", [("Range", "bytes=0-"), ("Sec-Fetch-Dest", "video")])
        self.assert_206(r, 0, PIECE - 1, BIG_LEN, self.big)

    def test_last_piece_ends_at_the_end_of_file(self):
        first = BIG_LEN - 5000
        r = self.get("/audio/big.mp3", [("Range", f"bytes={first}-"), ("Sec-Fetch-Dest", "audio")])
        self.assert_206(r, first, BIG_LEN - 1, BIG_LEN, self.big)

    def test_open_range_without_media_destination_is_not_capped(self):
        r = self.get("/audio/big.mp3", [("Range", "bytes=1000-")])
        self.assert_206(r, 1000, BIG_LEN - 1, BIG_LEN, self.big)
        r = self.get("/audio/big.mp3", [("Range", "bytes=1000-"), ("Sec-Fetch-Dest", "document")])
        self.assert_206(r, 1000, BIG_LEN - 1, BIG_LEN, self.big)

    def test_closed_range_is_never_shortened_in_media_scope(self):
        # Safari asks bytes=0-<len-1> and fails on a shorter answer.
        r = self.get("/audio/big.mp3", [("Range", f"bytes=0-{BIG_LEN - 1}"),
                                        ("Sec-Fetch-Dest", "audio")])
        self.assert_206(r, 0, BIG_LEN - 1, BIG_LEN, self.big)

    def test_suffix_range_is_not_capped_in_media_scope(self):
        r = self.get("/audio/big.mp3", [("Range", f"bytes=-{PIECE + 10}"), ("Sec-Fetch-Dest", "audio")])
        self.assert_206(r, BIG_LEN - PIECE - 10, BIG_LEN - 1, BIG_LEN, self.big)

    def test_request_without_range_is_never_capped(self):
        self.assert_whole(self.get("/audio/big.mp3", [("Sec-Fetch-Dest", "audio")]), self.big)

    def test_scope_all_caps_closed_ranges_from_any_client(self):
        r = self.get("/audio/all/big.mp3", [("Range", "bytes=10-3000000")])
        self.assert_206(r, 10, 10 + 1048576 - 1, BIG_LEN, self.big)

    def test_scope_all_leaves_requests_without_range_whole(self):
        self.assert_whole(self.get("/audio/all/big.mp3"), self.big)

    def test_piece_size_zero_disables_the_cap(self):
        r = self.get("/audio/nocap/big.mp3", [("Range", "bytes=0-"), ("Sec-Fetch-Dest", "audio")])
        self.assert_206(r, 0, BIG_LEN - 1, BIG_LEN, self.big)

    def test_debug_log_says_why_capped(self):
        self.get("/audio/big.mp3", [("Range", "bytes=0-"), ("Sec-Fetch-Dest", "audio")], method="HEAD")
        lines = self.server.log_since_mark()
        self.assertTrue(any(f"AS0010: range 'bytes=0-' media -> 206 bytes 0-{PIECE - 1}/{BIG_LEN}"
                            f" ({PIECE} bytes, piece)" in l for l in lines), lines)


class Conditionals(RangeTestCase):
    def validators(self):
        r = self.get("/audio/small.mp3", method="HEAD")
        return r.header("ETag"), r.header("Last-Modified")

    def test_if_none_match_gives_304_with_validators(self):
        etag, lm = self.validators()
        r = self.get("/audio/small.mp3", [("If-None-Match", etag)])
        self.assertEqual(r.status, 304)
        self.assertEqual(r.header("ETag"), etag)
        self.assertEqual(r.body, b"")

    def test_if_modified_since_gives_304(self):
        _, lm = self.validators()
        self.assertEqual(self.get("/audio/small.mp3", [("If-Modified-Since", lm)]).status, 304)

    def test_failing_if_match_gives_412(self):
        self.assertEqual(self.get("/audio/small.mp3", [("If-Match", '"other"')]).status, 412)

    def test_failing_if_unmodified_since_gives_412(self):
        r = self.get("/audio/small.mp3", [("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")])
        self.assertEqual(r.status, 412)

    def test_if_range_with_matching_strong_etag_honours_the_range(self):
        etag, _ = self.validators()
        r = self.get("/audio/small.mp3", [("Range", "bytes=0-9"), ("If-Range", etag)])
        self.assert_206(r, 0, 9, SMALL_LEN, self.small)

    def test_if_range_with_other_etag_gives_200_whole(self):
        r = self.get("/audio/small.mp3", [("Range", "bytes=0-9"), ("If-Range", '"other"')])
        self.assert_whole(r, self.small)

    def test_if_range_compares_etag_byte_for_byte(self):
        etag, _ = self.validators()
        r = self.get("/audio/small.mp3", [("Range", "bytes=0-9"), ("If-Range", etag.upper())])
        self.assert_whole(r, self.small)

    def test_if_range_with_weak_etag_never_matches(self):
        etag, _ = self.validators()
        r = self.get("/audio/small.mp3", [("Range", "bytes=0-9"), ("If-Range", "W/" + etag)])
        self.assert_whole(r, self.small)

    def test_if_range_with_last_modified_date_honours_the_range(self):
        _, lm = self.validators()
        r = self.get("/audio/small.mp3", [("Range", "bytes=0-9"), ("If-Range", lm)])
        self.assert_206(r, 0, 9, SMALL_LEN, self.small)

    def test_if_range_with_other_date_gives_200_whole(self):
        r = self.get("/audio/small.mp3", [("Range", "bytes=0-9"),
                                          ("If-Range", "Sat, 01 Jan 2000 00:00:00 GMT")])
        self.assert_whole(r, self.small)


class MethodsAndErrors(RangeTestCase):
    expected_log = ()

    @classmethod
    def prepare_docroot(cls, docroot):
        super().prepare_docroot(docroot)
        locked = os.path.join(docroot, "audio", "locked.mp3")
        write_file(locked, b"secret", mode=0o600)  # root's; httpd children run as nobody
        os.makedirs(os.path.join(docroot, "audio", "sub"), mode=0o755)
        os.mkfifo(os.path.join(docroot, "audio", "pipe.mp3"), 0o644)

    def test_other_methods_give_405_with_allow(self):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                r = self.get("/audio/small.mp3", method=method)
                self.assertEqual(r.status, 405)
                allow = [m.strip() for m in r.header("Allow").split(",")]
                self.assertIn("GET", allow)
                self.assertIn("HEAD", allow)
                self.assertNotIn(method, allow)

    def test_options_answers_200_with_allow(self):
        r = self.get("/audio/small.mp3", method="OPTIONS")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Allow"), "GET, HEAD, OPTIONS")
        self.assertEqual(r.header("Content-Length"), "0")

    def test_missing_file_gives_404(self):
        self.assertEqual(self.get("/audio/missing.mp3").status, 404)

    def test_directory_gives_404(self):
        self.assertEqual(self.get("/audio/sub/").status, 404)

    def test_path_info_gives_404(self):
        self.assertEqual(self.get("/audio/small.mp3/more").status, 404)

    def test_unreadable_file_gives_403_and_one_log_line(self):
        self.assertEqual(self.get("/audio/locked.mp3").status, 403)
        self.expect_log(r"\[audio_stream:error\].*AS0005: cannot open .*locked\.mp3")
        lines = [l for l in self.server.log_since_mark() if "locked.mp3" in l]
        self.assertEqual(len(lines), 1, lines)

    def test_fifo_gives_403_without_hanging(self):
        self.assertEqual(self.get("/audio/pipe.mp3").status, 403)
        self.expect_log(r"\[audio_stream:error\].*AS0004: not a regular file: .*pipe\.mp3")
