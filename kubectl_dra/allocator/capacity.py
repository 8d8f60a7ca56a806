"""Consumable capacity (DRAConsumableCapacity): request policies and accounting.

Semantics follow upstream ``consumable_capacity.go``:

* Every capacity the device publishes is consumed by every allocation of it:
  the requested amount when the request names that capacity, else the
  policy's ``default``, else the device's whole value.
* A requested amount is rounded up by the policy: ``validRange`` -> at least
  ``min``, then up to ``min + n*step`` when a step is set; ``validValues`` ->
  the first listed value >= the request (the request itself when none is).
* The rounded amount must then not violate the policy (above ``max``, off the
  step grid, not one of ``validValues``; the default is always allowed), and
  already-consumed + being-allocated + this one must not exceed the value.
* A request naming a capacity the device does not publish does not fit the
  device.  Names are matched exactly, or without / with the driver's domain.

Exact rational arithmetic (``Fraction``) is used throughout.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Mapping

from kubectl_dra.allocator.types import quantity_value


class CapacityError(Exception):
    """A request that cannot be evaluated at all (upstream aborts allocation)."""


def resolve_name(req_name: str, driver: str, capacity: Mapping[str, Any]) -> str | None:
    """The device's capacity key a requested name refers to, or None."""
    if req_name in capacity:
        return req_name
    if "/" in req_name:
        domain, _, ident = req_name.partition("/")
        if domain == driver and ident in capacity:
            return ident
        return None
    qualified = f"{driver}/{req_name}"
    if qualified in capacity:
        return qualified
    return None


def _round_up(requested: Fraction, policy: Mapping[str, Any] | None) -> Fraction:
    if not policy:
        return requested
    vr = policy.get("validRange")
    if vr and vr.get("min") is not None:
        lo = quantity_value(vr["min"])
        if requested < lo:
            return lo
        if vr.get("step") is None:
            return requested
        step = quantity_value(vr["step"])
        if step <= 0:
            return requested
        added = requested - lo
        n = added // step
        if added % step:
            n += 1
        return lo + step * n
    vv = policy.get("validValues")
    if vv:
        for v in vv:
            fv = quantity_value(v)
            if requested <= fv:
                return fv
    return requested


def _violates(value: Fraction, policy: Mapping[str, Any] | None) -> bool:
    if not policy:
        return False
    if policy.get("default") is not None and value == quantity_value(policy["default"]):
        return False
    vr = policy.get("validRange")
    if vr is not None:
        if vr.get("max") is not None and value > quantity_value(vr["max"]):
            return True
        if vr.get("step") is not None:
            step = quantity_value(vr["step"])
            lo = quantity_value(vr.get("min") or 0)
            if step and (value - lo) % step != 0:
                return True
        return False
    vv = policy.get("validValues")
    if vv:
        return all(value != quantity_value(v) for v in vv)
    return False


def consumed_for(requests: Mapping[str, Any] | None, driver: str,
                 capacity: Mapping[str, Any]) -> dict[str, Fraction] | None:
    """Capacity (by the device's key) one allocation consumes; None if a requested name is unknown."""
    resolved: dict[str, Fraction] = {}
    for name, val in (requests or {}).items():
        key = resolve_name(name, driver, capacity)
        if key is None:
            return None
        if key in resolved:
            raise CapacityError(f"capacity {key!r} requested twice (as {name!r})")
        resolved[key] = quantity_value(val)
    out: dict[str, Fraction] = {}
    for key, cap in capacity.items():
        policy = (cap or {}).get("requestPolicy")
        if key in resolved:
            out[key] = _round_up(resolved[key], policy)
        elif policy and policy.get("default") is not None:
            out[key] = quantity_value(policy["default"])
        else:
            out[key] = quantity_value((cap or {}).get("value", "0"))
        if out[key] < 0:
            raise CapacityError(f"capacity {key!r}: capacity value is negative")
    return out


def fits(requests: Mapping[str, Any] | None, driver: str, capacity: Mapping[str, Any],
         used: Mapping[str, Fraction] | None, allocating: Mapping[str, Fraction] | None) -> tuple[bool, str, dict | None]:
    """(ok, reason when not ok, consumed amounts)."""
    consumed = consumed_for(requests, driver, capacity)
    if consumed is None:
        missing = [n for n in (requests or {}) if resolve_name(n, driver, capacity) is None]
        return False, f"device has no capacity {', '.join(missing)}", None
    for key, cap in capacity.items():
        policy = (cap or {}).get("requestPolicy")
        amount = consumed[key]
        if _violates(amount, policy):
            return False, f"{key}: {amount_str(amount)} not allowed by requestPolicy", None
        total = amount + (used or {}).get(key, 0) + (allocating or {}).get(key, 0)
        limit = quantity_value((cap or {}).get("value", "0"))
        if total > limit:
            left = limit - (used or {}).get(key, 0) - (allocating or {}).get(key, 0)
            return False, f"{key}: needs {amount_str(amount)}, {amount_str(left)} left", None
    return True, "", consumed


def whole_capacity(device: Mapping[str, Any]) -> dict[str, Fraction] | None:
    """What one allocation of a device consumes when it requests nothing and nothing else holds
    any of it: every capacity's whole value; None when a requestPolicy or a negative value needs
    the full check of :func:`fits`."""
    out: dict[str, Fraction] = {}
    for name, cap in (device.get("capacity") or {}).items():
        if (cap or {}).get("requestPolicy"):
            return None
        value = quantity_value((cap or {}).get("value", "0"))
        if value < 0:
            return None
        out[name] = value
    return out


def amount_str(v: Fraction) -> str:
    from kubectl_dra.quantity import format_quantity, DECIMAL_SI
    return format_quantity(Fraction(v), DECIMAL_SI)
