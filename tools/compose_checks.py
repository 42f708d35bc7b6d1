"""What the compose checks (tools/check-docker.sh, tools/check-docker-sentinel.sh) ask of every
resolved compose file, so that each file's own script holds only what is particular to it."""


def report(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)


def mount(m):
    """(source, target, read_only) of a volume in the long or the short syntax."""
    if isinstance(m, dict):
        return str(m.get("source", "")), str(m.get("target")), bool(m.get("read_only"))
    parts = str(m).split(":")
    if len(parts) == 1:
        return "", parts[0], False
    return parts[0], parts[1], len(parts) > 2 and "ro" in parts[2].split(",")


def published_ports(service):
    """The container ports a service publishes, as strings."""
    return [str(p.get("target")) if isinstance(p, dict) else str(p).split(":")[-1].split("/")[0]
            for p in service.get("ports") or []]


def depends_on_healthy(service, names):
    deps = service.get("depends_on") or {}
    return isinstance(deps, dict) and all(deps.get(n, {}).get("condition") == "service_healthy" for n in names)


def check_hardening(services, healthchecked):
    """Every service read-only, without capabilities or new privileges, on a pinned image; the
    named ones with a healthcheck."""
    for name, svc in sorted(services.items()):
        report(svc.get("read_only") is True, f"{name}: read_only root filesystem")
        report(svc.get("cap_drop") == ["ALL"], f"{name}: cap_drop ALL")
        report("no-new-privileges:true" in (svc.get("security_opt") or []), f"{name}: no-new-privileges")
        image = svc.get("image", "")
        report(":" in image and not image.endswith(":latest"), f"{name}: image pinned by tag ({image})")
    for name in healthchecked:
        report("test" in (services.get(name, {}).get("healthcheck") or {}), f"{name}: has a healthcheck")
