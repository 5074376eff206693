// The nodule detector: the MultiScaleFusion block's shapes (odd sizes too) and gradients, peak
// decoding, box NMS and 3D merging on cases worked by hand, the heatmap targets against Gaussians
// computed by hand, the config's progressive resize schedule and error messages, then an end to
// end run: DetectTrainer overfits two small phantom scans on CPU (an untrained network finds
// nothing on them), the events show the resize, and a checkpoint loads back to the same outputs.
#include <QtTest/QtTest>

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/events/sink.h"
#include "engine/vision/detect_config.h"
#include "engine/vision/detect_data.h"
#include "engine/vision/detect_decode.h"
#include "engine/vision/detect_infer.h"
#include "engine/vision/detect_model.h"
#include "engine/vision/detect_targets.h"
#include "engine/vision/detect_trainer.h"
#include "engine/vision/phantom.h"

using namespace r1::vision;
namespace ev = r1::events;

namespace {

DetectConfig tiny_config(const std::string& root, const std::string& out) {
  DetectConfig c;
  c.data.root = root;
  c.data.val_scans = 0;  // evaluate on the training scans: an overfit test
  c.model.channels = {8, 16, 32, 64};
  c.model.fpn_channels = 32;
  c.model.groups = 4;
  c.train.steps = 200;
  c.train.batch_size = 4;
  c.train.lr = 3e-3;
  c.train.warmup_steps = 20;
  c.train.sizes = {64, 96};
  c.train.resize_at = {0.5};
  c.train.log_every = 10;
  c.train.eval_every = 0;
  c.train.checkpoint_every = 0;
  c.train.out_dir = out;
  c.train.run_name = "overfit";
  c.train.threads = 1;
  c.train.resume = false;
  c.augment.rotate_deg = 10;
  c.augment.crop_min = 0.7;
  c.decode.score_threshold = 0.1;
  return c;
}

}  // namespace

class TestDetect : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::set_num_threads(1);
    QDir().mkpath(QStringLiteral(R1_TEST_TMP));
  }

  void fusionShapesAndGradients_data() {
    QTest::addColumn<int>("h");
    QTest::addColumn<int>("w");
    QTest::newRow("13x17") << 13 << 17;
    QTest::newRow("1x1") << 1 << 1;
    QTest::newRow("32x32") << 32 << 32;
  }
  void fusionShapesAndGradients() {
    QFETCH(int, h);
    QFETCH(int, w);
    torch::manual_seed(0);
    MultiScaleFusion f(8, 16, std::vector<int64_t>{1, 6, 12}, std::string("group"), 4);
    auto x = torch::randn({2, 8, h, w});
    auto y = f->forward(x);
    QCOMPARE(y.sizes().vec(), (std::vector<int64_t>{2, 16, h, w}));
    (y * torch::randn_like(y)).sum().backward();
    auto grad_ok = [](const torch::Tensor& wt) {
      return wt.grad().defined() && wt.grad().abs().sum().item<double>() > 0;
    };
    // At 1x1 the 1x1, 3x3 and atrous branches (4 channels each, GroupNorm with 4 groups) hold
    // one value per group: normalised to 0, so they carry no signal and their convolutions no
    // gradient — in exact arithmetic. What LibTorch computes is rounding noise amplified by
    // 1/sqrt(eps): exactly 0 in 2.x, up to ~6e-3 in 1.13. So at 1x1 they must only stay finite;
    // every other size must train them.
    const bool one_value_per_group = h * w == 1;
    auto branch_ok = [&](const torch::Tensor& wt) {
      return one_value_per_group ? wt.grad().defined() && wt.grad().isfinite().all().item<bool>()
                                 : grad_ok(wt);
    };
    QVERIFY(branch_ok(f->b1->conv->weight));
    QVERIFY(branch_ok(f->b3->conv->weight));
    QCOMPARE(static_cast<int>(f->aspp->size()), 3);
    for (const auto& m : *f->aspp) QVERIFY(branch_ok(m->as<ConvNormActImpl>()->conv->weight));
    QVERIFY(grad_ok(f->pool_conv->weight));
    QVERIFY(grad_ok(f->aspp_project->conv->weight));
    QVERIFY(grad_ok(f->fuse->conv->weight));
  }

  void networkOutputsAtStride4() {
    DetectModelConfig mc;
    mc.channels = {8, 16, 32, 64};
    mc.fpn_channels = 32;
    mc.groups = 4;
    DetectorNet net(mc, 3);
    auto o = net->forward(torch::randn({2, 3, 37, 45}));
    // Four stride-2 convs with padding 1: ceil(37 / 4) = 10, ceil(45 / 4) = 12.
    QCOMPARE(o.heatmap.sizes().vec(), (std::vector<int64_t>{2, 1, 10, 12}));
    QCOMPARE(o.size.sizes().vec(), (std::vector<int64_t>{2, 1, 10, 12}));
    QCOMPARE(o.offset.sizes().vec(), (std::vector<int64_t>{2, 2, 10, 12}));
    // The prior: sigmoid(bias) = 0.01 at start, so the first focal loss is not huge.
    const double mean_p = torch::sigmoid(o.heatmap).mean().item<double>();
    QVERIFY2(mean_p > 0.005 && mean_p < 0.02, qPrintable(QString::number(mean_p)));
  }

  void decodePeaksByHand() {
    auto prob = torch::zeros({8, 8});
    auto ls = torch::zeros({8, 8});
    auto off = torch::zeros({2, 8, 8});
    prob[3][2] = 0.9;  // row y = 3, column x = 2
    prob[3][3] = 0.6;  // a neighbour of the 0.9: not a peak
    prob[6][6] = 0.7;
    prob[0][7] = 0.04;  // a peak below the threshold
    off[0][3][2] = 0.25;
    off[1][3][2] = 0.5;
    ls[3][2] = std::log(2.5);
    const auto peaks = decode_peaks(prob, ls, off, 4, 10, 0.05);
    QCOMPARE(int(peaks.size()), 2);
    // Centre ((2 + 0.25) 4, (3 + 0.5) 4) = (9, 14), side 2.5 x 4 = 10.
    QCOMPARE(peaks[0].score, double(0.9f));
    auto near = [](double a, double b) { return std::abs(a - b) < 1e-5; };  // float heads
    QVERIFY(near(peaks[0].box.x0, 4.0));
    QVERIFY(near(peaks[0].box.y0, 9.0));
    QVERIFY(near(peaks[0].box.x1, 14.0));
    QVERIFY(near(peaks[0].box.y1, 19.0));
    // Centre (24, 24), side exp(0) x 4 = 4.
    QCOMPARE(peaks[1].score, double(0.7f));
    QVERIFY(near(peaks[1].box.x0, 22.0));
    QVERIFY(near(peaks[1].box.y1, 26.0));
    QCOMPARE(decode_peaks(prob, ls, off, 4, 1, 0.05).size(), size_t(1));  // top_k
  }

  void nmsByHand() {
    // A, B: IoU 81 / (100 + 100 - 81) = 0.68; C apart; D, A: 25 / 100 = 0.25;
    // D, B: 16 / (25 + 100 - 16) = 0.147.
    const std::vector<Box2D> boxes = {
        {0, 0, 10, 10}, {1, 1, 11, 11}, {20, 20, 30, 30}, {0, 0, 5, 5}};
    const std::vector<double> scores = {0.8, 0.9, 0.7, 0.6};
    QCOMPARE(nms(boxes, scores, 0.5), (std::vector<size_t>{1, 2, 3}));
    QCOMPARE(nms(boxes, scores, 0.7), (std::vector<size_t>{1, 0, 2, 3}));
    QCOMPARE(nms(boxes, scores, 0.2), (std::vector<size_t>{1, 2, 3}));
    QCOMPARE(nms(boxes, scores, 0.1), (std::vector<size_t>{1, 2}));
  }

  void mergeSlicesByHand() {
    VolumeGeometry g;
    g.size = {200, 200, 40};
    g.spacing = {0.5, 0.5, 2.0};
    g.origin = {10, 20, 30};
    auto box = [](double cx, double cy, double side) {
      return Box2D{cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2};
    };
    // A nodule seen on slices 10, 11, 12 (pixel centre 50.5 = voxel 50), another on 11 at
    // voxel 100, a third on slice 20 at voxel 50 (8 slices away: apart), and one at 14 linked
    // to 12 over a one-slice gap (|14 - 12| = 2 <= 1 + gap) and 1.5 mm away (<= 0.5 x 5 mm).
    const std::vector<SliceDetection> d = {
        {10, box(50.5, 50.5, 10), 0.9}, {11, box(50.5, 50.5, 10), 0.6},
        {12, box(50.5, 50.5, 10), 0.3}, {11, box(100.5, 100.5, 10), 0.5},
        {20, box(50.5, 50.5, 10), 0.4}, {14, box(53.5, 50.5, 8), 0.2}};
    MergeOptions o;
    o.gap = 1;
    o.distance = 0.5;
    const auto c = merge_slices(d, g, o);
    QCOMPARE(int(c.size()), 3);
    // z = (10 0.9 + 11 0.6 + 12 0.3 + 14 0.2) / 2.0 = 22 / 2 = 11; x = (50 1.8 + 53 0.2) / 2 = 50.3
    QCOMPARE(c[0].score, 0.9);
    QCOMPARE(c[0].detections, 4);
    QVERIFY(std::abs(c[0].index.z - 11.0) < 1e-12);
    QVERIFY(std::abs(c[0].index.x - 50.3) < 1e-12);
    QVERIFY(std::abs(c[0].index.y - 50.0) < 1e-12);
    QVERIFY(std::abs(c[0].world.x - (10 + 0.5 * 50.3)) < 1e-9);
    QVERIFY(std::abs(c[0].world.z - (30 + 2.0 * 11)) < 1e-9);
    QCOMPARE(c[0].diameter_mm, 5.0);
    QCOMPARE(c[0].z_first, int64_t(10));
    QCOMPARE(c[0].z_last, int64_t(14));
    QCOMPARE(c[1].score, 0.5);
    QVERIFY(std::abs(c[1].world.y - (20 + 0.5 * 100)) < 1e-9);
    QCOMPARE(c[2].score, 0.4);
    QCOMPARE(c[2].z_first, int64_t(20));
    o.gap = 0;  // now 14 is two slices from 12: its own candidate
    QCOMPARE(int(merge_slices(d, g, o).size()), 4);
    o.max_candidates = 2;
    QCOMPARE(int(merge_slices(d, g, o).size()), 2);
  }

  void heatmapTargetsByHand() {
    DetectHeadConfig h;  // min_overlap 0.5, min_radius 1
    // d = 40 px / 4 = 10 cells: r = 10 (1 - sqrt(1 / 1.5)) = 1.835 -> 1; sigma = 3 / 6 = 0.5.
    QVERIFY(std::abs(gaussian_radius(10, 0.5) - 1.8350341907227) < 1e-9);
    // d = 160 px -> 40 cells: r = 7.34 -> 7; sigma = 15 / 6 = 2.5.
    std::vector<std::vector<Section>> objs = {{{10.0, 14.0, 40.0, false}},
                                              {{64.0, 64.0, 160.0, false}, {8, 8, 12, true}}};
    const auto t = make_targets(objs, 32, 32, 4, h);
    QCOMPARE(t.objects, int64_t(2));
    auto hm = t.heatmap.accessor<float, 4>();
    // Image 0: centre cell (floor(2.5), floor(3.5)) = (2, 3).
    QCOMPARE(hm[0][0][3][2], 1.0f);
    QVERIFY(std::abs(hm[0][0][3][3] - std::exp(-2.0)) < 1e-6);   // dx = 1: exp(-1 / 0.5)
    QVERIFY(std::abs(hm[0][0][4][3] - std::exp(-4.0)) < 1e-6);   // dx = dy = 1
    QCOMPARE(hm[0][0][3][4], 0.0f);                              // dx = 2 > radius
    QCOMPARE(t.heatmap[0].sum().item<float>(), float(1 + 4 * std::exp(-2.0) + 4 * std::exp(-4.0)));
    QCOMPARE(t.center[0][0][3][2].item<float>(), 1.0f);
    QVERIFY(std::abs(t.size[0][0][3][2].item<float>() - std::log(10.0)) < 1e-6);
    QCOMPARE(t.offset[0][0][3][2].item<float>(), 0.5f);
    QCOMPARE(t.offset[0][1][3][2].item<float>(), 0.5f);
    // Image 1: centre (16, 16); dx = 3: exp(-9 / 12.5); dx = 7 in, dx = 8 out.
    QVERIFY(std::abs(hm[1][0][16][19] - std::exp(-9 / 12.5)) < 1e-6);
    QVERIFY(std::abs(hm[1][0][16][23] - std::exp(-49 / 12.5)) < 1e-6);
    QCOMPARE(hm[1][0][16][24], 0.0f);
    // The ignored section (cell (2, 2), radius round(12 / 4 / 2) = 2): weight 0, no target.
    auto w = t.weight.accessor<float, 4>();
    QCOMPARE(w[1][0][2][2], 0.0f);
    QCOMPARE(w[1][0][0][4], 0.0f);
    QCOMPARE(w[1][0][0][5], 1.0f);
    QCOMPARE(hm[1][0][2][2], 0.0f);
    QCOMPARE(t.weight[0].sum().item<float>(), 32.0f * 32.0f);
  }

  void focalLossRewardsTheTarget() {
    DetectHeadConfig h;
    std::vector<std::vector<Section>> objs = {{{10.0, 14.0, 40.0, false}}};
    const auto t = make_targets(objs, 8, 8, 4, h);
    // Logits that say "centre" only at the target cell beat uniform ones, which beat inverted.
    auto good = torch::full({1, 1, 8, 8}, -6.0);
    good[0][0][3][2] = 6.0;
    auto flat = torch::full({1, 1, 8, 8}, -4.6);
    auto bad = torch::full({1, 1, 8, 8}, 6.0);
    bad[0][0][3][2] = -6.0;
    auto z1 = torch::zeros({1, 1, 8, 8}), z2 = torch::zeros({1, 2, 8, 8});
    const double lg = detection_loss(good, z1, z2, t, h).heatmap.item<double>();
    const double lf = detection_loss(flat, z1, z2, t, h).heatmap.item<double>();
    const double lb = detection_loss(bad, z1, z2, t, h).heatmap.item<double>();
    QVERIFY2(lg < 0.05 && lg < lf && lf < lb, qPrintable(QString("%1 %2 %3").arg(lg).arg(lf).arg(lb)));
    // Size and offset: L1 at the centre cell only: |0 - log 10| and |0 - 0.5| + |0 - 0.5|.
    const auto l = detection_loss(good, z1, z2, t, h);
    QVERIFY(std::abs(l.size.item<double>() - std::log(10.0)) < 1e-5);
    QVERIFY(std::abs(l.offset.item<double>() - 1.0) < 1e-6);
  }

  void configResizeScheduleAndErrors() {
    DetectConfig c;
    c.train.steps = 10;
    c.train.sizes = {32, 48, 64};
    c.train.resize_at = {0.3, 0.6};
    QCOMPARE(c.size_at(0), int64_t(32));
    QCOMPARE(c.size_at(2), int64_t(32));
    QCOMPARE(c.size_at(3), int64_t(48));
    QCOMPARE(c.size_at(5), int64_t(48));
    QCOMPARE(c.size_at(6), int64_t(64));
    QCOMPARE(c.size_at(9), int64_t(64));
    // TOML round trip, --set, and errors that name file:line and key.
    const auto text = detect_config_to_toml(c);
    const auto back = detect_config_from_string(text, "x.toml", {"train.lr=0.01", "data.root=/d"});
    QCOMPARE(back.train.sizes, c.train.sizes);
    QCOMPARE(back.train.resize_at, c.train.resize_at);
    QCOMPARE(back.train.lr, 0.01);
    QCOMPARE(back.data.root, std::string("/d"));
    auto error_of = [](const std::string& toml) -> std::string {
      try {
        detect_config_from_string(toml, "det.toml");
      } catch (const DetectConfigError& e) {
        return e.what();
      }
      return "no error";
    };
    QCOMPARE(error_of("[train]\nsteps = 5\nlr = \"fast\"\n"),
             std::string("det.toml:3: key 'train.lr': must be a number, got a string"));
    QCOMPARE(error_of("[train]\nstepz = 5\n"), std::string("det.toml:2: unknown key 'train.stepz'"));
    QCOMPARE(error_of("[train]\nsizes = [64, 128]\nresize_at = [0.3, 0.6]\n"),
             std::string("det.toml:3: key 'train.resize_at': must hold one fraction fewer than "
                         "train.sizes has sizes (1)"));
    QCOMPARE(error_of("[model]\nnorm = \"layer\"\n"),
             std::string("det.toml:2: key 'model.norm': must be one of group, batch (got 'layer')"));
  }

  void overfitsPhantomsAndRoundTrips() {
    const QString root = QStringLiteral(R1_TEST_TMP "/detect_phantoms");
    const QString out = QStringLiteral(R1_TEST_TMP "/detect_runs");
    QDir(root).removeRecursively();
    QDir(out).removeRecursively();
    PhantomOptions po;
    po.size_xy_min = po.size_xy_max = 96;
    po.slices_min = po.slices_max = 40;
    po.spacing_xy_min = 0.7;
    po.spacing_xy_max = 0.8;
    po.spacing_z_min = 1.5;
    po.spacing_z_max = 2.0;
    po.nodules_min = po.nodules_max = 2;
    po.diameter_min_mm = 10;
    po.diameter_max_mm = 16;
    po.vessel_targets = 60;
    const auto set = write_phantom_set(root.toStdString(), 2, 7, po);
    QCOMPARE(int(set.size()), 2);

    const DetectConfig cfg = tiny_config(root.toStdString(), out.toStdString());
    // An untrained network finds nothing: the metrics below come from training.
    {
      torch::manual_seed(1);
      Detector fresh(cfg, DetectorNet(cfg.model, cfg.input.context_slices), torch::kCPU);
      VolumeCache cache(2);
      const auto e = evaluate_detector(fresh, load_scan_records(cfg.data.root,
          read_luna_annotations(root.toStdString() + "/annotations.csv")), {}, cache);
      QCOMPARE(e.nodules, 4);
      QVERIFY2(e.cpm < 0.2 && e.map50 < 0.2,
               qPrintable(QString("untrained cpm %1 map %2").arg(e.cpm).arg(e.map50)));
    }

    std::vector<ev::Event> events;
    std::mutex mu;
    auto sink = std::make_shared<ev::CallbackSink>([&](const ev::Event& e) {
      std::lock_guard<std::mutex> lock(mu);
      events.push_back(e);
    });
    DetectTrainer trainer(cfg, sink);
    const auto t0 = std::chrono::steady_clock::now();
    QCOMPARE(trainer.run(), ev::FinishStatus::Completed);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    // The stream: run_start first, finish last; steps every 10; the resize logged at step 100.
    QVERIFY(events.size() > 20);
    QCOMPARE(std::string(ev::type_name(events.front().payload)), std::string("run_start"));
    QCOMPARE(std::string(ev::type_name(events.back().payload)), std::string("finish"));
    const auto& rs = std::get<ev::RunStart>(events.front().payload);
    QCOMPARE(rs.config["train"]["sizes"], nlohmann::json({64, 96}));
    int steps = 0;
    std::vector<std::string> resizes;
    const ev::Eval* eval = nullptr;
    const ev::Checkpoint* ckpt = nullptr;
    double first_loss = 0, last_loss = 0;
    for (const auto& e : events) {
      if (auto* s = std::get_if<ev::Step>(&e.payload)) {
        if (!steps) first_loss = s->loss;
        last_loss = s->loss;
        ++steps;
        QCOMPARE(s->step % 10, int64_t(0));
        QCOMPARE(s->tokens, s->step * 4);
      }
      if (auto* l = std::get_if<ev::Log>(&e.payload))
        if (l->text.rfind("progressive resize", 0) == 0) resizes.push_back(l->text);
      if (auto* x = std::get_if<ev::Eval>(&e.payload)) eval = x;
      if (auto* x = std::get_if<ev::Checkpoint>(&e.payload)) ckpt = x;
      // Every event survives the JSON Lines encoding (metrics included).
      QVERIFY(ev::decode(ev::encode(e)).ok());
    }
    QCOMPARE(steps, 20);
    QCOMPARE(resizes, (std::vector<std::string>{"progressive resize: input 64 px at step 0",
                                               "progressive resize: input 64 -> 96 px at step 100"}));
    QVERIFY(eval && ckpt);
    const double cpm = eval->metrics.at("cpm"), map50 = eval->metrics.at("map50");
    const double sens1 = eval->metrics.at("sensitivity_at_1fp");
    qInfo("overfit: %.1f s for 200 steps; loss %.3f -> %.3f; mAP@0.5 %.3f, CPM %.3f, "
          "sensitivity at 1 FP/scan %.3f, %g candidates",
          secs, first_loss, last_loss, map50, cpm, sens1, eval->metrics.at("candidates"));
    QVERIFY2(last_loss < 0.5 * first_loss, "the training loss did not halve");
    QVERIFY2(sens1 >= 0.75, "fewer than 3 of the 4 nodules found at 1 FP per scan");
    QVERIFY2(cpm >= 0.75, "CPM below 0.75 on the training scans");
    QVERIFY2(map50 >= 0.8, "mAP@0.5 below 0.8 on the training slices");

    // The checkpoint gives the network back: identical outputs on the same input.
    Detector loaded = Detector::load(ckpt->path);
    trainer.net()->eval();
    loaded.net()->eval();
    torch::manual_seed(3);
    const auto x = torch::randn({2, 3, 96, 96});
    torch::NoGradGuard ng;
    const auto a = trainer.net()->forward(x), b = loaded.net()->forward(x);
    QVERIFY(torch::equal(a.heatmap, b.heatmap));
    QVERIFY(torch::equal(a.size, b.size));
    QVERIFY(torch::equal(a.offset, b.offset));
    QCOMPARE(loaded.config().train.sizes, cfg.train.sizes);
  }

  void resumeIsBitExact() {
    // 8 steps in one go against 3, a stop, and a resume from the step-3 checkpoint: the same
    // batches (the sampler seeks to each step), optimizer state, loss scale and RNG, so the
    // losses of steps 4-8 and the final weights are identical, bit for bit (CPU, one thread).
    const QString root = QStringLiteral(R1_TEST_TMP "/detect_resume_phantoms");
    const QString out = QStringLiteral(R1_TEST_TMP "/detect_resume_runs");
    QDir(root).removeRecursively();
    QDir(out).removeRecursively();
    PhantomOptions po;
    po.size_xy_min = po.size_xy_max = 64;
    po.slices_min = po.slices_max = 24;
    po.nodules_min = po.nodules_max = 1;
    po.diameter_min_mm = 10;
    po.diameter_max_mm = 14;
    po.vessel_targets = 20;
    write_phantom_set(root.toStdString(), 2, 11, po);
    DetectConfig cfg = tiny_config(root.toStdString(), out.toStdString());
    cfg.train.steps = 8;
    cfg.train.warmup_steps = 2;
    cfg.train.sizes = {48, 64};
    cfg.train.log_every = 1;
    cfg.train.checkpoint_every = 3;
    struct Losses {
      std::vector<std::pair<int64_t, double>> steps;
      std::mutex mu;
    };
    auto run = [&](const std::string& name, bool resume, int stop_after, Losses& got) {
      DetectConfig c = cfg;
      c.train.run_name = name;
      c.train.resume = resume;
      auto sink = std::make_shared<ev::CallbackSink>([&](const ev::Event& e) {
        if (auto* s = std::get_if<ev::Step>(&e.payload)) {
          std::lock_guard<std::mutex> lock(got.mu);
          got.steps.emplace_back(s->step, s->loss);
        }
      });
      DetectTrainerHooks hooks;
      if (stop_after > 0)
        hooks.stop_requested = [&got, stop_after] {
          std::lock_guard<std::mutex> lock(got.mu);
          return int(got.steps.size()) >= stop_after;
        };
      torch::manual_seed(0);  // what a fresh process has: the checkpoint restores the rest
      DetectTrainer t(c, sink, hooks);
      const auto status = t.run();  // before net(): setup() builds the network
      return std::make_pair(status, t.net()->parameters());
    };
    Losses whole, first, second;
    const auto [ra, pa] = run("whole", false, 0, whole);
    QCOMPARE(ra, ev::FinishStatus::Completed);
    const auto [rb, pb] = run("split", false, 3, first);
    QCOMPARE(rb, ev::FinishStatus::Stopped);
    QCOMPARE(first.steps.size(), size_t(3));
    const auto [rc, pc] = run("split", true, 0, second);
    QCOMPARE(rc, ev::FinishStatus::Completed);
    QCOMPARE(whole.steps.size(), size_t(8));
    QCOMPARE(second.steps.size(), size_t(5));
    for (size_t i = 0; i < 3; ++i) QCOMPARE(first.steps[i], whole.steps[i]);
    for (size_t i = 0; i < 5; ++i) {
      qInfo("step %lld: %.9g resumed %.9g", static_cast<long long>(whole.steps[3 + i].first),
            whole.steps[3 + i].second, second.steps[i].second);
      QCOMPARE(second.steps[i].first, whole.steps[3 + i].first);
      QCOMPARE(second.steps[i].second, whole.steps[3 + i].second);  // exact
    }
    QCOMPARE(pa.size(), pc.size());
    for (size_t i = 0; i < pa.size(); ++i) QVERIFY(torch::equal(pa[i], pc[i]));
  }
};

QTEST_GUILESS_MAIN(TestDetect)
#include "test_detect.moc"
