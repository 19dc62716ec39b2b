"""``python -m bench latency``: one-way latency and streaming bandwidth of every channel.

Each (channel, mode) is measured by a fresh program that does nothing else
(``python -m bench.latency.mp`` for the multiprocessing channels, ``mpiexec -n
2 python -m bench.latency.mpi`` for the MPI ones) and hands its raw values back
as JSON; this module only launches them, collects the values into a results
document, and prints the tables. ``--reference`` also runs ``python -m
mpi4py.bench pingpong`` in the same sitting, to show that our harness measures
what the reference tool measures.

``--hosts`` also measures every MPI channel with its two ranks on two "hosts"
(``bench.hosts``: network namespaces of this machine joined by a veth, MPICH
over TCP), as ``CHANNEL@hosts``, and reports them beside the same channels on
one node. multiprocessing cannot take part: its processes are children of one
parent on one machine. ``manager-tcp``, a manager's server over TCP, is the one
multiprocessing channel that could reach another host; it is measured on
loopback, in every run.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Any

from bench import _stats, _tables, hosts, launch, results
from bench.latency import _timing
from contract import cli, tracing

SHARED_CHANNELS = (
    "pipe-bytes", "pipe-pickle", "queue", "shm-semaphore", "shm-spin", "manager-tcp",
)
MPI_CHANNELS = ("mpi-pickle", "mpi-buffer", "mpi-pkl5")
CHANNELS = SHARED_CHANNELS + MPI_CHANNELS
MODES = _timing.MODES
DEFAULT_SIZES = _timing.DEFAULT_SIZES
REFERENCE = "mpi-buffer"  # what mpi4py.bench pingpong measures: Send/Recv of numpy bytes
REFERENCE_LIMIT = 64 << 10  # the ratio to the reference is judged up to 64 KiB
# manager-tcp sends a twentieth of the messages of the others. CPython writes a pickle longer
# than 16 KiB as two sends, length then payload, on a socket without TCP_NODELAY: when the
# payload is shorter than a TCP segment (16-64 KiB on loopback), Nagle's algorithm holds it
# until the receiver's delayed ACK, tens of milliseconds later: at the full count manager-tcp
# alone would outlast every other channel together. Each batch's count is in the results file.
MANAGER_SCALE = 0.05
ACROSS = "@hosts"  # channel name suffix of a measurement with one rank on each of two hosts


def channel(text: str) -> str:
    if text not in CHANNELS:
        raise argparse.ArgumentTypeError(
            f"unknown channel {text!r} (known: {', '.join(CHANNELS)})"
        )
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (__doc__ or "").partition("\n")[0] or None
    parser.add_argument("--channels", nargs="+", type=channel, default=list(CHANNELS),
                        metavar="CHANNEL", help=f"channels (default: all of {', '.join(CHANNELS)})")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES),
                        help="latency (ping-pong) and/or bandwidth (streaming window)")
    parser.add_argument("--sizes", nargs="+", type=_timing.size, default=list(DEFAULT_SIZES),
                        metavar="BYTES", help="message sizes (default 1 B to 16 MiB, powers of 4)")
    parser.add_argument("--repeat", type=cli.positive, default=10, metavar="R",
                        help="timed repetitions per size (default 10)")
    parser.add_argument("--warmup", type=cli.count, default=2, metavar="W",
                        help="untimed-in-results warm-up repetitions per size (default 2)")
    parser.add_argument("--scale", type=_timing.scale, default=1.0, metavar="F",
                        help="multiply the iterations of each repetition (default 1.0)")
    parser.add_argument("--pin", nargs=2, type=cli.count, metavar=("CPU_A", "CPU_B"),
                        help="pin the two processes to these CPUs (default: not pinned)")
    parser.add_argument("--reference", action="store_true",
                        help="also run python -m mpi4py.bench pingpong, same sizes, same sitting")
    parser.add_argument("--hosts", action="store_true",
                        help="also measure the MPI channels with one rank on each of two hosts "
                        "simulated here (network namespaces and a veth: root and MPICH only)")
    results.add_output_arguments(parser)


def worker_command(
    chan: str, mode: str, args: argparse.Namespace, pair: hosts.Hosts | None = None
) -> list[str]:
    """The program measuring ``chan`` in ``mode``; given ``pair``, its ranks on those hosts."""
    scale, window = args.scale, []
    if chan == "manager-tcp":
        scale *= MANAGER_SCALE
        window = ["--window", "1"]  # a proxy call returns with its reply: one in flight
    options = [
        chan, "--mode", mode, "--sizes", *map(str, args.sizes), "--repeat", str(args.repeat),
        "--warmup", str(args.warmup), "--scale", str(scale), *window,
        *(["--pin", *map(str, args.pin)] if args.pin else []),
    ]
    if pair is not None:
        return pair.mpiexec(2, *launch.python("bench.latency.mpi", *options))
    if chan in MPI_CHANNELS:
        return launch.mpiexec(2, *launch.python("bench.latency.mpi", *options))
    return launch.python("bench.latency.mp", *options)


def measure(
    chan: str, mode: str, args: argparse.Namespace, pair: hosts.Hosts | None = None
) -> list[dict[str, Any]]:
    """One fresh program measures one channel in one mode; its sizes become benchmarks.

    Given ``pair``, the two ranks are on its two hosts: the channel is named
    ``CHANNEL@hosts`` and each benchmark records the bytes that crossed the veth meanwhile.
    """
    label = chan + ACROSS if pair is not None else chan
    before = pair.traffic() if pair is not None else None
    done = launch.run(worker_command(chan, mode, args, pair), timeout=600,
                      env=pair.env if pair is not None else None)
    if done.timed_out:
        remove_orphan_segments()
    if done.returncode != 0:
        why = "timed out" if done.timed_out else f"exit {done.returncode}"
        last = done.stderr.strip().splitlines()[-1:] or [""]
        raise results.MeasurementFailed(f"{label} {mode}: {why}: {last[0]}")
    raw = json.loads(done.stdout)
    extra: dict[str, Any] = {}
    if pair is not None and before is not None:
        crossed = pair.traffic() - before
        extra = {"hosts": 2, "veth_bytes": {"received": crossed.received, "sent": crossed.sent}}
    return [
        {
            "name": f"{mode}/{label}/{entry['size']}", "group": "latency", "mode": mode,
            "channel": label, "side": "mpi4py" if chan in MPI_CHANNELS else "multiprocessing",
            "size": entry["size"], "unit": "seconds per message", "iterations": entry["iterations"],
            "window": entry.get("window"), "placement": raw["placement"],
            "warmup": entry["warmup"], "values": entry["values"], **extra,
        }
        for entry in raw["sizes"]
    ]


def remove_orphan_segments() -> None:
    """Unlink shared-memory segments of latency programs that no longer exist.

    A program killed for time cannot unlink its segments (its resource tracker
    dies with it); their names carry the creator's pid.
    """
    for path in Path("/dev/shm").glob(f"{_timing.SEGMENT_PREFIX}*"):
        pid = path.name.removeprefix(_timing.SEGMENT_PREFIX).split("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)


PINGPONG_ROW = re.compile(r"^\s*(\d+)\s+([\d.]+)\s+\|\s+([\d.eE+-]+)\s+±\s+([\d.eE+-]+)\s+(\d+)")


def reference(args: argparse.Namespace) -> list[dict[str, Any]]:
    """``python -m mpi4py.bench pingpong`` over our sizes: its mean one-way time per size."""
    options = ["-m", str(min(args.sizes)), "-n", str(max(args.sizes))]
    module = launch.python("mpi4py.bench", "pingpong", *options)
    if args.pin:
        # MPMD: one rank per command line, each under taskset on its own CPU.
        a, b = (["taskset", "-c", str(cpu), *module] for cpu in args.pin)
        command = launch.mpiexec(1, *a) + [":", "-n", "1", *b]
    else:
        command = launch.mpiexec(2, *module)
    done = launch.run(command, timeout=600)
    if done.returncode != 0:
        raise results.MeasurementFailed(
            f"mpi4py.bench pingpong: exit {done.returncode}: {done.stderr}"
        )
    rows = {}
    for line in done.stdout.splitlines():
        match = PINGPONG_ROW.match(line)
        if match:
            rows[int(match[1])] = (float(match[3]), float(match[4]), int(match[5]))
    return [
        {"size": s, "mean": rows[s][0], "stdev": rows[s][1], "samples": rows[s][2]}
        for s in args.sizes if s in rows
    ]


def run(args: argparse.Namespace) -> results.Document:
    """Every channel in every mode (and with ``--hosts``, the MPI ones across two hosts)."""
    jobs = [(c, m) for c in args.channels for m in args.modes]
    across = [(c, m) for c, m in jobs if c in MPI_CHANNELS] if getattr(args, "hosts", False) else []
    benchmarks: list[dict[str, Any]] = []
    settings = {k: getattr(args, k) for k in ("sizes", "repeat", "warmup", "scale", "pin")}
    with _tables.progress(len(jobs) + len(across) + bool(args.reference), args.quiet) as bar:
        for chan, mode in jobs:
            bar.set_description(f"{chan} {mode}")
            benchmarks += measure(chan, mode, args)
            bar.update()
        if across:
            try:
                with hosts.two_hosts() as pair:
                    settings["hosts"] = pair.describe()
                    for chan, mode in across:
                        bar.set_description(f"{chan}{ACROSS} {mode}")
                        benchmarks += measure(chan, mode, args, pair)
                        bar.update()
            except hosts.HostsError as error:
                raise results.MeasurementFailed(f"two hosts: {error}") from None
        ref = None
        if args.reference:
            bar.set_description("mpi4py.bench pingpong")
            ref = reference(args)
            bar.update()
    return results.document("latency", benchmarks, settings=settings, reference=ref)


def cells(doc: results.Document, mode: str) -> dict[tuple[str, int], dict[str, float]]:
    return {
        (b["channel"], b["size"]): _stats.summary(b["values"])
        for b in doc["benchmarks"] if b.get("group") == "latency" and b["mode"] == mode
    }


def report(doc: results.Document) -> str:
    """The tables of a latency document: one per mode, then the reference comparison."""
    meta = doc["metadata"]
    placements = {
        tuple(tuple(cpus) for cpus in b["placement"]["cpus"])
        for b in doc["benchmarks"] if b.get("placement", {}).get("pinned")
    }
    lines = [
        f"{meta['date']}  {meta['host']}: {meta['cpu_model']}, {meta['cpu_count']} CPUs",
        f"Python {meta['python']}, numpy {meta['numpy']}, mpi4py {meta['mpi4py']}, "
        f"{(meta.get('mpi_library') or 'MPI ?').splitlines()[0]}",
        "processes " + (
            "pinned, each to its CPUs: " + "; ".join(
                " and ".join(tracing.spans(cpus) for cpus in placement)
                for placement in sorted(placements)
            ) if placements else "not pinned (the scheduler placed them)"
        ),
        "",
    ]
    for mode, title, convert in (
        ("latency", "one-way latency, microseconds", lambda s, t: t * 1e6),
        ("bandwidth", "streaming bandwidth, MB/s", lambda s, t: s / t / 1e6),
    ):
        table = cells(doc, mode)
        if not table:
            continue
        chans = [c for c in CHANNELS if any(key[0] == c for key in table)]
        sizes = sorted({key[1] for key in table})
        rows = []
        for s in sizes:
            row = [_tables.size_text(s)]
            for c in chans:
                cell = table.get((c, s))
                row.append("-" if cell is None else
                           f"{_tables.number(convert(s, cell['median']))} "
                           f"({100 * cell['iqr'] / cell['median']:.0f}%)")
            rows.append(row)
        lines += [f"{title}: median of the repetitions (IQR as % of the median)",
                  _tables.render(["size", *chans], rows, right=1), ""]
    lines += across_report(doc)
    if doc.get("reference"):
        lines += reference_report(doc)
    return "\n".join(lines).rstrip() + "\n"


MODE_TITLES = {"latency": "one-way latency, microseconds", "bandwidth": "streaming bandwidth, MB/s"}


def across_report(doc: results.Document) -> list[str]:
    """MPI on one node against the same channels across two hosts, side by side (``--hosts``)."""
    crossing = [b for b in doc["benchmarks"] if b.get("channel", "").endswith(ACROSS)]
    if not crossing:
        return []
    lines = []
    for mode in MODES:
        table = cells(doc, mode)
        chans = [c for c in MPI_CHANNELS if any(key[0] == c + ACROSS for key in table)]
        if not chans:
            continue
        rows = []
        for s in sorted({key[1] for key in table if key[0].endswith(ACROSS)}):
            row = [_tables.size_text(s)]
            for c in chans:
                here, there = table.get((c, s)), table.get((c + ACROSS, s))
                row.append("-" if here is None else _tables.number(_in_unit(mode, s, here)))
                if there is None:
                    row.append("-")
                elif here is None:
                    row.append(_tables.number(_in_unit(mode, s, there)))
                else:  # how many times slower across: time ratio, whatever the unit shown
                    row.append(f"{_tables.number(_in_unit(mode, s, there))} "
                               f"({_tables.number(there['median'] / here['median'])}x)")
            rows.append(row)
        header = ["size"]
        for c in chans:
            header += [f"{c} 1 node", "2 hosts"]
        lines += [f"MPI on one node and across two hosts, {MODE_TITLES[mode]}: median "
                  "(x: time across / on one node)",
                  _tables.render(header, rows, right=1), ""]
    setup = doc.get("settings", {}).get("hosts") or {}
    told = " ".join(f"{k}={v}" for k, v in setup.get("environment", {}).items())
    lines += [
        f"two hosts: {setup.get('kind', '?')}; one rank on each;",
        f"  MPICH over TCP ({told});",
        f"  {_tables.number(_veth_bytes(crossing) / 1e6)} MB crossed the veth during those runs",
        "multiprocessing cannot cross hosts: its processes are one parent's children on one "
        "machine.",
        "  manager-tcp (a Manager's server over TCP, with an authkey) could: "
        + ("above, it is measured on 127.0.0.1." if any(
            b.get("channel") == "manager-tcp" for b in doc["benchmarks"])
           else "not measured in this run."),
        "",
    ]
    return lines


def _in_unit(mode: str, size: int, cell: dict[str, float]) -> float:
    return cell["median"] * 1e6 if mode == "latency" else size / cell["median"] / 1e6


def _veth_bytes(crossing: list[dict[str, Any]]) -> int:
    """Bytes through the veth (both ways) over every cross-host run, each counted once."""
    runs = {(b["mode"], b["channel"]): b["veth_bytes"] for b in crossing}
    return sum(v["received"] + v["sent"] for v in runs.values())


def reference_report(doc: results.Document) -> list[str]:
    ours = {
        b["size"]: statistics.fmean(b["values"]) for b in doc["benchmarks"]
        if b.get("mode") == "latency" and b.get("channel") == REFERENCE
    }
    rows, judged = [], []
    for ref in doc["reference"]:
        if ref["size"] not in ours:
            continue
        ratio = ours[ref["size"]] / ref["mean"]
        if ref["size"] <= REFERENCE_LIMIT:
            judged.append(ratio)
        rows.append([_tables.size_text(ref["size"]), _tables.number(ours[ref["size"]] * 1e6),
                     _tables.number(ref["mean"] * 1e6), f"{ratio:.2f}"])
    if not rows:
        return ["(no mpi-buffer latency measured: nothing to hold against mpi4py.bench)"]
    lines = [
        "Send/Recv latency against python -m mpi4py.bench pingpong, same sitting "
        "(mean one-way microseconds; ratio = ours / reference)",
        _tables.render(["size", "ours", "mpi4py.bench", "ratio"], rows, right=1),
    ]
    if judged:
        worst = max(judged)
        verdict = "within" if worst <= 1.10 else "OVER"
        lines.append(f"largest ratio up to {_tables.size_text(REFERENCE_LIMIT)}: {worst:.2f} "
                     f"({verdict} the 1.10 bound)")
    return lines


def main(args: argparse.Namespace) -> int:
    if getattr(args, "hosts", False):
        why = hosts.unavailable()
        if why is None and not set(args.channels) & set(MPI_CHANNELS):
            why = f"no MPI channel to measure across hosts (one of {', '.join(MPI_CHANNELS)})"
        if why is not None:
            print(f"python -m bench latency: error: --hosts: {why}", file=sys.stderr)
            return 2
    doc = run(args)
    return results.save_and_print(doc, report(doc), args.output_dir)
