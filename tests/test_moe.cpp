// DeepSeekMoE: routing (biased choice, unbiased weights, group limit), equality with a dense
// reference that runs every expert on every token, shared experts, auxiliary-loss-free bias
// balancing and the sequence-wise balance loss. Every expected value is computed here.
#include "engine/model/moe.h"
#include "engine/model/r1_model.h"
#include "model_test_util.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <utility>
#include <vector>

using r1::model::Gate;
using r1::model::MoE;
using r1::model::SwiGLUImpl;

namespace {

const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

using Rows = std::vector<std::vector<int64_t>>;

r1::ModelConfig moe_cfg(int64_t experts, int64_t topk, int64_t groups, int64_t limited) {
  auto c = r1::test::tiny_model();
  c.n_routed_experts = experts;
  c.n_activated_experts = topk;
  c.n_expert_groups = groups;
  c.n_limited_groups = limited;
  c.init_std = 0.3;
  return c;
}

// sigmoid(x Wᵀ) written out: 1 / (1 + exp(-x Wᵀ)).
torch::Tensor scores_ref(const torch::Tensor& x, const torch::Tensor& W) {
  return 1.0 / (1.0 + torch::exp(-torch::matmul(x, W.t())));
}

// w2 (silu(w1 x) * w3 x) from the raw weight matrices, silu(a) = a * sigmoid(a).
torch::Tensor swiglu_ref(SwiGLUImpl& e, const torch::Tensor& x) {
  auto a = torch::matmul(x, e.w1->weight.t());
  auto b = torch::matmul(x, e.w3->weight.t());
  auto h = a / (1.0 + torch::exp(-a)) * b;
  return torch::matmul(h, e.w2->weight.t());
}

// Brute-force routing with scalar loops. biased: [N, E] double. Returns each token's chosen
// experts in ascending order. Groups: score = sum of the group's top-2 biased scores (its max
// when a group holds one expert); every subset of `limited` groups is tried and the one with
// the largest total kept; top-k is then taken among the experts of the kept groups only.
Rows route_ref(const torch::Tensor& biased, int64_t k, int64_t groups, int64_t limited) {
  auto b = biased.contiguous();
  const int64_t N = b.size(0), E = b.size(1), per = E / groups;
  auto acc = b.accessor<double, 2>();
  Rows out(N);
  for (int64_t n = 0; n < N; ++n) {
    std::vector<int64_t> cand;
    if (groups > 1) {
      std::vector<double> gs(groups);
      for (int64_t g = 0; g < groups; ++g) {
        std::vector<double> v;
        for (int64_t j = 0; j < per; ++j) v.push_back(acc[n][g * per + j]);
        std::sort(v.begin(), v.end(), std::greater<double>());
        gs[g] = per >= 2 ? v[0] + v[1] : v[0];
      }
      double best = -1e300;
      uint64_t best_mask = 0;
      for (uint64_t mask = 0; mask < (uint64_t(1) << groups); ++mask) {
        if (__builtin_popcountll(mask) != limited) continue;
        double s = 0;
        for (int64_t g = 0; g < groups; ++g)
          if (mask >> g & 1) s += gs[g];
        if (s > best) best = s, best_mask = mask;
      }
      for (int64_t g = 0; g < groups; ++g)
        if (best_mask >> g & 1)
          for (int64_t j = 0; j < per; ++j) cand.push_back(g * per + j);
    } else {
      cand.resize(E);
      std::iota(cand.begin(), cand.end(), 0);
    }
    std::sort(cand.begin(), cand.end(),
              [&](int64_t i, int64_t j) { return acc[n][i] > acc[n][j]; });
    cand.resize(k);
    std::sort(cand.begin(), cand.end());
    out[n] = cand;
  }
  return out;
}

// The code's [N, k] indices (and weights) as rows sorted by expert id.
Rows sorted_rows(const torch::Tensor& idx, std::vector<std::vector<double>>* w = nullptr,
                 const torch::Tensor& weights = {}) {
  Rows out(idx.size(0));
  for (int64_t n = 0; n < idx.size(0); ++n) {
    std::vector<std::pair<int64_t, double>> p;
    for (int64_t j = 0; j < idx.size(1); ++j)
      p.emplace_back(idx[n][j].item<int64_t>(), w ? weights[n][j].item<double>() : 0.0);
    std::sort(p.begin(), p.end());
    for (auto& [e, v] : p) out[n].push_back(e);
    if (w) {
      w->emplace_back();
      for (auto& [e, v] : p) w->back().push_back(v);
    }
  }
  return out;
}

// [N, E] matrix of gate weights: s_e / sum_{chosen} s * scale at the chosen experts, else 0.
torch::Tensor weight_matrix(const torch::Tensor& s, const Rows& chosen, double scale) {
  auto M = torch::zeros_like(s);
  for (size_t n = 0; n < chosen.size(); ++n) {
    torch::Tensor z = torch::zeros({}, s.options());
    for (auto e : chosen[n]) z = z + s[n][e];
    for (auto e : chosen[n]) M[n][e] = s[n][e] / z * scale;
  }
  return M;
}

std::vector<int64_t> bincount_ref(const Rows& chosen, int64_t E) {
  std::vector<int64_t> c(E, 0);
  for (auto& r : chosen)
    for (auto e : r) ++c[e];
  return c;
}

std::vector<int64_t> to_vec(const torch::Tensor& t) {
  auto c = t.to(torch::kInt64).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// "" when equal, else the first token whose chosen experts differ.
QString rows_diff(const Rows& got, const Rows& want) {
  if (got.size() != want.size()) return QString("%1 rows vs %2").arg(got.size()).arg(want.size());
  auto str = [](const std::vector<int64_t>& r) {
    QStringList l;
    for (auto e : r) l << QString::number(e);
    return l.join(',');
  };
  for (size_t n = 0; n < got.size(); ++n)
    if (got[n] != want[n])
      return QString("token %1: got {%2}, want {%3}").arg(n).arg(str(got[n]), str(want[n]));
  return {};
}
#define ROWS_EQUAL(got, want)                          \
  do {                                                 \
    const QString d_ = rows_diff((got), (want));       \
    QVERIFY2(d_.isEmpty(), qPrintable(d_));            \
  } while (false)

double imbalance(const torch::Tensor& counts) {
  auto c = counts.to(torch::kFloat64);
  return c.max().item<double>() / c.mean().item<double>();
}

QString maxdiff(const torch::Tensor& a, const torch::Tensor& b) {
  return QString::number((a - b).abs().max().item<double>(), 'g', 3);
}

}  // namespace

class TestMoE final : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() { torch::manual_seed(11); }

  void choiceUsesBiasedScoresWeightsUseUnbiased() {
    auto cfg = moe_cfg(4, 2, 1, 1);
    cfg.route_scale = 2.5;
    Gate g(cfg);
    g->to(torch::kFloat64);
    torch::NoGradGuard ng;
    auto x = torch::randn({64, cfg.dim}, kF64);
    auto s = scores_ref(x, g->weight);

    // Zero bias: the choice is the plain top-2 of the scores, and expert 3 is not always in it.
    auto r0 = g(x);
    auto ref0 = route_ref(s, 2, 1, 1);
    ROWS_EQUAL(sorted_rows(r0.indices), ref0);
    int64_t without3 = 0;
    for (auto& r : ref0) without3 += std::count(r.begin(), r.end(), 3) == 0;
    QVERIFY2(without3 >= 8, qPrintable(QString::number(without3)));

    // +10 on expert 3: every token picks it, but its weight comes from the unbiased score.
    auto bias = torch::zeros({4}, kF64);
    bias[3] = 10.0;
    g->bias.copy_(bias);
    auto r = g(x);
    std::vector<std::vector<double>> w;
    auto got = sorted_rows(r.indices, &w, r.weights);
    auto ref = route_ref(s + bias, 2, 1, 1);
    ROWS_EQUAL(got, ref);
    int64_t changed = 0;
    for (size_t n = 0; n < ref.size(); ++n) {
      QVERIFY(std::count(got[n].begin(), got[n].end(), 3) == 1);
      changed += got[n] != ref0[n];
    }
    QCOMPARE(changed, without3);  // the bias, not the scores, drove those choices

    auto sacc = s.accessor<double, 2>();
    double worst = 0, worst_biased = 1e300;
    for (size_t n = 0; n < ref.size(); ++n) {
      double z = 0, zb = 0;
      for (auto e : ref[n]) z += sacc[n][e], zb += sacc[n][e] + (e == 3 ? 10.0 : 0.0);
      double sum = 0;
      for (size_t j = 0; j < ref[n].size(); ++j) {
        const int64_t e = ref[n][j];
        const double expect = sacc[n][e] / z * 2.5;
        const double biased = (sacc[n][e] + (e == 3 ? 10.0 : 0.0)) / zb * 2.5;
        worst = std::max(worst, std::abs(w[n][j] - expect));
        if (e == 3) worst_biased = std::min(worst_biased, std::abs(w[n][j] - biased));
        sum += w[n][j];
      }
      QVERIFY(std::abs(sum - 2.5) < 1e-12);
    }
    QVERIFY2(worst < 1e-12, qPrintable(QString::number(worst)));
    QVERIFY2(worst_biased > 0.1, qPrintable(QString::number(worst_biased)));
  }

  void everyPairComputedExactlyOnce_data() {
    QTest::addColumn<qint64>("experts");
    QTest::addColumn<qint64>("topk");
    QTest::addColumn<qint64>("groups");
    QTest::addColumn<qint64>("limited");
    QTest::newRow("top-1 of 4") << qint64(4) << qint64(1) << qint64(1) << qint64(1);
    QTest::newRow("top-2 of 4") << qint64(4) << qint64(2) << qint64(1) << qint64(1);
    QTest::newRow("top-3 of 4") << qint64(4) << qint64(3) << qint64(1) << qint64(1);
    QTest::newRow("top-2 of 8, 2 groups, 1 kept") << qint64(8) << qint64(2) << qint64(2)
                                                  << qint64(1);
  }
  void everyPairComputedExactlyOnce() {
    QFETCH(qint64, experts);
    QFETCH(qint64, topk);
    QFETCH(qint64, groups);
    QFETCH(qint64, limited);
    auto cfg = moe_cfg(experts, topk, groups, limited);
    cfg.route_scale = 1.7;
    MoE m(cfg);
    m->to(torch::kFloat64);
    torch::NoGradGuard ng;
    auto bias = torch::randn({experts}, kF64) * 0.1;
    m->gate->bias.copy_(bias);
    const int64_t B = 3, T = 11, N = B * T;
    auto x = torch::randn({B, T, cfg.dim}, kF64);
    auto y = m(x);
    QCOMPARE(y.sizes().vec(), x.sizes().vec());

    auto flat = x.reshape({N, cfg.dim});
    auto s = scores_ref(flat, m->gate->weight);
    auto chosen = route_ref(s + bias, topk, groups, limited);
    // The gate, called on its own, makes the same choice.
    ROWS_EQUAL(sorted_rows(m->gate(flat).indices), chosen);

    auto M = weight_matrix(s, chosen, 1.7);
    auto ref = torch::zeros({N, cfg.dim}, kF64);
    for (int64_t e = 0; e < experts; ++e)
      ref = ref + M.select(1, e).unsqueeze(1) * swiglu_ref(*m->experts[e]->as<SwiGLUImpl>(), flat);
    ref = ref + swiglu_ref(*m->shared, flat);
    auto yf = y.reshape({N, cfg.dim});
    QVERIFY2(torch::allclose(yf, ref, 1e-10, 1e-12), qPrintable(maxdiff(yf, ref)));

    auto counts = bincount_ref(chosen, experts);
    QCOMPARE(to_vec(m->last_counts), counts);
    QCOMPARE(std::accumulate(counts.begin(), counts.end(), int64_t(0)), N * topk);
    QCOMPARE(m->last_counts.sum().item<int64_t>(), N * topk);
  }

  void sharedExpertsAlways() {
    auto cfg = moe_cfg(4, 2, 1, 1);
    MoE m(cfg);
    m->to(torch::kFloat64);
    torch::NoGradGuard ng;
    for (int64_t e = 0; e < 4; ++e) m->experts[e]->as<SwiGLUImpl>()->w2->weight.zero_();
    auto x = torch::randn({2, 9, cfg.dim}, kF64);
    auto y = m(x);
    auto ref = swiglu_ref(*m->shared, x);
    QVERIFY(ref.abs().max().item<double>() > 1e-3);
    QVERIFY2(torch::allclose(y, ref, 1e-12, 1e-14), qPrintable(maxdiff(y, ref)));

    cfg.n_shared_experts = 0;
    MoE m0(cfg);
    m0->to(torch::kFloat64);
    QVERIFY(m0->shared.is_empty());
    for (int64_t e = 0; e < 4; ++e) m0->experts[e]->as<SwiGLUImpl>()->w2->weight.zero_();
    auto y0 = m0(x);
    QCOMPARE(y0.sizes().vec(), x.sizes().vec());
    QCOMPARE(y0.abs().max().item<double>(), 0.0);
  }

  void groupLimitedRouting() {
    auto cfg = moe_cfg(8, 4, 4, 2);
    MoE m(cfg);
    m->to(torch::kFloat64);
    torch::NoGradGuard ng;
    auto bias = torch::randn({8}, kF64) * 0.1;
    m->gate->bias.copy_(bias);
    const int64_t N = 200;
    auto x = torch::randn({N, cfg.dim}, kF64);
    auto r = m->gate(x);
    auto got = sorted_rows(r.indices);
    auto s = scores_ref(x, m->gate->weight);
    auto ref = route_ref(s + bias, 4, 4, 2);
    ROWS_EQUAL(got, ref);
    auto free = route_ref(s + bias, 4, 1, 1);  // no group limit
    int64_t differs = 0;
    for (int64_t n = 0; n < N; ++n) {
      std::set<int64_t> gs;
      for (auto e : got[n]) gs.insert(e / 2);
      QVERIFY2(gs.size() <= 2, qPrintable(QString("token %1 uses %2 groups").arg(n).arg(gs.size())));
      differs += free[n] != got[n];
    }
    QVERIFY2(differs >= 10, qPrintable(QString::number(differs)));  // the limit mattered

    // Through the MoE too: its counts equal the reference routing's.
    m(x.view({4, 50, cfg.dim}));
    QCOMPARE(to_vec(m->last_counts), bincount_ref(ref, 8));
  }

  void biasMovesLoadTowardBalance() {
    auto cfg = moe_cfg(4, 2, 1, 1);
    MoE m(cfg);
    m->to(torch::kFloat64);
    torch::NoGradGuard ng;
    const int64_t B = 8, T = 32, D = cfg.dim;
    auto u = torch::randn({D}, kF64);
    u = u / u.norm();
    // Rows 0 and 1 share a strong component along u, and every token leans along u.
    auto W = torch::randn({4, D}, kF64) * 0.3;
    W[0] += 1.5 * u;
    W[1] += 1.5 * u;
    m->gate->weight.copy_(W);
    auto x = 2.0 * u + torch::randn({B, T, D}, kF64) * 0.5;
    auto x2 = 2.0 * u + torch::randn({B, T, D}, kF64) * 0.5;
    QVERIFY(m->load.sum().item<double>() == 0.0);

    // update_bias: the fractions of the counts accumulated over two forwards; the bias moves
    // by gamma * sign(mean - load); the accumulator is cleared.
    auto c1 = bincount_ref(route_ref(scores_ref(x.view({-1, D}), W), 2, 1, 1), 4);
    auto c2 = bincount_ref(route_ref(scores_ref(x2.view({-1, D}), W), 2, 1, 1), 4);
    m(x);
    const double initial = imbalance(m->last_counts);
    m(x2);
    auto frac = m->update_bias(0.01);
    QCOMPARE(m->load.sum().item<double>(), 0.0);
    QVERIFY(std::abs(frac.sum().item<double>() - 1.0) < 1e-12);
    const double total = 2.0 * B * T * 2;
    const double mean = total / 4;
    for (int64_t e = 0; e < 4; ++e) {
      const double acc = double(c1[e] + c2[e]);
      QVERIFY(std::abs(frac[e].item<double>() - acc / total) < 1e-12);
      const double step = acc < mean ? 0.01 : acc > mean ? -0.01 : 0.0;
      QVERIFY(std::abs(m->gate->bias[e].item<double>() - step) < 1e-12);
    }
    QVERIFY2(initial >= 1.8, qPrintable(QString::number(initial)));

    for (int i = 0; i < 300; ++i) {
      m(x);
      m->update_bias(0.01);
    }
    m(x);
    const double final_ = imbalance(m->last_counts);
    qDebug("max/mean load %.3f -> %.3f; bias %.2f %.2f %.2f %.2f", initial, final_,
           m->gate->bias[0].item<double>(), m->gate->bias[1].item<double>(),
           m->gate->bias[2].item<double>(), m->gate->bias[3].item<double>());
    QVERIFY2(final_ <= 1.25, qPrintable(QString::number(final_)));
    QVERIFY(m->gate->bias[0].item<double>() < 0 && m->gate->bias[1].item<double>() < 0);
    QVERIFY(m->gate->bias[2].item<double>() > 0 && m->gate->bias[3].item<double>() > 0);
  }

  void balanceLoss() {
    auto cfg = moe_cfg(4, 2, 1, 1);
    const double alpha = 0.05;
    cfg.balance_loss_alpha = alpha;
    MoE m(cfg);
    m->to(torch::kFloat64);
    m->train();
    auto bias = torch::randn({4}, kF64) * 0.1;
    {
      torch::NoGradGuard ng;
      m->gate->bias.copy_(bias);
    }
    const int64_t B = 3, T = 7, E = 4, k = 2, D = cfg.dim;
    auto x = torch::randn({B, T, D}, kF64);
    m(x);
    QVERIFY(m->balance_loss.defined());
    QCOMPARE(m->balance_loss.dim(), int64_t(0));

    // Reference, with autograd through the same gate weight.
    auto W = m->gate->weight;
    auto s = scores_ref(x.view({B * T, D}), W);
    auto chosen = route_ref(s.detach() + bias, k, 1, 1);
    torch::Tensor ref = torch::zeros({}, kF64);
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> count(E, 0.0);
      for (int64_t t = 0; t < T; ++t)
        for (auto e : chosen[b * T + t]) count[e] += 1;
      torch::Tensor seq = torch::zeros({}, kF64);
      for (int64_t i = 0; i < E; ++i) {
        const double f = double(E) / double(k * T) * count[i];
        torch::Tensor P = torch::zeros({}, kF64);
        for (int64_t t = 0; t < T; ++t) P = P + s[b * T + t][i] / s[b * T + t].sum();
        seq = seq + f * (P / double(T));
      }
      ref = ref + alpha * seq;
    }
    ref = ref / double(B);
    const double got = m->balance_loss.item<double>(), expect = ref.item<double>();
    QVERIFY2(std::abs(got - expect) < 1e-12 * std::max(1.0, std::abs(expect)),
             qPrintable(QString("%1 vs %2").arg(got, 0, 'g', 17).arg(expect, 0, 'g', 17)));

    auto gref = torch::autograd::grad({ref}, {W})[0];
    m->zero_grad();
    m->balance_loss.backward();
    auto gw = m->gate->weight.grad();
    QVERIFY(gw.defined());
    QVERIFY(gw.abs().max().item<double>() > 1e-6);
    QVERIFY2(torch::allclose(gw, gref, 1e-9, 1e-14), qPrintable(maxdiff(gw, gref)));

    m->eval();
    {
      torch::NoGradGuard ng;
      m(x);
    }
    QVERIFY(!m->balance_loss.defined());

    cfg.balance_loss_alpha = 0.0;
    MoE m0(cfg);
    m0->to(torch::kFloat64);
    m0->train();
    m0(x);
    QVERIFY(!m0->balance_loss.defined());
  }

  void modelLetsGoOfTheStepGraph() {
    // The whole model sums the layers' balance losses into its loss and drops the layers'
    // references: nothing of a step's autograd graph may outlive the step (a CUDA graph capture
    // on another stream fails on AccumulateGrad nodes kept alive from an eager step).
    auto cfg = r1::test::tiny_model();
    cfg.balance_loss_alpha = 0.01;
    cfg.n_layers = 3;
    cfg.dense_layers = 1;
    torch::manual_seed(4);
    r1::model::R1Model model(cfg);
    model->train();
    auto tokens = torch::randint(0, cfg.vocab_size, {2, 12 + cfg.mtp_depth + 1});
    auto parts = model->forward(tokens, 0.0);
    QVERIFY(parts.balance.defined());
    QVERIFY(parts.balance.requires_grad());
    const auto moes = model->moe_layers();
    QCOMPARE(moes.size(), size_t(2));
    for (const auto& moe : moes) QVERIFY(!moe->balance_loss.defined());
    // once the outputs are gone, nothing holds the graph
    std::weak_ptr<torch::autograd::Node> node = parts.loss.grad_fn();
    parts = {};
    QVERIFY(node.expired());
  }
};

QTEST_GUILESS_MAIN(TestMoE)
#include "test_moe.moc"
