// Byte-level BPE: pre-tokenisation, hand-checked merges, exact round trips, compression,
// determinism, save/load, precise errors for malformed files, and the fortunes corpus.
#include "engine/data/bpe_tokenizer.h"
#include "engine/data/corpus.h"
#include "engine/data/data_error.h"

#include <QtTest/QtTest>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

using r1::data::BpeTokenizer;
using r1::data::DataError;

namespace {

const char* const kEnglish[] = {
    "the",   "quick", "brown",  "fox",      "jumps",    "over",    "lazy",     "dog",
    "model", "data",  "learns", "training", "token",    "reason",  "answer",   "question",
    "think", "step",  "first",  "second",   "because",  "therefore", "memory", "network",
    "value", "small", "large",  "river",    "mountain", "city",    "and",      "of"};

const char* const kChinese[] = {
    "的", "是", "我", "你", "他们", "学习", "模型", "数据", "训练", "推理", "问题", "答案",
    "思考", "因为", "所以", "山", "水", "城市", "天空", "月亮", "春风", "花开", "明天", "我们"};

template <typename T, size_t N>
const char* pick(std::mt19937& rng, const T (&words)[N]) {
  return words[rng() % N];
}

// Documents mixing English sentences and Chinese sentences, reproducible from the seed.
std::vector<std::string> bilingual_docs(uint32_t seed, int count) {
  std::mt19937 rng(seed);
  std::vector<std::string> docs;
  for (int d = 0; d < count; ++d) {
    std::string doc;
    int sentences = 2 + static_cast<int>(rng() % 5);
    for (int s = 0; s < sentences; ++s) {
      if (rng() % 2 == 0) {
        std::string sentence = pick(rng, kEnglish);
        sentence[0] = static_cast<char>(sentence[0] - 'a' + 'A');
        int words = 4 + static_cast<int>(rng() % 8);
        for (int w = 0; w < words; ++w) sentence += std::string(" ") + pick(rng, kEnglish);
        sentence += rng() % 4 == 0 ? "?" : ".";
        if (rng() % 3 == 0) sentence += " " + std::to_string(rng() % 100000);
        doc += sentence;
      } else {
        int words = 3 + static_cast<int>(rng() % 8);
        for (int w = 0; w < words; ++w) {
          doc += pick(rng, kChinese);
          if (w + 1 < words && rng() % 4 == 0) doc += "，";
        }
        doc += "。";
      }
      doc += rng() % 3 == 0 ? "\n" : " ";
    }
    docs.push_back(doc);
  }
  return docs;
}

template <typename F>
QString error_of(F&& f) {
  try {
    f();
  } catch (const DataError& e) {
    return QString::fromUtf8(e.what());
  }
  return QString();
}

QStringList views_to_list(const std::vector<std::string_view>& views) {
  QStringList out;
  for (std::string_view v : views) out << QString::fromUtf8(v.data(), int(v.size()));
  return out;
}

void write_text(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  QCOMPARE(f.write(bytes), qint64(bytes.size()));
}

}  // namespace

class TestTokenizer final : public QObject {
  Q_OBJECT

 private:
  std::vector<std::string> train_docs_;
  BpeTokenizer tok_;

 private Q_SLOTS:
  void initTestCase() {
    QDir().mkpath(QStringLiteral(R1_TEST_TMP));
    train_docs_ = bilingual_docs(1, 600);
    tok_ = BpeTokenizer::train(train_docs_, 1000);
    QCOMPARE(tok_.vocab_size(), 1000);
    QCOMPARE(tok_.eot_id(), 999);
  }

  void pretokenize_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QStringList>("pieces");
    QTest::newRow("words") << "Hello world" << QStringList{"Hello", " world"};
    QTest::newRow("double space") << "a  b" << QStringList{"a", " ", " b"};
    QTest::newRow("digits by three") << "abc1234567"
                                     << QStringList{"abc", "123", "456", "7"};
    QTest::newRow("space before digits") << "x 42" << QStringList{"x", " ", "42"};
    QTest::newRow("punctuation") << "Hi, you!?" << QStringList{"Hi", ",", " you", "!?"};
    QTest::newRow("newlines") << "x\n\ny" << QStringList{"x", "\n\n", "y"};
    QTest::newRow("newline then space") << "x\n y" << QStringList{"x", "\n", " y"};
    QTest::newRow("chinese") << QString::fromUtf8("你好，世界。")
                             << QStringList{QString::fromUtf8("你好"), QString::fromUtf8("，"),
                                            QString::fromUtf8("世界"), QString::fromUtf8("。")};
    QTest::newRow("mixed") << QString::fromUtf8("GPT 模型 ok")
                           << QStringList{"GPT", QString::fromUtf8(" 模型"), " ok"};
    QTest::newRow("accented letters") << QString::fromUtf8("café au lait")
                                      << QStringList{QString::fromUtf8("café"), " au", " lait"};
    QTest::newRow("empty") << "" << QStringList{};
  }

  void pretokenize() {
    QFETCH(QString, text);
    QFETCH(QStringList, pieces);
    const std::string utf8 = text.toStdString();
    QCOMPARE(views_to_list(BpeTokenizer::pretokenize(utf8)), pieces);
  }

  // "aaabdaaabac": aa (4 pairs) -> 256; then ab and (256,a) tie at 2, the smaller ids win:
  // ab -> 257; then (256,257) -> 258; then no pair occurs twice.
  void handCheckedMerges() {
    BpeTokenizer t = BpeTokenizer::train({"aaabdaaabac"}, 1000);
    const std::vector<std::pair<int32_t, int32_t>> expected{{97, 97}, {97, 98}, {256, 257}};
    QVERIFY(t.merges() == expected);
    QCOMPARE(t.vocab_size(), 260);
    QCOMPARE(t.eot_id(), 259);
    QCOMPARE(QString::fromStdString(t.token_bytes(258)), QStringLiteral("aaab"));
    QVERIFY(t.encode("aaabdaaabac") == (std::vector<int32_t>{258, 100, 258, 97, 99}));
  }

  // Without pre-token boundaries "12341234" would also merge 23 and 34; with them (pieces
  // "123", "412", "34") only "12" occurs twice.
  void mergesStayInsidePreTokens() {
    BpeTokenizer t = BpeTokenizer::train({"12341234"}, 300);
    const std::vector<std::pair<int32_t, int32_t>> expected{{'1', '2'}};
    QVERIFY(t.merges() == expected);
    QCOMPARE(t.vocab_size(), 258);

    BpeTokenizer s = BpeTokenizer::train({"ab ab ab"}, 300);
    const std::vector<std::pair<int32_t, int32_t>> spaced{{'a', 'b'}, {' ', 256}};
    QVERIFY(s.merges() == spaced);
    QVERIFY(s.encode("ab ab") == (std::vector<int32_t>{256, 257}));
  }

  void specialToken() {
    QCOMPARE(QString::fromStdString(tok_.decode({tok_.eot_id()})),
             QStringLiteral("<|endoftext|>"));
    QVERIFY(tok_.token_bytes(tok_.eot_id()).empty());
    QCOMPARE(QString::fromStdString(tok_.token_bytes('A')), QStringLiteral("A"));
    std::vector<int32_t> ids = tok_.encode("<|endoftext|>");
    QVERIFY(std::find(ids.begin(), ids.end(), tok_.eot_id()) == ids.end());
    QVERIFY(!error_of([&] { tok_.decode({tok_.vocab_size()}); }).isEmpty());
    QVERIFY(!error_of([&] { tok_.decode({-1}); }).isEmpty());
  }

  void roundTripRandomBytes_data() {
    QTest::addColumn<uint>("seed");
    QTest::addColumn<int>("length");
    QTest::newRow("empty") << 1u << 0;
    QTest::newRow("one byte") << 2u << 1;
    QTest::newRow("short") << 3u << 17;
    QTest::newRow("medium") << 4u << 1000;
    QTest::newRow("long") << 5u << 50000;
  }

  void roundTripRandomBytes() {
    QFETCH(uint, seed);
    QFETCH(int, length);
    std::mt19937 rng(seed);
    std::string bytes;
    for (int i = 0; i < length; ++i) bytes.push_back(static_cast<char>(rng() & 0xFF));
    std::vector<int32_t> ids = tok_.encode(bytes);
    for (int32_t id : ids) QVERIFY(id >= 0 && id < tok_.eot_id());
    QVERIFY(tok_.decode(ids) == bytes);
  }

  void roundTripText_data() {
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("english") << QByteArray("The quick brown fox jumps over the lazy dog.");
    QTest::newRow("chinese") << QByteArray("床前明月光，疑是地上霜。举头望明月，低头思故乡。");
    QTest::newRow("mixed") << QByteArray("Train the 模型 on 数据 because 推理 matters!\n");
    QTest::newRow("invalid utf8") << QByteArray("ok \xff\xfe \xc3( \xe6\x97 end");
    QTest::newRow("eot literal") << QByteArray("a<|endoftext|>b");
    QTest::newRow("whitespace") << QByteArray("  \n\t \r\n   x  \n\n");
    QTest::newRow("digits") << QByteArray("1234567890 3.14159 2024-01-01");
    QTest::newRow("emoji") << QByteArray("smile \xf0\x9f\x98\x80 ok");
    QTest::newRow("nul bytes") << QByteArray("a\0b\0", 4);
  }

  void roundTripText() {
    QFETCH(QByteArray, text);
    const std::string s(text.constData(), size_t(text.size()));
    QVERIFY(tok_.decode(tok_.encode(s)) == s);
  }

  void compressesHeldOutText() {
    size_t bytes = 0, tokens = 0;
    for (const std::string& doc : bilingual_docs(99, 100)) {
      bytes += doc.size();
      tokens += tok_.encode(doc).size();
    }
    // Every vocabulary word occurs hundreds of times in training, so most become one token.
    QVERIFY2(double(bytes) / double(tokens) > 3.0,
             qPrintable(QStringLiteral("%1 bytes -> %2 tokens").arg(bytes).arg(tokens)));
  }

  void deterministic() {
    BpeTokenizer again = BpeTokenizer::train(train_docs_, 1000);
    QCOMPARE(again.fingerprint(), tok_.fingerprint());
    QVERIFY(again.merges() == tok_.merges());
    BpeTokenizer smaller = BpeTokenizer::train(train_docs_, 900);
    QVERIFY(smaller.fingerprint() != tok_.fingerprint());
    QVERIFY(std::equal(smaller.merges().begin(), smaller.merges().end(),
                       tok_.merges().begin()));
  }

  void progressIsReported() {
    int calls = 0, last_done = -1, last_total = -1;
    BpeTokenizer::train(train_docs_, 400, [&](int done, int total) {
      ++calls;
      QVERIFY(done >= last_done);
      last_done = done;
      last_total = total;
    });
    QVERIFY(calls > 0);
    QCOMPARE(last_total, 400 - 257);
    QCOMPARE(last_done, 400 - 257);
  }

  void concurrentEncode() {
    std::vector<std::string> docs = bilingual_docs(7, 200);
    std::vector<std::vector<int32_t>> expected;
    BpeTokenizer fresh = BpeTokenizer::load(saved_path());
    for (const std::string& d : docs) expected.push_back(fresh.encode(d));
    BpeTokenizer shared = BpeTokenizer::load(saved_path());
    std::vector<int> mismatches(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int round = 0; round < 3; ++round) {
          for (size_t i = 0; i < docs.size(); ++i) {
            if (shared.encode(docs[(i + size_t(t) * 37) % docs.size()]) !=
                expected[(i + size_t(t) * 37) % docs.size()]) {
              ++mismatches[size_t(t)];
            }
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    QCOMPARE(mismatches, std::vector<int>(4, 0));
  }

  void saveLoad() {
    const std::string path = saved_path();
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = f.readAll().split('\n');
    QCOMPARE(lines.first(), QByteArray("r1-bpe 1 1000"));
    QCOMPARE(lines.size(), 1 + (1000 - 257) + 1);  // header, merges, empty after final '\n'
    QCOMPARE(lines[1], QByteArray::number(tok_.merges()[0].first) + ' ' +
                           QByteArray::number(tok_.merges()[0].second));

    BpeTokenizer loaded = BpeTokenizer::load(path);
    QCOMPARE(loaded.vocab_size(), 1000);
    QCOMPARE(loaded.fingerprint(), tok_.fingerprint());
    for (const std::string& doc : bilingual_docs(42, 50)) {
      QVERIFY(loaded.encode(doc) == tok_.encode(doc));
    }
    const QDir dir = QFileInfo(QString::fromStdString(path)).dir();
    QCOMPARE(dir.entryList(QDir::Files).size(), 1);  // no temporary file left behind
  }

  void loadMalformed_data() {
    QTest::addColumn<QByteArray>("content");
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("reason");
    QTest::newRow("empty file") << QByteArray() << 1 << "header";
    QTest::newRow("bad magic") << QByteArray("r1-bpx 1 258\n97 98\n") << 1 << "header";
    QTest::newRow("bad version") << QByteArray("r1-bpe 2 258\n97 98\n") << 1 << "version";
    QTest::newRow("vocab too small") << QByteArray("r1-bpe 1 100\n") << 1 << "vocab";
    QTest::newRow("vocab not numeric") << QByteArray("r1-bpe 1 lots\n") << 1 << "vocab";
    QTest::newRow("non-numeric id") << QByteArray("r1-bpe 1 259\n97 98\n97 x\n") << 3
                                    << "expected two token ids";
    QTest::newRow("one id") << QByteArray("r1-bpe 1 258\n97\n") << 2
                            << "expected two token ids";
    QTest::newRow("three ids") << QByteArray("r1-bpe 1 258\n97 98 99\n") << 2
                               << "expected two token ids";
    QTest::newRow("blank line") << QByteArray("r1-bpe 1 259\n97 98\n\n99 100\n") << 3
                                << "expected two token ids";
    QTest::newRow("id out of range") << QByteArray("r1-bpe 1 258\n97 300\n") << 2
                                     << "out of range";
    QTest::newRow("negative id") << QByteArray("r1-bpe 1 258\n-1 98\n") << 2 << "out of range";
    QTest::newRow("forward reference") << QByteArray("r1-bpe 1 259\n256 97\n97 98\n") << 2
                                       << "out of range";
    QTest::newRow("duplicate merge") << QByteArray("r1-bpe 1 259\n97 98\n97 98\n") << 3
                                     << "duplicate";
    QTest::newRow("truncated") << QByteArray("r1-bpe 1 261\n97 98\n256 99\n") << 4
                               << "truncated";
    QTest::newRow("too many merges") << QByteArray("r1-bpe 1 258\n97 98\n99 100\n") << 3
                                     << "more merges";
  }

  void loadMalformed() {
    QFETCH(QByteArray, content);
    QFETCH(int, line);
    QFETCH(QString, reason);
    QTemporaryDir dir(QStringLiteral(R1_TEST_TMP "/tokXXXXXX"));
    const QString path = dir.filePath(QStringLiteral("tok.txt"));
    write_text(path, content);
    const QString msg = error_of([&] { BpeTokenizer::load(path.toStdString()); });
    QVERIFY2(!msg.isEmpty(), "no DataError thrown");
    QVERIFY2(msg.contains(path), qPrintable(msg));
    QVERIFY2(msg.contains(QStringLiteral("line %1:").arg(line)), qPrintable(msg));
    QVERIFY2(msg.contains(reason), qPrintable(msg));
  }

  void loadMissing() {
    const QString path = QStringLiteral(R1_TEST_TMP "/no/such/tokenizer.txt");
    const QString msg = error_of([&] { BpeTokenizer::load(path.toStdString()); });
    QVERIFY2(msg.contains(path) && msg.contains(QStringLiteral("not found")), qPrintable(msg));
  }

  void vocabSizeChecked_data() {
    QTest::addColumn<int>("vocab");
    QTest::newRow("zero") << 0;
    QTest::newRow("negative") << -5;
    QTest::newRow("bytes only") << 256;
  }

  void vocabSizeChecked() {
    QFETCH(int, vocab);
    QVERIFY(!error_of([&] { BpeTokenizer::train(train_docs_, vocab); }).isEmpty());
  }

  void minimalVocab() {
    BpeTokenizer t = BpeTokenizer::train(train_docs_, 257);
    QCOMPARE(t.vocab_size(), 257);
    QCOMPARE(t.eot_id(), 256);
    QVERIFY(t.encode("abc") == (std::vector<int32_t>{97, 98, 99}));
  }

  void fortunesCorpus() {
    const std::vector<std::string> paths = r1::data::default_corpus_paths();
    if (paths.empty()) QSKIP("/usr/share/games/fortunes is not installed");
    r1::data::CorpusStats stats;
    const std::vector<std::string> docs = r1::data::load_corpus(paths, &stats);
    QVERIFY(stats.documents > 10000);
    bool chinese = false, escapes = false;
    for (const std::string& d : docs) {
      chinese = chinese || d.find("李白") != std::string::npos;  // poet in tang300
      escapes = escapes || d.find('\x1b') != std::string::npos;
    }
    QVERIFY(chinese);
    QVERIFY(!escapes);

    BpeTokenizer t = BpeTokenizer::train(docs, 8192);
    QCOMPARE(t.vocab_size(), 8192);
    size_t bytes = 0, tokens = 0;
    for (size_t i = 0; i < docs.size(); i += 97) {
      std::vector<int32_t> ids = t.encode(docs[i]);
      QVERIFY(t.decode(ids) == docs[i]);
      bytes += docs[i].size();
      tokens += ids.size();
    }
    QVERIFY2(double(bytes) / double(tokens) > 3.0,
             qPrintable(QStringLiteral("%1 bytes -> %2 tokens").arg(bytes).arg(tokens)));
  }

 private:
  std::string saved_path() {
    static QTemporaryDir dir(QStringLiteral(R1_TEST_TMP "/tokXXXXXX"));
    const std::string path = dir.filePath(QStringLiteral("tok.txt")).toStdString();
    if (!QFile::exists(QString::fromStdString(path))) tok_.save(path);
    return path;
  }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
