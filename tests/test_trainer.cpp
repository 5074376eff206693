// The trainer end to end on CPU: memorization, bit-exact resume, skipped non-finite steps,
// the loss scaler, stop at a step boundary, and corrupt or mismatched checkpoints.
#include "engine/events/event.h"
#include "engine/events/sink.h"
#include "engine/train/checkpoint.h"
#include "engine/train/loss_scaler.h"
#include "engine/train/trainer.h"

#include <QtTest/QtTest>

#include <fstream>
#include <mutex>
#include <random>

using namespace r1;

namespace {

// Collects events in memory.
struct Recorder final : events::EventSink {
  std::mutex mu;
  std::vector<events::Event> all;
  void emit(const events::Event& e) override {
    std::lock_guard<std::mutex> l(mu);
    all.push_back(e);
  }
  template <class T>
  std::vector<T> of() {
    std::vector<T> out;
    for (const auto& e : all)
      if (auto* p = std::get_if<T>(&e.payload)) out.push_back(*p);
    return out;
  }
};

// A small text: pseudo-random sentences from a fixed vocabulary (about 1.5 KB).
std::string small_text() {
  const char* words[] = {"the", "model", "learns", "a", "small", "text", "by", "heart", "and",
                         "every", "token", "of", "it", "comes", "back", "again", "latent",
                         "attention", "experts", "route", "tokens", "to", "their", "place"};
  std::mt19937 rng(42);
  std::string s;
  for (int sent = 0; sent < 24; ++sent) {
    int n = 5 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) s += std::string(i ? " " : "") + words[rng() % 24];
    s += ".\n";
  }
  return s;
}

QString tmp_root() {
  QDir().mkpath(QStringLiteral(R1_TEST_TMP));
  return QStringLiteral(R1_TEST_TMP);
}

Config base_config(const QString& dir, const std::string& name) {
  const std::string corpus = (dir + QStringLiteral("/corpus.txt")).toStdString();
  if (!QFile::exists(QString::fromStdString(corpus))) std::ofstream(corpus) << small_text();
  Config c = default_config({"model.vocab_size=320", "data.seq_len=32", "data.batch_size=8",
                             "train.warmup_steps=5", "train.lr=3e-3", "train.lr_embed=3e-3",
                             "train.threads=1", "eval.every=0", "eval.batches=2",
                             "data.val_fraction=0.1", "model.balance_loss_alpha=0.001"});
  c.data.paths = {corpus};
  c.data.cache_dir = (dir + QStringLiteral("/cache")).toStdString();
  c.run.dir = (dir + QStringLiteral("/runs")).toStdString();
  c.run.name = name;
  return c;
}

std::vector<double> losses(Recorder& r) {
  std::vector<double> out;
  for (const auto& s : r.of<events::Step>()) out.push_back(s.loss);
  return out;
}

}  // namespace

class TestTrainer final : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void memorizesSmallText() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/memXXXXXX"));
    Config c = base_config(dir.path(), "mem");
    c.train.steps = 400;
    c.train.min_lr_ratio = 0.3;
    c.data.val_fraction = 0.0;
    auto rec = std::make_shared<Recorder>();
    train::Trainer t(c, rec);
    QCOMPARE(t.run(), events::FinishStatus::Completed);
    auto steps = rec->of<events::Step>();
    QCOMPARE(steps.size(), size_t(400));
    const double first = *steps.front().loss_main, last = *steps.back().loss_main;
    qInfo("main loss %.4f -> %.4f (total %.4f)", first, last, steps.back().loss);
    QVERIFY(first > 4.0);  // starts near ln(vocab)
    QVERIFY2(last < 0.1, qPrintable(QString::number(last)));
  }

  void resumeIsBitExact() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/resXXXXXX"));
    Config c = base_config(dir.path(), "full");
    c.train.steps = 12;
    c.eval.every = 4;
    auto full = std::make_shared<Recorder>();
    train::Trainer a(c, full);
    QCOMPARE(a.run(), events::FinishStatus::Completed);

    Config h = c;
    h.run.name = "halves";
    h.train.steps = 12;
    int64_t stop_at = 6;
    auto first = std::make_shared<Recorder>();
    train::TrainerHooks hooks;
    train::Trainer* self = nullptr;
    hooks.stop_requested = [&] { return self && self->step() >= stop_at; };
    train::Trainer b1(h, first, hooks);
    self = &b1;
    QCOMPARE(b1.run(), events::FinishStatus::Stopped);
    QCOMPARE(b1.step(), int64_t(6));

    h.checkpoint.resume = "latest";
    auto second = std::make_shared<Recorder>();
    train::Trainer b2(h, second);
    auto st2 = b2.run();
    for (const auto& e : second->of<events::Error>()) qWarning("%s", e.message.c_str());
    QCOMPARE(st2, events::FinishStatus::Completed);
    QCOMPARE(*second->of<events::RunStart>().at(0).resumed_from_step, int64_t(6));

    auto la = losses(*full), l1 = losses(*first), l2 = losses(*second);
    QCOMPARE(l1.size() + l2.size(), la.size());
    std::vector<double> joined = l1;
    joined.insert(joined.end(), l2.begin(), l2.end());
    for (size_t i = 0; i < la.size(); ++i) {
      if (joined[i] != la[i]) qWarning("step %zu: %.17g vs %.17g", i + 1, joined[i], la[i]);
      QCOMPARE(joined[i], la[i]);  // bit for bit
    }
    auto pa = a.model()->parameters(), pb = b2.model()->parameters();
    for (size_t i = 0; i < pa.size(); ++i) QVERIFY(torch::equal(pa[i], pb[i]));
    auto ea = full->of<events::Eval>(), eb = second->of<events::Eval>();
    QVERIFY(!ea.empty() && !eb.empty());
    QCOMPARE(ea.back().loss, eb.back().loss);
  }

  void nonFiniteGradientSkipsStep() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/nanXXXXXX"));
    Config c = base_config(dir.path(), "nan");
    c.train.steps = 10;
    train::TrainerHooks hooks;
    hooks.after_backward = [](int64_t step, model::R1Model& m) {
      if (step == 2) m->blocks[1]->named_parameters()["attn.wo.weight"].grad()[0][0] = NAN;
      if (step == 3) m->embed->weight.grad()[1][1] = INFINITY;
    };
    train::Trainer t(c, std::make_shared<events::NullSink>(), hooks);
    t.setup();
    t.train_step();
    t.train_step();
    std::vector<torch::Tensor> before;
    for (auto& p : t.model()->parameters()) before.push_back(p.detach().clone());
    QVERIFY(t.train_step().skipped);  // NaN
    QVERIFY(t.train_step().skipped);  // inf
    auto after = t.model()->parameters();
    for (size_t i = 0; i < before.size(); ++i) QVERIFY(torch::equal(before[i], after[i]));
    QCOMPARE(t.scaler().skipped(), int64_t(2));
    QVERIFY(!t.train_step().skipped);
    QVERIFY(!torch::equal(before[0], t.model()->parameters()[0]));
  }

  void lossScalerDynamics() {
    train::LossScaler s(true, 1024.0, 3);
    auto p = torch::zeros({4}, torch::requires_grad());
    auto set_grad = [&](std::vector<float> g) { p.mutable_grad() = torch::tensor(g); };
    QCOMPARE(s.scale_loss(torch::tensor(2.0)).item<double>(), 2048.0);
    set_grad({1024.f, 2048.f, -512.f, 0.f});
    QVERIFY(s.unscale_and_check({p}));
    QVERIFY(torch::equal(p.grad(), torch::tensor({1.f, 2.f, -0.5f, 0.f})));  // unscaled
    QVERIFY(!s.update(true));
    set_grad({1.f, NAN, 0.f, 0.f});
    QVERIFY(!s.unscale_and_check({p}));
    QVERIFY(s.update(false));  // skip
    QCOMPARE(s.scale(), 512.0);
    set_grad({1.f, 0.f, INFINITY, 0.f});
    QVERIFY(!s.unscale_and_check({p}));
    QVERIFY(s.update(false));
    QCOMPARE(s.scale(), 256.0);
    QCOMPARE(s.skipped(), int64_t(2));
    for (int i = 0; i < 3; ++i) {
      set_grad({1.f, 1.f, 1.f, 1.f});
      QVERIFY(s.unscale_and_check({p}));
      QVERIFY(!s.update(true));
    }
    QCOMPARE(s.scale(), 512.0);  // doubled after 3 clean steps
    train::LossScaler r;
    r.load_state(s.state());
    QCOMPARE(r.skipped(), int64_t(2));
  }

  void corruptCheckpointsAreRejected_data() {
    QTest::addColumn<QString>("damage");
    QTest::addColumn<QString>("expected");
    QTest::newRow("flipped byte") << "flip" << "checksum mismatch";
    QTest::newRow("truncated") << "truncate" << "truncated";
    QTest::newRow("not a checkpoint") << "text" << "bad magic";
    QTest::newRow("empty") << "empty" << "bad magic";
    QTest::newRow("other model") << "othermodel" << "does not match this model";
  }
  void corruptCheckpointsAreRejected() {
    QFETCH(QString, damage);
    QFETCH(QString, expected);
    QTemporaryDir dir(tmp_root() + QStringLiteral("/ckXXXXXX"));
    Config c = base_config(dir.path(), "ck");
    c.train.steps = 2;
    if (damage == QStringLiteral("othermodel")) c.model.n_heads = 2;
    train::Trainer t(c, std::make_shared<events::NullSink>());
    QCOMPARE(t.run(), events::FinishStatus::Completed);
    const std::string good = t.run_dir() + "/checkpoints/" + train::checkpoint_name(2);
    const std::string bad = t.run_dir() + "/checkpoints/" + train::checkpoint_name(3);
    QVERIFY(QFile::copy(QString::fromStdString(good), QString::fromStdString(bad)));
    {
      QFile f(QString::fromStdString(bad));
      QVERIFY(f.open(QIODevice::ReadWrite));
      QByteArray bytes = f.readAll();
      if (damage == QStringLiteral("flip")) bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0x40);
      if (damage == QStringLiteral("truncate")) bytes.chop(100);
      if (damage == QStringLiteral("text")) bytes = "[model]\ndim = 3\n";
      if (damage == QStringLiteral("empty")) bytes.clear();
      if (damage != QStringLiteral("othermodel")) {
        f.resize(0);
        f.seek(0);
        f.write(bytes);
      }
    }
    // Resume a default-shaped model from it: a failed run with the reason, nothing crashes,
    // and the good checkpoint is untouched.
    Config r = base_config(dir.path(), "ck");
    r.train.steps = 4;
    r.checkpoint.resume = bad;
    auto rec = std::make_shared<Recorder>();
    train::Trainer t2(r, rec);
    QCOMPARE(t2.run(), events::FinishStatus::Failed);
    auto errs = rec->of<events::Error>();
    QCOMPARE(errs.size(), size_t(1));
    QString msg = QString::fromStdString(errs[0].message);
    QVERIFY2(msg.contains(expected), qPrintable(msg));
    QVERIFY(msg.contains(QString::fromStdString(bad)));
    QCOMPARE(QString::fromStdString(errs[0].cause), QStringLiteral("checkpoint"));
    QCOMPARE(rec->of<events::Finish>().at(0).status, events::FinishStatus::Failed);
    if (damage != QStringLiteral("othermodel")) {
      auto meta = train::load_checkpoint(good, nullptr, nullptr);
      QCOMPARE(meta.step, int64_t(2));
    }
  }

  void missingCorpusFailsClearly() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/miXXXXXX"));
    Config c = base_config(dir.path(), "mi");
    c.data.paths = {"/nonexistent/corpus-folder"};
    auto rec = std::make_shared<Recorder>();
    train::Trainer t(c, rec);
    QCOMPARE(t.run(), events::FinishStatus::Failed);
    auto errs = rec->of<events::Error>();
    QCOMPARE(errs.size(), size_t(1));
    QVERIFY(QString::fromStdString(errs[0].message).contains(QStringLiteral("/nonexistent/corpus-folder")));
    QCOMPARE(QString::fromStdString(errs[0].cause), QStringLiteral("data"));
  }

  void bf16AutocastTrains() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/bfXXXXXX"));
    Config c = base_config(dir.path(), "bf16");
    c.train.precision = "bf16";
    c.train.steps = 40;
    c.train.cuda_graph = true;  // on the CPU: ignored, with a warning that says why
    auto rec = std::make_shared<Recorder>();
    train::Trainer t(c, rec);
    QCOMPARE(t.run(), events::FinishStatus::Completed);
    bool warned = false;
    for (const auto& l : rec->of<events::Log>())
      warned = warned || (l.level == events::LogLevel::Warn &&
                          l.text.find("train.cuda_graph is on but not used") != std::string::npos);
    QVERIFY(warned);
    auto steps = rec->of<events::Step>();
    QCOMPARE(steps.size(), size_t(40));
    QCOMPARE(steps.back().skipped, int64_t(0));
    QVERIFY(std::isfinite(steps.back().loss));
    QVERIFY2(*steps.back().loss_main < *steps.front().loss_main - 1.0,
             qPrintable(QString::number(*steps.back().loss_main)));
  }

  void gradientAccumulationEqualsOneBigBatch() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/gaXXXXXX"));
    Config c = base_config(dir.path(), "ga");
    c.train.grad_accum = 2;
    c.data.batch_size = 4;
    c.train.label_smoothing = 0.1;
    bool checked = false;
    train::TrainerHooks hooks;
    train::Trainer* self = nullptr;
    hooks.after_backward = [&](int64_t step, model::R1Model& m) {
      // Accumulated gradients of 2 micro-batches of 4 == gradients of the 8 rows at once.
      std::vector<torch::Tensor> acc;
      for (auto& p : m->parameters()) acc.push_back(p.grad().clone());
      const int64_t window = c.data.seq_len + c.model.mtp_depth + 1;
      train::BatchSampler sampler(&self->data().tokens, 0, self->data().train_tokens, window,
                                  static_cast<uint64_t>(c.train.seed));
      auto big = torch::cat({sampler.train_batch(step, 0, 4), sampler.train_batch(step, 1, 4)});
      for (auto& p : m->parameters()) p.mutable_grad().zero_();
      m(big, c.train.label_smoothing).loss.backward();
      auto params = m->parameters();
      for (size_t i = 0; i < params.size(); ++i) {
        QVERIFY2(torch::allclose(acc[i], params[i].grad(), 1e-4, 1e-7),
                 qPrintable(QString::number((acc[i] - params[i].grad()).abs().max().item<double>())));
        params[i].mutable_grad().copy_(acc[i]);
      }
      checked = true;
    };
    train::Trainer t(c, std::make_shared<events::NullSink>(), hooks);
    self = &t;
    t.setup();
    t.train_step();
    QVERIFY(checked);
  }

  void keepsLastNCheckpoints() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/klXXXXXX"));
    Config c = base_config(dir.path(), "kl");
    c.train.steps = 7;
    c.checkpoint.every = 2;
    c.checkpoint.keep_last = 2;
    train::Trainer t(c, std::make_shared<events::NullSink>());
    QCOMPARE(t.run(), events::FinishStatus::Completed);
    auto all = train::list_checkpoints(t.run_dir() + "/checkpoints");
    QCOMPARE(all.size(), size_t(2));  // steps 6 and 7 (the final one); 2 and 4 pruned
    QVERIFY(QString::fromStdString(all[0]).endsWith(QStringLiteral("ckpt-00000006.r1ckpt")));
    QVERIFY(QString::fromStdString(all[1]).endsWith(QStringLiteral("ckpt-00000007.r1ckpt")));
    QDir d(QString::fromStdString(t.run_dir() + "/checkpoints"));
    QVERIFY(d.entryList({QStringLiteral("*.tmp")}, QDir::Files).isEmpty());
  }

  void layeredLearningRates() {
    QTemporaryDir dir(tmp_root() + QStringLiteral("/lrXXXXXX"));
    Config c = base_config(dir.path(), "lr");
    c.train.lr = 1e-4;
    c.train.lr_embed = 1e-3;
    c.train.warmup_steps = 0;
    c.train.schedule = "constant";
    c.train.weight_decay = 0.5;
    train::Trainer t(c, std::make_shared<events::NullSink>());
    t.setup();
    t.train_step();
    // AdamW's first step moves every weight by about lr (sign of the gradient), plus decay.
    auto emb = t.model()->embed->weight.detach().clone();
    auto wo = t.model()->blocks[0]->named_parameters()["attn.wo.weight"].detach().clone();
    auto norm = t.model()->norm->weight.detach().clone();
    t.train_step();
    double d_emb = (t.model()->embed->weight - emb).abs().max().item<double>();
    double d_wo = (t.model()->blocks[0]->named_parameters()["attn.wo.weight"] - wo).abs().max()
                      .item<double>();
    QVERIFY2(d_emb > 3e-4 && d_emb < 3e-3, qPrintable(QString::number(d_emb)));
    QVERIFY2(d_wo > 3e-5 && d_wo < 3e-4, qPrintable(QString::number(d_wo)));
    // Norm weights get no decay: with a zero gradient they would stay exactly put.
    QVERIFY((t.model()->norm->weight - norm).abs().max().item<double>() < 3e-4);
  }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "test_trainer.moc"
