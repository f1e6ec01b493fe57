#!/usr/bin/env python3
"""Self-test of ocitree's layer application (whiteouts, opaque dirs, hard
links, a file replacing a directory): the oracle's own extractor."""
import io
import sys
import os
import tarfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ocitree  # noqa: E402


def layer(*entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, kind, arg in entries:
            ti = tarfile.TarInfo(name)
            if kind == "d":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            elif kind == "f":
                ti.size = len(arg)
                tf.addfile(ti, io.BytesIO(arg))
            elif kind == "h":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
                tf.addfile(ti)
    return buf.getvalue()


class ApplyTest(unittest.TestCase):
    def test_whiteouts(self):
        t = {}
        ocitree.apply_layer(t, layer(("a", "d", None), ("a/x", "f", b"1"), ("a/y", "f", b"2"), ("b", "f", b"b")))
        # the opaque marker after this layer's own entry: the entry stays
        ocitree.apply_layer(t, layer(("a", "d", None), ("a/z", "f", b"3"), ("a/.wh..wh..opq", "f", b""),
                                     (".wh.b", "f", b"")))
        self.assertEqual(sorted(t), ["a", "a/z"])

    def test_file_replaces_dir_and_hardlink(self):
        t = {}
        ocitree.apply_layer(t, layer(("d", "d", None), ("d/in", "f", b"x")))
        ocitree.apply_layer(t, layer(("d", "f", b"now a file"), ("l", "h", "d")))
        self.assertEqual(sorted(t), ["d", "l"])
        self.assertEqual(t["l"]["sha256"], t["d"]["sha256"])
        self.assertEqual(t["d"]["size"], 10)


if __name__ == "__main__":
    unittest.main()
