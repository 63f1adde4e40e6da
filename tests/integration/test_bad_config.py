"""Bad configuration: every directive refuses a bad value at `apache2 -t` with a message that
names the directive and the value; a bad value in .htaccess is a 500 with that message logged.
(test_serving.BadConfig has the first cases; this covers every directive and edge.)"""
import os
import re

from harness import ConfigTestCase, ServerTestCase, write_file

DIRECTIVES = ("AudioStreamPieceSize", "AudioStreamPieceScope", "AudioStreamMaxRanges",
              "AudioStreamTimeSeek", "AudioStreamSnapshotSize", "AudioStreamShareSnapshots")

# line -> the message apache2 -t must print (directive and value, quoted as the module does)
BAD_VALUES = {
    "AudioStreamPieceSize 12Q": "AudioStreamPieceSize: '12Q' is not a size",
    "AudioStreamPieceSize K": "AudioStreamPieceSize: 'K' is not a size",
    "AudioStreamPieceSize 1.5M": "AudioStreamPieceSize: '1.5M' is not a size",
    "AudioStreamPieceSize +1": "AudioStreamPieceSize: '+1' is not a size",
    "AudioStreamPieceSize 0x10": "AudioStreamPieceSize: '0x10' is not a size",
    "AudioStreamPieceSize 18446744073709551616": "AudioStreamPieceSize: '18446744073709551616' is not a size",
    "AudioStreamPieceSize 1048577G": "AudioStreamPieceSize: '1048577G' is not a size",
    "AudioStreamPieceScope none": "AudioStreamPieceScope: 'none' is not a scope",
    "AudioStreamMaxRanges 0": "AudioStreamMaxRanges: '0' is not a count",
    "AudioStreamMaxRanges -1": "AudioStreamMaxRanges: '-1' is not a count",
    "AudioStreamMaxRanges 100001": "AudioStreamMaxRanges: '100001' is not a count",
    "AudioStreamMaxRanges 10k": "AudioStreamMaxRanges: '10k' is not a count",
    "AudioStreamTimeSeek maybe": "AudioStreamTimeSeek: 'maybe' is not On or Off",
    "AudioStreamTimeSeek 1": "AudioStreamTimeSeek: '1' is not On or Off",
    "AudioStreamSnapshotSize 17M": "AudioStreamSnapshotSize: '17M' is not a size",
    "AudioStreamSnapshotSize 4Q": "AudioStreamSnapshotSize: '4Q' is not a size",
    "AudioStreamSnapshotSize -1": "AudioStreamSnapshotSize: '-1' is not a size",
    "AudioStreamShareSnapshots yes": "AudioStreamShareSnapshots: 'yes' is not On or Off",
}

GOOD_VALUES = ("AudioStreamPieceSize 0", "AudioStreamPieceSize 1048576G", "AudioStreamPieceSize 4k",
               "AudioStreamPieceScope ALL", "AudioStreamPieceScope media",
               "AudioStreamMaxRanges 1", "AudioStreamMaxRanges 100000",
               "AudioStreamMaxRanges Unlimited", "AudioStreamTimeSeek on",
               "AudioStreamTimeSeek OFF", "AudioStreamSnapshotSize 0", "AudioStreamSnapshotSize 16M",
               "AudioStreamSnapshotSize 64k", "AudioStreamShareSnapshots off", "AudioStreamShareSnapshots On")


class BadConfigEveryDirective(ConfigTestCase):

    def test_bad_values_are_refused_naming_directive_and_value(self):
        self.assertEqual({line.split()[0] for line in BAD_VALUES}, set(DIRECTIVES))
        for line, message in BAD_VALUES.items():
            with self.subTest(line=line):
                self.assert_refused(line, message)

    def test_bad_value_inside_a_directory_section_is_refused(self):
        self.assert_refused("<Directory /tmp>\n    AudioStreamPieceSize 3X\n</Directory>\n",
                            "AudioStreamPieceSize: '3X' is not a size")

    def test_missing_empty_or_extra_arguments_are_refused_naming_the_directive(self):
        # httpd's own message: an empty quoted value counts as no argument.
        for directive in DIRECTIVES:
            for line in (directive, f'{directive} ""', f"{directive} 1 2"):
                with self.subTest(line=line):
                    self.assert_refused(line, f"{directive} takes one argument")

    def test_good_values_pass(self):
        for line in GOOD_VALUES:
            with self.subTest(line=line):
                self.assert_accepted(line)


class BadHtaccess(ServerTestCase):
    """.htaccess is read per request, after configtest: the request gets a 500 and the error
    log one line with the module's message."""

    @classmethod
    def prepare_docroot(cls, docroot):
        d = os.path.join(docroot, "audio", "bad")
        os.makedirs(d, mode=0o755)
        os.chmod(d, 0o755)
        write_file(os.path.join(d, ".htaccess"), b"AudioStreamTimeSeek perhaps\n")
        write_file(os.path.join(d, "a.mp3"), b"0123456789")

    def test_bad_htaccess_value_gives_500_and_one_line(self):
        r = self.get("/audio/bad/a.mp3")
        self.assertEqual(r.status, 500)
        self.assertNotIn(b"0123456789", r.body)
        pattern = r"\.htaccess: AudioStreamTimeSeek: 'perhaps' is not On or Off"
        self.expect_log(pattern)
        self.assertEqual(len([l for l in self.server.log_since_mark() if re.search(pattern, l)]), 1)
