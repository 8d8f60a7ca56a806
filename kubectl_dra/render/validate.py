"""Text rendering of `kubectl dra validate` results."""

from __future__ import annotations

from kubectl_dra.render.output import write


def render_text(result: dict) -> None:
    """A `validate` report (analysis.validate): one line per finding, then the counts."""
    lines = []
    for d in result["diagnostics"]:
        obj = f"{d['kind']}/{d['name']}" if d.get("kind") else "-"
        loc = f"{d['file']}:{d['document']}" if d.get("document") else d["file"]
        msg = d["message"].replace("\n", "\n    ")
        lines.append(f"{loc}: {obj}: {d['path']}: {d['severity']}: {msg} [{d['code']}]")
    e, w = result["errors"], result["warnings"]
    lines.append(f"{result['objects']} DRA object(s) in {len(result['files'])} file(s): "
                 f"{e} error{'s' if e != 1 else ''}, {w} warning{'s' if w != 1 else ''}"
                 + (f" (Kubernetes {result['kubernetesVersion']})" if result.get("kubernetesVersion") else ""))
    write("\n".join(lines) + "\n")
