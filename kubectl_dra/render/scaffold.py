"""Output of `scaffold`: the objects as YAML documents (optionally commented) or as one JSON document."""

from __future__ import annotations

from kubectl_dra.render.output import to_yaml, write_data


def render_text(objs: list[dict], *, comments: list[list[str]] | None = None) -> None:
    """YAML documents separated by ``---``; ``comments[i]`` (``--explain``) goes above object i as ``# `` lines."""
    docs = []
    for i, o in enumerate(objs):
        text = to_yaml(o)
        if comments is not None:
            text = "".join(f"# {line}\n" for line in comments[i]) + text
        docs.append(text)
    write_data("---\n".join(docs))  # manifests to apply: raw values, as YAML escapes them


def as_document(objs: list[dict]) -> dict:
    """What `-o json` prints: the one object, or a List of them."""
    return objs[0] if len(objs) == 1 else {"apiVersion": "v1", "kind": "List", "items": objs}
