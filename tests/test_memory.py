"""keep_freed_memory: glibc keeps the blocks a step frees (the page faults go), it steps aside
where the user set malloc's knobs or where there is no glibc, and a run calls it."""
import os
import subprocess
import sys

import pytest

import spanbert_edu.train.memory as memory

# a fresh process allocates and fills a 64 MiB tensor 10 times after 2 warm-up rounds: above
# glibc's largest automatic mmap threshold (32 MiB), so by default every round maps fresh pages
FAULTS = """
import ctypes, resource, sys, torch
from spanbert_edu.train import memory
kept = memory.keep_freed_memory() if sys.argv[1] == "keep" else False
# a glibc that refused 1 GiB (and took the 32 MiB fallback) still maps 64 MiB blocks afresh
print("fallback" if kept and not ctypes.CDLL(None).mallopt(memory.M_MMAP_THRESHOLD, memory.KEEP) else kept)
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):
    torch.empty(16 << 20).fill_(1.0)
before = faults()
for _ in range(10):
    torch.empty(16 << 20).fill_(1.0)
print(faults() - before)
"""


def faults_in_fresh_process(mode):
    env = {k: v for k, v in os.environ.items() if k not in memory.USER_KNOBS + ("GLIBC_TUNABLES",)}
    out = subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True, env=env)
    kept, faults = out.stdout.split()
    if kept == "fallback":
        pytest.skip("this glibc refuses an mmap threshold above 32 MiB: the 64 MiB blocks are mapped either way")
    return kept == "True", int(faults)


@pytest.mark.skipif(not memory.has_glibc(), reason="mallopt is glibc's; elsewhere keep_freed_memory is a no-op (tested below)")
def test_kept_blocks_take_a_tenth_of_the_page_faults_or_fewer():
    kept_default, default = faults_in_fresh_process("default")
    kept, faults = faults_in_fresh_process("keep")
    assert (kept_default, kept) == (False, True)
    # 10 x 64 MiB: 163,840 faults with 4 KiB pages, 320 with 2 MiB ones; kept: about none
    assert default >= 300 and faults <= default / 10, (default, faults)


def test_steps_aside_where_the_user_set_mallocs_knobs(monkeypatch):
    calls = []
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda _: calls.append("called"))
    for name, value in [("MALLOC_TRIM_THRESHOLD_", "0"), ("MALLOC_MMAP_THRESHOLD_", "131072"),
                        ("GLIBC_TUNABLES", "glibc.cpu.hwcaps=-AVX:glibc.malloc.mmap_threshold=131072")]:
        with monkeypatch.context() as m:
            m.setattr(memory.platform, "system", lambda: "Linux")
            m.setattr(memory.platform, "libc_ver", lambda: ("glibc", "2.36"))
            m.setenv(name, value)
            assert memory.keep_freed_memory() is False
    assert calls == []


def test_does_nothing_without_glibc(monkeypatch):
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda _: pytest.fail("mallopt called"))
    for system, libc in [("Darwin", ("", "")), ("Windows", ("", "")), ("Linux", ("musl", "1.2"))]:
        monkeypatch.setattr(memory.platform, "system", lambda: system)
        monkeypatch.setattr(memory.platform, "libc_ver", lambda: libc)
        assert memory.keep_freed_memory() is False


class Mallopt:
    """A stand-in for glibc's mallopt through ctypes: records its calls, takes argtypes/restype,
    and refuses an mmap threshold above ``limit`` (as glibc before 2.35 did above 32 MiB)."""

    def __init__(self, limit=None):
        self.calls, self.limit = [], limit

    def __call__(self, param, value):
        self.calls.append((param, value))
        return 0 if self.limit and param == memory.M_MMAP_THRESHOLD and value > self.limit else 1


def fake_glibc(monkeypatch, mallopt, tunables=None):
    monkeypatch.setattr(memory.platform, "system", lambda: "Linux")
    monkeypatch.setattr(memory.platform, "libc_ver", lambda: ("glibc", "2.36"))
    for name in memory.USER_KNOBS + ("GLIBC_TUNABLES",):
        monkeypatch.delenv(name, raising=False)
    if tunables:
        monkeypatch.setenv("GLIBC_TUNABLES", tunables)
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda _: type("Libc", (), {"mallopt": mallopt})())


def test_falls_back_to_32_mib_where_glibc_refuses_more(monkeypatch):
    mallopt = Mallopt(limit=memory.FALLBACK)
    fake_glibc(monkeypatch, mallopt)
    assert memory.keep_freed_memory() is True
    assert mallopt.calls == [(memory.M_MMAP_THRESHOLD, memory.KEEP), (memory.M_MMAP_THRESHOLD, memory.FALLBACK),
                             (memory.M_TRIM_THRESHOLD, memory.KEEP)]


def test_other_glibc_tunables_do_not_stop_it(monkeypatch):
    mallopt = Mallopt()
    fake_glibc(monkeypatch, mallopt, tunables="glibc.malloc.arena_max=2")
    assert memory.keep_freed_memory() is True
    assert mallopt.calls == [(memory.M_MMAP_THRESHOLD, memory.KEEP), (memory.M_TRIM_THRESHOLD, memory.KEEP)]


def test_a_run_sets_it_before_measuring_its_speed(monkeypatch, tmp_path):
    import spanbert_edu.train.loop as loop

    order = []
    monkeypatch.setattr(loop, "keep_freed_memory", lambda: order.append("memory"))
    real = loop.resolve_speed
    monkeypatch.setattr(loop, "resolve_speed", lambda *a, **k: (order.append("speed"), real(*a, **k))[1])
    loop.pretrain(preset="tiny", steps=1, warmup_steps=1, batch_size=2, max_length=32, eval_every=1, save_every=1,
                  out_dir=str(tmp_path / "run"), progress=False, echo=lambda *_: None)
    assert order == ["memory", "speed"]


def test_finetune_sets_it_before_measuring_its_speed(monkeypatch, tmp_path):
    import spanbert_edu.qa.loop as qa_loop

    order = []
    monkeypatch.setattr(qa_loop, "keep_freed_memory", lambda: order.append("memory"))

    def stop(*args, **kwargs):
        order.append("speed")
        raise RuntimeError("stopped where the speed is measured")

    monkeypatch.setattr(qa_loop, "resolve_speed", stop)
    with pytest.raises(RuntimeError, match="stopped where"):
        qa_loop.finetune(init="scratch", preset="tiny", steps=1, out_dir=str(tmp_path / "qa"), progress=False,
                         echo=lambda *_: None)
    assert order == ["memory", "speed"]
