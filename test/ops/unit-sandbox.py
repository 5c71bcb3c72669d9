#!/usr/bin/python3
"""Runs a command under a systemd unit's SystemCallFilter=, SystemCallErrorNumber= and
RestrictAddressFamilies=, applied with libseccomp (Debian's python3-seccomp) the way systemd
applies them, for machines where systemd is not PID 1 and cannot start the unit itself:

- the allow list is systemd's own: `systemd-analyze syscall-filter @group`, groups expanded;
- any other system call fails with SystemCallErrorNumber's errno (the process is not killed);
- socket() succeeds only for the listed address families; others fail with EAFNOSUPPORT, as
  under systemd.

The kernel's no_new_privs must be set first (setpriv --no-new-privs), as NoNewPrivileges=yes
does under systemd, unless this runs as root.

usage: unit-sandbox.py UNIT_FILE -- COMMAND [ARG...]
"""
import errno
import os
import socket
import subprocess
import sys

import seccomp


def service_settings(path):
    """[Service] key -> list of values."""
    out, section = {}, None
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
                continue
            key, _, value = line.partition("=")
            if section == "Service":
                out.setdefault(key, []).append(value)
    return out


def expand(group, seen):
    """The system calls of a systemd syscall group, its nested groups expanded."""
    if group in seen:
        return set()
    seen.add(group)
    text = subprocess.run(
        ["systemd-analyze", "syscall-filter", "--no-pager", group],
        check=True, capture_output=True, text=True,
    ).stdout
    calls = set()
    for raw in text.splitlines():
        name = raw.strip()
        if not name or name.startswith("#") or name == group:
            continue
        calls |= expand(name, seen) if name.startswith("@") else {name}
    return calls


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.exit(__doc__)
    unit, command = argv[1], argv[3:]
    settings = service_settings(unit)

    (filter_value,) = settings["SystemCallFilter"]
    if filter_value.startswith("~"):
        sys.exit("only allow-list SystemCallFilter= is emulated")
    allowed = set()
    for item in filter_value.split():
        allowed |= expand(item, set()) if item.startswith("@") else {item}
    (errno_name,) = settings.get("SystemCallErrorNumber", ["EPERM"])
    denied = getattr(errno, errno_name)

    families = set()
    for value in settings["RestrictAddressFamilies"]:
        for name in value.split():
            families.add(int(getattr(socket, name, {"AF_NETLINK": 16, "AF_PACKET": 17}.get(name, -1))))
    if -1 in families:
        sys.exit("unknown address family in RestrictAddressFamilies=")

    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(denied))
    for call in sorted(allowed - {"socket", "socketcall"}):
        try:
            f.add_rule(seccomp.ALLOW, call)
        except (RuntimeError, ValueError):
            pass  # not a system call on this architecture
    if "socket" in allowed:
        for family in range(0, 64):
            action = seccomp.ALLOW if family in families else seccomp.ERRNO(errno.EAFNOSUPPORT)
            f.add_rule(action, "socket", seccomp.Arg(0, seccomp.EQ, family))
        f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.GE, 64))
    f.load()
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
