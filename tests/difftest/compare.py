#!/usr/bin/env python3
"""compare LAYOUT REF PEER.tar [--apt] [--peer NAME]: cbuild's image REF in the
OCI layout LAYOUT against a peer's docker-archive, under norm.py's rules
(--apt: also the rules for images that ran apt/dpkg). Prints the
differences; exit 1 when there are any."""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import norm  # noqa: E402
import ocitree  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("layout")
ap.add_argument("ref")
ap.add_argument("peer_tar")
ap.add_argument("--apt", action="store_true")
ap.add_argument("--peer", default="buildah")
o = ap.parse_args()
peer = ocitree.DockerArchive(o.peer_tar)
diffs = norm.compare(ocitree.tree_of(o.layout, o.ref), ocitree.config_of(o.layout, o.ref),
                     peer.tree(), peer.config(), o.peer, apt=o.apt)
for d in diffs:
    print(d)
sys.exit(1 if diffs else 0)
