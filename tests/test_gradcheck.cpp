// Double-precision finite-difference gradient check of the whole training loss of a tiny
// r1-nano-style model (MLA, dense + MoE blocks, MTP, tied/untied head, label smoothing, the
// sequence-wise balance loss): autograd against central differences, a few elements of every
// named parameter.
#include "engine/model/r1_model.h"
#include "model_test_util.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

using r1::model::R1Model;

namespace {

struct Check {
  std::string param;
  int64_t element = 0;
  double autograd = 0, numeric = 0, eps = 0;
  bool routing_changed = false;
};

std::vector<std::vector<int64_t>> routing_counts(R1Model& m) {
  std::vector<std::vector<int64_t>> out;
  for (auto& moe : m->moe_layers()) {
    auto c = moe->last_counts.contiguous();
    out.emplace_back(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
  }
  return out;
}

}  // namespace

class TestGradcheck final : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init() { torch::manual_seed(5); }

  void lossGradientMatchesFiniteDifferences_data() {
    QTest::addColumn<bool>("tie");
    QTest::addColumn<qint64>("qLoraRank");
    QTest::newRow("tied head, low-rank query") << true << qint64(12);
    QTest::newRow("untied head") << false << qint64(12);
    QTest::newRow("full-rank query (q_lora_rank 0)") << true << qint64(0);
  }
  void lossGradientMatchesFiniteDifferences() {
    QFETCH(bool, tie);
    QFETCH(qint64, qLoraRank);
    auto cfg = r1::test::tiny_model();
    cfg.balance_loss_alpha = 0.01;
    cfg.tie_embeddings = tie;
    cfg.q_lora_rank = qLoraRank;
    const double smoothing = 0.1;
    R1Model m(cfg);
    m->to(torch::kFloat64);
    m->train();
    QVERIFY(m->moe_layers().size() == 1);
    QCOMPARE(m->head.is_empty(), tie);

    const int64_t B = 2, T = 6;
    auto tokens = torch::randint(0, cfg.vocab_size, {B, T + cfg.mtp_depth + 1}, torch::kInt64);

    m->zero_grad();
    auto parts = m(tokens, smoothing);
    QVERIFY(parts.mtp.defined());
    QVERIFY(parts.balance.defined());
    parts.loss.backward();
    auto base_routing = routing_counts(m);

    auto f = [&]() {
      torch::NoGradGuard ng;
      return m(tokens, smoothing).loss.item<double>();
    };
    const double f0 = f();
    QVERIFY(std::abs(f0 - parts.loss.item<double>()) < 1e-13);

    // Central difference of one element; flags a changed expert count (a flipped top-k).
    auto central = [&](torch::Tensor& data, int64_t j, double eps, bool* flipped) {
      auto flat = data.view({-1});
      const double orig = flat[j].item<double>();
      flat[j] = orig + eps;
      const double fp = f();
      const bool fp_flip = routing_counts(m) != base_routing;
      flat[j] = orig - eps;
      const double fm = f();
      const bool fm_flip = routing_counts(m) != base_routing;
      flat[j] = orig;
      *flipped = fp_flip || fm_flip;
      return (fp - fm) / (2 * eps);
    };
    auto ok = [](double a, double n) { return std::abs(a - n) <= 1e-6 + 1e-5 * std::abs(n); };

    std::mt19937_64 rng(20240501 + (tie ? 1 : 0) + qLoraRank);
    std::vector<Check> failures;
    int64_t checked = 0, params = 0, nonzero = 0, retried = 0;
    double worst_rel = 0, worst_ratio = 0;
    std::string worst_name;
    int64_t worst_el = -1;
    for (auto& np : m->named_parameters()) {
      ++params;
      auto data = np.value().data();
      QVERIFY(data.is_contiguous());
      auto grad = np.value().grad();
      if (!grad.defined()) grad = torch::zeros_like(data);  // e.g. an expert no token chose
      auto gflat = grad.reshape({-1});
      const int64_t numel = data.numel();
      std::vector<int64_t> picks(numel);
      for (int64_t i = 0; i < numel; ++i) picks[i] = i;
      std::shuffle(picks.begin(), picks.end(), rng);
      picks.resize(std::min<int64_t>(numel, 4));
      for (auto j : picks) {
        const double a = gflat[j].item<double>();
        double eps = 1e-6;
        bool flipped = false;
        double n = central(data, j, eps, &flipped);
        // A top-k flip inside [θ-ε, θ+ε] makes the difference quotient meaningless: retry with
        // smaller steps before counting it against the gradient.
        if (!ok(a, n) || flipped) ++retried;
        while ((!ok(a, n) || flipped) && eps > 1e-8) {
          eps /= 10;
          n = central(data, j, eps, &flipped);
        }
        ++checked;
        nonzero += a != 0;
        const double rel = std::abs(a - n) / std::max(std::abs(n), 1e-12);
        const double ratio = std::abs(a - n) / (1e-6 + 1e-5 * std::abs(n));
        if (ratio > worst_ratio) {
          worst_ratio = ratio;
          worst_name = np.key();
          worst_el = j;
        }
        if (std::abs(n) > 1e-8) worst_rel = std::max(worst_rel, rel);
        if (!ok(a, n) || flipped) failures.push_back({np.key(), j, a, n, eps, flipped});
      }
    }
    qDebug("%lld elements of %lld parameters checked (%lld with a nonzero gradient); worst "
           "relative error %.3g (over |numeric| > 1e-8); worst |a-n|/(1e-6+1e-5|n|) %.3g at "
           "%s[%lld]; %lld re-checked with a smaller eps",
           (long long)checked, (long long)params, (long long)nonzero, worst_rel, worst_ratio,
           worst_name.c_str(), (long long)worst_el, (long long)retried);
    QString msg;
    for (auto& c : failures)
      msg += QString("\n  %1[%2]: autograd %3, numeric %4 (eps %5%6)")
                 .arg(QString::fromStdString(c.param))
                 .arg(c.element)
                 .arg(c.autograd, 0, 'g', 10)
                 .arg(c.numeric, 0, 'g', 10)
                 .arg(c.eps)
                 .arg(c.routing_changed ? ", routing changed" : "");
    QVERIFY2(failures.empty(), qPrintable(QString("%1 of %2 elements differ:").arg(failures.size())
                                              .arg(checked) + msg));
    QVERIFY(nonzero * 2 > checked);  // the check is not vacuous
  }
};

QTEST_GUILESS_MAIN(TestGradcheck)
#include "test_gradcheck.moc"
