// Multi-head Latent Attention: causality, and equality with plain multi-head attention written
// out independently here from the same effective weights.
#include "engine/model/mla.h"
#include "model_test_util.h"

#include <QtTest/QtTest>

#include <cmath>

using r1::model::MLA;

namespace {

torch::Tensor rmsnorm_ref(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  return x / torch::sqrt(x.pow(2).mean(-1, true) + eps) * w;
}

// Rotates interleaved pairs of v (length d) at position t, written with scalar loops.
torch::Tensor rope_ref(const torch::Tensor& v, int64_t t, double theta) {
  auto out = v.clone();
  const int64_t d = v.size(0);
  for (int64_t j = 0; j < d / 2; ++j) {
    double ang = static_cast<double>(t) * std::pow(theta, -2.0 * j / static_cast<double>(d));
    double a = v[2 * j].item<double>(), b = v[2 * j + 1].item<double>();
    out[2 * j] = a * std::cos(ang) - b * std::sin(ang);
    out[2 * j + 1] = a * std::sin(ang) + b * std::cos(ang);
  }
  return out;
}

// Plain causal multi-head attention with explicit per-head, per-position softmax.
torch::Tensor mha_ref(MLA& m, const torch::Tensor& x, double theta, double eps) {
  const int64_t B = x.size(0), T = x.size(1), H = m->n_heads;
  const int64_t dn = m->dn, dr = m->dr, dv = m->dv, L = m->kv_lora_rank;
  torch::Tensor Wq = m->q_lora_rank == 0 ? m->wq->weight : torch::Tensor();
  auto out = torch::zeros({B, T, H * dv}, x.options());
  for (int64_t b = 0; b < B; ++b) {
    std::vector<torch::Tensor> Q(T), K(T), V(T);
    for (int64_t t = 0; t < T; ++t) {
      auto xt = x[b][t];
      auto q = m->q_lora_rank == 0
                   ? torch::mv(Wq, xt)
                   : torch::mv(m->wq_b->weight,
                               rmsnorm_ref(torch::mv(m->wq_a->weight, xt), m->q_norm->weight,
                                           eps));
      q = q.view({H, dn + dr});
      auto a = torch::mv(m->wkv_a->weight, xt);
      auto c = rmsnorm_ref(a.slice(0, 0, L), m->kv_norm->weight, eps);
      auto kpe = rope_ref(a.slice(0, L, L + dr), t, theta);
      auto kv = torch::mv(m->wkv_b->weight, c).view({H, dn + dv});
      std::vector<torch::Tensor> qh, kh;
      for (int64_t h = 0; h < H; ++h) {
        qh.push_back(torch::cat({q[h].slice(0, 0, dn), rope_ref(q[h].slice(0, dn, dn + dr), t,
                                                                theta)}));
        kh.push_back(torch::cat({kv[h].slice(0, 0, dn), kpe}));
      }
      Q[t] = torch::stack(qh);
      K[t] = torch::stack(kh);
      V[t] = kv.slice(1, dn, dn + dv);
    }
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t h = 0; h < H; ++h) {
        std::vector<double> s;
        double mx = -1e300;
        for (int64_t u = 0; u <= t; ++u) {
          s.push_back(torch::dot(Q[t][h], K[u][h]).item<double>() / std::sqrt(double(dn + dr)));
          mx = std::max(mx, s.back());
        }
        double z = 0;
        for (auto& e : s) z += (e = std::exp(e - mx));
        auto o = torch::zeros({dv}, x.options());
        for (int64_t u = 0; u <= t; ++u) o += (s[u] / z) * V[u][h];
        out[b][t].slice(0, h * dv, (h + 1) * dv).copy_(o);
      }
    }
  }
  return torch::nn::functional::linear(out, m->wo->weight);
}

}  // namespace

class TestMLA final : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() { torch::manual_seed(7); }

  void futureTokensNeverChangePast_data() {
    QTest::addColumn<bool>("fused");
    QTest::newRow("fused (SDPA where LibTorch has it)") << true;
    QTest::newRow("fallback") << false;
  }
  void futureTokensNeverChangePast() {
    QFETCH(bool, fused);
    auto cfg = r1::test::tiny_model();
    MLA m(cfg);
    m->use_fused = fused;
    m->to(torch::kFloat64);
    auto x = torch::randn({2, 9, cfg.dim}, torch::kFloat64);
    auto rope = r1::model::make_rope(9, cfg.qk_rope_head_dim, cfg.rope_theta, torch::kCPU,
                                         torch::kFloat64);
    auto y = m(x, rope);
    auto x2 = x.clone();
    x2.slice(1, 5) = torch::randn({2, 4, cfg.dim}, torch::kFloat64) * 3;
    auto y2 = m(x2, rope);
    QVERIFY(torch::allclose(y.slice(1, 0, 5), y2.slice(1, 0, 5), 0, 1e-12));
    QVERIFY(!torch::allclose(y.slice(1, 5), y2.slice(1, 5), 0, 1e-3));  // future did change
  }

  void equalsPlainMultiHeadAttention_data() {
    QTest::addColumn<qint64>("qLoraRank");
    QTest::addColumn<bool>("fused");
    QTest::newRow("full-rank query, fallback") << qint64(0) << false;
    QTest::newRow("full-rank query, fused") << qint64(0) << true;
    QTest::newRow("low-rank query") << qint64(12) << false;
  }
  void equalsPlainMultiHeadAttention() {
    QFETCH(qint64, qLoraRank);
    QFETCH(bool, fused);
    auto cfg = r1::test::tiny_model();
    cfg.q_lora_rank = qLoraRank;
    cfg.kv_lora_rank = cfg.n_heads * (cfg.qk_nope_head_dim + cfg.v_head_dim);  // full rank
    MLA m(cfg);
    m->use_fused = fused;
    m->to(torch::kFloat64);
    {
      torch::NoGradGuard ng;  // non-trivial norm weights so they are exercised too
      m->kv_norm->weight.uniform_(0.5, 1.5);
      if (qLoraRank) m->q_norm->weight.uniform_(0.5, 1.5);
    }
    auto x = torch::randn({2, 7, cfg.dim}, torch::kFloat64);
    auto rope = r1::model::make_rope(7, cfg.qk_rope_head_dim, cfg.rope_theta, torch::kCPU,
                                         torch::kFloat64);
    torch::NoGradGuard ng;
    auto y = m(x, rope);
    auto ref = mha_ref(m, x, cfg.rope_theta, cfg.norm_eps);
    QVERIFY2(torch::allclose(y, ref, 1e-9, 1e-10),
             qPrintable(QString::number((y - ref).abs().max().item<double>())));
  }
};

QTEST_GUILESS_MAIN(TestMLA)
#include "test_mla.moc"
