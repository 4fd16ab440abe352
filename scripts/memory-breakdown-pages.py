#!/usr/bin/env python3
# Which of a process's pages are charged to a given cgroup: /proc/PID/pagemap gives each
# present page's frame, /proc/kpagecgroup the inode of the memory cgroup it is charged
# to. Prints, per mapping, the pages charged to CGROUP_DIR. Root only.
#   memory-breakdown-pages.py PID CGROUP_DIR [--addresses]
import os, struct, sys
pid, cgdir = int(sys.argv[1]), sys.argv[2]
show = "--addresses" in sys.argv
ino = os.stat(cgdir).st_ino
maps = []
for line in open(f"/proc/{pid}/maps"):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    maps.append((lo, hi, f[1], f[5] if len(f) > 5 else "[anon]"))
pm = open(f"/proc/{pid}/pagemap", "rb")
kc = open("/proc/kpagecgroup", "rb")
total = 0
for lo, hi, perm, name in maps:
    if name == "[vsyscall]":
        continue
    pm.seek(lo // 4096 * 8)
    data = pm.read((hi - lo) // 4096 * 8)
    mine = []
    for i in range(len(data) // 8):
        e = struct.unpack_from("<Q", data, i * 8)[0]
        if not e >> 63 & 1:
            continue
        pfn = e & ((1 << 55) - 1)
        kc.seek(pfn * 8)
        if struct.unpack("<Q", kc.read(8))[0] == ino:
            mine.append(lo + i * 4096)
    if mine:
        total += len(mine)
        print(f"  {len(mine) * 4:6d} KiB  {lo:x}-{hi:x} {perm} {name}")
        if show:
            print("           " + " ".join(f"{a:x}" for a in mine))
print(f"  {total * 4:6d} KiB  charged to {cgdir}, in init's mappings")
