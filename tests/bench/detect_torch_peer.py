#!/usr/bin/env python3
"""Plain-PyTorch peer of tests/bench/detect_bench.cpp: the nodule detector of
engine/vision/detect_model.cpp (2.5D backbone, top-down pyramid of MultiScaleFusion blocks,
CenterNet head), written again layer by layer, timed eager in fp32 and under torch.autocast
(bf16, fp16) for inference; one JSON line per dtype with detect_bench's fields.

  python3 tests/bench/detect_torch_peer.py --device cuda --size 512 --batch 16   # all dtypes
  python3 tests/bench/detect_torch_peer.py --device cpu --size 128 --batch 2 --iters 3 \
      --warmup 1 --dtype fp32                                                      # smoke test

Same protocol as detect_bench: random input in [-1, 1] of [batch, channels, size, size], eval
mode, torch.no_grad(), outputs dropped each pass; --iters passes after --warmup, synchronised
before and after the timed loop; peak = torch.cuda.max_memory_allocated over the timed loop
(weights and input included), reset after warmup. Autocast on CUDA only, as in the engine (on
CPU every dtype runs fp32, "autocast": false). Defaults = DetectModelConfig's and
DetectInputConfig's (engine/vision/detect_config.h).
"""
import argparse
import contextlib
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HEATMAP_PRIOR = 0.01  # kHeatmapPrior


class ConvNormAct(nn.Module):
    """Conv (no bias) -> GroupNorm(min(groups, out)) or BatchNorm -> SiLU; 'same' padding."""

    def __init__(self, cin, cout, kernel, stride, dilation, norm, groups):
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=pad, dilation=dilation,
                              bias=False)
        if norm == "batch":
            self.norm = nn.BatchNorm2d(cout)
        else:
            self.norm = nn.GroupNorm(min(groups, cout), cout)
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return F.silu(self.norm(self.conv(x)))


class MultiScaleFusion(nn.Module):
    """1x1 (out/4) | 3x3 (out/4) | ASPP (atrous 3x3 per rate + image pooling, each out/4,
    projected to out/2), concatenated and fused by a 1x1 ConvNormAct."""

    def __init__(self, cin, cout, rates, norm, groups):
        super().__init__()
        assert cout % 4 == 0, f"MultiScaleFusion: out channels must be a multiple of 4, got {cout}"
        q = cout // 4
        self.b1 = ConvNormAct(cin, q, 1, 1, 1, norm, groups)
        self.b3 = ConvNormAct(cin, q, 3, 1, 1, norm, groups)
        self.aspp = nn.ModuleList(ConvNormAct(cin, q, 3, 1, r, norm, groups) for r in rates)
        self.pool_conv = nn.Conv2d(cin, q, 1, bias=True)  # no norm: it sees a 1x1 map
        self.aspp_project = ConvNormAct(q * (len(rates) + 1), 2 * q, 1, 1, 1, norm, groups)
        self.fuse = ConvNormAct(4 * q, cout, 1, 1, 1, norm, groups)

    def forward(self, x):
        a = [m(x) for m in self.aspp]
        pooled = F.silu(self.pool_conv(x.mean((2, 3), keepdim=True)))
        a.append(pooled.expand(-1, -1, x.size(2), x.size(3)))
        aspp_out = self.aspp_project(torch.cat(a, 1))
        # the engine evaluates the ASPP branch first, then b1 and b3 (same peak memory)
        return self.fuse(torch.cat([self.b1(x), self.b3(x), aspp_out], 1))


class Residual(nn.Module):
    def __init__(self, c, norm, groups):
        super().__init__()
        self.a = ConvNormAct(c, c, 3, 1, 1, norm, groups)
        self.b = ConvNormAct(c, c, 3, 1, 1, norm, groups)

    def forward(self, x):
        return x + self.b(self.a(x))


def stage(cin, cout, norm, groups):
    """Stride-2 downsampling ConvNormAct, then a residual 3x3 pair."""
    return nn.Sequential(ConvNormAct(cin, cout, 3, 2, 1, norm, groups),
                         Residual(cout, norm, groups))


def head(c, cout):
    """3x3 conv (bias) -> SiLU -> 1x1 conv (bias; weight N(0, 0.01), bias 0)."""
    last = nn.Conv2d(c, cout, 1, bias=True)
    nn.init.normal_(last.weight, 0.0, 0.01)
    nn.init.zeros_(last.bias)
    return nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=True), nn.SiLU(), last)


def up_to(x, like):
    return F.interpolate(x, size=(like.size(2), like.size(3)), mode="nearest")


class DetectorNet(nn.Module):
    """Backbone at strides 2/4/8/16 -> P16 = MSF(lat(C16)), P8 = MSF(lat(C8) + up(P16)),
    P4 = MSF(lat(C4) + up(P8)) -> heatmap / size / offset heads on P4 (stride 4)."""

    def __init__(self, in_channels, channels, fpn, rates, norm, groups):
        super().__init__()
        ch, f, n, g = channels, fpn, norm, groups
        self.stem = nn.Sequential(ConvNormAct(in_channels, ch[0], 3, 2, 1, n, g),
                                  ConvNormAct(ch[0], ch[0], 3, 1, 1, n, g))
        self.stage4 = stage(ch[0], ch[1], n, g)
        self.stage8 = stage(ch[1], ch[2], n, g)
        self.stage16 = stage(ch[2], ch[3], n, g)
        self.lat4 = nn.Conv2d(ch[1], f, 1, bias=True)
        self.lat8 = nn.Conv2d(ch[2], f, 1, bias=True)
        self.lat16 = nn.Conv2d(ch[3], f, 1, bias=True)
        self.fuse16 = MultiScaleFusion(f, f, rates, n, g)
        self.fuse8 = MultiScaleFusion(f, f, rates, n, g)
        self.fuse4 = MultiScaleFusion(f, f, rates, n, g)
        self.heat_head = head(f, 1)
        self.size_head = head(f, 1)
        self.offset_head = head(f, 2)
        with torch.no_grad():
            self.heat_head[2].bias.fill_(-math.log((1 - HEATMAP_PRIOR) / HEATMAP_PRIOR))

    def forward(self, x):
        c2 = self.stem(x)
        c4 = self.stage4(c2)
        c8 = self.stage8(c4)
        c16 = self.stage16(c8)
        p16 = self.fuse16(self.lat16(c16))
        p8 = self.fuse8(self.lat8(c8) + up_to(p16, c8))
        p4 = self.fuse4(self.lat4(c4) + up_to(p8, c4))
        return self.heat_head(p4), self.size_head(p4), self.offset_head(p4)


def ints(s):
    return [int(v) for v in s.split(",") if v]


def run(model, x, dtype, args, dev):
    cuda = dev.type == "cuda"
    autocast = cuda and dtype != "fp32"
    amp_dtype = torch.float16 if dtype == "fp16" else torch.bfloat16
    sync = (lambda: torch.cuda.synchronize(dev)) if cuda else (lambda: None)

    if dtype != "fp32" and not cuda:
        print(f"detect_torch_peer: --dtype {dtype}: autocast applies on CUDA only (as in the "
              "engine); running fp32 on CPU", file=sys.stderr)

    def forward():
        # no autocast context at all when off: torch 1.13 rejects fp16 as a CPU autocast dtype
        # even with enabled=False
        ctx = torch.autocast(dev.type, dtype=amp_dtype) if autocast else contextlib.nullcontext()
        with ctx:
            model(x)

    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(args.warmup):
            forward()
        sync()
        warmup_s = time.perf_counter() - t0
        if cuda:
            torch.cuda.reset_peak_memory_stats(dev)
        t0 = time.perf_counter()
        for _ in range(args.iters):
            forward()
        sync()
        sec = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if cuda else None
    return {"impl": "torch-eager", "device": str(dev),
            "device_name": torch.cuda.get_device_name(dev) if cuda else "cpu",
            "torch": torch.__version__, "dtype": dtype, "autocast": autocast,
            "batch": args.batch, "size": args.size, "channels": args.channels,
            "iters": args.iters, "warmup": args.warmup, "params": None,
            "slices_per_s": args.iters * args.batch / sec, "ms_per_batch": 1e3 * sec / args.iters,
            "peak_mib": peak, "tf32_conv": bool(torch.backends.cudnn.allow_tf32),
            "warmup_s": warmup_s}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--channels", type=int, default=3, help="input.context_slices")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--dtype", default="all", choices=["fp32", "bf16", "fp16", "all"])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--widths", type=ints, default=[16, 32, 64, 128], help="model.channels")
    ap.add_argument("--fpn", type=int, default=64, help="model.fpn_channels")
    ap.add_argument("--rates", type=ints, default=[1, 6, 12], help="model.aspp_rates")
    ap.add_argument("--norm", default="group", choices=["group", "batch"], help="model.norm")
    ap.add_argument("--groups", type=int, default=8, help="model.groups")
    args = ap.parse_args()
    if args.size < 16 or args.batch < 1 or args.iters < 1 or args.warmup < 0:
        ap.error("need --size >= 16, --batch >= 1, --iters >= 1, --warmup >= 0")
    if len(args.widths) != 4:
        ap.error("--widths: four stage widths (strides 2, 4, 8, 16)")

    dev = torch.device("cuda:0" if args.device == "cuda" else args.device)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    torch.manual_seed(args.seed)
    model = DetectorNet(args.channels, args.widths, args.fpn, args.rates, args.norm, args.groups)
    params = sum(p.numel() for p in model.parameters())
    model.to(dev).eval()
    x = torch.rand(args.batch, args.channels, args.size, args.size, device=dev) * 2 - 1

    for dtype in ["fp32", "bf16", "fp16"] if args.dtype == "all" else [args.dtype]:
        r = run(model, x, dtype, args, dev)
        r["params"] = params
        print(json.dumps(r, sort_keys=True), flush=True)
        if dev.type == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
