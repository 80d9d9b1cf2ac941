#!/usr/bin/env python3
"""Reads the chunk timeline that HTC_GPU_TIMING=2 prints over a stream of
calls (one zero for the whole stream) and says, per device, over its last K
chunks: the time per 2048 items, how long the copy stream stood idle before
a chunk's codestreams (the host had not queued them yet, or their slot's last
chunk was still running), and how much of the span some chunk's kernels
covered.

    HTC_GPU_TIMING=2 htc_gpu_bench ... --stream 6 FILES 2> log
    bench/gpu_timeline.py log [K=48] [--chunks]
"""
import re
import sys

F = r"(-?\d+\.\d+)"
LINE = re.compile(
    r"gpu timeline dev (\d+) chunk (\d+) \(slot (\d+)\): (\d+) items, plan %s-%s, submitted %s, "
    r"raw DMAs %s-%s \(([\d.]+) MB\), device %s-%s" % ((F,) * 5 + (F, F)))


def covered(intervals):
    total, cur = 0.0, None
    for a, b in sorted(intervals):
        if cur is None or a > cur[1]:
            if cur:
                total += cur[1] - cur[0]
            cur = [a, b]
        else:
            cur[1] = max(cur[1], b)
    return total + (cur[1] - cur[0] if cur else 0.0)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show = "--chunks" in sys.argv
    k = int(args[1]) if len(args) > 1 else 48
    devs = {}
    for line in open(args[0]):
        m = LINE.search(line)
        if not m:
            continue
        p0, _, _, r0, r1, mb, d0, d1 = (float(x) for x in m.groups()[4:])
        if r1 <= r0 or r0 < 0 or d1 <= d0:
            continue  # no timing events for this chunk
        devs.setdefault(int(m.group(1)), []).append(dict(
            chunk=int(m.group(2)), slot=int(m.group(3)), n=int(m.group(4)), p0=p0, r0=r0, r1=r1, mb=mb, d0=d0, d1=d1))
    for d in sorted(devs):
        ch = sorted(devs[d], key=lambda x: x["r0"])
        last = {}
        for x in ch:  # the chunk its slot held before
            x["old"] = last.get(x["slot"])
            last[x["slot"]] = x
        ch = ch[-k:]
        t0, t1 = ch[0]["r0"], max(x["d1"] for x in ch)
        items = sum(x["n"] for x in ch)
        idle = {"host": 0.0, "slot": 0.0}
        rows = []
        for prev, x in zip(ch, ch[1:]):
            gap = x["r0"] - prev["r1"]
            old_done = x["old"]["d1"] if x["old"] else float("-inf")
            why = "host" if x["p0"] >= old_done - 0.02 else "slot"
            if gap > 0.02:
                idle[why] += gap
            rows.append("  chunk %2d slot %d, %3d items: queued %8.2f, DMAs %8.2f-%8.2f (%5.1f GB/s), idle before "
                        "%5.2f (%s), kernels %8.2f-%8.2f" % (x["chunk"], x["slot"], x["n"], x["p0"], x["r0"], x["r1"],
                                                             x["mb"] / (x["r1"] - x["r0"]), max(gap, 0.0), why,
                                                             x["d0"], x["d1"]))
        span = t1 - t0
        print("device %d: last %d chunks, %d items, %.2f ms (%.2f ms per 2048); copy stream idle %.2f ms for the "
              "host, %.2f for a slot; kernels cover %.2f ms" % (d, len(ch), items, span, span / items * 2048,
                                                              idle["host"], idle["slot"],
                                                              covered([(x["d0"], x["d1"]) for x in ch])))
        if show:
            print("\n".join(rows))


if __name__ == "__main__":
    main()
