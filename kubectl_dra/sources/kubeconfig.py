"""The one kubeconfig reader: which files, their merged contents, the current context, the context's
namespace, and whether the in-cluster service account can be used instead.

Both the live source (:mod:`kubectl_dra.sources.live`) and shell completion read the kubeconfig
here, with kubectl's rules:

* files: ``--kubeconfig PATH``, else every existing file of ``$KUBECONFIG`` (a path list), else
  ``~/.kube/config``; with none of them, the in-cluster service account if there is one;
* merging: the first file to define a cluster, user or context name wins, and the first file that
  sets ``current-context`` sets it; relative paths in an entry are relative to its file;
* namespace: ``-n``, else the context's ``namespace``, else (only where the in-cluster config is
  possible) ``$POD_NAMESPACE`` or the service account's namespace, else ``default`` (client-go's
  ``DeferredLoadingClientConfig.Namespace``).

Reading never touches the network and imports only the standard library (PyYAML when a file is
read): completion calls it on every <TAB>.  ``strict=True`` (the live source) turns every problem
into a one-line :class:`~kubectl_dra.errors.InputError`; ``strict=False`` (completion) skips what
it cannot read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from kubectl_dra.errors import InputError

#: where a pod's service account credentials are mounted
SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
DEFAULT_PATH = "~/.kube/config"
SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# ----------------------------------------------------------------------------------------------------------
# in-cluster


def in_cluster_possible() -> bool:
    """True inside a pod whose service account token is mounted (client-go's rule)."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST") and os.environ.get("KUBERNETES_SERVICE_PORT")
                and os.path.isfile(os.path.join(SA_DIR, "token")))


def in_cluster_namespace() -> str:
    """The pod's namespace: ``$POD_NAMESPACE``, else the service account's, else ``default``."""
    env = os.environ.get("POD_NAMESPACE")
    if env:
        return env
    try:
        with open(os.path.join(SA_DIR, "namespace"), encoding="utf-8") as fh:
            return fh.read().strip() or "default"
    except OSError:
        return "default"


# ----------------------------------------------------------------------------------------------------------
# files


def locate(explicit: str | None) -> list[str] | None:
    """The kubeconfig files to merge, or None for the in-cluster service account.

    InputError when there is neither (or ``--kubeconfig`` names no file)."""
    if explicit:
        path = os.path.expanduser(explicit)
        if not os.path.isfile(path):
            raise InputError(f"kubeconfig {explicit!r} does not exist")
        return [path]
    env = os.environ.get("KUBECONFIG")
    if env:
        existing = [p for p in (os.path.expanduser(x) for x in env.split(os.pathsep) if x) if os.path.isfile(p)]
        if existing:
            return existing
        if in_cluster_possible():
            return None
        raise InputError(f"no kubeconfig found: none of the files in KUBECONFIG={env!r} exists")
    default = os.path.expanduser(DEFAULT_PATH)
    if os.path.isfile(default):
        return [default]
    if in_cluster_possible():
        return None
    raise InputError("no kubeconfig found (~/.kube/config does not exist and KUBECONFIG is not set); "
                     "use --kubeconfig, or -f to read files")


@dataclass
class Kubeconfig:
    """The merged kubeconfig files (only what kubectl-dra reads from them)."""

    paths: tuple[str, ...] = ()
    clusters: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    contexts: dict[str, dict] = field(default_factory=dict)
    current: str | None = None
    #: (section, entry name) -> directory of the file that defined it (relative paths are relative to it)
    where: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def description(self) -> str:
        """How messages name these files: the path, or ``KUBECONFIG=a:b`` for several."""
        if len(self.paths) == 1:
            return self.paths[0]
        return "KUBECONFIG=" + os.pathsep.join(self.paths)

    def context_name(self, override: str | None = None) -> str | None:
        """``--context``, else the current context (None when neither is set)."""
        return override or self.current

    def require_context(self, override: str | None = None) -> str:
        """The context to use; InputError when none is set or it is not defined."""
        name = self.context_name(override)
        avail = ", ".join(sorted(self.contexts)) or "none"
        if not name:
            raise InputError(f"no current context is set in {self.description}; use --context (available: {avail})")
        if name not in self.contexts:
            raise InputError(f"context {name!r} not found in {self.description} (available: {avail})")
        return name

    def namespace(self, override: str | None = None) -> str:
        """The default namespace of the context (``--context`` or the current one), kubectl's rule."""
        ns = (self.contexts.get(self.context_name(override) or "") or {}).get("namespace")
        if isinstance(ns, str) and ns:
            return ns
        return in_cluster_namespace() if in_cluster_possible() else "default"

    def base_dir(self, section: str, name: str) -> str:
        """The directory relative paths of entry ``name`` of ``section`` are relative to."""
        return self.where.get((section, name), os.getcwd())


def read(paths: list[str], *, strict: bool = True) -> Kubeconfig:
    """Read and merge ``paths``.  strict: every problem is an InputError; else unreadable files and
    malformed sections or entries are skipped."""
    from kubectl_dra.sources import limits

    kc = Kubeconfig(paths=tuple(paths))
    for path in paths:
        try:
            with open(path, "rb") as fh:
                data = fh.read(limits.MAX_INPUT_BYTES + 1)
        except OSError as e:
            if strict:
                raise InputError(f"cannot read kubeconfig {path}: {getattr(e, 'strerror', None) or e}") from None
            continue
        try:
            # within the input limits every file obeys (size, UTF-8, nesting, YAML aliasing): a kubeconfig is a
            # file like any other, and one with an alias bomb must not take the memory
            if len(data) > limits.MAX_INPUT_BYTES:
                raise InputError(f"kubeconfig {path}: larger than {limits.MAX_INPUT_BYTES >> 30} GiB")
            doc = limits.load_yaml_one(limits.decode(data, f"kubeconfig {path}"), f"kubeconfig {path}")
        except InputError:
            if strict:
                raise
            continue
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            if strict:
                raise InputError(f"kubeconfig {path} is not a kubeconfig (expected a mapping, "
                                 f"got {type(doc).__name__})")
            continue
        base = os.path.dirname(os.path.abspath(path))
        for section, key in SECTIONS:
            items = doc.get(section)
            if items is None:
                continue
            if not isinstance(items, list):
                if strict:
                    raise InputError(f"kubeconfig {path}: {section!r} must be a list")
                continue
            merged = getattr(kc, section)
            for item in items:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                    continue
                name = item["name"]
                if name not in merged:
                    body = item.get(key)
                    merged[name] = body if isinstance(body, dict) else {}
                    kc.where[(section, name)] = base
        current = doc.get("current-context")
        if kc.current is None and isinstance(current, str) and current:
            kc.current = current
    return kc


def load(explicit: str | None, *, strict: bool = True) -> Kubeconfig | None:
    """:func:`locate` then :func:`read`; None means the in-cluster service account."""
    paths = locate(explicit)
    return None if paths is None else read(paths, strict=strict)


def default_namespace(kc: Kubeconfig | None, context: str | None = None) -> str:
    """The namespace commands use without ``-n``: the context's (``kc`` None: the pod's, in-cluster)."""
    return in_cluster_namespace() if kc is None else kc.namespace(context)
