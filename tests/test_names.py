"""kubectl_dra.names: only names one edit off are offered."""

from kubectl_dra.names import did_you_mean, near, not_found_hint, one_edit_off


def test_one_edit_off():
    assert one_edit_off("gpu-claim", "gpu-clam")        # deletion
    assert one_edit_off("gpu-clam", "gpu-claim")        # insertion
    assert one_edit_off("gpu-claim", "gpu-claym")       # substitution
    assert one_edit_off("trian", "train")               # two neighbours swapped
    assert not one_edit_off("gpu", "gpu")
    assert not one_edit_off("trian", "trains")          # a swap and an insertion
    assert not one_edit_off("abcd", "badc")             # two swaps
    assert not one_edit_off("gpu.example", "gpu.example.com")


def test_near_and_did_you_mean():
    assert near("gpu-larg", ["gpu-large", "gpu-small", "gpu-lar"]) == ["gpu-lar", "gpu-large"]
    assert near("GPU-Large", ["gpu-large"]) == ["gpu-large"]   # case alone
    assert did_you_mean("x", ["y-long"]) == ""
    assert did_you_mean("gpu-larg", ["gpu-large"]) == "; did you mean gpu-large?"


def test_not_found_hint_prefers_the_same_name_elsewhere():
    objs = {("team-a", "train"): 1, ("team-b", "train"): 1, ("default", "trian"): 1}
    assert not_found_hint(objs, "train", "default") == "; it exists in namespace team-a, team-b (use -n team-a)"
    assert not_found_hint(objs, "trainn", "default") == ""
    assert not_found_hint(objs, "triann", "default") == "; did you mean trian?"
    assert not_found_hint({"a100": 1}, "a10", None) == "; did you mean a100?"
