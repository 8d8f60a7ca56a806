"""An immutable, indexed view of one cluster's DRA state.

Everything downstream (CEL matching, allocator, explainers, renderers) reads
only a :class:`Snapshot`.  Objects are kept as raw v1-shaped dicts (see
:mod:`kubectl_dra.normalize`); indexes are computed once, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Iterable, Mapping, NamedTuple

from kubectl_dra.nodeselector import node_matches_selector
from kubectl_dra.normalize import normalize_object

NamespacedKey = tuple  # (namespace, name)


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def name_of(obj: Mapping[str, Any]) -> str:
    return meta(obj).get("name") or ""  # (a null name, before the shape checks remove it, is no name)


def namespace_of(obj: Mapping[str, Any]) -> str:
    return meta(obj).get("namespace") or "default"


def pod_containers_started(pod: Mapping[str, Any]) -> bool:
    """Whether a pod's containers started: the kubelet reports one running or finished (or the pod Running).
    Before that, a pod bound to a node is still being set up there (why-pending's prepare stage)."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Running", "Succeeded", "Failed"):
        return True
    for cs in status.get("containerStatuses") or []:
        state = cs.get("state") or {}
        if state.get("running") or state.get("terminated") or cs.get("started"):
            return True
    return False


class PoolKey(NamedTuple):
    driver: str
    pool: str


class DeviceKey(NamedTuple):
    driver: str
    pool: str
    device: str

    def __str__(self) -> str:
        return f"{self.driver}/{self.pool}/{self.device}"


@dataclass(frozen=True)
class Pool:
    """A (driver, pool) with the slices of its newest generation, cluster-wide."""

    driver: str
    name: str
    generation: int
    slices: tuple[dict, ...]
    expected_slice_count: int
    stale_slices: tuple[dict, ...] = ()

    @property
    def key(self) -> PoolKey:
        return PoolKey(self.driver, self.name)

    @property
    def complete(self) -> bool:
        return len(self.slices) == self.expected_slice_count


class DeviceEntry(NamedTuple):
    """One device of one slice of the newest generation of its pool.

    ``device`` is the raw v1 device dict.  Node scoping comes from the device
    itself when its slice uses ``perDeviceNodeSelection``, else from the slice.
    (A NamedTuple: immutable like the frozen dataclass it was, and several times
    cheaper to build; a snapshot of 5,000 nodes has 60,000 of them.)
    """

    driver: str
    pool: str
    slice_name: str
    device: Mapping[str, Any]
    node_name: str | None
    node_selector: Mapping[str, Any] | None
    all_nodes: bool

    @property
    def name(self) -> str:
        return self.device.get("name", "")

    @property
    def key(self) -> DeviceKey:
        return DeviceKey(self.driver, self.pool, self.name)

    def available_on(self, node: Mapping[str, Any] | None) -> bool:
        if self.all_nodes:
            return True
        if self.node_name is not None:
            return node is not None and name_of(node) == self.node_name
        if self.node_selector is not None:
            return node_matches_selector(node, self.node_selector)
        return False

    @property
    def scope(self) -> str:
        """Human description of where the device is available."""
        if self.all_nodes:
            return "all nodes"
        if self.node_name is not None:
            return self.node_name
        if self.node_selector is not None:
            return "node selector"
        return "nowhere"


@dataclass(frozen=True)
class Holder:
    """A claim whose allocation uses a device."""

    namespace: str
    claim: str
    request: str
    admin_access: bool
    reserved_for: tuple[str, ...]  # pod names reserving the claim (same namespace)
    share_id: str | None = None


@dataclass(frozen=True)
class PodClaim:
    """One entry of ``pod.spec.resourceClaims`` resolved to a ResourceClaim."""

    pod_claim_name: str
    claim_name: str | None          # None when a template claim is not generated yet
    template_name: str | None       # set for resourceClaimTemplateName entries
    claim: Mapping[str, Any] | None  # the ResourceClaim object, when it exists

    @property
    def state(self) -> str:
        """allocated | pending | missing | not-generated"""
        if self.claim_name is None:
            return "not-generated"
        if self.claim is None:
            return "missing"
        if (self.claim.get("status") or {}).get("allocation"):
            return "allocated"
        return "pending"


#: Why a list could not be read (``Gap.reason``).
GAP_REASONS = ("forbidden", "not-served")


@dataclass(frozen=True)
class Gap:
    """Objects the source could not read: one list (a resource, in one scope) it was refused or not served.

    Answers that depend on them are incomplete, and say so (``"incomplete"`` in JSON, one line per gap
    in text, exit code 6).  ``namespace`` None is the cluster-wide list (every namespace of a namespaced
    resource); ``read_namespaces`` are the namespaces read in full instead (a forbidden cluster-wide
    list of claims falls back to the current namespace)."""

    resource: str                            # plural, e.g. "resourceclaims"
    group: str = ""                          # API group ("" for core)
    namespace: str | None = None             # None: the cluster-wide list
    reason: str = "forbidden"                # one of GAP_REASONS
    read_namespaces: tuple[str, ...] = ()    # read in full instead
    effect: str = ""                         # what answers lose, for people
    message: str = ""                        # the server's own words

    def covers(self, resource: str, namespace: str | None = None) -> bool:
        """Whether objects of ``resource`` in ``namespace`` (None: in any namespace) may be missing."""
        if resource != self.resource:
            return False
        if namespace is None:
            return True
        if self.namespace is None:
            return namespace not in self.read_namespaces
        return namespace == self.namespace

    @property
    def scope(self) -> str:
        return "cluster" if self.namespace is None else "namespace"

    def qualified(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def to_dict(self) -> dict:
        out: dict = {"resource": self.resource, "group": self.group, "scope": self.scope}
        if self.namespace is not None:
            out["namespace"] = self.namespace
        out["reason"] = self.reason
        if self.read_namespaces:
            out["readNamespaces"] = list(self.read_namespaces)
        out["effect"] = self.effect
        if self.message:
            out["message"] = self.message
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Gap":
        """The inverse of :meth:`to_dict` (a dump's ``incomplete`` list); ValueError if it is not one."""
        if not isinstance(d, Mapping):
            raise ValueError("an entry is not an object")

        def text(key: str, default: str | None = "") -> str | None:
            v = d.get(key, default)
            if v is None and default is None:
                return None
            if not isinstance(v, str):
                raise ValueError(f"{key} is not a string")
            return v

        resource = text("resource")
        if not resource:
            raise ValueError("resource is missing")
        scope = d.get("scope", "cluster")
        if scope not in ("cluster", "namespace"):
            raise ValueError(f"scope {scope!r} is neither cluster nor namespace")
        namespace = text("namespace", None)
        if (scope == "namespace") != (namespace is not None):
            raise ValueError("namespace goes with scope namespace, and only with it")
        read = d.get("readNamespaces") or []
        if not isinstance(read, list) or not all(isinstance(x, str) for x in read):
            raise ValueError("readNamespaces is not a list of strings")
        reason = text("reason")
        if reason not in GAP_REASONS:
            raise ValueError(f"reason {reason!r} is not one of {', '.join(GAP_REASONS)}")
        return cls(resource=resource, group=text("group") or "", namespace=namespace, reason=reason,
                   read_namespaces=tuple(read), effect=text("effect") or "", message=text("message") or "")


@dataclass(frozen=True)
class SourceInfo:
    kind: str = "files"                      # "files" or "cluster"
    description: str = ""                    # file names, or context/server
    namespace: str = "default"               # default namespace of the source
    server_version: str | None = None        # e.g. "v1.34.1" (live only)
    resource_api_version: str | None = None  # resource.k8s.io version that was read (live only)
    warnings: tuple[str, ...] = ()
    # Namespaces whose pods were all read (None: every namespace).  Outside them only some pods
    # (e.g. finished ones) are known, so a pod missing from the snapshot may still exist.
    pod_namespaces: tuple[str, ...] | None = None
    # What could not be read (forbidden, not served): answers that depend on it say so.
    incomplete: tuple[Gap, ...] = ()
    # The server's time when it was read (live: the Date header of its answers; a dump records it), RFC 3339.
    server_time: str | None = None

    # Nodes whose pods (of every namespace) were read as well: why-pending reads a bound pod's node
    # for the drivers' kubelet plugins.
    pod_nodes: tuple[str, ...] = ()

    def knows_all_pods_in(self, namespace: str) -> bool:
        return self.pod_namespaces is None or namespace in self.pod_namespaces

    def knows_pods_on(self, node: str) -> bool:
        return self.pod_namespaces is None or node in self.pod_nodes

    def gaps(self, resource: str, namespace: str | None = None) -> tuple[Gap, ...]:
        """The gaps that may hide objects of ``resource`` in ``namespace`` (None: in any namespace)."""
        return tuple(g for g in self.incomplete if g.covers(resource, namespace))


def _freeze(d: dict) -> Mapping:
    return MappingProxyType(d)


@dataclass(frozen=True)
class Snapshot:
    nodes: Mapping[str, dict]
    pods: Mapping[NamespacedKey, dict]
    device_classes: Mapping[str, dict]
    resource_slices: tuple[dict, ...]
    resource_claims: Mapping[NamespacedKey, dict]
    resource_claim_templates: Mapping[NamespacedKey, dict]
    events: tuple[dict, ...] = ()
    source: SourceInfo = field(default_factory=SourceInfo)
    # What why-pending's claims stage reads: quotas that may block claim creation, and namespaces (admin access).
    resource_quotas: Mapping[NamespacedKey, dict] = field(default_factory=lambda: _freeze({}))
    namespaces: Mapping[str, dict] = field(default_factory=lambda: _freeze({}))
    # DeviceTaintRules by name (v1beta2 shape).  Their taints are in ``resource_slices`` only in a
    # snapshot patched by kubectl_dra.taintrules.apply (then ``rule_taints`` says which taint came from
    # which rule); a snapshot straight from the source has the slices as the drivers published them.
    device_taint_rules: Mapping[str, dict] = field(default_factory=lambda: _freeze({}))
    rule_taints: Mapping[DeviceKey, tuple[tuple[str, dict], ...]] = field(default_factory=lambda: _freeze({}))
    # DRAListTypeAttributes in force for the answers drawn from this snapshot (set by
    # kubectl_dra.taintrules.under_gates): selectors evaluated on it read list attribute values.
    list_type_attributes: bool = False

    # ------------------------------------------------------------------
    @classmethod
    def from_objects(cls, objects: Iterable[dict], *, source: SourceInfo | None = None,
                     normalized: bool = False) -> "Snapshot":
        """Build a snapshot from objects of any supported version (unknown kinds are ignored)."""
        nodes: dict = {}
        pods: dict = {}
        classes: dict = {}
        slices: dict = {}
        claims: dict = {}
        templates: dict = {}
        events: list = []
        quotas: dict = {}
        namespaces: dict = {}
        rules: dict = {}
        for raw in objects:
            obj = raw if normalized else normalize_object(raw)
            if obj is None:
                continue
            kind = obj.get("kind")
            if kind == "Node":
                nodes[name_of(obj)] = obj
            elif kind == "Pod":
                pods[(namespace_of(obj), name_of(obj))] = obj
            elif kind == "DeviceClass":
                classes[name_of(obj)] = obj
            elif kind == "ResourceSlice":
                slices[name_of(obj)] = obj
            elif kind == "ResourceClaim":
                claims[(namespace_of(obj), name_of(obj))] = obj
            elif kind == "ResourceClaimTemplate":
                templates[(namespace_of(obj), name_of(obj))] = obj
            elif kind == "Event":
                events.append(obj)
            elif kind == "ResourceQuota":
                quotas[(namespace_of(obj), name_of(obj))] = obj
            elif kind == "Namespace":
                namespaces[name_of(obj)] = obj
            elif kind == "DeviceTaintRule":
                rules[name_of(obj)] = obj
        return cls(
            nodes=_freeze(nodes),
            pods=_freeze(pods),
            device_classes=_freeze(classes),
            resource_slices=tuple(slices.values()),
            resource_claims=_freeze(claims),
            resource_claim_templates=_freeze(templates),
            events=tuple(events),
            source=source or SourceInfo(),
            resource_quotas=_freeze(quotas),
            namespaces=_freeze(namespaces),
            device_taint_rules=_freeze(rules),
        )

    def objects(self) -> list[dict]:
        """All objects, in a stable order (for `dump`)."""
        out: list[dict] = []
        out += [self.nodes[k] for k in sorted(self.nodes)]
        out += [self.device_classes[k] for k in sorted(self.device_classes)]
        out += sorted(self.resource_slices, key=name_of)
        out += [self.resource_claim_templates[k] for k in sorted(self.resource_claim_templates)]
        out += [self.resource_claims[k] for k in sorted(self.resource_claims)]
        out += [self.pods[k] for k in sorted(self.pods)]
        out += [self.namespaces[k] for k in sorted(self.namespaces)]
        out += [self.resource_quotas[k] for k in sorted(self.resource_quotas)]
        out += list(self.events)
        out += [self.device_taint_rules[k] for k in sorted(self.device_taint_rules)]
        return out

    # -- pools and devices ------------------------------------------------
    @cached_property
    def pools(self) -> Mapping[PoolKey, Pool]:
        """Pools by (driver, pool name); only the newest generation's slices count."""
        grouped: dict[tuple, list] = {}
        for s in self.resource_slices:
            spec = s.get("spec") or {}
            pool = spec.get("pool") or {}
            gen = int(pool.get("generation", 0) or 0)
            key = (spec.get("driver", ""), pool.get("name", ""))
            members = grouped.get(key)
            if members is None:
                grouped[key] = [(gen, s)]
            else:
                members.append((gen, s))
        out = {}
        for key in sorted(grouped):
            members = grouped[key]
            if len(members) == 1:
                newest, s = members[0]
                current, stale = (s,), ()
            else:
                newest = max(g for g, _ in members)
                current = tuple(m for g, m in members if g == newest)
                stale = tuple(m for g, m in members if g != newest)
            expected = int(current[0]["spec"]["pool"].get("resourceSliceCount", 1) or 1)
            out[PoolKey(*key)] = Pool(key[0], key[1], newest, current, expected, stale)
        return _freeze(out)

    @cached_property
    def devices(self) -> tuple[DeviceEntry, ...]:
        """Every device of the newest generation of every pool, in pool then slice order."""
        out = []
        for pool in self.pools.values():
            for s in pool.slices:
                spec = s["spec"]
                per_device = bool(spec.get("perDeviceNodeSelection"))
                slice_name = name_of(s)
                if per_device:
                    for dev in spec.get("devices") or []:
                        # (driver, pool, slice_name, device, node_name, node_selector, all_nodes)
                        out.append(DeviceEntry(pool.driver, pool.name, slice_name, dev, dev.get("nodeName") or None,
                                               dev.get("nodeSelector"), bool(dev.get("allNodes"))))
                else:
                    node_name = spec.get("nodeName") or None
                    node_selector = spec.get("nodeSelector")
                    all_nodes = bool(spec.get("allNodes"))
                    for dev in spec.get("devices") or []:
                        out.append(DeviceEntry(pool.driver, pool.name, slice_name, dev, node_name, node_selector,
                                               all_nodes))
        return tuple(out)

    @cached_property
    def devices_by_key(self) -> Mapping[DeviceKey, DeviceEntry]:
        return _freeze({DeviceKey(d.driver, d.pool, d.device.get("name", "")): d for d in self.devices})

    @cached_property
    def devices_by_node_name(self) -> Mapping[str, tuple[DeviceEntry, ...]]:
        """Node-local devices (slice or device ``nodeName``) by node name."""
        out: dict[str, list[DeviceEntry]] = {}
        for d in self.devices:
            if d.node_name is not None:
                out.setdefault(d.node_name, []).append(d)
        return _freeze({k: tuple(v) for k, v in out.items()})

    @cached_property
    def shared_devices(self) -> tuple[DeviceEntry, ...]:
        """Devices not bound to one node by name (node selector or all nodes)."""
        return tuple(d for d in self.devices if d.node_name is None)

    def devices_for_node(self, node_name: str) -> list[DeviceEntry]:
        node = self.nodes.get(node_name)
        out = list(self.devices_by_node_name.get(node_name, ()))
        out += [d for d in self.shared_devices if d.available_on(node)]
        return out

    # -- allocations ---------------------------------------------------------
    @cached_property
    def allocated_claims(self) -> tuple[dict, ...]:
        return tuple(c for c in self.resource_claims.values() if (c.get("status") or {}).get("allocation"))

    @cached_property
    def holders(self) -> Mapping[DeviceKey, tuple[Holder, ...]]:
        """Which allocated claims use each device."""
        out: dict[DeviceKey, list[Holder]] = {}
        for c in self.allocated_claims:
            status = c.get("status") or {}
            reserved = tuple(r.get("name", "") for r in status.get("reservedFor") or [] if (r.get("resource") or "pods") == "pods")
            for r in ((status.get("allocation") or {}).get("devices") or {}).get("results") or []:
                key = DeviceKey(r.get("driver", ""), r.get("pool", ""), r.get("device", ""))
                out.setdefault(key, []).append(Holder(
                    namespace=namespace_of(c), claim=name_of(c), request=r.get("request", ""),
                    admin_access=bool(r.get("adminAccess")), reserved_for=reserved,
                    share_id=r.get("shareID"),
                ))
        return _freeze({k: tuple(v) for k, v in out.items()})

    # -- pods and claims -----------------------------------------------------
    def pod_claims(self, pod: Mapping[str, Any]) -> list[PodClaim]:
        """The pod's claims in ``spec.resourceClaims`` order, resolved to ResourceClaims."""
        ns = namespace_of(pod)
        generated = {s.get("name"): s.get("resourceClaimName")
                     for s in (pod.get("status") or {}).get("resourceClaimStatuses") or []}
        out = []
        for pc in (pod.get("spec") or {}).get("resourceClaims") or []:
            pname = pc.get("name", "")
            if pc.get("resourceClaimName"):
                cname = pc["resourceClaimName"]
                out.append(PodClaim(pname, cname, None, self.resource_claims.get((ns, cname))))
            else:
                tname = pc.get("resourceClaimTemplateName")
                cname = generated.get(pname)
                out.append(PodClaim(pname, cname, tname,
                                    self.resource_claims.get((ns, cname)) if cname else None))
        return out

    @cached_property
    def claim_users(self) -> Mapping[NamespacedKey, tuple[str, ...]]:
        """Pods (by name) whose spec references each claim, directly or via a template."""
        out: dict[NamespacedKey, list[str]] = {}
        for (ns, pname), pod in self.pods.items():
            for pc in self.pod_claims(pod):
                if pc.claim_name:
                    out.setdefault((ns, pc.claim_name), []).append(pname)
        return _freeze({k: tuple(v) for k, v in out.items()})

    def claims_from_template(self, namespace: str, template: str) -> list[tuple[str, str, str | None]]:
        """(pod name, pod claim name, generated claim name or None) for pods using a template."""
        out = []
        for (ns, pname), pod in sorted(self.pods.items()):
            if ns != namespace:
                continue
            for pc in self.pod_claims(pod):
                if pc.template_name == template:
                    out.append((pname, pc.pod_claim_name, pc.claim_name))
        return out
