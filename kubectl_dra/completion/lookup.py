"""Where shell-completion candidates come from: the ``-f`` files on the command line, or the cluster of the
kubeconfig context -- always within a deadline, never raising, never printing.

A completion runs once per <TAB> in a fresh process, so everything here is built for one short life:

* :func:`bounded` runs a lookup in a *daemon* thread and gives up at the process-wide deadline
  (``KUBECTL_DRA_COMPLETION_TIMEOUT`` seconds, default 1.0, counted from the first lookup).  A daemon thread
  never keeps the process alive, so a cluster that does not answer cannot hang the shell.
* For the cluster, a small stdlib HTTPS client uses the context that :mod:`kubectl_dra.sources.kubeconfig`
  reads (the same files, context and default namespace as the commands): token, client certificate, basic
  auth, CA data/file, insecure-skip-tls-verify.  Importing the official ``kubernetes`` client costs about a
  second on its own, which is the whole budget; it is used only for what the small client cannot do
  (``exec`` / ``auth-provider`` credentials, proxies, tls-server-name, in-cluster config), through
  :class:`kubectl_dra.sources.live.Client`.
* Only the collections a completion needs are fetched (one or two GETs, concurrently), not a whole snapshot.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote, urlencode, urlsplit

from kubectl_dra import kinds
from kubectl_dra.completion import debug
from kubectl_dra.sources import kubeconfig as kubeconfig_files
from kubectl_dra.sources.kubeconfig import Kubeconfig

BUDGET_ENV = "KUBECTL_DRA_COMPLETION_TIMEOUT"
DEFAULT_BUDGET = 1.0
GROUP = kinds.GROUP
READABLE_VERSIONS = ("v1", "v1beta2", "v1beta1")
#: DeviceTaintRules have no v1 (sources.live: the versions they are served in, preferred first)
TAINT_RULE_VERSIONS = ("v1beta2", "v1alpha3")
PAGE_SIZE = 500
MAX_PAGES = 20

# ----------------------------------------------------------------------------------------------------------
# deadline


def budget_seconds() -> float:
    try:
        value = float(os.environ.get(BUDGET_ENV, "") or DEFAULT_BUDGET)
    except ValueError:
        value = DEFAULT_BUDGET
    return min(max(value, 0.05), 30.0)


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0


_DEADLINE: Deadline | None = None
_DEADLINE_LOCK = threading.Lock()


def deadline() -> Deadline:
    """The process-wide deadline, started by the first lookup."""
    global _DEADLINE
    with _DEADLINE_LOCK:
        if _DEADLINE is None:
            _DEADLINE = Deadline(budget_seconds())
        return _DEADLINE


def reset_deadline() -> None:
    """Forget the deadline (tests that complete several times in one process)."""
    global _DEADLINE
    with _DEADLINE_LOCK:
        _DEADLINE = None
    _LOOKUPS.clear()


def _spawn(fn: Callable[..., Any], *args: Any) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - a completion never raises
            box["error"] = e
            debug(f"{getattr(fn, '__name__', fn)}{args!r}: {type(e).__name__}: {e}")

    t = threading.Thread(target=run, name="kubectl-dra-complete", daemon=True)
    t.start()
    return t, box


def bounded(fn: Callable[..., Any], *args: Any, default: Any = None) -> Any:
    """``fn(*args)`` if it finishes before the deadline without raising, else ``default``."""
    t, box = _spawn(fn, *args)
    t.join(deadline().remaining())
    if t.is_alive() or "value" not in box:
        return default
    return box["value"]


# ----------------------------------------------------------------------------------------------------------
# HTTP: a small stdlib client, or the kubernetes client through sources.live


class _HttpStatus(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class _LiteClient:
    """GET JSON from the API server with the credentials of a kubeconfig context (stdlib only)."""

    def __init__(self, server: str, ssl_context: ssl.SSLContext | None, headers: dict[str, str]):
        parts = urlsplit(server)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.ssl_context = ssl_context
        self.headers = {"Accept": "application/json", "User-Agent": "kubectl-dra-completion", **headers}

    def get(self, path: str, query: list[tuple[str, str]] | None = None) -> dict:
        import http.client

        timeout = max(deadline().remaining(), 0.05)
        if self.https:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ssl_context)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            url = self.prefix + path + ("?" + urlencode(query) if query else "")
            conn.request("GET", url, headers=self.headers)
            resp = conn.getresponse()
            body = resp.read()
            if not 200 <= resp.status < 300:
                raise _HttpStatus(resp.status)
        finally:
            conn.close()
        doc = json.loads(body)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        return doc


def _data_or_file(entry: Mapping[str, Any], key: str, base: str) -> tuple[bytes | None, str | None]:
    """(decoded ``key-data``, or None; absolute path of ``key``, or None)."""
    data = entry.get(f"{key}-data")
    if isinstance(data, str) and data:
        return base64.b64decode(data), None
    path = entry.get(key)
    if isinstance(path, str) and path:
        path = os.path.expanduser(path)
        return None, path if os.path.isabs(path) else os.path.join(base, path)
    return None, None


def _lite_client(kc: Kubeconfig, ctx_name: str) -> _LiteClient | None:
    """A stdlib client for the context, or None when it needs the kubernetes client (exec plugins ...)."""
    ctx = kc.contexts.get(ctx_name) or {}
    cluster = kc.clusters.get(str(ctx.get("cluster"))) or {}
    user = kc.users.get(str(ctx.get("user"))) or {}
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        return None
    if user.get("exec") or user.get("auth-provider") or cluster.get("proxy-url") or cluster.get("tls-server-name"):
        return None
    cbase = kc.base_dir("clusters", str(ctx.get("cluster")))
    ubase = kc.base_dir("users", str(ctx.get("user")))
    headers: dict[str, str] = {}
    token = user.get("token")
    if not token and isinstance(user.get("tokenFile"), str):
        path = os.path.expanduser(user["tokenFile"])
        with open(path if os.path.isabs(path) else os.path.join(ubase, path), encoding="utf-8") as fh:
            token = fh.read().strip()
    if isinstance(token, str) and token:
        headers["Authorization"] = f"Bearer {token}"
    elif user.get("username") and user.get("password"):
        cred = base64.b64encode(f"{user['username']}:{user['password']}".encode()).decode()
        headers["Authorization"] = f"Basic {cred}"
    ssl_ctx = None
    if server.startswith("https://"):
        if cluster.get("insecure-skip-tls-verify"):
            ssl_ctx = ssl.create_default_context()
            ssl_ctx.check_hostname = False
            ssl_ctx.verify_mode = ssl.CERT_NONE
        else:
            ca_data, ca_file = _data_or_file(cluster, "certificate-authority", cbase)
            if ca_data is not None:
                ssl_ctx = ssl.create_default_context(cadata=ca_data.decode("ascii", "replace"))
            else:
                ssl_ctx = ssl.create_default_context(cafile=ca_file)
        cert_data, cert_file = _data_or_file(user, "client-certificate", ubase)
        key_data, key_file = _data_or_file(user, "client-key", ubase)
        if (cert_data or cert_file) and (key_data or key_file):
            with tempfile.TemporaryDirectory(prefix="kubectl-dra-complete-") as tmp:
                if cert_data is not None:
                    cert_file = os.path.join(tmp, "client.crt")
                    with open(cert_file, "wb") as fh:
                        fh.write(cert_data)
                if key_data is not None:
                    key_file = os.path.join(tmp, "client.key")
                    with open(key_file, "wb") as fh:
                        fh.write(key_data)
                ssl_ctx.load_cert_chain(cert_file, key_file)
    return _LiteClient(server, ssl_ctx, headers)


class _KubernetesClient:
    """The official client (slow to import), through the live source, for what the small client cannot do."""

    def __init__(self, kubeconfig: str | None, context: str | None):
        from kubectl_dra.sources.live import Client

        self.client = Client(kubeconfig, context, max(deadline().remaining(), 0.05))

    def get(self, path: str, query: list[tuple[str, str]] | None = None) -> dict:
        try:
            return self.client.get(path, query, timeout=max(deadline().remaining(), 0.05))
        except Exception as e:  # noqa: BLE001
            raise _HttpStatus(getattr(e, "status", 0)) from None


# ----------------------------------------------------------------------------------------------------------
# sources


@dataclass(frozen=True)
class SourceSpec:
    """The source flags typed so far on the command line."""

    filenames: tuple[str, ...] = ()
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "SourceSpec":
        files = params.get("filename") or ()
        if isinstance(files, str):
            files = (files,)
        # Never read stdin while completing: the shell's terminal is not a manifest.
        files = tuple(os.path.expanduser(f) for f in files if isinstance(f, str) and f and f != "-")

        def text(key: str) -> str | None:
            v = params.get(key)
            return v if isinstance(v, str) and v else None

        return cls(filenames=files, kubeconfig=text("kubeconfig"), context=text("context"),
                   namespace=text("namespace"), all_namespaces=bool(params.get("all_namespaces")))


def _with_kind(items: Iterable[Any], list_doc: Mapping[str, Any]) -> list[dict]:
    list_kind = str(list_doc.get("kind") or "")
    kind = list_kind[:-4] if list_kind.endswith("List") else list_kind
    api_version = list_doc.get("apiVersion") or ""
    out = []
    for item in items:
        if isinstance(item, dict):
            if "kind" not in item or "apiVersion" not in item:
                item = {"kind": item.get("kind") or kind, "apiVersion": item.get("apiVersion") or api_version, **item}
            out.append(item)
    return out


def _normalized(objects: Iterable[dict]) -> list[dict]:
    from kubectl_dra.normalize import normalize_object

    out = []
    for obj in objects:
        try:
            n = normalize_object(obj)
        except Exception:  # noqa: BLE001 - a malformed object is just not a candidate
            continue
        if n is not None:
            out.append(n)
    return out


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(((obj.get("metadata") or {}).get("namespace")) or "")


def name_of(obj: Mapping[str, Any]) -> str:
    return str(((obj.get("metadata") or {}).get("name")) or "")


class Lookup:
    """Objects for completion from one source.  Every method returns what it has by the deadline."""

    def __init__(self, spec: SourceSpec):
        self.spec = spec
        self._lock = threading.Lock()
        self._file_objects: list[dict] | None = None
        self._client: Any = None
        self._client_ns: str | None = None
        self._client_error = False
        self._version: str | None = None
        self._served: list[str] = []
        self._cache: dict[tuple[str, str | None], list[dict]] = {}

    @property
    def offline(self) -> bool:
        return bool(self.spec.filenames)

    # -- files ---------------------------------------------------------------------------------------------
    def _load_files(self) -> list[dict]:
        with self._lock:
            if self._file_objects is None:
                from kubectl_dra.sources.files import load_files

                objects, _ = load_files(self.spec.filenames)
                self._file_objects = _normalized(objects)
            return self._file_objects

    def _from_files(self, resource: str, namespace: str | None) -> list[dict]:
        objs = self._load_files()
        if resource == "namespaces":
            names = {name_of(o) for o in objs if o.get("kind") == "Namespace"}
            names |= {namespace_of(o) for o in objs if namespace_of(o)}
            return [{"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": n}} for n in sorted(names)]
        out = [o for o in objs if kinds.resource_of(str(o.get("kind"))) == resource]
        if namespace is not None and kinds.by_resource(resource).namespaced:
            out = [o for o in out if (namespace_of(o) or "default") == namespace]
        return out

    # -- cluster -------------------------------------------------------------------------------------------
    def _connect(self) -> Any:
        with self._lock:
            if self._client is None and not self._client_error:
                try:
                    kc = kubeconfig_files.load(self.spec.kubeconfig, strict=False)  # None: in-cluster
                    self._client_ns = kubeconfig_files.default_namespace(kc, self.spec.context)
                    client = None
                    if kc is not None:
                        # No usable context: the live source would say the same, after a slow import.
                        client = _lite_client(kc, kc.require_context(self.spec.context))
                    if client is None:
                        # exec/auth-provider credentials, a proxy, or in-cluster config.
                        client = _KubernetesClient(self.spec.kubeconfig, self.spec.context)
                    self._client = client
                except Exception as e:  # noqa: BLE001
                    debug(f"no cluster for completion: {type(e).__name__}: {e}")
                    self._client_error = True
            return self._client

    def _dra_version(self, client: Any) -> str:
        with self._lock:
            if self._version is None:
                doc = client.get(f"/apis/{GROUP}")
                served = [v.get("version") for v in doc.get("versions") or [] if isinstance(v, dict)]
                self._served = [str(v) for v in served]
                self._version = next((v for v in READABLE_VERSIONS if v in served), "")
            if not self._version:
                raise _HttpStatus(404)
            return self._version

    def _list_live(self, resource: str, namespace: str | None) -> list[dict]:
        client = self._connect()
        if client is None:
            return []
        kind = kinds.by_resource(resource)
        group, namespaced = kind.group, kind.namespaced
        if kind is kinds.DEVICE_TAINT_RULE:
            self._dra_version(client)  # (the served versions)
            # v1beta2 may be served without DeviceTaintRules (before 1.36): then v1alpha3, if served
            for v in [v for v in TAINT_RULE_VERSIONS if v in self._served]:
                try:
                    return self._list_path(client, f"/apis/{group}/{v}/{resource}", group)
                except _HttpStatus as e:
                    if e.status != 404:
                        raise
            return []
        base = "/api/v1" if not group else f"/apis/{group}/{self._dra_version(client)}"
        if namespaced and namespace is not None:
            path = f"{base}/namespaces/{quote(namespace, safe='')}/{resource}"
        else:
            path = f"{base}/{resource}"
        return self._list_path(client, path, group)

    def _list_path(self, client: Any, path: str, group: str) -> list[dict]:
        items: list[dict] = []
        token = None
        for _ in range(MAX_PAGES):
            query = [("limit", str(PAGE_SIZE))] + ([("continue", token)] if token else [])
            doc = client.get(path, query)
            items.extend(_with_kind(doc.get("items") or [], doc))
            token = (doc.get("metadata") or {}).get("continue")
            if not token or deadline().expired:
                break
        return _normalized(items) if group else items

    # -- public --------------------------------------------------------------------------------------------
    def default_namespace(self) -> str:
        """-n, else the context's namespace (the same rule as the commands: sources.kubeconfig)."""
        if self.spec.namespace:
            return self.spec.namespace
        if self.offline:
            return "default"
        if self._client_ns is None:
            try:
                kc = kubeconfig_files.load(self.spec.kubeconfig, strict=False)
                self._client_ns = kubeconfig_files.default_namespace(kc, self.spec.context)
            except Exception:  # noqa: BLE001 - no kubeconfig at all
                pass
        return self._client_ns or "default"

    def fetch(self, wanted: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str | None], list[dict]]:
        """Several collections at once (concurrently), each as (resource, namespace or None for all).

        Collections that fail or miss the deadline are simply absent from the answer."""
        wanted = list(dict.fromkeys(wanted))
        out: dict[tuple[str, str | None], list[dict]] = {}
        todo = []
        for key in wanted:
            if key in self._cache:
                out[key] = self._cache[key]
            else:
                todo.append(key)
        if not todo:
            return out
        fn = self._from_files if self.offline else self._list_live
        if self.offline:
            # One parse serves every collection.
            if bounded(self._load_files) is None:
                return out
        threads = [(key, *_spawn(fn, *key)) for key in todo]
        for key, t, box in threads:
            t.join(deadline().remaining())
            if not t.is_alive() and "value" in box:
                self._cache[key] = out[key] = box["value"]
        return out

    def objects(self, resource: str, namespace: str | None = None) -> list[dict]:
        return self.fetch([(resource, namespace)]).get((resource, namespace), [])


_LOOKUPS: dict[SourceSpec, Lookup] = {}


def lookup_for(spec: SourceSpec) -> Lookup:
    lk = _LOOKUPS.get(spec)
    if lk is None:
        lk = _LOOKUPS[spec] = Lookup(spec)
    return lk


def context_names(kubeconfig: str | None) -> list[tuple[str, str]]:
    """(context name, description) from the kubeconfig files, the current context first."""
    try:
        kc = kubeconfig_files.load(kubeconfig, strict=False)
    except Exception:  # noqa: BLE001
        return []
    if kc is None:  # in-cluster: no contexts
        return []
    out = []
    for name in sorted(kc.contexts, key=lambda n: (n != kc.current, n)):
        ctx = kc.contexts[name] or {}
        bits = []
        if name == kc.current:
            bits.append("current")
        if ctx.get("cluster"):
            bits.append(f"cluster {ctx['cluster']}")
        if ctx.get("namespace"):
            bits.append(f"namespace {ctx['namespace']}")
        out.append((name, ", ".join(bits)))
    return out
