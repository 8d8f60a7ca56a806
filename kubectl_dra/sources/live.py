"""Read the objects kubectl-dra needs from a live cluster, strictly read-only.

Which kubeconfig files, which context and which default namespace come from
:mod:`kubectl_dra.sources.kubeconfig` (``--kubeconfig``, ``$KUBECONFIG`` lists,
``~/.kube/config``, in-cluster service account); credentials and TLS from the
official ``kubernetes`` client's kubeconfig machinery.  Responses are read as raw JSON, never turned
into the client's model classes: those are slow and drop fields they do not
know, and DRA gains fields every release.

Only GET requests are ever sent.  Lists are paged (``limit`` + ``continue``)
and the independent lists are fetched concurrently.  Every failure becomes a
one-line :class:`ClusterError` (the cluster) or :class:`InputError` (the
kubeconfig).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from kubectl_dra.durations import describe as describe_duration
from kubectl_dra.errors import ClusterError, InputError, redact, register_secret
from kubectl_dra.sources import kubeconfig as kubeconfig_files
from kubectl_dra.snapshot import Gap, SourceInfo, pod_containers_started

GROUP = "resource.k8s.io"
#: resource.k8s.io versions we can read, newest first.
READABLE_VERSIONS = ("v1", "v1beta2", "v1beta1")
#: the versions DeviceTaintRules are served in (v1alpha3: 1.33-1.36, v1beta2: from 1.36), preferred first.
#: Neither is on by default (alpha and new beta APIs need the API server's --runtime-config).
TAINT_RULE_VERSIONS = ("v1beta2", "v1alpha3")
TAINT_RULES = "devicetaintrules"
PAGE_SIZE = 500
#: a list that needs more pages than this is not followed further (a server handing out fresh continue tokens
#: forever, even with no deadline): 10 million objects at PAGE_SIZE
MAX_PAGES = 20_000
MAX_WORKERS = 6
#: bytes read from a response at a time, the deadline checked in between (a server trickling its answer
#: never resets a socket timeout for long)
READ_CHUNK = 1 << 16
USER_AGENT = "kubectl-dra"


class _HttpError(Exception):
    """A non-2xx answer (internal; turned into ClusterError by the caller)."""

    def __init__(self, status: int, reason: str, path: str, status_obj: dict | None, body: bytes):
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.path = path
        self.status_obj = status_obj or {}
        self.body = body

    @property
    def message(self) -> str:
        msg = self.status_obj.get("message") if isinstance(self.status_obj, dict) else None
        if not msg:
            msg = self.body.decode("utf-8", "replace").strip()[:200] or self.reason
        return " ".join(str(msg).split())


# Pods that have finished (their claims may still hold devices).
FINISHED_PODS = "status.phase!=Pending,status.phase!=Running,status.phase!=Unknown"


@dataclass(frozen=True)
class _ListSpec:
    """One list to fetch: ``path`` is the collection URL."""

    key: str            # for ordering and messages, e.g. "resourceclaims"
    path: str
    group: str          # "" for core
    resource: str       # plural
    namespace: str | None
    field_selector: str | None = None


# ----------------------------------------------------------------------------
# configuration


@dataclass
class _Target:
    api_client: Any
    context: str
    server: str         # for messages: credentials in the URL masked
    namespace: str
    insecure: bool = False  # TLS verification off (insecure-skip-tls-verify)
    credentials: bool = True  # a token, client certificate or basic-auth user is sent


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


class _ClientLog(logging.Handler):
    """Capture what the kubernetes client logs on the root logger while loading the kubeconfig
    (it reports credential plugin failures that way), instead of letting it reach stderr."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def __enter__(self) -> "_ClientLog":
        root = logging.getLogger()
        self._saved = root.handlers[:]
        root.handlers[:] = [self]
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger().handlers[:] = self._saved


def _configure_within(kubeconfig: str | None, context: str | None, request_timeout: float | None) -> _Target:
    """:func:`_configure` within ``request_timeout`` seconds (0 or None: no limit).  Getting credentials may run
    the kubeconfig's exec credential plugin, which the client waits for without a timeout: a plugin that never
    answers (a login prompt with no terminal, a hung network call) must not hang the command.  The plugin is
    left to itself; the command says what did not answer and exits."""
    if not request_timeout or request_timeout <= 0:
        return _configure(kubeconfig, context, request_timeout or 0)
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["target"] = _configure(kubeconfig, context, request_timeout)
        except BaseException as e:  # noqa: BLE001 - raised again in the caller's thread
            box["error"] = e

    worker = threading.Thread(target=run, name="kubectl-dra-credentials", daemon=True)
    worker.start()
    worker.join(request_timeout)
    if worker.is_alive():
        raise ClusterError(f"the credentials of the kubeconfig were not ready within {describe_duration(request_timeout)} "
                           "(an exec credential plugin that does not answer?): check the plugin, or raise "
                           "--request-timeout")
    if "error" in box:
        raise box["error"]
    return box["target"]


def _configure(kubeconfig: str | None, context: str | None, request_timeout: float) -> _Target:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.config.config_exception import ConfigException

    kc = kubeconfig_files.load(kubeconfig)
    cfg = k8s_client.Configuration()
    if kc is None:
        if context:
            raise InputError(f"context {context!r} requested, but there is no kubeconfig (running in-cluster)")
        try:
            k8s_config.load_incluster_config(client_configuration=cfg)
        except ConfigException as e:
            raise InputError(f"cannot use the in-cluster service account: {_one_line(e)}") from None
        ctx_name = "in-cluster"
    else:
        ctx_name = kc.require_context(context)
        _register_kubeconfig_secrets(kc, ctx_name)
        try:
            with _ClientLog() as client_log:
                k8s_config.load_kube_config(config_file=os.pathsep.join(kc.paths), context=ctx_name,
                                            client_configuration=cfg, persist_config=False)
            # The client only logs a failing exec credential plugin and goes on without credentials.
            failure = _exec_failure(kc, ctx_name, client_log.messages)
            if failure is not None:
                raise failure
        except ConfigException as e:
            if str(e).startswith("exec:"):  # the credential plugin ran and failed: an auth problem, not input
                raise ClusterError(f"cannot get credentials for context {ctx_name!r}: {_one_line(e)}") from None
            raise InputError(f"kubeconfig context {ctx_name!r}: {_one_line(e)}") from None
        except (OSError, ValueError, TypeError, KeyError) as e:
            raise InputError(f"kubeconfig context {ctx_name!r} is not usable: {_one_line(e)}") from None
    # One attempt per request: a dead server should fail fast and say so, not retry silently.
    cfg.retries = False
    cfg.connection_pool_maxsize = max(cfg.connection_pool_maxsize or 0, MAX_WORKERS + 2)
    try:
        # Resolve the credentials once, here: token refresh hooks (exec plugins, service account token
        # rotation) then do not run concurrently from the worker threads.
        with _ClientLog() as client_log:
            cfg.auth_settings()
        failure = _exec_failure(kc, ctx_name, client_log.messages) if kc is not None else None
        if failure is not None:
            raise failure
    except ConfigException as e:
        raise ClusterError(f"cannot get credentials for context {ctx_name!r}: {_one_line(e)}") from None
    for value in (*(cfg.api_key or {}).values(), cfg.password):
        register_secret(value)
    insecure = cfg.verify_ssl is False
    if insecure:
        # urllib3 warns on every request (InsecureRequestWarning, several lines each); the source says it once.
        import warnings

        import urllib3

        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    api_client = k8s_client.ApiClient(configuration=cfg)
    api_client.user_agent = USER_AGENT
    credentials = bool(any((cfg.api_key or {}).values()) or cfg.cert_file or cfg.username)
    return _Target(api_client=api_client, context=ctx_name, server=redact(cfg.host),
                   namespace=kubeconfig_files.default_namespace(kc, context), insecure=insecure,
                   credentials=credentials)


def _user_entry(kc: Any, ctx_name: str) -> dict:
    ctx = kc.contexts.get(ctx_name) or {}
    user = kc.users.get(ctx.get("user") or "") if isinstance(ctx, dict) else None
    return user if isinstance(user, dict) else {}


def _register_kubeconfig_secrets(kc: Any, ctx_name: str) -> None:
    """The context's credentials and its server URL's password are never echoed in a message."""
    user = _user_entry(kc, ctx_name)
    for key in ("token", "password"):
        register_secret(user.get(key))
    ctx = kc.contexts.get(ctx_name) or {}
    cluster = kc.clusters.get(ctx.get("cluster") or "") if isinstance(ctx, dict) else None
    server = cluster.get("server") if isinstance(cluster, dict) else None
    if isinstance(server, str) and "@" in server.split("/")[2 if "://" in server else 0]:
        userinfo = server.split("://", 1)[-1].split("@", 1)[0]
        register_secret(userinfo.partition(":")[2])


def _exec_failure(kc: Any, ctx_name: str, messages: list[str]) -> ClusterError | None:
    """What the kubernetes client logged (instead of raising) when the context's exec credential plugin could
    not give credentials, as one error; None if nothing went wrong.  Left alone, the client sends no
    credentials and the server's 401 would blame the kubeconfig's credentials."""
    exec_cfg = _user_entry(kc, ctx_name).get("exec")
    if not messages or not isinstance(exec_cfg, dict):
        return next((ClusterError(f"cannot get credentials for context {ctx_name!r}: {_one_line(m)}")
                     for m in messages if m.startswith("exec:")), None)
    command = exec_cfg.get("command")
    text = " ".join(_one_line(m) for m in messages)
    where = f"cannot get credentials for context {ctx_name!r}"
    if "[Errno 2]" in text or "No such file or directory" in text:
        hint = exec_cfg.get("installHint")
        hint = _one_line(hint) if isinstance(hint, str) and hint.strip() else (
            "install it, or correct users[].user.exec.command in the kubeconfig")
        return ClusterError(f"{where}: the exec credential plugin {command!r} was not found "
                            f"(not on PATH, or no such file): {hint}")
    if "[Errno 13]" in text or "Permission denied" in text:
        return ClusterError(f"{where}: the exec credential plugin {command!r} cannot be run (permission denied)")
    return ClusterError(f"{where}: the exec credential plugin {command!r} failed: {text}")


# ----------------------------------------------------------------------------
# HTTP


class _Answer:
    """A non-2xx answer that a kubernetes <= 36 client raised as an ApiException, as a response again."""

    def __init__(self, exc: Any):
        self.status, self.reason, self.headers = exc.status, exc.reason, exc.headers or {}
        body = exc.body or b""
        self._body = body.encode("utf-8", "replace") if isinstance(body, str) else body

    def read(self) -> bytes:
        return self._body


def _get_before_37(api: Any, path: str, query: list[tuple[str, str]] | None, timeout: float | None) -> Any:
    """GET through a kubernetes <= 36 ApiClient: ``call_api(resource_path, method, ...)``, which raises on a
    non-2xx status where 37's returns the response.  The timeout goes as a (connect, read) pair: up to 35
    the client ignores a float."""
    from kubernetes.client.exceptions import ApiException

    try:
        return api.call_api(path, "GET", query_params=list(query or []), header_params={"Accept": "application/json"},
                            auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
                            _request_timeout=None if timeout is None else (timeout, timeout))
    except ApiException as e:
        if not e.status:  # status 0: the client's wrapping of a transport (TLS) error
            raise
        return _Answer(e)


#: the most one answer may hold: what a file may (kubectl_dra.sources.limits), so a server sending without end
#: cannot take the memory
MAX_BODY_BYTES = 1 << 30


def _read_body(resp: Any, deadline: float | None, late: Any, too_big: Any = None) -> bytes:
    """The whole body of ``resp``, a piece at a time, calling ``late()`` (which raises) once the deadline has
    passed and ``too_big()`` (which raises) past :data:`MAX_BODY_BYTES`.  37's RESTResponse wraps urllib3's
    response (``.response``); up to 36 it is urllib3's own."""
    raw = getattr(resp, "response", resp)
    read1 = getattr(raw, "read1", None)
    if read1 is None:
        return resp.read()
    chunks = []
    size = 0
    while True:
        chunk = read1(READ_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY_BYTES and too_big is not None:
            too_big()
        if deadline is not None and time.monotonic() > deadline:
            late()
    data = b"".join(chunks)
    if hasattr(resp, "data") and resp is not raw:
        resp.data = data  # what RESTResponse.read() would have kept
    return data


class _Fetcher:
    """GETs within one deadline: ``timeout`` seconds (0 or None: none) for everything this fetcher reads,
    every request together.  Each request's own socket timeout is what is left of it."""

    def __init__(self, target: _Target, timeout: float | None):
        self.t = target
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        #: the newest ``Date`` header of the server's answers (its clock, not ours): "now" for binding timeouts
        self.server_date: datetime | None = None
        self.restart(timeout)

    def restart(self, timeout: float | None) -> None:
        """A new deadline, ``timeout`` seconds from now."""
        self.timeout = timeout if timeout and timeout > 0 else None
        self.deadline = None if self.timeout is None else time.monotonic() + self.timeout

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline); 0 once it has passed."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.monotonic(), 0.0)

    def late(self, what: str) -> ClusterError:
        return ClusterError(f"the cluster at {self.t.server} did not answer within "
                            f"{describe_duration(self.timeout or 0)} ({what}); raise --request-timeout "
                            "or check the connection")

    def get(self, path: str, query: list[tuple[str, str]] | None = None) -> dict:
        """GET ``path`` and return the decoded JSON body; raise _HttpError or ClusterError."""
        api = self.t.api_client
        left = self.remaining()
        if left is not None and left <= 0:
            raise self.late(f"GET {path}")
        try:
            if hasattr(api, "param_serialize"):  # kubernetes >= 37
                method, url, headers, _body, _post = api.param_serialize(
                    "GET", path, query_params=list(query or []), header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"])
                resp = api.call_api(method, url, header_params=headers, _request_timeout=left)
            else:  # kubernetes <= 36 (the krew archive's: 37 needs the compiled pydantic-core)
                resp = _get_before_37(api, path, query, left)
            data = _read_body(resp, self.deadline, lambda: self._raise_late(path), lambda: self._raise_too_big(path))
        except ClusterError:
            raise
        except Exception as e:  # noqa: BLE001 - every transport failure becomes one line
            raise self._transport_error(e, path) from None
        self._collect_warnings(resp)
        self._collect_date(resp)
        status_obj = None
        try:
            doc = json.loads(data) if data else None
        except ValueError:
            doc = None
        if not 200 <= resp.status < 300:
            if isinstance(doc, dict) and doc.get("kind") == "Status":
                status_obj = doc
            raise _HttpError(resp.status, resp.reason or "", path, status_obj, data or b"")
        if not isinstance(doc, dict):
            snippet = _one_line((data or b"").decode("utf-8", "replace"))[:80]
            raise ClusterError(f"unexpected answer from {self.t.server}{path}: not a JSON object ({snippet!r})")
        return doc

    def _raise_late(self, path: str) -> None:
        raise self.late(f"GET {path}")

    def _raise_too_big(self, path: str) -> None:
        raise ClusterError(f"the cluster at {self.t.server} sent more than {MAX_BODY_BYTES:,} bytes for GET {path}: "
                           "reading stopped")

    def _collect_warnings(self, resp) -> None:
        try:
            values = resp.headers.get_all("Warning") if hasattr(resp.headers, "get_all") else None
            if values is None:
                v = resp.headers.get("Warning")
                values = [v] if v else []
        except Exception:  # noqa: BLE001
            return
        for v in values:
            # RFC 7234 style: 299 - "text"
            text = v.split(" ", 2)[-1].strip() if v.startswith("299") else v
            text = text.strip('"')
            with self._lock:
                if text and text not in self.warnings:
                    self.warnings.append(text)

    def _collect_date(self, resp) -> None:
        try:
            value = resp.headers.get("Date")
            at = parsedate_to_datetime(value) if value else None
        except Exception:  # noqa: BLE001 - a missing or odd Date header only loses the server's clock
            return
        if at is None or at.tzinfo is None:
            return
        with self._lock:
            if self.server_date is None or at > self.server_date:
                self.server_date = at

    def _transport_error(self, exc: BaseException, path: str) -> ClusterError:
        server = self.t.server
        chain = []
        seen = set()
        cur: BaseException | None = exc
        while cur is not None and id(cur) not in seen:
            seen.add(id(cur))
            chain.append(cur)
            cur = getattr(cur, "reason", None) if isinstance(getattr(cur, "reason", None), BaseException) else (
                cur.__cause__ or cur.__context__)
        names = " ".join(type(c).__name__ for c in chain)
        text = " ".join(str(c) for c in chain)
        if "Timeout" in names or "timed out" in text:
            if self.timeout is None:
                return ClusterError(f"the cluster at {server} did not answer (GET {path}): the connection timed out")
            return self.late(f"GET {path}")
        if "SSLError" in names or "SSL" in text or "CERTIFICATE" in text:
            detail = _ssl_detail(text)
            return ClusterError(f"TLS error talking to the cluster at {server}: {detail}")
        if any(isinstance(c, ConnectionRefusedError) for c in chain) or "Connection refused" in text:
            return ClusterError(f"cannot reach the cluster at {server}: connection refused")
        if any(isinstance(c, socket.gaierror) for c in chain) or "Name or service not known" in text \
                or "nodename nor servname" in text or "Failed to resolve" in text:
            return ClusterError(f"cannot reach the cluster at {server}: cannot resolve the host name")
        if "LocationParseError" in names or "URLSchemeUnknown" in names:
            return ClusterError(f"the kubeconfig server address {server!r} is not a valid URL")
        reason = chain[-1]
        msg = _one_line(reason) or type(reason).__name__
        return ClusterError(f"cannot reach the cluster at {server}: {msg}")



class Client:
    """Single GETs against the cluster of a kubeconfig context, through the official client: for callers
    that need a few requests rather than a snapshot (shell completion, for the credentials its own small
    client cannot handle: exec plugins, auth providers, proxies, in-cluster).  Read-only like the rest."""

    def __init__(self, kubeconfig: str | None, context: str | None, timeout: float):
        self._target = _configure_within(kubeconfig, context, timeout)
        self._fetcher = _Fetcher(self._target, timeout)
        self._timeout = timeout

    @property
    def namespace(self) -> str:
        """The context's default namespace (:func:`kubectl_dra.sources.kubeconfig.default_namespace`)."""
        return self._target.namespace

    def get(self, path: str, query: list[tuple[str, str]] | None = None, *, timeout: float | None = None) -> dict:
        """The decoded JSON body of ``GET path``, within ``timeout`` seconds (default: the client's); a non-2xx
        answer raises an error with its ``status``."""
        self._fetcher.restart(self._timeout if timeout is None else timeout)
        return self._fetcher.get(path, query)

def _ssl_detail(text: str) -> str:
    for marker in ("certificate verify failed: ", "CERTIFICATE_VERIFY_FAILED] "):
        if marker in text:
            rest = text.split(marker, 1)[1]
            rest = rest.split(" (_ssl")[0].split("')")[0].rstrip(")'\" ")
            return f"certificate verify failed: {rest} (check certificate-authority-data in the kubeconfig)"
    for marker in ("SSLError(", "SSLError "):
        if marker in text:
            return _one_line(text.split(marker, 1)[1])[:160]
    return _one_line(text)[:160]


# ----------------------------------------------------------------------------
# loading


def _api_prefix(group: str, version: str) -> str:
    return "/api/v1" if not group else f"/apis/{group}/{version}"


def _collection_path(group: str, version: str, resource: str, namespace: str | None) -> str:
    base = _api_prefix(group, version)
    if namespace is not None:
        return f"{base}/namespaces/{quote(namespace, safe='')}/{resource}"
    return f"{base}/{resource}"


def _verb_error(err: _HttpError, spec: _ListSpec, target: _Target) -> ClusterError:
    if err.status == 401 and not target.credentials:
        return ClusterError(f"authentication failed for context {target.context!r} at {target.server} "
                            "(401 Unauthorized): the kubeconfig gives no credentials for it (no token, client "
                            "certificate or exec plugin)")
    if err.status == 401:
        where = ("the service account token was" if target.context == "in-cluster"
                 else "the credentials in the kubeconfig were")
        return ClusterError(f"authentication failed for context {target.context!r} at {target.server} "
                            f"(401 Unauthorized): {where} rejected")
    if err.status == 403:
        if err.status_obj.get("message"):
            return ClusterError(f"forbidden: {err.message}")
        scope = f'in the namespace "{spec.namespace}"' if spec.namespace is not None else "at the cluster scope"
        return ClusterError(f'forbidden: cannot list resource "{spec.resource}" in API group "{spec.group}" {scope}')
    if err.status == 404:
        return ClusterError(f"the cluster at {target.server} does not serve {spec.path} (404 Not Found)")
    return ClusterError(f"GET {spec.path} failed: {err.status} {err.reason}: {err.message}")


def _list_all(fetch: _Fetcher, spec: _ListSpec) -> list[dict]:
    """All items of one collection, page by page, each with kind/apiVersion filled in."""
    items: list[dict] = []
    token: str | None = None
    restarted = False
    seen: set[str] = set()  # continue tokens already followed: a server repeating one would page forever
    while True:
        query = [("limit", str(PAGE_SIZE))]
        if token:
            query.append(("continue", token))
        if spec.field_selector:
            query.append(("fieldSelector", spec.field_selector))
        try:
            doc = fetch.get(spec.path, query)
        except _HttpError as e:
            if e.status == 410 and token and not restarted:
                # The continue token expired while we paged: start over once with a fresh list.
                items, token, restarted = [], None, True
                seen.clear()
                continue
            raise
        list_kind = doc.get("kind") or ""
        item_kind = list_kind[:-4] if list_kind.endswith("List") else list_kind
        api_version = doc.get("apiVersion") or ""
        for item in doc.get("items") or []:
            if not isinstance(item, dict):
                continue
            if "kind" not in item or "apiVersion" not in item:
                item = {"kind": item.get("kind") or item_kind, "apiVersion": item.get("apiVersion") or api_version,
                        **{k: v for k, v in item.items() if k not in ("kind", "apiVersion")}}
            items.append(item)
        token = (doc.get("metadata") or {}).get("continue") or None
        if not token:
            return items
        if not isinstance(token, str):
            raise ClusterError(f"unexpected answer from {fetch.t.server}{spec.path}: metadata.continue is not a string")
        if len(seen) + 1 >= MAX_PAGES:
            raise ClusterError(f"the cluster at {fetch.t.server} kept sending continue tokens while listing {spec.key} "
                               f"(GET {spec.path}): stopped after {MAX_PAGES} pages")
        if token in seen:
            raise ClusterError(f"the cluster at {fetch.t.server} sent the same continue token twice while listing "
                               f"{spec.key} (GET {spec.path}): the list would never end, so reading stopped")
        seen.add(token)


def _discover_version(fetch: _Fetcher, target: _Target) -> tuple[str, list[str]]:
    """The resource.k8s.io version to read (the newest of READABLE_VERSIONS served), and every served one."""
    try:
        group = fetch.get(f"/apis/{GROUP}")
    except _HttpError as e:
        if e.status == 404:
            raise ClusterError(
                f"the cluster at {target.server} does not serve the {GROUP} API group: Dynamic Resource "
                "Allocation is not enabled there (it is GA and on by default since Kubernetes 1.34)") from None
        spec = _ListSpec(GROUP, f"/apis/{GROUP}", GROUP, "", None)
        raise _verb_error(e, spec, target) from None
    served = [v.get("version") for v in group.get("versions") or [] if isinstance(v, dict)]
    for v in READABLE_VERSIONS:
        if v in served:
            return v, [str(s) for s in served]
    raise ClusterError(
        f"the cluster at {target.server} serves {GROUP} only as {', '.join(map(str, served)) or 'nothing'}; "
        f"kubectl-dra reads {', '.join(READABLE_VERSIONS)}")


def _taint_rule_version(fetch: _Fetcher, served: list[str]) -> str | None:
    """The version whose discovery document lists devicetaintrules (v1beta2 serves the other kinds before
    1.36 without it), or None when the cluster serves no DeviceTaintRules at all (then none can exist)."""
    for v in TAINT_RULE_VERSIONS:
        if v not in served:
            continue
        try:
            doc = fetch.get(f"/apis/{GROUP}/{v}")
        except _HttpError as e:
            if e.status == 404:
                continue
            raise
        if any(isinstance(r, dict) and r.get("name") == TAINT_RULES for r in doc.get("resources") or ()):
            return v
    return None


def _list_taint_rules(fetch: _Fetcher, served: list[str]) -> tuple[str | None, list[dict]]:
    """(the version read, the DeviceTaintRules): discovery first, then the list (paged)."""
    version = _taint_rule_version(fetch, served)
    if version is None:
        return None, []
    spec = _ListSpec(TAINT_RULES, _collection_path(GROUP, version, TAINT_RULES, None), GROUP, TAINT_RULES, None)
    return version, _list_all(fetch, spec)


def _server_version(fetch: _Fetcher) -> str | None:
    try:
        doc = fetch.get("/version")
    except _HttpError:
        return None  # some clusters hide /version; not fatal (auth failures surface elsewhere)
    v = doc.get("gitVersion")
    return v if isinstance(v, str) else None


# What why-pending's stages read besides the scheduler's inputs (kubectl_dra/analysis/why_pending): events
# of a pod with these reasons (summary.py: the scheduler's FailedScheduling; claims_stage.py: the resourceclaim
# controller's FailedResourceClaimCreation; prepare.py: the kubelet's FailedPrepareDynamicResources), ...
STAGE_EVENT_REASONS = ("FailedScheduling", "FailedResourceClaimCreation", "FailedPrepareDynamicResources")
# ... the events of its claims, the ResourceQuotas and the Namespace of its namespace, and the pods on its node.


def _pod_claim_names(pod: dict) -> list[str]:
    """The ResourceClaims a pod uses, by name: its own, the generated ones of its templates, and the claim of
    its DRA-backed extended resources (the pod's status names the generated ones)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    found = [rc.get("resourceClaimName") for rc in spec.get("resourceClaims") or [] if isinstance(rc, dict)]
    found += [st.get("resourceClaimName") for st in status.get("resourceClaimStatuses") or [] if isinstance(st, dict)]
    found.append((status.get("extendedResourceClaimStatus") or {}).get("resourceClaimName"))
    out: list[str] = []
    for name in found:
        if isinstance(name, str) and name and name not in out:
            out.append(name)
    return out


def _waiting_on_node(pod: dict) -> str | None:
    """The node of a pod that is bound there but whose containers have not started (why-pending's prepare
    stage: the drivers' kubelet plugins on that node matter), else None."""
    node = (pod.get("spec") or {}).get("nodeName")
    if not node or not isinstance(node, str) or pod_containers_started(pod):
        return None
    return node


def _get_object(fetch: _Fetcher, spec: _ListSpec) -> list[dict]:
    """One object (``spec.path`` names it) as a list of zero (it does not exist) or one."""
    try:
        doc = fetch.get(spec.path)
    except _HttpError as e:
        if e.status == 404:
            return []
        raise
    doc.setdefault("kind", _KINDS.get(spec.resource, ""))
    doc.setdefault("apiVersion", "v1")
    return [doc]


_KINDS = {"namespaces": "Namespace"}  # what _get_object reads (core objects)


def _rfc3339(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# The order in which lists are handled when several fail at once, and in which their objects are returned.
# A key ending in ":" stands for every key it begins ("nodepods:node-3", "claimevents:my-claim", ...).
_ORDER = ("nodes", "deviceclasses", "resourceslices", "resourceclaims", "resourceclaimtemplates", TAINT_RULES, "pods",
          "finishedpods", "nodepods:", "events", "events:", "claimevents:", "resourcequotas", "namespace",
          "namespaces")


def _rank(key: str) -> tuple[int, str]:
    for i, k in enumerate(_ORDER):
        if key == k or (k.endswith(":") and key.startswith(k)):
            return i, key
    return len(_ORDER), key


def load_live(*, kubeconfig: str | None, context: str | None, namespace: str | None,
              all_namespaces: bool, request_timeout: float = 30.0,
              include_events_for: tuple[str | None, str | None] | None = None) -> tuple[list[dict], SourceInfo]:
    """Fetch nodes, pods and the resource.k8s.io objects from the cluster of the kubeconfig context, and
    the server's time (the ``Date`` of its answers).

    ``include_events_for`` (namespace, pod): also what why-pending's stages read for that pod, and nothing
    more: the pod's events and its claims' events (field selectors on ``involvedObject``), the ResourceQuotas
    of its namespace, the Namespace itself and, when the pod is bound to a node and its containers have not
    started, every pod on that node (the drivers' kubelet plugins).  (namespace, None): the same for every
    pod of the pods' scope (``dump``): their events of :data:`STAGE_EVENT_REASONS`, the claims' events, the
    quotas, the namespace(s), and the pods on each node where such a pod waits.  A refused (403) list of
    these is a :class:`Gap`, not an error.

    Returns raw objects (each with ``kind`` and ``apiVersion``) in a stable order (nodes, device classes,
    resource slices, resource claims, claim templates, pods, events, quotas, namespaces) and a
    :class:`SourceInfo`.
    """
    target = _configure_within(kubeconfig, context, request_timeout)
    ns = namespace or target.namespace or "default"
    fetch = _Fetcher(target, request_timeout)
    warnings: list[str] = []
    pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="kubectl-dra-get")
    try:
        core_specs = [_ListSpec("nodes", _collection_path("", "v1", "nodes", None), "", "nodes", None)]
        pod_ns = None if all_namespaces else ns
        core_specs.append(_ListSpec("pods", _collection_path("", "v1", "pods", pod_ns), "", "pods", pod_ns))
        if pod_ns is not None:
            # Claims are read in every namespace, so their holders may be pods anywhere.  Finished pods
            # that still hold claims are what users need flagged: read those cluster-wide (small list).
            core_specs.append(_ListSpec("finishedpods", _collection_path("", "v1", "pods", None), "", "pods", None,
                                        field_selector=FINISHED_PODS))

        def events_spec(key: str, where: str | None, selector: str) -> _ListSpec:
            return _ListSpec(key, _collection_path("", "v1", "events", where), "", "events", where,
                             field_selector=selector)

        stage_specs: list[_ListSpec] = []  # what why-pending's stages read (see the docstring)
        stage_ns: str | None = None        # their namespace (None: every namespace)
        stage_pod: str | None = None       # the one pod they are read for (None: every pod, for `dump`)
        if include_events_for:
            stage_ns, stage_pod = include_events_for
            if stage_pod:
                stage_ns = stage_ns or ns  # None: the effective namespace (-n, else the context's)
                stage_specs.append(events_spec("events", stage_ns, f"involvedObject.kind=Pod,involvedObject.name="
                                                                  f"{stage_pod},involvedObject.namespace={stage_ns}"))
            else:  # every pod's, in the pods' scope (for `dump`)
                stage_ns = pod_ns
                stage_specs += [events_spec(f"events:{r}", stage_ns, f"involvedObject.kind=Pod,reason={r}")
                                for r in STAGE_EVENT_REASONS]
                stage_specs.append(events_spec("claimevents:", stage_ns, "involvedObject.kind=ResourceClaim"))
            stage_specs.append(_ListSpec("resourcequotas", _collection_path("", "v1", "resourcequotas", stage_ns),
                                         "", "resourcequotas", stage_ns))
            if stage_ns is None:
                stage_specs.append(_ListSpec("namespaces", _collection_path("", "v1", "namespaces", None), "",
                                             "namespaces", None))
            else:  # one GET of the namespace object (its labels: admin access)
                stage_specs.append(_ListSpec("namespace", f"/api/v1/namespaces/{quote(stage_ns, safe='')}", "",
                                             "namespaces", None))
        specs: dict[str, _ListSpec] = {}

        def submit(spec: _ListSpec) -> Future:
            specs[spec.key] = spec
            return pool.submit(_get_object if spec.key == "namespace" else _list_all, fetch, spec)

        # Core lists do not depend on discovery: start them right away.
        futures: dict[str, Future] = {s.key: submit(s) for s in core_specs + stage_specs}
        version_f = pool.submit(_server_version, fetch)
        version, served = _discover_version(fetch, target)

        def dra(resource: str, nspace: str | None) -> _ListSpec:
            return _ListSpec(resource, _collection_path(GROUP, version, resource, nspace), GROUP, resource, nspace)

        dra_specs = [dra("deviceclasses", None), dra("resourceslices", None),
                     dra("resourceclaims", None), dra("resourceclaimtemplates", pod_ns)]
        for s in dra_specs:
            futures[s.key] = submit(s)
        futures[TAINT_RULES] = pool.submit(_list_taint_rules, fetch, served)
        # (the path names the version preferred; a 403 may come from either, the gap is the same)
        specs[TAINT_RULES] = _ListSpec(TAINT_RULES, _collection_path(GROUP, TAINT_RULE_VERSIONS[0], TAINT_RULES,
                                                                     None), GROUP, TAINT_RULES, None)

        results: dict[str, list[dict]] = {}
        gaps: list[Gap] = []
        node_lists: list[str] = []  # nodes whose pods were asked for

        def gap(key: str, exc: _HttpError, effect: str, read_namespaces: tuple[str, ...] = ()) -> None:
            spec = specs[key]
            found = Gap(resource=spec.resource, group=spec.group, namespace=spec.namespace,
                        reason="forbidden" if exc.status == 403 else "not-served",
                        read_namespaces=read_namespaces, effect=effect, message=exc.message)
            if found not in gaps:  # (the claims' event lists of one namespace are refused alike)
                gaps.append(found)

        def follow_up(pods: list[dict]) -> None:
            """The reads that depend on the pods: their claims' events, the pods on their nodes."""
            if not include_events_for:
                return
            if stage_pod:
                pod = next((p for p in pods if (p.get("metadata") or {}).get("name") == stage_pod), None)
                if pod is None:
                    return
                for claim in _pod_claim_names(pod):
                    spec = events_spec(f"claimevents:{claim}", stage_ns,
                                       f"involvedObject.kind=ResourceClaim,involvedObject.name={claim},"
                                       f"involvedObject.namespace={stage_ns}")
                    pending[spec.key] = submit(spec)
                waiting = [n for n in [_waiting_on_node(pod)] if n]
            elif pod_ns is None:
                return  # every pod of every node was read already
            else:
                waiting = sorted({n for p in pods if (n := _waiting_on_node(p))})
            for n in waiting:
                node_lists.append(n)
                spec = _ListSpec(f"nodepods:{n}", _collection_path("", "v1", "pods", None), "", "pods", None,
                                 field_selector=f"spec.nodeName={n}")
                pending[spec.key] = submit(spec)

        def recover(key: str, exc: BaseException) -> bool:
            """Degrade gracefully where a forbidden list is not essential: record what is missing (a Gap)
            and go on.  True if handled."""
            if not isinstance(exc, _HttpError) or exc.status != 403:
                return False
            if key == "resourceclaims" and specs[key].namespace is None:
                gap(key, exc, "devices allocated to claims in other namespaces are invisible and look free",
                    read_namespaces=(ns,))
                pending[key] = submit(dra("resourceclaims", ns))
                return True
            if key == "finishedpods":
                # pods of the other namespaces are unknown: finished holders there go unflagged
                gap(key, exc, "whether pods of other namespaces holding claims have finished (and their "
                              "devices could be freed) cannot be told", read_namespaces=(ns,))
                results[key] = []
                return True
            if key == "events" or key.startswith(("events:", "claimevents:")):
                gap(key, exc, "the scheduler's FailedScheduling events are not shown, and what the resourceclaim "
                              "controller and the kubelet said (claim creation, device preparation) cannot be read")
                results[key] = []
                return True
            if key == "resourcequotas":
                gap(key, exc, "whether a ResourceQuota refuses the creation of a pod's claim cannot be checked")
                results[key] = []
                return True
            if key == "namespace":  # (the GET of the one Namespace object was refused)
                gap(key, exc, f'namespace "{stage_ns}" could not be read: whether it allows admin access to devices '
                              "cannot be checked")
                results[key] = []
                return True
            if key == "namespaces":
                gap(key, exc, "the namespaces' labels are unknown: whether they allow admin access to devices "
                              "cannot be checked")
                results[key] = []
                return True
            if key.startswith("nodepods:"):
                # (not in results: the node is not among the source's pod_nodes)
                gap(key, exc, "the pods on the node of a bound pod are unknown: whether the drivers' kubelet "
                              "plugins run there cannot be checked", read_namespaces=() if pod_ns is None else (pod_ns,))
                return True
            if key == TAINT_RULES:
                gap(key, exc, "DeviceTaintRules could not be read: where the feature gates put rules in force, "
                              "the taints they put on devices are unknown, so a device may look usable that "
                              "kube-scheduler would not use")
                results[key] = (None, [])
                return True
            return False

        pending = dict(futures)
        while pending:
            done, _ = wait(pending.values(), timeout=fetch.remaining(), return_when=FIRST_EXCEPTION)
            if not done:  # the deadline passed with lists still being read (their threads end on their own)
                raise fetch.late("reading " + ", ".join(sorted(pending, key=_rank)))
            failed: tuple[str, BaseException] | None = None
            for key in sorted((k for k in pending if pending[k] in done), key=_rank):
                fut = pending.pop(key)
                exc = fut.exception()
                if exc is None:
                    results[key] = fut.result()
                    if key == "pods":
                        follow_up(results[key])
                    continue
                if not recover(key, exc) and failed is None:
                    failed = (key, exc)
            if failed is not None:
                key, exc = failed
                if isinstance(exc, _HttpError):
                    raise _verb_error(exc, specs[key], target) from None
                if isinstance(exc, ClusterError):
                    raise exc
                raise ClusterError(f"reading {key} failed: {_one_line(exc)}") from None
        server_version = version_f.result()
        pool.shutdown(wait=True)  # every list is done: let the threads end (why-pending forks only without them)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        try:
            target.api_client.rest_client.close()
        except Exception:  # noqa: BLE001
            pass

    def key_of(o: dict) -> tuple:
        md = o.get("metadata") or {}
        return md.get("namespace"), md.get("name")

    objects: list[dict] = []
    rules_version, rules = results.pop(TAINT_RULES, (None, []))
    seen: set[tuple] = set()
    for key in sorted(results, key=_rank):
        if key in ("pods", "finishedpods") or key.startswith("nodepods:"):
            kind = "pods"
        elif key == "events" or key.startswith(("events:", "claimevents:")):
            kind = "events"
        else:
            objects.extend(results[key])
            continue
        for o in results[key]:  # the same pod (or event) may come in more than one list
            if (kind, *key_of(o)) not in seen:
                seen.add((kind, *key_of(o)))
                objects.append(o)
    objects.extend(rules)
    if rules and rules_version == "v1alpha3":
        warnings.append(f"DeviceTaintRules read as {GROUP}/v1alpha3, the only version the cluster serves them in "
                        f"(alpha; {GROUP}/v1beta2 from Kubernetes 1.36), and normalized to v1beta2")
    if target.insecure:
        warnings.append(f"TLS certificate verification is off for context {target.context!r} "
                        "(insecure-skip-tls-verify): the server's identity is not checked")
    for w in fetch.warnings:
        warnings.append(redact(f"the API server warned: {w}"))
    info = SourceInfo(kind="cluster", description=f"{target.context} ({target.server})", namespace=ns,
                      server_version=server_version, resource_api_version=version, warnings=tuple(warnings),
                      pod_namespaces=None if pod_ns is None else (pod_ns,),
                      incomplete=tuple(sorted(gaps, key=lambda g: (g.group, g.resource, g.namespace or ""))),
                      server_time=_rfc3339(fetch.server_date),
                      pod_nodes=tuple(sorted(n for n in node_lists if f"nodepods:{n}" in results)))
    return objects, info
