"""What a source could not read (snapshot.Gap): its JSON round trip, and a dump's "incomplete" list read back."""

from __future__ import annotations

import json

import pytest

from kubectl_dra.errors import InputError
from kubectl_dra.snapshot import Gap
from kubectl_dra.sources import SourceOptions, load_snapshot

CLAIMS = Gap("resourceclaims", "resource.k8s.io", None, "forbidden", ("default",), "claims look free", "403 words")
EVENTS = Gap("events", "", "team-a", "forbidden", (), "no events")


def test_round_trip_and_scope():
    for g in (CLAIMS, EVENTS):
        assert Gap.from_dict(json.loads(json.dumps(g.to_dict()))) == g
    assert CLAIMS.to_dict()["scope"] == "cluster" and "namespace" not in CLAIMS.to_dict()
    assert EVENTS.to_dict()["scope"] == "namespace" and EVENTS.to_dict()["namespace"] == "team-a"
    # which objects it may hide
    assert CLAIMS.covers("resourceclaims") and CLAIMS.covers("resourceclaims", "team-b")
    assert not CLAIMS.covers("resourceclaims", "default")  # read in full instead
    assert not CLAIMS.covers("pods") and EVENTS.covers("events", "team-a") and not EVENTS.covers("events", "x")


@pytest.mark.parametrize("entry, words", [
    ({"resource": "pods", "scope": "cluster", "reason": "sleepy"}, "reason 'sleepy'"),
    ({"scope": "cluster", "reason": "forbidden"}, "resource is missing"),
    ({"resource": "pods", "scope": "namespace", "reason": "forbidden"}, "namespace goes with scope namespace"),
    ({"resource": "pods", "scope": "cluster", "reason": "forbidden", "readNamespaces": "default"}, "readNamespaces"),
    ("pods", "not an object"),
])
def test_a_malformed_incomplete_list_is_bad_input(tmp_path, entry, words):
    f = tmp_path / "dump.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "incomplete": [entry], "items": []}))
    with pytest.raises(InputError) as err:
        load_snapshot(SourceOptions(filenames=(str(f),)))
    assert words in err.value.message and str(f) in err.value.message and "incomplete[0]" in err.value.message


def test_dumps_gaps_are_merged(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "incomplete": [CLAIMS.to_dict()], "items": []}))
    b.write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                             "incomplete": [EVENTS.to_dict(), CLAIMS.to_dict()], "items": []}))
    snap = load_snapshot(SourceOptions(filenames=(str(a), str(b))))
    assert snap.source.incomplete == (CLAIMS, EVENTS)
