#!/usr/bin/env python3
"""Plain-PyTorch peer of `r1-worker bench`: the same DeepSeek-R1-style model (MLA, DeepSeekMoE,
MTP) and training step as engine/model/*.cpp and engine/train/trainer.cpp, timed eager and under
torch.compile on uniform random tokens.

  python3 tests/bench/r1_torch_peer.py                      # r1-mini, bf16, cuda, eager + compile
  python3 tests/bench/r1_torch_peer.py --device cpu --preset tiny --steps 2 --warmup 1 \
      --batch 2 --seq 32 --precision fp32 --no-compile      # smoke test (works on torch 1.13)
"""
import argparse
import math
import time
from collections import namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")
HAS_COMPILE = hasattr(torch, "compile")
compile_disable = getattr(getattr(torch, "compiler", None), "disable", lambda f: f)
PEAK_FLOPS = 989e12  # H100/H200 dense bf16, as r1-worker bench


# engine/config/config.h ModelConfig; the defaults are the r1-nano preset ("tiny").
_DEFAULTS = dict(vocab=1024, dim=64, n_layers=2, n_heads=4, norm_eps=1e-6, init_std=0.02,
                 q_lora=32, kv_lora=32, nope=16, rope=8, v=16, rope_theta=10000.0,
                 dense_layers=1, dense_inter=192, n_routed=4, n_shared=1, topk=2, moe_inter=64,
                 route_scale=1.0, bias_gamma=0.001, mtp_depth=1, mtp_weight=0.3)
Cfg = namedtuple("Cfg", _DEFAULTS, defaults=_DEFAULTS.values())
_MINI = Cfg(vocab=32768, dim=768, n_layers=12, n_heads=12, q_lora=384, kv_lora=256, nope=48,
            rope=16, v=64, dense_layers=1, dense_inter=2048, n_routed=8, n_shared=1, topk=2,
            moe_inter=768)
PRESETS = {"tiny": Cfg(), "r1-mini": _MINI, "r1-mini-dense": _MINI._replace(dense_layers=12)}
# (total, active) parameters from `r1-worker info --preset ...` (tiny is r1-nano).
EXPECTED_PARAMS = {"tiny": (257600, 233024), "r1-mini": (233583232, 116798080),
                   "r1-mini-dense": (110242432, 110242432)}


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        xf = x if x.dtype == torch.float64 else x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight.to(y.dtype)).to(x.dtype)


class SwiGLU(nn.Module):
    def __init__(self, dim, inter):
        super().__init__()
        self.w1 = nn.Linear(dim, inter, bias=False)
        self.w2 = nn.Linear(inter, dim, bias=False)
        self.w3 = nn.Linear(dim, inter, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


def rope_tables(T, rope_dim, theta, device):
    # The engine builds these in float64 on the CPU and copies them over on every forward; here
    # they are built on the device (same float64 math) so torch.compile needs no CPU kernels.
    i = torch.arange(0, rope_dim, 2, dtype=torch.float64, device=device)
    inv_freq = theta ** (-i / rope_dim)
    ang = torch.outer(torch.arange(T, dtype=torch.float64, device=device), inv_freq)
    return ang.cos().float(), ang.sin().float()


def apply_rope(x, cos, sin):  # x: [B, T, H, rope_dim], interleaved pairs
    B, T, H, _ = x.shape
    xp = x.float().reshape(B, T, H, -1, 2)
    x0, x1 = xp[..., 0], xp[..., 1]
    c, s = cos[:T].view(1, T, 1, -1), sin[:T].view(1, T, 1, -1)
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], -1).reshape(x.shape).to(x.dtype)


def causal_attention(q, k, v, scale):  # q, k: [B, H, T, dqk], v: [B, H, T, dv]
    if HAS_SDPA:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
    T, S = q.size(2), k.size(2)
    scores = torch.matmul(q, k.transpose(-2, -1)) * scale
    mask = torch.ones(T, S, dtype=torch.bool, device=q.device).triu(S - T + 1)
    p = torch.softmax(scores.masked_fill(mask, float("-inf")).float(), -1).to(v.dtype)
    return torch.matmul(p, v)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c, self.scale = c, 1.0 / math.sqrt(c.nope + c.rope)
        qdim = c.n_heads * (c.nope + c.rope)
        if c.q_lora == 0:
            self.wq = nn.Linear(c.dim, qdim, bias=False)
        else:
            self.wq_a = nn.Linear(c.dim, c.q_lora, bias=False)
            self.q_norm = RMSNorm(c.q_lora, c.norm_eps)
            self.wq_b = nn.Linear(c.q_lora, qdim, bias=False)
        self.wkv_a = nn.Linear(c.dim, c.kv_lora + c.rope, bias=False)
        self.kv_norm = RMSNorm(c.kv_lora, c.norm_eps)
        self.wkv_b = nn.Linear(c.kv_lora, c.n_heads * (c.nope + c.v), bias=False)
        self.wo = nn.Linear(c.n_heads * c.v, c.dim, bias=False)

    def forward(self, x, cos, sin):
        c, (B, T, _) = self.c, x.shape
        H, dn, dr = c.n_heads, c.nope, c.rope
        q = self.wq(x) if c.q_lora == 0 else self.wq_b(self.q_norm(self.wq_a(x)))
        q = q.view(B, T, H, dn + dr)
        q_nope, q_pe = q[..., :dn], apply_rope(q[..., dn:], cos, sin)
        kv = self.wkv_a(x)
        k_pe = apply_rope(kv[..., c.kv_lora:].unsqueeze(2), cos, sin)  # one key for all heads
        kvh = self.wkv_b(self.kv_norm(kv[..., :c.kv_lora])).view(B, T, H, dn + c.v)
        k_nope, v = kvh[..., :dn], kvh[..., dn:]
        qh = torch.cat([q_nope, q_pe.to(q_nope.dtype)], -1).transpose(1, 2)
        kh = torch.cat([k_nope, k_pe.to(k_nope.dtype).expand(B, T, H, dr)], -1).transpose(1, 2)
        o = causal_attention(qh, kh, v.transpose(1, 2), self.scale)
        return self.wo(o.transpose(1, 2).reshape(B, T, H * c.v))


class Gate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.topk, self.route_scale = c.topk, c.route_scale
        self.weight = nn.Parameter(torch.empty(c.n_routed, c.dim))
        self.register_buffer("bias", torch.zeros(c.n_routed))  # only chooses experts

    def forward(self, x):
        scores = torch.sigmoid(F.linear(x, self.weight).float())
        with torch.no_grad():
            idx = (scores.detach() + self.bias.float()).topk(self.topk, -1)[1]
        w = scores.gather(1, idx)
        return w / w.sum(-1, keepdim=True) * self.route_scale, idx


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_routed, self.topk = c.n_routed, c.topk
        self.gate = Gate(c)
        self.experts = nn.ModuleList(SwiGLU(c.dim, c.moe_inter) for _ in range(c.n_routed))
        self.shared = SwiGLU(c.dim, c.n_shared * c.moe_inter) if c.n_shared > 0 else None
        self.load = torch.zeros(c.n_routed, dtype=torch.float64)  # CPU counts, as the engine

    def forward(self, x):
        B, T, D = x.shape
        flat = x.reshape(B * T, D)
        w, idx = self.gate(flat)
        flat_idx = idx.reshape(-1)
        order = flat_idx.sort(stable=True)[1]
        token_of = order.div(self.topk, rounding_mode="floor")
        w_sorted = w.reshape(-1).index_select(0, order).unsqueeze(1)
        y = self.routed(flat, flat_idx, token_of, w_sorted)
        if self.shared is not None:
            y = y + self.shared(flat)
        return y.view(B, T, D)

    # Per-expert row counts decide the Python loop: torch.compile would recompile it for every new
    # count pattern (and hit its recompile limit), so the routed dispatch always runs eagerly.
    @compile_disable
    def routed(self, flat, flat_idx, token_of, w_sorted):
        counts = torch.bincount(flat_idx, minlength=self.n_routed).cpu()  # host sync, as ours
        if self.training:
            self.load += counts.double()
        y = torch.zeros_like(flat)
        start = 0
        for e, n in enumerate(counts.tolist()):
            if n == 0:
                continue
            rows = token_of.narrow(0, start, n)
            out = self.experts[e](flat.index_select(0, rows))
            # The engine adds the bf16 product into the fp32 y as is, which index_add refuses
            # under autocast (r1-worker bench fails in bf16 on MoE presets); cast it to y's type.
            out = out * w_sorted.narrow(0, start, n).to(out.dtype)
            y = y.index_add(0, rows, out.to(y.dtype))
            start += n
        return y

    @torch.no_grad()
    def update_bias(self, gamma):
        if self.load.sum().item() > 0 and gamma > 0:
            delta = torch.sign(self.load.mean() - self.load) * gamma
            self.gate.bias.add_(delta.to(self.gate.bias.device, self.gate.bias.dtype))
        self.load.zero_()


class Block(nn.Module):
    def __init__(self, c, moe_ffn):
        super().__init__()
        self.attn_norm, self.attn = RMSNorm(c.dim, c.norm_eps), MLA(c)
        self.ffn_norm = RMSNorm(c.dim, c.norm_eps)
        self.ffn = MoE(c) if moe_ffn else SwiGLU(c.dim, c.dense_inter)

    def forward(self, x, cos, sin):
        h = x + self.attn(self.attn_norm(x), cos, sin)
        return h + self.ffn(self.ffn_norm(h))


class MTPModule(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.hnorm, self.enorm = RMSNorm(c.dim, c.norm_eps), RMSNorm(c.dim, c.norm_eps)
        self.proj = nn.Linear(2 * c.dim, c.dim, bias=False)
        self.block = Block(c, moe_ffn=False)
        self.out_norm = RMSNorm(c.dim, c.norm_eps)


class R1Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.dim)  # tied with the head
        self.blocks = nn.ModuleList(Block(c, i >= c.dense_layers) for i in range(c.n_layers))
        self.norm = RMSNorm(c.dim, c.norm_eps)
        self.mtp = nn.ModuleList(MTPModule(c) for _ in range(c.mtp_depth))
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "norm" not in name:
                    p.normal_(0.0, c.init_std)

    def moe_layers(self):
        return [b.ffn for b in self.blocks if isinstance(b.ffn, MoE)]

    def ce(self, h, target):
        logits = F.linear(h, self.embed.weight)
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), target.reshape(-1))

    def forward(self, tokens):  # [B, T + mtp_depth + 1] -> (loss, main CE, mean MTP CE)
        D = self.c.mtp_depth
        T = tokens.size(1) - D - 1
        cos, sin = rope_tables(T, self.c.rope, self.c.rope_theta, tokens.device)
        h = self.embed(tokens[:, :T])
        for b in self.blocks:
            h = b(h, cos, sin)
        main = self.ce(self.norm(h), tokens[:, 1:T + 1])
        loss, mtp, prev = main, None, h
        for k, m in enumerate(self.mtp, start=1):
            e = self.embed(tokens[:, k:k + T])
            hk = m.block(m.proj(torch.cat([m.hnorm(prev), m.enorm(e)], -1)), cos, sin)
            lk = self.ce(m.out_norm(hk), tokens[:, k + 1:k + 1 + T])
            mtp, prev = lk if mtp is None else mtp + lk, hk
        if mtp is not None:
            mtp = mtp / D
            loss = loss + self.c.mtp_weight * mtp
        return loss, main, mtp


def param_counts(model):
    total = sum(p.numel() for p in model.parameters())
    active = total - sum((m.n_routed - m.topk) * sum(p.numel() for p in m.experts[0].parameters())
                         for m in model.moe_layers())
    return total, active, model.embed.weight.numel()


def flops_per_token(model, seq):  # R1ModelImpl::flops_per_token, tied head
    c, (_, active, emb) = model.c, param_counts(model)
    n = active - emb + c.dim * c.vocab
    attn = (c.n_layers + c.mtp_depth) * c.n_heads * (c.nope + c.rope + c.v) * seq * 2 * 3 * 0.5
    return 6.0 * n + attn


def run_mode(mode, cfg, args, batches, dev):
    torch.manual_seed(args.seed)  # the same initial weights for every mode
    model = R1Model(cfg).to(dev)
    moes = model.moe_layers()
    params = list(model.parameters())
    opt = torch.optim.AdamW(
        [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
        lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
    fwd = torch.compile(model) if mode == "compile" else model
    amp = args.precision == "bf16"
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)

    def step(batch):  # Trainer::train_step, grad_accum 1, constant lr
        model.train()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp):
            loss, main_ce, _ = fwd(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        for m in moes:
            m.update_bias(cfg.bias_gamma)
        return torch.stack([loss.detach(), main_ce.detach()])

    losses = []
    t0 = time.perf_counter()
    for i in range(args.warmup):
        losses.append(step(batches[i]))
    sync()
    warmup_s = time.perf_counter() - t0
    if cuda:
        torch.cuda.reset_peak_memory_stats(dev)
    t0 = time.perf_counter()
    for i in range(args.warmup, args.warmup + args.steps):
        losses.append(step(batches[i]))
    sync()
    sec = time.perf_counter() - t0
    tps = args.steps * args.batch * args.seq / sec
    flops = flops_per_token(model, args.seq) * tps
    peak = torch.cuda.max_memory_allocated(dev) / 2**30 if cuda else float("nan")
    mfu = flops / PEAK_FLOPS if cuda else float("nan")
    print(f"peer=torch-{mode} preset={args.preset} device={dev.type} precision={args.precision} "
          f"batch={args.batch} seq={args.seq} steps={args.steps} warmup={args.warmup} "
          f"tokens_per_s={tps:.0f} tflops={flops / 1e12:.2f} mfu={mfu:.4f} peak_gib={peak:.2f} "
          f"loss_first={losses[0][0].item():.4f} loss_last={losses[-1][0].item():.4f} "
          f"ce_first={losses[0][1].item():.4f} ce_last={losses[-1][1].item():.4f} "
          f"step_ms={1e3 * sec / args.steps:.1f} warmup_s={warmup_s:.1f}", flush=True)
    del fwd, model, opt, moes, params, losses
    if cuda:
        torch.cuda.empty_cache()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="r1-mini", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--mode", default="both", choices=["eager", "compile", "both"])
    ap.add_argument("--no-compile", action="store_true", help="run eager only, whatever --mode")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0:
        ap.error("--steps must be >= 1 and --warmup >= 0")

    cfg, dev = PRESETS[args.preset], torch.device(args.device)
    torch.manual_seed(args.seed)
    probe = R1Model(cfg)
    total, active, emb = param_counts(probe)
    want = EXPECTED_PARAMS[args.preset]
    print(f"peer=torch-model preset={args.preset} params_total={total} params_active={active} "
          f"params_embedding={emb} flops_per_token={flops_per_token(probe, args.seq):.6g} "
          f"torch={torch.__version__} sdpa={int(HAS_SDPA)} compile={int(HAS_COMPILE)}", flush=True)
    assert (total, active) == want, f"parameter counts {(total, active)} != engine's {want}"
    del probe

    gen = torch.Generator(device=dev)
    gen.manual_seed(args.seed)
    n = args.warmup + args.steps
    batches = torch.randint(0, cfg.vocab, (n, args.batch, args.seq + cfg.mtp_depth + 1),
                            device=dev, generator=gen)

    modes = ["eager", "compile"] if args.mode == "both" else [args.mode]
    for mode in modes:
        if mode == "compile" and (args.no_compile or not HAS_COMPILE):
            why = "--no-compile" if args.no_compile else f"torch {torch.__version__} lacks compile"
            print(f"peer=torch-compile preset={args.preset} skipped=1 reason=\"{why}\"")
            continue
        run_mode(mode, cfg, args, batches, dev)


if __name__ == "__main__":
    main()
