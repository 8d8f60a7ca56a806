"""A small, real Kubernetes API server for tests (HTTPS + bearer token, read-only).

It serves a fixed set of objects over the Kubernetes REST API well enough for
the real ``kubectl`` binary: ``/version``, legacy discovery (``/api``,
``/apis``, ``/api/v1``, ``/apis/resource.k8s.io[/<version>]``) and
list/get of nodes, pods, events, namespaces, resourcequotas and the four resource.k8s.io kinds,
cluster-wide, per namespace and across all namespaces, with ``limit`` /
``continue`` paging, ``fieldSelector`` and ``labelSelector``.

The same objects can be served as resource.k8s.io ``v1``, ``v1beta2`` or
``v1beta1`` (objects are kept in the v1 shape and converted down on the way
out).  DeviceTaintRules are served only in the versions of ``taint_rule_versions``
(``v1alpha3``, ``v1beta2``; none by default, as on a cluster that did not enable them);
a version there but not in ``versions`` serves nothing else (v1alpha3 since 1.34).  Knobs: ``forbid()`` answers
403 for a resource, a wrong bearer token gets 401, ``delay`` slows every answer down (timeouts, concurrency),
``now`` sets the clock its ``Date`` header tells; ``page_limit``, ``repeat_continue`` and ``trickle`` make it
misbehave as broken servers do (short pages, a repeated continue token, an answer sent a few bytes at a time).  Every
request is recorded (``requests``), so tests can assert that only GET was sent.

Usage::

    with ApiServer(objects, versions=("v1beta1",)) as srv:
        srv.kubeconfig(tmp_path / "kubeconfig")
        ...
"""

from __future__ import annotations

import base64
import copy
import datetime
import ipaddress
import json
import os
import re
import ssl
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qs, urlsplit

import yaml

GROUP = "resource.k8s.io"
ALL_DRA_VERSIONS = ("v1", "v1beta2", "v1beta1")
TAINT_RULE_VERSIONS = ("v1beta2", "v1alpha3")
DEFAULT_TOKEN = "kubectl-dra-test-token"
DEFAULT_USER = "test-user"


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    group: str          # "" for core
    namespaced: bool
    short_names: tuple[str, ...] = ()


CORE_RESOURCES = (
    Resource("nodes", "Node", "", False, ("no",)),
    Resource("pods", "Pod", "", True, ("po",)),
    Resource("events", "Event", "", True, ("ev",)),
    Resource("namespaces", "Namespace", "", False, ("ns",)),
    Resource("resourcequotas", "ResourceQuota", "", True, ("quota",)),
)
DRA_RESOURCES = (
    Resource("deviceclasses", "DeviceClass", GROUP, False),
    Resource("resourceclaims", "ResourceClaim", GROUP, True),
    Resource("resourceclaimtemplates", "ResourceClaimTemplate", GROUP, True),
    Resource("resourceslices", "ResourceSlice", GROUP, False),
)
TAINT_RULES = Resource("devicetaintrules", "DeviceTaintRule", GROUP, False)
_BY_KIND = {r.kind: r for r in CORE_RESOURCES + DRA_RESOURCES + (TAINT_RULES,)}
_EXACT_FIELDS = ("deviceClassName", "selectors", "allocationMode", "count", "adminAccess", "tolerations", "capacity")


# ----------------------------------------------------------------------------
# certificates (generated once per process: a CA and a server cert for 127.0.0.1)

_CERTS: dict[str, str] | None = None
_CERTS_LOCK = threading.Lock()


def _generate_certs() -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubectl-dra-test-ca")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False,
                                     crl_sign=False, content_commitment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName([
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return {
        "ca": ca_cert.public_bytes(pem).decode(),
        "cert": cert.public_bytes(pem).decode(),
        "key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
    }


def _generate_certs_openssl() -> dict[str, str]:  # pragma: no cover - fallback when cryptography is missing
    import subprocess

    with tempfile.TemporaryDirectory() as d:
        def run(*args: str) -> None:
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=kubectl-dra-test-ca", "-keyout", "ca.key", "-out", "ca.crt")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=kube-apiserver", "-keyout", "tls.key", "-out", "tls.csr")
        Path(d, "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        run("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "1", "-extfile", "ext.cnf", "-out", "tls.crt")
        return {n: Path(d, f).read_text() for n, f in (("ca", "ca.crt"), ("cert", "tls.crt"), ("key", "tls.key"))}


def test_certificates() -> dict[str, str]:
    """PEM strings ``ca``, ``cert``, ``key`` (cached for the process)."""
    global _CERTS
    with _CERTS_LOCK:
        if _CERTS is None:
            try:
                import cryptography  # noqa: F401
                _CERTS = _generate_certs()
            except ImportError:  # pragma: no cover
                _CERTS = _generate_certs_openssl()
        return _CERTS


test_certificates.__test__ = False  # not a pytest test


# ----------------------------------------------------------------------------
# version conversion (objects are stored as v1)

def to_v1(obj: dict) -> dict:
    """Bring a resource.k8s.io object of any version to the v1 shape (other kinds untouched)."""
    from kubectl_dra.normalize import normalize_object

    if obj.get("kind") in ("DeviceClass", "ResourceSlice", "ResourceClaim", "ResourceClaimTemplate"):
        return normalize_object(copy.deepcopy(obj)) or obj
    return obj


def _claim_spec_to_v1beta1(spec: dict) -> dict:
    out = dict(spec)
    devices = dict(spec.get("devices") or {})
    if "requests" in devices:
        reqs = []
        for req in devices["requests"] or []:
            new = {k: v for k, v in req.items() if k != "exactly"}
            new.update(req.get("exactly") or {})
            reqs.append(new)
        devices["requests"] = reqs
        out["devices"] = devices
    return out


def convert(obj: dict, version: str) -> dict:
    """Serve a v1-shaped resource.k8s.io object as ``version``."""
    obj = copy.deepcopy(obj)
    kind = obj.get("kind")
    if kind == "DeviceTaintRule":  # stored as written; the fields are the same in v1alpha3 and v1beta2
        obj["apiVersion"] = f"{GROUP}/{version}"
        return obj
    if kind not in ("DeviceClass", "ResourceSlice", "ResourceClaim", "ResourceClaimTemplate"):
        return obj
    obj["apiVersion"] = f"{GROUP}/{version}"
    if version != "v1beta1":
        return obj
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if kind == "ResourceSlice":
        devs = []
        for dev in spec.get("devices") or []:
            basic = {k: v for k, v in dev.items() if k != "name"}
            devs.append({"name": dev.get("name"), "basic": basic} if basic else {"name": dev.get("name")})
        if "devices" in spec:
            spec["devices"] = devs
    elif kind == "ResourceClaim":
        obj["spec"] = _claim_spec_to_v1beta1(spec)
    elif kind == "ResourceClaimTemplate":
        if isinstance(spec.get("spec"), dict):
            spec["spec"] = _claim_spec_to_v1beta1(spec["spec"])
    return obj


# ----------------------------------------------------------------------------
# selectors

def _field_value(obj: dict, path: str) -> str:
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if cur is None:
        return ""
    return cur if isinstance(cur, str) else json.dumps(cur)


def _parse_field_selector(sel: str) -> list[tuple[str, str, str]]:
    terms = []
    for term in filter(None, (t.strip() for t in sel.split(","))):
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(==|!=|=)\s*(.*)", term)
        if not m:
            raise ValueError(f"invalid field selector term {term!r}")
        terms.append((m.group(1), "!=" if m.group(2) == "!=" else "=", m.group(3)))
    return terms


def _split_label_terms(sel: str) -> list[str]:
    terms, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        terms.append(cur.strip())
    return terms


def _label_matches(labels: dict, sel: str) -> bool:
    for term in _split_label_terms(sel):
        m = re.fullmatch(r"([^\s!=]+)\s+(in|notin)\s+\((.*)\)", term)
        if m:
            values = {v.strip() for v in m.group(3).split(",")}
            has = m.group(1) in labels and labels[m.group(1)] in values
            if has != (m.group(2) == "in"):
                return False
            continue
        m = re.fullmatch(r"([^\s!=]+)\s*(==|!=|=)\s*(\S*)", term)
        if m:
            eq = labels.get(m.group(1)) == m.group(3)
            if eq != (m.group(2) != "!="):
                return False
            continue
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    accept: str | None

    def param(self, name: str) -> str | None:
        vals = self.query.get(name)
        return vals[0] if vals else None


@dataclass
class _Forbidden:
    resource: str
    namespace: str | None   # None: every scope; "" : only the cluster-wide / all-namespaces list
    verbs: tuple[str, ...]


class ApiServer:
    """See module docstring.  Thread-safe; start with ``start()`` or ``with``."""

    def __init__(self, objects: Iterable[dict] = (), *, versions: Iterable[str] = ("v1",),
                 token: str = DEFAULT_TOKEN, user: str = DEFAULT_USER, server_version: str = "v1.34.1",
                 delay: float = 0.0, taint_rule_versions: Iterable[str] = ()):
        self.versions = tuple(versions)
        for v in self.versions:
            if v not in ALL_DRA_VERSIONS:
                raise ValueError(f"unknown resource.k8s.io version {v!r}")
        self.taint_rule_versions = tuple(taint_rule_versions)
        for v in self.taint_rule_versions:
            if v not in TAINT_RULE_VERSIONS:
                raise ValueError(f"DeviceTaintRules are not served as {v!r}")
        self.token = token
        self.user = user
        self.server_version = server_version
        self.delay = delay
        #: text of a ``Warning: 299 - "..."`` header sent with every answer (None: no header)
        self.warning: str | None = None
        #: the server's clock: what its ``Date`` header says (None: the real time)
        self.now: datetime.datetime | None = None
        #: answer 410 Gone (expired continue token) to the next N requests that carry a continue token
        self.expire_continue = 0
        #: a broken server: every page of a list after the first carries the same continue token again
        self.repeat_continue = False
        #: at most this many items per page, whatever ``limit`` asks (0: as asked), as a server may do
        self.page_limit = 0
        #: send bodies 64 bytes at a time, this many seconds apart (a server trickling its answer)
        self.trickle = 0.0
        self.requests: list[RecordedRequest] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._forbidden: list[_Forbidden] = []
        self._store: dict[str, list[dict]] = {r.plural: [] for r in CORE_RESOURCES + DRA_RESOURCES + (TAINT_RULES,)}
        for obj in objects:
            self.add(obj)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="kubectl-dra-apiserver-")

    # -- configuration ------------------------------------------------------
    def add(self, obj: dict) -> None:
        res = _BY_KIND.get(obj.get("kind", ""))
        if res is None:
            raise ValueError(f"the test API server does not serve kind {obj.get('kind')!r}")
        obj = to_v1(copy.deepcopy(obj))
        if res is TAINT_RULES:
            obj["apiVersion"] = f"{GROUP}/v1beta2"  # (how kubectl-dra normalizes it: the file twin reads the same)
        elif res.group == GROUP:
            obj["apiVersion"] = f"{GROUP}/v1"
        md = obj.setdefault("metadata", {})
        if res.namespaced:
            md.setdefault("namespace", "default")
        md.setdefault("resourceVersion", str(100 + sum(len(v) for v in self._store.values())))
        md.setdefault("creationTimestamp", "2025-01-01T00:00:00Z")
        self._store[res.plural].append(obj)

    def objects(self, *, namespaces: bool = False) -> list[dict]:
        """Every stored object (v1 shape, with the metadata the server filled in) -- what a file twin holds;
        ``namespaces``: with the Namespaces the server serves (given or implied by the objects) too."""
        out = []
        for res in CORE_RESOURCES + DRA_RESOURCES + (TAINT_RULES,):
            if res.plural != "namespaces":
                out.extend(copy.deepcopy(self._store[res.plural]))
        if namespaces:
            out.extend(copy.deepcopy(self._namespaces()))
        return out

    def forbid(self, resource: str, namespace: str | None = None, verbs: Iterable[str] = ("list", "get")) -> None:
        """Answer 403 for ``resource`` (plural).  ``namespace=None`` forbids every scope,
        ``namespace=""`` only the cluster-scoped / all-namespaces list, else that namespace."""
        self._forbidden.append(_Forbidden(resource, namespace, tuple(verbs)))

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> "ApiServer":
        certs = test_certificates()
        cert_file = Path(self._tmp.name, "tls.crt")
        key_file = Path(self._tmp.name, "tls.key")
        cert_file.write_text(certs["cert"] + certs["ca"])
        key_file.write_text(certs["key"])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert_file), str(key_file))
        server = self

        class Handler(_Handler):
            srv = server

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        self._tmp.cleanup()

    def __enter__(self) -> "ApiServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> str:
        return test_certificates()["ca"]

    def kubeconfig(self, path: str | os.PathLike, *, token: str | None = None, context: str = "test",
                   namespace: str | None = None, server: str | None = None, ca_data: bool = True) -> Path:
        """Write a kubeconfig (certificate-authority-data + bearer token) pointing at this server."""
        path = Path(path)
        cluster: dict[str, Any] = {"server": server or self.url}
        if ca_data:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem.encode()).decode()
        ctx: dict[str, Any] = {"cluster": f"{context}-cluster", "user": f"{context}-user"}
        if namespace:
            ctx["namespace"] = namespace
        cfg = {
            "apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": f"{context}-cluster", "cluster": cluster}],
            "users": [{"name": f"{context}-user", "user": {"token": token if token is not None else self.token}}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return path

    # -- request log helpers -------------------------------------------------
    def methods(self) -> set[str]:
        with self._lock:
            return {r.method for r in self.requests}

    def requests_for(self, path_suffix: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith(path_suffix)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    # -- internals used by the handler ----------------------------------------
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _is_forbidden(self, resource: str, namespace: str | None, verb: str) -> bool:
        for f in self._forbidden:
            if f.resource != resource or verb not in f.verbs:
                continue
            if f.namespace is None:
                return True
            if f.namespace == "" and namespace is None:
                return True
            if f.namespace and f.namespace == namespace:
                return True
        return False

    def _namespaces(self) -> list[dict]:
        given = self._store["namespaces"]
        names = {o["metadata"]["name"] for o in given}
        extra = {"default"} | {o["metadata"]["namespace"] for r in CORE_RESOURCES + DRA_RESOURCES
                               if r.namespaced for o in self._store[r.plural]}
        out = list(given)
        for n in sorted(extra - names):
            out.append({"kind": "Namespace", "apiVersion": "v1",
                        "metadata": {"name": n, "resourceVersion": "1", "creationTimestamp": "2025-01-01T00:00:00Z"},
                        "status": {"phase": "Active"}})
        return out

    def _objects(self, res: Resource) -> list[dict]:
        if res.plural == "namespaces":
            return self._namespaces()
        return self._store[res.plural]


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message, "reason": reason, "code": code}
    if details:
        st["details"] = details
    return st


class _Handler(BaseHTTPRequestHandler):
    srv: ApiServer
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-test"

    def log_message(self, format, *args):  # quiet
        pass

    def date_time_string(self, timestamp=None):  # the Date header: the server's clock (ApiServer.now)
        if self.srv.now is None:
            return super().date_time_string(timestamp)
        from email.utils import format_datetime

        return format_datetime(self.srv.now.astimezone(datetime.timezone.utc), usegmt=True)

    # every method is recorded; only GET is served
    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_PATCH(self):
        self._handle("PATCH")

    def do_DELETE(self):
        self._handle("DELETE")

    def _send(self, code: int, body: dict, content_type: str = "application/json") -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", "00000000-0000-0000-0000-000000000000")
        if self.srv.warning:
            self.send_header("Warning", f'299 - "{self.srv.warning}"')
        self.end_headers()
        if self.command != "HEAD":
            if self.srv.trickle:
                for i in range(0, len(data), 64):
                    self.wfile.write(data[i:i + 64])
                    self.wfile.flush()
                    time.sleep(self.srv.trickle)
            else:
                self.wfile.write(data)

    def _handle(self, method: str) -> None:
        srv = self.srv
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        rec = RecordedRequest(method, parts.path, query, self.headers.get("Authorization"), self.headers.get("Accept"))
        srv._record(rec)
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if srv.delay:
                time.sleep(srv.delay)
            scheme, _, presented = (rec.authorization or "").partition(" ")
            if scheme.lower() != "bearer" or presented.strip() != srv.token:  # scheme is case-insensitive
                self._send(401, _status(401, "Unauthorized", "Unauthorized"))
                return
            if method not in ("GET", "HEAD"):
                self._send(405, _status(405, "MethodNotAllowed",
                                        f"the test API server is read-only: {method} is not supported"))
                return
            code, body = self._route(parts.path.rstrip("/") or "/", query)
            self._send(code, body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):  # client went away (timeouts)
            pass
        finally:
            srv._done()

    # -- routing ---------------------------------------------------------------
    def _route(self, path: str, query: dict) -> tuple[int, dict]:
        srv = self.srv
        if path == "/version":
            major, minor = re.match(r"v(\d+)\.(\d+)", srv.server_version).groups()
            return 200, {"major": major, "minor": minor, "gitVersion": srv.server_version,
                         "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2025-09-01T00:00:00Z",
                         "goVersion": "go1.24.6", "compiler": "gc", "platform": "linux/amd64"}
        if path == "/api":
            return 200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{srv.port}"}]}
        if path == "/apis":
            groups = [self._group_doc()] if self._served() else []
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
        if path == "/apis/" + GROUP:
            if not self._served():
                return self._not_found_path(path)
            return 200, {"kind": "APIGroup", "apiVersion": "v1", **self._group_doc()}
        if path == "/api/v1":
            return 200, self._resource_list("v1", CORE_RESOURCES)
        m = re.fullmatch(r"/apis/resource\.k8s\.io/([^/]+)", path)
        if m:
            if m.group(1) not in self._served():
                return self._not_found_path(path)
            return 200, self._resource_list(f"{GROUP}/{m.group(1)}", self._dra_resources(m.group(1)))

        m = re.fullmatch(r"/api/v1(/namespaces/([^/]+))?/([^/]+)(/([^/]+))?", path)
        if m:
            version, resources = "v1", CORE_RESOURCES
        else:
            m = re.fullmatch(r"/apis/resource\.k8s\.io/([^/]+)(/namespaces/([^/]+))?/([^/]+)(/([^/]+))?", path)
            if not m or m.group(1) not in self._served():
                return self._not_found_path(path)
            version, resources = m.group(1), self._dra_resources(m.group(1))
            m = _Shift(m)
        ns, plural, name = m.group(2), m.group(3), m.group(5)
        # note: "/api/v1/namespaces/<ns>" (get a namespace) matches as ns=None, plural=namespaces, name=<ns>
        res = next((r for r in resources if r.plural == plural), None)
        if res is None:
            return self._not_found_path(path)
        if ns is not None and not res.namespaced:
            return self._not_found_path(path)
        verb = "get" if name else "list"
        if srv._is_forbidden(res.plural, ns, verb):
            return 403, self._forbidden_status(res, ns, verb, name)
        items = srv._objects(res)
        if ns is not None:
            items = [o for o in items if o["metadata"].get("namespace") == ns]
        if name is not None:
            for o in items:
                if o["metadata"].get("name") == name:
                    out = convert(o, version) if res.group else copy.deepcopy(o)
                    out.setdefault("kind", res.kind)
                    out.setdefault("apiVersion", "v1" if not res.group else f"{GROUP}/{version}")
                    return 200, out
            return 404, _status(404, "NotFound", f'{self._qualified(res)} "{name}" not found',
                                {"name": name, "group": res.group, "kind": res.plural})
        return self._list(res, version, items, query)

    def _list(self, res: Resource, version: str, items: list[dict], query: dict) -> tuple[int, dict]:
        fs = (query.get("fieldSelector") or [""])[0]
        ls = (query.get("labelSelector") or [""])[0]
        try:
            terms = _parse_field_selector(fs)
        except ValueError as e:
            return 400, _status(400, "BadRequest", str(e))
        if terms:
            items = [o for o in items if all((_field_value(o, f) == v) == (op == "=") for f, op, v in terms)]
        if ls:
            items = [o for o in items if _label_matches((o.get("metadata") or {}).get("labels") or {}, ls)]
        items = sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"].get("name", "")))
        start = 0
        token = (query.get("continue") or [""])[0]
        if token and self.srv.expire_continue > 0:
            with self.srv._lock:
                self.srv.expire_continue -= 1
            return 410, _status(410, "Expired", "The provided continue parameter is too old to display a "
                                "consistent list result. You can start a new list without the continue parameter.")
        if token:
            try:
                start = json.loads(base64.urlsafe_b64decode(token.encode()))["start"]
            except Exception:
                return 400, _status(400, "BadRequest", "continue key is not valid: illegal base64 data")
        limit_s = (query.get("limit") or ["0"])[0]
        limit = int(limit_s) if limit_s.isdigit() else 0
        if self.srv.page_limit:
            limit = min(limit or self.srv.page_limit, self.srv.page_limit)
        end = start + limit if limit > 0 else len(items)
        page = items[start:end]
        meta: dict[str, Any] = {"resourceVersion": "1000"}
        if end < len(items) or (self.srv.repeat_continue and token):
            at = end if not (self.srv.repeat_continue and token) else start  # repeating: the page asked for
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"v": "meta.k8s.io/v1", "rv": 1000, "start": at}).encode()).decode()
            meta["remainingItemCount"] = max(len(items) - end, 0)
        api_version = f"{GROUP}/{version}" if res.group else "v1"
        out_items = []
        for o in page:
            o = convert(o, version) if res.group else copy.deepcopy(o)
            # like the real API server, typed list items carry no kind/apiVersion
            o.pop("kind", None)
            o.pop("apiVersion", None)
            out_items.append(o)
        return 200, {"kind": f"{res.kind}List", "apiVersion": api_version, "metadata": meta, "items": out_items}

    # -- documents -------------------------------------------------------------
    def _served(self) -> tuple[str, ...]:
        """Every resource.k8s.io version served, the main ones first."""
        srv = self.srv
        return srv.versions + tuple(v for v in srv.taint_rule_versions if v not in srv.versions)

    def _dra_resources(self, version: str) -> tuple[Resource, ...]:
        srv = self.srv
        return ((DRA_RESOURCES if version in srv.versions else ())
                + ((TAINT_RULES,) if version in srv.taint_rule_versions else ()))

    def _group_doc(self) -> dict:
        vs = [{"groupVersion": f"{GROUP}/{v}", "version": v} for v in self._served()]
        return {"name": GROUP, "versions": vs, "preferredVersion": vs[0]}

    @staticmethod
    def _resource_list(group_version: str, resources: Iterable[Resource]) -> dict:
        out = []
        for r in resources:
            doc = {"name": r.plural, "singularName": r.kind.lower(), "namespaced": r.namespaced,
                   "kind": r.kind, "verbs": ["get", "list"]}
            if r.short_names:
                doc["shortNames"] = list(r.short_names)
            out.append(doc)
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": out}

    @staticmethod
    def _qualified(res: Resource) -> str:
        return f"{res.plural}.{res.group}" if res.group else res.plural

    def _forbidden_status(self, res: Resource, ns: str | None, verb: str, name: str | None) -> dict:
        target = f'{self._qualified(res)} "{name}"' if name else self._qualified(res)
        scope = f'in the namespace "{ns}"' if ns is not None else "at the cluster scope"
        msg = (f'{target} is forbidden: User "{self.srv.user}" cannot {verb} resource "{res.plural}" '
               f'in API group "{res.group}" {scope}')
        return _status(403, "Forbidden", msg, {"name": name or "", "group": res.group, "kind": res.plural})

    @staticmethod
    def _not_found_path(path: str) -> tuple[int, dict]:
        return 404, _status(404, "NotFound", "the server could not find the requested resource",
                            {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


class _Shift:
    """Present a resource.k8s.io path match with the same group numbering as a core one."""

    def __init__(self, m: re.Match):
        self._m = m

    def group(self, i: int):
        return self._m.group(i + 1)
