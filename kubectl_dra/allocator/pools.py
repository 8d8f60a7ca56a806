"""Which resource pools (and slices, and devices) one node can allocate from.

Mirrors upstream ``GatherPools`` (structured/internal/*/pools_*.go):

* A slice is *relevant* for a node when its ``nodeName`` equals the node, or
  ``allNodes`` is set, or its ``nodeSelector`` matches the node; a slice with
  ``perDeviceNodeSelection`` is relevant when at least one of its devices is
  (the per-device check happens again for every device when selecting).  A
  slice with none of these is some future extension and is ignored.
  With DRAPartitionableDevices off, slices using ``perDeviceNodeSelection`` or
  ``sharedCounters`` are ignored entirely.  With it on, a slice that only
  carries ``sharedCounters`` (no devices, the 1.35+ layout) is relevant for
  every node because its counters are needed; a 1.34-layout slice that has
  both counters and devices is judged by its own node selection (so its devices
  do not leak to other nodes) and its counter sets are still used.
* Per pool only the newest generation among the relevant slices is kept.
* A pool whose relevant slices fall short of ``resourceSliceCount`` is looked
  up cluster-wide: if a newer generation exists anywhere the pool is obsolete
  and silently dropped; if the newest generation as a whole is still short of
  ``resourceSliceCount`` the pool is *incomplete* (no devices offered, and
  ``allocationMode: All`` fails with an error).
* A pool with duplicate device names (among its device slices) is *invalid*:
  nothing is allocated from it; if allocation then fails on that node, the
  node is reported with "invalid resource pools were encountered".  With
  partitionable devices on, duplicate counter-set names or a device consuming
  an unknown counter set / counter also make the pool invalid.

Ordering (decides which devices the first-fit search picks, and therefore
which device upstream picks): pools are sorted by driver name, then pool name
(plain string comparison); inside a pool, slices are sorted by slice name;
inside a slice, devices keep the order of ``spec.devices``.  With the
incubating and experimental implementations (any gate outside the stable set on), pools that
contain a device with ``bindingConditions`` come after all other pools, again
sorted by driver and pool name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from kubectl_dra.allocator.types import quantity_value
from kubectl_dra.nodeselector import node_matches_selector


def node_matches(node: Mapping[str, Any] | None, node_name: str | None, all_nodes: bool,
                 node_selector: Mapping[str, Any] | None) -> bool:
    """Upstream NodeMatches: nodeName wins, then allNodes, then the selector."""
    if node_name:
        return node is not None and (node.get("metadata") or {}).get("name") == node_name
    if all_nodes:
        return True
    if node_selector is not None:
        return node is not None and node_matches_selector(node, node_selector)
    return False


@dataclass
class SliceInfo:
    """A ResourceSlice with parsed fields used by the allocator."""

    name: str
    obj: dict
    driver: str
    pool: str
    generation: int
    slice_count: int
    node_name: str | None
    all_nodes: bool
    node_selector: Mapping[str, Any] | None
    per_device: bool
    devices: list
    shared_counters: list
    per_device_on: bool = False  # perDeviceNodeSelection: true (see per_device_enabled)

    @classmethod
    def from_obj(cls, s: dict) -> "SliceInfo":
        spec = s.get("spec") or {}
        pool = spec.get("pool") or {}
        return cls(
            name=(s.get("metadata") or {}).get("name", ""),
            obj=s,
            driver=spec.get("driver", ""),
            pool=pool.get("name", ""),
            generation=int(pool.get("generation", 0) or 0),
            slice_count=int(pool.get("resourceSliceCount", 0) or 0),
            node_name=spec.get("nodeName") or None,
            all_nodes=bool(spec.get("allNodes")),
            node_selector=spec.get("nodeSelector"),
            per_device=spec.get("perDeviceNodeSelection") is not None,
            devices=list(spec.get("devices") or []),
            shared_counters=list(spec.get("sharedCounters") or []),
            per_device_on=bool(spec.get("perDeviceNodeSelection")),
        )

    @property
    def per_device_enabled(self) -> bool:
        return bool((self.obj.get("spec") or {}).get("perDeviceNodeSelection"))

    @property
    def counters_only(self) -> bool:
        return bool(self.shared_counters) and not self.devices


@dataclass
class PoolView:
    """One pool as seen from one node."""

    driver: str
    name: str
    generation: int = 0
    incomplete: bool = False
    invalid: bool = False
    invalid_reason: str = ""
    slices: list = field(default_factory=list)             # device slices targeting the node, by name
    other_slices: list = field(default_factory=list)       # same generation, not targeting the node
    counter_sets: dict = field(default_factory=dict)       # name -> {counter: Fraction}
    has_binding_conditions: bool = False
    _names: list | None = None
    _entries: list | None = None
    _trace: dict | None = None

    def entries(self) -> list:
        """[(device id tuple, device dict, SliceInfo)] in search order (cached)."""
        if self._entries is None:
            self._entries = [((s.driver, s.pool, d.get("name", "")), d, s) for s in self.slices for d in s.devices]
        return self._entries

    def trace_entry(self) -> dict:
        """This pool's entry in AllocationTrace.pools (a fresh dict each call)."""
        if self._trace is None:
            state = "incomplete" if self.incomplete else "invalid" if self.invalid else "ok"
            entry = {"pool": self.id, "generation": self.generation, "state": state,
                     "slices": [s.name for s in self.slices],
                     "devices": sum(len(s.devices) for s in self.slices)}
            if self.invalid:
                entry["reason"] = self.invalid_reason
            self._trace = entry
        entry = dict(self._trace)
        entry["slices"] = list(entry["slices"])
        return entry

    def device_names(self) -> list:
        """driver/pool/device of every device in the node's slices (cached)."""
        if self._names is None:
            self._names = [f"{s.driver}/{s.pool}/{d.get('name', '')}" for s in self.slices for d in s.devices]
        return self._names

    @property
    def id(self) -> str:
        return f"{self.driver}/{self.name}"

    @property
    def key(self) -> tuple[str, str]:
        return (self.driver, self.name)


def _pool_key(p: "PoolView") -> tuple[str, str]:
    return (p.driver, p.name)


class PoolIndex:
    """Slices indexed once per snapshot so that gathering pools per node is cheap."""

    def __init__(self, slices: tuple[dict, ...] | list[dict]):
        self.slices = [SliceInfo.from_obj(s) for s in slices]
        self.by_node: dict[str, list[int]] = {}
        self.shared: list[int] = []           # allNodes, nodeSelector, perDevice, counters-only
        # (driver, pool) -> {generation: count}
        self.generations: dict[tuple[str, str], dict[int, list[int]]] = {}
        for i, s in enumerate(self.slices):
            if s.node_name and not s.counters_only:
                self.by_node.setdefault(s.node_name, []).append(i)
            else:
                self.shared.append(i)
            self.generations.setdefault((s.driver, s.pool), {}).setdefault(s.generation, []).append(i)
        self._pool_cache: dict[tuple, tuple] = {}

    def device_node_names(self) -> set[str]:
        """Nodes named by a device of the newest generation of its pool (a slice's nodeName, or a
        device's own with perDeviceNodeSelection): :attr:`Snapshot.device_node_names`, from this
        index instead of the snapshot's pool objects."""
        out: set[str] = set()
        slices = self.slices
        for gens in self.generations.values():
            newest = gens[max(gens)] if len(gens) > 1 else next(iter(gens.values()))
            for i in newest:
                s = slices[i]
                if not s.devices:
                    continue
                if s.per_device_on:
                    out.update(d.get("nodeName") for d in s.devices if d.get("nodeName"))
                elif s.node_name:
                    out.add(s.node_name)
        return out

    def _relevant(self, s: SliceInfo, node: Mapping[str, Any] | None, partitionable: bool) -> bool:
        if not partitionable and (s.per_device or s.shared_counters):
            return False
        if s.shared_counters and partitionable and s.counters_only:
            return True
        if s.node_name or s.all_nodes or s.node_selector is not None:
            return node_matches(node, s.node_name, s.all_nodes, s.node_selector)
        if s.per_device_enabled:
            for d in s.devices:
                if node_matches(node, d.get("nodeName"), bool(d.get("allNodes")), d.get("nodeSelector")):
                    return True
            return False
        return False

    def gather(self, node: Mapping[str, Any] | None, node_name: str | None, *,
               partitionable: bool, binding_last: bool) -> list[PoolView]:
        local = self.by_node.get(node_name or "", ())
        if self.shared:
            candidates = sorted(list(local) + self.shared)  # input order, like upstream's loop over the slice list
        else:
            candidates = local  # already in input order
        # A slice naming this very node is relevant without evaluating node_matches (same answer).
        own = node is not None and (node.get("metadata") or {}).get("name") == node_name
        slices = self.slices
        pools: dict[tuple[str, str], list[SliceInfo]] = {}
        for i in candidates:
            s = slices[i]
            if own and s.node_name == node_name and not s.counters_only:
                if not partitionable and (s.per_device or s.shared_counters):
                    continue
            elif not self._relevant(s, node, partitionable):
                continue
            key = (s.driver, s.pool)
            current = pools.get(key)
            if current is None or s.generation > current[0].generation:
                pools[key] = [s]
            elif s.generation == current[0].generation:
                current.append(s)
        result: list[PoolView] = []
        with_binding: list[PoolView] = []
        for key, members in pools.items():
            gen = members[0].generation
            expected = members[0].slice_count
            other: list[SliceInfo] = []
            if len(members) != expected:
                gens = self.generations[key]
                if max(gens) > gen:
                    continue  # obsolete: a newer generation exists (not for this node)
                all_idx = gens[gen]
                if len(all_idx) != expected:
                    result.append(PoolView(key[0], key[1], gen, incomplete=True))
                    continue
                names = {m.name for m in members}
                other = [self.slices[j] for j in all_idx if self.slices[j].name not in names]
            ck = (partitionable, tuple(map(id, members)), tuple(map(id, other)))
            pool = self._pool_cache.get(ck)
            if pool is None:
                pool = self._pool_cache[ck] = self._build(key, gen, members, other, partitionable)
            if binding_last and pool.has_binding_conditions:
                with_binding.append(pool)
            else:
                result.append(pool)
        if len(result) > 1:
            result.sort(key=_pool_key)
        if with_binding:
            with_binding.sort(key=_pool_key)
            return result + with_binding
        return result

    def _build(self, key, gen, members: list[SliceInfo], other: list[SliceInfo], partitionable: bool) -> PoolView:
        members = sorted(members, key=lambda s: s.name)
        pool = PoolView(key[0], key[1], gen)
        if partitionable:
            device_slices = [s for s in members if not s.counters_only]
            counter_slices = [s for s in members + other if s.shared_counters]
        else:
            device_slices = members
            counter_slices = []
        seen: set[str] = set()
        binding = False
        for s in device_slices:
            for d in s.devices:
                n = d.get("name", "")
                if n in seen:
                    pool.invalid, pool.invalid_reason = True, f"duplicate device name {n}"
                    return pool
                seen.add(n)
                if not binding and d.get("bindingConditions"):
                    binding = True
        pool.slices = device_slices
        pool.other_slices = [s for s in other if s.devices] if other else []
        pool.has_binding_conditions = binding
        if not partitionable:
            return pool
        counter_sets: dict[str, dict[str, Fraction]] = {}
        for s in counter_slices:
            for cs in s.shared_counters:
                name = cs.get("name", "")
                if name in counter_sets:
                    pool.invalid, pool.invalid_reason = True, f"duplicate counter set name {name}"
                    pool.slices = []
                    return pool
                counter_sets[name] = {c: quantity_value(v) for c, v in (cs.get("counters") or {}).items()}
        for s in (device_slices + pool.other_slices) if pool.other_slices else device_slices:
            for d in s.devices:
                consumes = d.get("consumesCounters")
                if not consumes:
                    continue
                for cc in consumes:
                    cset = counter_sets.get(cc.get("counterSet", ""))
                    if cset is None:
                        pool.invalid, pool.invalid_reason = True, f"counter set {cc.get('counterSet', '')} not found"
                        pool.slices = []
                        return pool
                    for cname in cc.get("counters") or {}:
                        if cname not in cset:
                            pool.invalid = True
                            pool.invalid_reason = f"counter {cname} not found in counter set {cc.get('counterSet', '')}"
                            pool.slices = []
                            return pool
        pool.counter_sets = counter_sets
        return pool
