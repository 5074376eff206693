// Memory-mapped token files (layout, widths, corruption), the corpus loader (fortune files,
// ANSI escapes, binary and .dat files, .u8 twins) and prepare_data's caching and split.
#include "engine/data/corpus.h"
#include "engine/data/data_error.h"
#include "engine/data/dataset.h"
#include "engine/data/token_file.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using r1::data::DataError;
using r1::data::TokenFile;

namespace {

template <typename F>
QString error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return QString::fromUtf8(e.what());
  }
  return QString();
}

void write_bytes(const QString& path, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(path).path());
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  QCOMPARE(f.write(bytes), qint64(bytes.size()));
}

QByteArray read_bytes(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return f.readAll();
}

uint64_t le(const QByteArray& b, int offset, int bytes) {
  uint64_t v = 0;
  for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | uint8_t(b[offset + k]);
  return v;
}

std::vector<int32_t> random_tokens(size_t n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = int32_t(rng() % uint32_t(vocab));
  if (n >= 2) {
    t[0] = vocab - 1;
    t[n - 1] = 0;
  }
  return t;
}

QString sorted_joined(QStringList parts) {
  parts.sort();
  return parts.join(QStringLiteral("|"));
}

}  // namespace

class TestTokenFile final : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir* dir_ = nullptr;

  QString tmp(const QString& name) const { return dir_->filePath(name); }

  std::string written(const QString& name, const std::vector<int32_t>& tokens, int vocab) {
    const std::string path = tmp(name).toStdString();
    TokenFile::write(path, tokens, vocab, 0x1122334455667788ULL, 0x99AABBCCDDEEFF00ULL);
    return path;
  }

 private Q_SLOTS:
  void initTestCase() {
    QDir().mkpath(QStringLiteral(R1_TEST_TMP));
    dir_ = new QTemporaryDir(QStringLiteral(R1_TEST_TMP "/tfXXXXXX"));
    QVERIFY(dir_->isValid());
  }

  void cleanupTestCase() { delete dir_; }

  void writeOpenRoundTrip_data() {
    QTest::addColumn<int>("vocab");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("width");
    QTest::newRow("small vocab") << 1000 << 5000 << 2;
    QTest::newRow("largest 16-bit vocab") << 65536 << 3000 << 2;
    QTest::newRow("17-bit vocab") << 65537 << 3000 << 4;
    QTest::newRow("large vocab") << (1 << 20) << 100000 << 4;
    QTest::newRow("no tokens") << 300 << 0 << 2;
  }

  void writeOpenRoundTrip() {
    QFETCH(int, vocab);
    QFETCH(int, count);
    QFETCH(int, width);
    const std::vector<int32_t> tokens = random_tokens(size_t(count), vocab, uint32_t(vocab));
    const std::string path = written(QStringLiteral("rt.bin"), tokens, vocab);

    const QByteArray raw = read_bytes(QString::fromStdString(path));
    QCOMPARE(raw.size(), 64 + count * width);
    QCOMPARE(raw.left(8), QByteArray("R1TOK001"));
    QCOMPARE(le(raw, 8, 4), uint64_t(width));
    QCOMPARE(le(raw, 12, 4), uint64_t(vocab));
    QCOMPARE(le(raw, 16, 8), uint64_t(count));
    QCOMPARE(le(raw, 24, 8), 0x1122334455667788ULL);
    QCOMPARE(le(raw, 32, 8), 0x99AABBCCDDEEFF00ULL);
    if (count > 0) QCOMPARE(le(raw, 64, width), uint64_t(vocab - 1));

    TokenFile tf = TokenFile::open(path);
    QCOMPARE(tf.size(), size_t(count));
    QCOMPARE(tf.token_width(), width);
    QCOMPARE(tf.vocab_size(), vocab);
    QCOMPARE(tf.tokenizer_fingerprint(), 0x1122334455667788ULL);
    QCOMPARE(tf.source_fingerprint(), 0x99AABBCCDDEEFF00ULL);
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tf[i] != tokens[i]) QFAIL(qPrintable(QStringLiteral("token %1 differs").arg(i)));
    }
  }

  void copyWindow_data() {
    QTest::addColumn<int>("vocab");
    QTest::addColumn<int>("start");
    QTest::addColumn<int>("n");
    QTest::newRow("empty window") << 1000 << 0 << 0;
    QTest::newRow("head") << 1000 << 0 << 10;
    QTest::newRow("middle") << 1000 << 5 << 100;
    QTest::newRow("tail") << 1000 << 993 << 7;
    QTest::newRow("wide tokens") << 100000 << 17 << 500;
  }

  void copyWindow() {
    QFETCH(int, vocab);
    QFETCH(int, start);
    QFETCH(int, n);
    const std::vector<int32_t> tokens = random_tokens(1000, vocab, 5);
    TokenFile tf = TokenFile::open(written(QStringLiteral("win.bin"), tokens, vocab));
    std::vector<int64_t> out(size_t(n) + 1, -7);
    tf.copy_window(size_t(start), size_t(n), out.data());
    for (int k = 0; k < n; ++k) QCOMPARE(out[size_t(k)], int64_t(tokens[size_t(start + k)]));
    QCOMPARE(out[size_t(n)], int64_t(-7));  // nothing written past the window
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, tf.copy_window(995, 6, out.data()));
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, tf.copy_window(1001, 0, out.data()));
  }

  void moveKeepsMapping() {
    const std::vector<int32_t> tokens = random_tokens(100, 500, 9);
    TokenFile a = TokenFile::open(written(QStringLiteral("mv.bin"), tokens, 500));
    TokenFile b(std::move(a));
    QCOMPARE(a.size(), size_t(0));
    QCOMPARE(b.size(), size_t(100));
    TokenFile c;
    c = std::move(b);
    QCOMPARE(c[0], int32_t(499));
    QCOMPARE(c[99], int32_t(0));
  }

  void corruptPayload() {
    const std::string path = written(QStringLiteral("crc.bin"), random_tokens(1000, 300, 3),
                                     300);
    QByteArray raw = read_bytes(QString::fromStdString(path));
    raw[64 + 100] = char(raw[64 + 100] ^ 0x01);
    write_bytes(QString::fromStdString(path), raw);
    const QString msg = error_of([&] { TokenFile::open(path); });
    QVERIFY2(msg.contains(QStringLiteral("crc")), qPrintable(msg));
    QVERIFY2(msg.contains(QString::fromStdString(path)), qPrintable(msg));
  }

  void damagedFiles_data() {
    QTest::addColumn<int>("keep");   // bytes kept (-1: all)
    QTest::addColumn<int>("poke");   // offset to overwrite (-1: none)
    QTest::addColumn<QString>("reason");
    QTest::newRow("one byte short") << 64 + 2 * 50 - 1 << -1 << "truncated";
    QTest::newRow("payload missing") << 64 << -1 << "truncated";
    QTest::newRow("header cut") << 10 << -1 << "truncated header";
    QTest::newRow("empty file") << 0 << -1 << "truncated header";
    QTest::newRow("bad magic") << -1 << 0 << "magic";
    QTest::newRow("bad width") << -1 << 8 << "width";
  }

  void damagedFiles() {
    QFETCH(int, keep);
    QFETCH(int, poke);
    QFETCH(QString, reason);
    const std::string path = written(QStringLiteral("dmg.bin"), random_tokens(50, 300, 4), 300);
    const QString qpath = QString::fromStdString(path);
    QByteArray raw = read_bytes(qpath);
    if (keep >= 0) raw.truncate(keep);
    if (poke >= 0) raw[poke] = char(raw[poke] + 3);
    write_bytes(qpath, raw);
    const QString msg = error_of([&] { TokenFile::open(path, false); });
    QVERIFY2(msg.contains(reason), qPrintable(msg));
    QVERIFY2(msg.contains(qpath), qPrintable(msg));
  }

  void tokenOutOfRange() {
    const QString qpath = tmp(QStringLiteral("range.bin"));
    const std::string path = qpath.toStdString();
    const QString msg = error_of([&] { TokenFile::write(path, {1, 2, 300}, 300, 0, 0); });
    QVERIFY2(msg.contains(qpath) && msg.contains(QStringLiteral("out of range")),
             qPrintable(msg));
    QVERIFY(!QFile::exists(qpath));

    // A header claiming a smaller vocabulary than the (crc-valid) payload uses.
    written(QStringLiteral("range.bin"), {1, 2, 299}, 300);
    QByteArray raw = read_bytes(qpath);
    raw[12] = char(200);
    raw[13] = 0;
    write_bytes(qpath, raw);
    const QString open_msg = error_of([&] { TokenFile::open(path); });
    QVERIFY2(open_msg.contains(QStringLiteral("299")), qPrintable(open_msg));
  }

  void missingFile() {
    const QString path = tmp(QStringLiteral("nope.bin"));
    const QString msg = error_of([&] { TokenFile::open(path.toStdString()); });
    QVERIFY2(msg.contains(path) && msg.contains(QStringLiteral("not found")), qPrintable(msg));
  }

  void corpusLoader() {
    const QString root = tmp(QStringLiteral("corpus"));
    write_bytes(root + "/fort",
                "\x1b[32mTitle\x1b[m\r\nline one\r\n%\nsecond entry\n%\n  \n%\n"
                "\x1b[1;33mthird\x1b[0m\n");
    write_bytes(root + "/fort.dat", QByteArray("\x00\x00\x00\x02 index", 10));
    write_bytes(root + "/blob.bin", QByteArray("text then \x00 binary", 18));
    write_bytes(root + "/plain.txt", "Just a plain file.\nWith 100% effort.\n");
    write_bytes(root + "/bad.txt", "ab\xff" "cd");
    write_bytes(root + "/poem", "\xb4\xb2\xc7\xb0");  // GB2312, not UTF-8
    write_bytes(root + "/poem.u8", "床前");
    write_bytes(root + "/quote", "valid quote\n");
    write_bytes(root + "/quote.u8", "twin that must not be read\n");
    write_bytes(root + "/.hidden", "hidden file\n");
    write_bytes(root + "/sub/nested.txt", "nested\n");

    r1::data::CorpusStats stats;
    const std::vector<std::string> docs = r1::data::load_corpus({root.toStdString()}, &stats);
    const std::vector<std::string> expected{
        "ab\xef\xbf\xbd" "cd",           // bad.txt: the invalid byte replaced by U+FFFD
        "Title\nline one\n", "second entry\n", "third\n",  // fort
        "Just a plain file.\nWith 100% effort.\n",         // plain.txt
        "床前",                                             // poem.u8
        "valid quote\n",                                    // quote
        "nested\n"};                                        // sub/nested.txt
    QCOMPARE(docs.size(), expected.size());
    for (size_t i = 0; i < docs.size(); ++i) {
      QCOMPARE(QString::fromStdString(docs[i]), QString::fromStdString(expected[i]));
    }
    QCOMPARE(stats.files, size_t(6));
    QCOMPARE(stats.documents, size_t(8));
    QCOMPARE(stats.replaced_bytes, size_t(1));
    size_t bytes = 0;
    for (const std::string& d : expected) bytes += d.size();
    QCOMPARE(stats.bytes, bytes);

    const std::vector<std::string> single =
        r1::data::load_corpus({(root + "/plain.txt").toStdString()});
    QCOMPARE(single.size(), size_t(1));
  }

  void corpusErrors() {
    const QString missing = tmp(QStringLiteral("no-such-corpus"));
    QString msg = error_of([&] { r1::data::load_corpus({missing.toStdString()}); });
    QVERIFY2(msg.contains(missing) && msg.contains(QStringLiteral("not found")),
             qPrintable(msg));

    const QString empty = tmp(QStringLiteral("empty-corpus"));
    QVERIFY(QDir().mkpath(empty));
    write_bytes(empty + "/only.dat", "index");
    msg = error_of([&] { r1::data::load_corpus({empty.toStdString()}); });
    QVERIFY2(msg.contains(empty), qPrintable(msg));
  }

  void cleanText_data() {
    QTest::addColumn<QByteArray>("raw");
    QTest::addColumn<QByteArray>("clean");
    QTest::addColumn<int>("replaced");
    QTest::newRow("csi colour") << QByteArray("\x1b[1;31mred\x1b[m") << QByteArray("red") << 0;
    QTest::newRow("osc title") << QByteArray("a\x1b]0;title\x07" "b") << QByteArray("ab") << 0;
    QTest::newRow("charset") << QByteArray("x\x1b(By") << QByteArray("xy") << 0;
    QTest::newRow("crlf") << QByteArray("a\r\nb\rc") << QByteArray("a\nb\rc") << 0;
    QTest::newRow("overlong") << QByteArray("\xc0\xaf") << QByteArray("\xef\xbf\xbd\xef\xbf\xbd")
                              << 2;
    QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80")
                               << QByteArray("\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") << 3;
    QTest::newRow("truncated seq") << QByteArray("\xe4\xb8")
                                   << QByteArray("\xef\xbf\xbd\xef\xbf\xbd") << 2;
    QTest::newRow("valid 4-byte") << QByteArray("\xf0\x9f\x98\x80")
                                  << QByteArray("\xf0\x9f\x98\x80") << 0;
  }

  void cleanText() {
    QFETCH(QByteArray, raw);
    QFETCH(QByteArray, clean);
    QFETCH(int, replaced);
    size_t count = 0;
    const std::string out =
        r1::data::clean_text(std::string_view(raw.constData(), size_t(raw.size())), &count);
    QCOMPARE(QByteArray(out.data(), int(out.size())), clean);
    QCOMPARE(count, size_t(replaced));
  }

  void prepareDataCachesAndSplits() {
    const QString corpus = tmp(QStringLiteral("prep/corpus"));
    std::mt19937 rng(11);
    const char* words[] = {"alpha", "beta", "gamma", "delta", "数据", "模型", "river", "stone"};
    QStringList docs;
    QByteArray fortune;
    for (int d = 0; d < 120; ++d) {
      QString doc;
      for (int w = 0; w < 5 + int(rng() % 20); ++w) {
        doc += QString::fromUtf8(words[rng() % 8]) + (rng() % 5 == 0 ? "\n" : " ");
      }
      doc += QStringLiteral("%1.\n").arg(d);
      docs << doc;
      fortune += doc.toUtf8() + "%\n";
    }
    write_bytes(corpus + "/sayings", fortune);

    r1::data::DataOptions opt;
    opt.paths = {corpus.toStdString()};
    opt.vocab_size = 280;
    opt.val_fraction = 0.1;
    opt.cache_dir = tmp(QStringLiteral("prep/cache/nested")).toStdString();
    QStringList log1;
    r1::data::PreparedData a = r1::data::prepare_data(
        opt, [&](const std::string& l) { log1 << QString::fromStdString(l); });
    QCOMPARE(a.stats.documents, size_t(120));
    QCOMPARE(a.tokenizer.vocab_size(), 280);
    const QString tok_name = QFileInfo(QString::fromStdString(a.tokenizer_path)).fileName();
    QVERIFY(tok_name.startsWith(QStringLiteral("tokenizer-")));
    QVERIFY(tok_name.endsWith(QStringLiteral("-280.txt")));
    QVERIFY(QFileInfo(QString::fromStdString(a.token_path)).fileName().startsWith("tokens-"));
    QCOMPARE(QDir(QString::fromStdString(opt.cache_dir)).entryList(QDir::Files).size(), 2);

    // Every document appears exactly once, each followed by the end-of-text token.
    const size_t n = a.tokens.size();
    QCOMPARE(a.tokens[n - 1], int32_t(a.tokenizer.eot_id()));
    std::vector<int32_t> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = a.tokens[i];
    QCOMPARE(size_t(std::count(all.begin(), all.end(), a.tokenizer.eot_id())), size_t(120));
    QString text = QString::fromStdString(a.tokenizer.decode(all));
    QStringList decoded = text.split(QStringLiteral("<|endoftext|>"));
    QCOMPARE(decoded.takeLast(), QString());
    QCOMPARE(sorted_joined(decoded), sorted_joined(docs));

    const size_t val = n - a.train_tokens;
    QVERIFY2(val >= 1 && std::abs(double(val) - 0.1 * double(n)) <= 1.0,
             qPrintable(QStringLiteral("n=%1 val=%2").arg(n).arg(val)));

    const QDateTime tok_time = QFileInfo(QString::fromStdString(a.tokenizer_path)).lastModified();
    const QDateTime bin_time = QFileInfo(QString::fromStdString(a.token_path)).lastModified();
    QStringList log2;
    opt.val_fraction = 0.0;
    r1::data::PreparedData b = r1::data::prepare_data(
        opt, [&](const std::string& l) { log2 << QString::fromStdString(l); });
    QCOMPARE(b.tokenizer_path, a.tokenizer_path);
    QCOMPARE(b.token_path, a.token_path);
    QCOMPARE(b.tokenizer.fingerprint(), a.tokenizer.fingerprint());
    QCOMPARE(b.tokens.size(), n);
    QCOMPARE(b.train_tokens, n);
    QCOMPARE(log2.filter(QStringLiteral("reusing")).size(), 2);
    QCOMPARE(log1.filter(QStringLiteral("reusing")).size(), 0);
    QCOMPARE(QFileInfo(QString::fromStdString(a.tokenizer_path)).lastModified(), tok_time);
    QCOMPARE(QFileInfo(QString::fromStdString(a.token_path)).lastModified(), bin_time);

    // An explicit tokenizer file is loaded instead of training.
    opt.tokenizer_path = a.tokenizer_path;
    opt.vocab_size = 999;
    r1::data::PreparedData c = r1::data::prepare_data(opt);
    QCOMPARE(c.tokenizer.vocab_size(), 280);
    QCOMPARE(c.token_path, a.token_path);

    opt.val_fraction = 1.0;
    QVERIFY(!error_of([&] { r1::data::prepare_data(opt); }).isEmpty());
  }

  void prepareDataSmallValidation() {
    const QString corpus = tmp(QStringLiteral("small/one.txt"));
    write_bytes(corpus, "tiny corpus with a few words\n");
    r1::data::DataOptions opt;
    opt.paths = {corpus.toStdString()};
    opt.vocab_size = 300;
    opt.val_fraction = 0.001;
    opt.cache_dir = tmp(QStringLiteral("small/cache")).toStdString();
    r1::data::PreparedData p = r1::data::prepare_data(opt);
    QCOMPARE(p.tokens.size() - p.train_tokens, size_t(1));
  }
};

QTEST_GUILESS_MAIN(TestTokenFile)
#include "test_token_file.moc"
