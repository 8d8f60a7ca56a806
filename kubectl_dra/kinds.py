"""Every type kubectl-dra knows, in one table: the API kind, its resource, the words users type for it,
whether it is namespaced, and which commands accept it.

Commands, completion and rendering look kinds up here instead of keeping their own alias lists, so a
word that works for one command works for every command that accepts that kind (``claim``, ``claims``,
``rc``, ``resourceclaim``, ``resourceclaims``; a ``.resource.k8s.io`` suffix is ignored, as kubectl does).

Imports nothing but :mod:`kubectl_dra.errors`: shell completion reads it on every <TAB>.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_dra.errors import UsageError

GROUP = "resource.k8s.io"

GET = "get"
EXPLAIN = "explain"
WHY_PENDING = "why-pending"
SCAFFOLD = "scaffold"


@dataclass(frozen=True)
class Kind:
    kind: str                  # API kind; "Device" is ours: one entry of a ResourceSlice's devices
    resource: str              # plural API resource ("" for Device: not an API resource)
    group: str                 # API group, "" for core
    namespaced: bool
    short: str                 # the short singular users type ("claim"): scaffold's TYPE, completion's TYPE/
    listing: str               # the plural `get` lists it under ("claims")
    names: tuple[str, ...]     # every word naming it; completion offers the first one a prefix matches

    @property
    def qualified_resource(self) -> str:
        """``resourceclaims.resource.k8s.io`` (``pods`` for core): how kubectl names the resource in errors."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def name_prefix(self) -> str:
        """``resourceclaim.resource.k8s.io``: what ``-o name`` writes before ``/NAME``, like kubectl."""
        return f"{self.kind.lower()}.{self.group}" if self.group else self.kind.lower()

    @property
    def commands(self) -> tuple[str, ...]:
        """The commands that accept this kind as their TYPE."""
        return tuple(c for c, v in _VOCABULARIES.items() if self in v.kinds)


DEVICE = Kind("Device", "", GROUP, False, "device", "devices", ("device", "devices", "dev"))
DEVICE_CLASS = Kind("DeviceClass", "deviceclasses", GROUP, False, "class", "classes",
                    ("class", "deviceclass", "dc", "deviceclasses", "classes"))
RESOURCE_SLICE = Kind("ResourceSlice", "resourceslices", GROUP, False, "slice", "slices",
                      ("slice", "resourceslice", "resourceslices", "slices"))
RESOURCE_CLAIM = Kind("ResourceClaim", "resourceclaims", GROUP, True, "claim", "claims",
                      ("claim", "resourceclaim", "rc", "resourceclaims", "claims"))
RESOURCE_CLAIM_TEMPLATE = Kind("ResourceClaimTemplate", "resourceclaimtemplates", GROUP, True, "template", "templates",
                               ("template", "resourceclaimtemplate", "rct", "resourceclaimtemplates", "templates"))
DEVICE_TAINT_RULE = Kind("DeviceTaintRule", "devicetaintrules", GROUP, False, "taintrule", "taintrules",
                         ("taintrule", "devicetaintrule", "dtr", "devicetaintrules", "taintrules"))
POD = Kind("Pod", "pods", "", True, "pod", "pods", ("pod", "po", "pods"))
NODE = Kind("Node", "nodes", "", False, "node", "nodes", ("node", "no", "nodes"))
NAMESPACE = Kind("Namespace", "namespaces", "", False, "namespace", "namespaces", ("namespace", "ns", "namespaces"))

#: every kind, in the order listings and messages use
KINDS: tuple[Kind, ...] = (DEVICE, DEVICE_CLASS, RESOURCE_SLICE, RESOURCE_CLAIM, RESOURCE_CLAIM_TEMPLATE,
                           DEVICE_TAINT_RULE, POD, NODE, NAMESPACE)

_BY_KIND = {k.kind: k for k in KINDS}
_BY_RESOURCE = {k.resource: k for k in KINDS if k.resource}
_BY_NAME = {n: k for k in KINDS for n in k.names}


@dataclass(frozen=True)
class _Vocabulary:
    """The kinds one command takes as its TYPE (in the order its messages list them) and its message for
    a type it does not take (``{typed}``: the word as given; ``{word}``: lower-cased, suffix dropped)."""

    kinds: tuple[Kind, ...]
    unknown: str


def _choices(words: list[str]) -> str:
    return ", ".join(words)


_GET_KINDS = (DEVICE, DEVICE_CLASS, RESOURCE_SLICE, RESOURCE_CLAIM, RESOURCE_CLAIM_TEMPLATE, DEVICE_TAINT_RULE)
_EXPLAIN_KINDS = (DEVICE_CLASS, RESOURCE_SLICE, RESOURCE_CLAIM, RESOURCE_CLAIM_TEMPLATE, DEVICE_TAINT_RULE, POD, NODE)
_SCAFFOLD_KINDS = (RESOURCE_CLAIM, RESOURCE_CLAIM_TEMPLATE, DEVICE_CLASS, POD)

_VOCABULARIES: dict[str, _Vocabulary] = {
    GET: _Vocabulary(_GET_KINDS, "unknown type {typed!r} (choose from: "
                     + _choices([k.listing for k in _GET_KINDS]) + ")"),
    EXPLAIN: _Vocabulary(_EXPLAIN_KINDS, "unknown type {word!r} (choose from: "
                         + _choices([k.kind.lower() for k in _EXPLAIN_KINDS]) + ")"),
    WHY_PENDING: _Vocabulary((POD, RESOURCE_CLAIM), "unknown target type {typed!r} (use pod/NAME or "
                             "resourceclaim/NAME; short names po, claim, rc)"),
    SCAFFOLD: _Vocabulary(_SCAFFOLD_KINDS, "unknown scaffold type {typed!r} (choose from: "
                          + _choices([k.short for k in _SCAFFOLD_KINDS]) + ")"),
}


def by_kind(kind: str) -> Kind:
    """The entry of an API kind (``"ResourceClaim"``); KeyError for kinds kubectl-dra does not use."""
    return _BY_KIND[kind]


def by_resource(resource: str) -> Kind:
    """The entry of a plural API resource (``"resourceclaims"``); KeyError for others."""
    return _BY_RESOURCE[resource]


def resource_of(kind: str) -> str | None:
    """The plural resource of an API kind, or None for a kind kubectl-dra does not use."""
    k = _BY_KIND.get(kind)
    if k is None or not k.resource:
        return None
    return k.resource


def accepted_by(command: str) -> tuple[Kind, ...]:
    """The kinds ``command`` takes as its TYPE, in the order its help and messages list them."""
    return _VOCABULARIES[command].kinds


def _word(type_text: str) -> str:
    return type_text.lower().split(".", 1)[0]


def lookup(type_text: str, command: str | None = None) -> Kind | None:
    """The kind ``type_text`` names (any case; ``claim.resource.k8s.io`` is ``claim``), if ``command``
    (when given) accepts it; else None."""
    k = _BY_NAME.get(_word(type_text))
    if k is None or (command is not None and k not in _VOCABULARIES[command].kinds):
        return None
    return k


def resolve(type_text: str, command: str) -> Kind:
    """Like :func:`lookup`, but a type ``command`` does not take is a UsageError with that command's message."""
    k = lookup(type_text, command)
    if k is None:
        raise UsageError(_VOCABULARIES[command].unknown.format(typed=type_text, word=_word(type_text)))
    return k


def parse_target(target: str, command: str, bare: Kind | None = None) -> tuple[Kind, str]:
    """``TYPE/NAME`` -> (kind, name) for ``command``.  A bare ``NAME`` means ``bare`` (why-pending: a pod);
    without ``bare`` it is a UsageError."""
    if "/" in target:
        type_text, name = target.split("/", 1)
        kind = resolve(type_text, command)
    elif bare is not None:
        kind, name = bare, target
    else:
        raise UsageError(f"expected TYPE/NAME (for example claim/my-claim), got {target!r}")
    if not name:
        raise UsageError(f"missing name in {target!r}")
    return kind, name
