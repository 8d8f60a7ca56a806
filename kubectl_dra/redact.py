"""What ``kubectl dra dump`` leaves out of a dump made to be shared (``--no-redact`` keeps everything).

* every object: ``metadata.managedFields`` and the ``kubectl.kubernetes.io/last-applied-configuration``
  annotation are dropped (the latter is the whole object again, with whatever it held); the value of an
  annotation whose name looks secret (password, token, secret, key, credential, auth, ...) is replaced;
* Pods (containers, init and ephemeral containers): every ``env[].value`` is replaced (``valueFrom`` and
  ``envFrom`` only name ConfigMaps and Secrets: kept), except a value that is exactly the name of a DRA driver
  of the dump (``keep``: a public DNS name, and how why-pending's prepare stage tells a driver's kubelet plugin
  pod by its ``DRIVER_NAME``-like env), and so is every command/args item that looks secret
  and any other string under a secret-looking name (references such as ``secretKeyRef``, ``secretName`` and
  ``imagePullSecrets`` hold names: kept);
* DRA objects: the values under secret-looking names inside drivers' opaque parameters (``opaque.parameters``
  of claim, template and class configs, and of allocation results).

Nothing kubectl-dra's analysis reads is touched: a redacted dump gives the same answers.  Pure functions; the
objects given are never changed (what differs is copied).
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "REDACTED"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: Said in the dump's header (a YAML comment and the List's annotation).
ANNOTATION = "kubectl-dra.io/redacted"
WHAT = ("container env values and secret-looking values replaced by REDACTED, managedFields and "
        "last-applied-configuration dropped (kubectl dra dump --no-redact keeps them)")

_SECRET = re.compile(r"pass(word|wd|phrase)?|secret|token|api[-_.]?key|private[-_.]?key|access[-_.]?key|"
                     r"credential|auth|bearer|cookie|signature", re.IGNORECASE)
# Names of references to other objects (secretKeyRef, secretName, imagePullSecrets): names, not secrets.
_REFERENCE = re.compile(r"(Ref|Refs|Name|Secrets)$")
_SECRET_ARG = re.compile(r"pass(word|wd)?|secret|token|api[-_]?key|credential|auth|bearer|-----BEGIN", re.IGNORECASE)
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def secret_looking(name: str) -> bool:
    return bool(_SECRET.search(name)) and not _REFERENCE.search(name)


def _copy_map(value: dict, new_value) -> dict:
    """``value`` with each value ``v`` of key ``k`` replaced by ``new_value(k, v)``; the same object when none changes
    (the dump's objects are never changed, and what does not change is not copied)."""
    out = None
    for k, v in value.items():
        new = new_value(k, v)
        if new is not v:
            if out is None:
                out = dict(value)
            out[k] = new
    return value if out is None else out


def _copy_list(value: list, new_item) -> list:
    """``value`` with each item replaced by ``new_item(item)``; the same object when none changes."""
    items = [new_item(v) for v in value]
    return value if all(a is b for a, b in zip(items, value)) else items


def _strings_under_secret_names(value: Any, secret: bool = False, inherit: bool = True) -> Any:
    """``value`` with every string under a secret-looking key replaced (``inherit``: at any depth below it, as in
    drivers' parameters; else only the key's own string, as in a pod spec, whose ``secret:`` volumes and
    references name objects); copies what changes."""
    if isinstance(value, dict):
        return _copy_map(value, lambda k, v: _strings_under_secret_names(
            v, (secret and inherit) or (isinstance(k, str) and secret_looking(k)), inherit))
    if isinstance(value, list):
        return _copy_list(value, lambda v: _strings_under_secret_names(v, secret, inherit))
    if secret and isinstance(value, str) and value:
        return REDACTED
    if isinstance(value, str) and "-----BEGIN" in value:  # a PEM block (key, certificate) anywhere
        return REDACTED
    return value


def _metadata(meta: Any) -> Any:
    if not isinstance(meta, dict):
        return meta
    out = {k: v for k, v in meta.items() if k != "managedFields"}
    ann = meta.get("annotations")
    if isinstance(ann, dict):
        kept = {}
        for k, v in ann.items():
            if k == LAST_APPLIED:
                continue
            kept[k] = REDACTED if isinstance(v, str) and v and secret_looking(str(k)) else v
        out["annotations"] = kept
    return out


def _container(c: Any, keep: frozenset = frozenset()) -> Any:
    if not isinstance(c, dict):
        return c
    out = dict(c)
    env = c.get("env")
    if isinstance(env, list):
        out["env"] = [{**e, "value": REDACTED} if isinstance(e, dict) and isinstance(e.get("value"), str)
                      and e["value"] and e["value"] not in keep else e for e in env]
    for key in ("command", "args"):
        items = c.get(key)
        if isinstance(items, list):
            out[key] = [REDACTED if isinstance(a, str) and _SECRET_ARG.search(a) else a for a in items]
    return _strings_under_secret_names(out, inherit=False)


def _pod(pod: dict, keep: frozenset = frozenset()) -> dict:
    out = dict(pod)
    spec = pod.get("spec")
    if isinstance(spec, dict):
        spec = dict(spec)
        for key in _CONTAINER_LISTS:
            if isinstance(spec.get(key), list):
                spec[key] = [_container(c, keep) for c in spec[key]]
        out["spec"] = _strings_under_secret_names(spec, inherit=False)
    return out


def _opaque(value: Any) -> Any:
    """Secret-looking values inside every ``opaque.parameters`` at any depth of a DRA object's spec/status."""
    if isinstance(value, dict):
        return _copy_map(value, lambda k, v: {**v, "parameters": _strings_under_secret_names(v["parameters"])}
                         if k == "opaque" and isinstance(v, dict) and "parameters" in v else _opaque(v))
    if isinstance(value, list):
        return _copy_list(value, _opaque)
    return value


def driver_names(objects) -> frozenset:
    """The DRA drivers the objects name (ResourceSlices' ``spec.driver``, allocation results' ``driver``): the
    env values :func:`redact` keeps."""
    out = set()
    for o in objects:
        if not isinstance(o, dict):
            continue
        if o.get("kind") == "ResourceSlice":
            driver = (o.get("spec") or {}).get("driver")
            if isinstance(driver, str) and driver:
                out.add(driver)
        elif o.get("kind") == "ResourceClaim":
            results = (((o.get("status") or {}).get("allocation") or {}).get("devices") or {}).get("results") or []
            out.update(r["driver"] for r in results if isinstance(r, dict) and isinstance(r.get("driver"), str))
    return frozenset(out)


def redact(obj: dict, keep: frozenset = frozenset()) -> dict:
    """One object as a shared dump shows it (see the module's docstring); ``keep``: env values left as they are
    (:func:`driver_names`)."""
    if not isinstance(obj, dict):
        return obj
    out = dict(obj)
    if "metadata" in obj:
        out["metadata"] = _metadata(obj["metadata"])
    kind = obj.get("kind")
    if kind == "Pod":
        out = _pod(out, keep)
    elif kind in ("ResourceClaim", "ResourceClaimTemplate", "DeviceClass"):
        for key in ("spec", "status"):
            if key in out:
                out[key] = _opaque(out[key])
    return out
