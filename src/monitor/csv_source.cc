#include <fmt/format.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <sys/mman.h>
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>

#include "monitor/data_source.h"

namespace cairn::monitor {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// One parsed physical record: field views (into the text or into scratch storage) and the
// 1-based line it started on.
struct Record {
  std::vector<std::string_view> fields;
  int64_t line = 0;
};

// RFC 4180 tokenizer over an in-memory buffer.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {
    if (text_.size() >= 3 && static_cast<unsigned char>(text_[0]) == 0xEF &&
        static_cast<unsigned char>(text_[1]) == 0xBB &&
        static_cast<unsigned char>(text_[2]) == 0xBF) {
      pos_ = 3;
    }
  }

  // Reads the next non-blank record. Returns false at the end of input. On a malformed
  // record (unterminated quote, garbage after a closing quote) sets *error.
  bool Next(Record* rec, std::string* error) {
    error->clear();
    rec->fields.clear();
    scratch_used_ = 0;
    // Skip blank lines (pandas' skip_blank_lines).
    while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
      if (text_[pos_] == '\n') ++line_;
      ++pos_;
    }
    if (pos_ >= text_.size()) return false;
    rec->line = line_;
    const char* data = text_.data();
    const size_t n = text_.size();
    // Fast path: a line without quotes splits on commas with memchr (vectorised in libc).
    {
      const char* line_start = data + pos_;
      const char* nl = static_cast<const char*>(std::memchr(line_start, '\n', n - pos_));
      const char* line_end = nl != nullptr ? nl : data + n;
      if (std::memchr(line_start, '"', line_end - line_start) == nullptr) {
        const char* content_end = line_end;
        if (content_end > line_start && content_end[-1] == '\r') --content_end;
        if (std::memchr(line_start, '\r', content_end - line_start) == nullptr) {
          const char* f = line_start;
          while (true) {
            const char* comma = static_cast<const char*>(std::memchr(f, ',', content_end - f));
            if (comma == nullptr) {
              rec->fields.emplace_back(f, content_end - f);
              break;
            }
            rec->fields.emplace_back(f, comma - f);
            f = comma + 1;
          }
          pos_ = nl != nullptr ? static_cast<size_t>(nl - data) + 1 : n;
          ++line_;
          return true;
        }
      }
    }
    while (true) {
      if (pos_ < n && data[pos_] == '"') {
        if (!QuotedField(rec, error)) return true;
      } else {
        size_t start = pos_;
        while (pos_ < n) {
          char c = data[pos_];
          if (c == ',' || c == '\n' || c == '\r') break;
          ++pos_;
        }
        rec->fields.emplace_back(data + start, pos_ - start);
      }
      if (pos_ >= n) return true;
      char c = data[pos_];
      if (c == ',') {
        ++pos_;
        if (pos_ >= n) {  // trailing comma at end of input: one more empty field
          rec->fields.emplace_back();
          return true;
        }
        continue;
      }
      // End of record.
      if (c == '\r') ++pos_;
      if (pos_ < n && data[pos_] == '\n') {
        ++pos_;
      }
      ++line_;
      return true;
    }
  }

  int64_t line() const { return line_; }
  size_t pos() const { return pos_; }
  // Continues at byte `pos`, which starts a record on line `line`.
  void Seek(size_t pos, int64_t line) {
    pos_ = pos;
    line_ = line;
  }

 private:
  bool QuotedField(Record* rec, std::string* error) {
    const size_t n = text_.size();
    const int64_t start_line = line_;
    size_t start = ++pos_;
    // Fast path: no escaped quotes inside.
    std::string* buf = nullptr;
    while (true) {
      const void* q = std::memchr(text_.data() + pos_, '"', n - pos_);
      if (q == nullptr) {
        *error = fmt::format("unterminated quoted field starting on line {}", start_line);
        pos_ = n;
        return false;
      }
      size_t qpos = static_cast<const char*>(q) - text_.data();
      line_ += std::count(text_.data() + pos_, text_.data() + qpos, '\n');
      if (qpos + 1 < n && text_[qpos + 1] == '"') {
        if (buf == nullptr) buf = NewScratch();
        buf->append(text_.data() + start, qpos + 1 - start);
        pos_ = start = qpos + 2;
        continue;
      }
      if (buf != nullptr) {
        buf->append(text_.data() + start, qpos - start);
        rec->fields.emplace_back(*buf);
      } else {
        rec->fields.emplace_back(text_.data() + start, qpos - start);
      }
      pos_ = qpos + 1;
      if (pos_ < n && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        *error = fmt::format("unexpected character '{}' after a closing quote", text_[pos_]);
        // Resynchronise at the end of the line.
        while (pos_ < n && text_[pos_] != '\n') ++pos_;
        if (pos_ < n) ++pos_;
        ++line_;
        return false;
      }
      return true;
    }
  }

  std::string* NewScratch() {
    if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
    std::string* s = &scratch_[scratch_used_++];
    s->clear();
    return s;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
  std::deque<std::string> scratch_;
  size_t scratch_used_ = 0;
};

// Clinger's fast path: a decimal whose digits form an integer of at most 2^53 and whose power
// of ten is within ±22 converts with one exact division, so the result is the correctly
// rounded double, as from_chars would give. Scans [p, end) for [+-]digits[.digits] and
// returns where the decimal ends, or nullptr when there is none or it is outside the fast
// path (too many digits, an exponent is left to the caller since parsing stops there).
inline const char* ScanDecimal(const char* p, const char* end, double* out) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  bool neg = false;
  if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
  uint64_t mant = 0;
  const char* start = p;
  while (p < end && static_cast<unsigned>(*p - '0') < 10) {
    mant = mant * 10 + static_cast<unsigned>(*p - '0');
    ++p;
  }
  const char* int_end = p;
  int frac_digits = 0;
  if (p < end && *p == '.') {
    ++p;
    const char* fs = p;
    while (p < end && static_cast<unsigned>(*p - '0') < 10) {
      mant = mant * 10 + static_cast<unsigned>(*p - '0');
      ++p;
    }
    frac_digits = static_cast<int>(p - fs);
  }
  const int64_t all_digits = (int_end - start) + frac_digits;
  if (all_digits == 0) return nullptr;
  if (all_digits > 19) {
    // Up to 19 significant digits cannot overflow: count them past the leading zeros.
    int64_t zeros = 0;
    for (const char* z = start; z < p && (*z == '0' || *z == '.'); ++z) zeros += *z == '0';
    if (all_digits - zeros > 19) return nullptr;
  }
  // The mantissa must also be exactly representable.
  if (frac_digits > 22 || mant > (uint64_t{1} << 53)) return nullptr;
  double v = static_cast<double>(mant);
  if (frac_digits) v /= kPow10[frac_digits];
  *out = neg ? -v : v;
  return p;
}

// a == b for the short strings of categorical cells, without a call to memcmp.
inline bool SameText(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

bool FastDecimal(std::string_view s, double* out) {
  const char* e = s.data() + s.size();
  return ScanDecimal(s.data(), e, out) == e;
}

// The end of an unquoted field starting at p: the next ',', '\n' or '\r' (or end). Sixteen
// bytes at a time (SSE2) while that many remain.
inline const char* FieldEnd(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                                     _mm_cmpeq_epi8(v, cr));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != ',' && *p != '\n' && *p != '\r') ++p;
  return p;
}

bool IsBoolToken(std::string_view s, bool* value) {
  if (s == "True" || s == "true" || s == "TRUE") {
    *value = true;
    return true;
  }
  if (s == "False" || s == "false" || s == "FALSE") {
    *value = false;
    return true;
  }
  return false;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Builds one column while rows stream by.
class ColumnBuilder {
 public:
  ColumnBuilder(std::string name, ColumnType type, bool strict) : strict_(strict) {
    col_.name = std::move(name);
    col_.type = type;
    if (type == ColumnType::kBoolean) {
      col_.dictionary = {"False", "True"};
    }
  }

  // Appends one cell. Returns false (and sets *error) only for a strict column's bad cell.
  bool Add(std::string_view raw, int64_t row, std::string* error) {
    if (col_.type == ColumnType::kContinuous) {
      // Most cells are plain decimals: try that first, before trimming and token checks.
      double v = 0;
      if (FastDecimal(raw, &v)) {
        col_.numbers.push_back(v);
        return true;
      }
    } else if (col_.type == ColumnType::kCategorical) {
      // A cell equal to a known category is already trimmed and not a missing token.
      const int32_t code = Lookup(raw);
      if (code >= 0) {
        has_last_ = true;
        last_code_ = code;
        col_.codes.push_back(code);
        return true;
      }
    } else if (col_.type == ColumnType::kBoolean && (raw == "True" || raw == "False")) {
      col_.codes.push_back(raw[0] == 'T' ? 1 : 0);
      return true;
    }
    std::string_view s = Trim(raw);
    const bool missing = IsMissingToken(s);
    switch (col_.type) {
      case ColumnType::kContinuous: {
        double v = std::numeric_limits<double>::quiet_NaN();
        if (!missing && !ParseNumber(s, &v))
          return Bad(raw, row, "a number", error,
                     [&] { col_.numbers.push_back(std::numeric_limits<double>::quiet_NaN()); });
        col_.numbers.push_back(v);
        return true;
      }
      case ColumnType::kTimestamp: {
        int64_t t = kMissingTimestamp;
        if (!missing && !ParseTimestamp(s, &t))
          return Bad(raw, row, "a timestamp", error,
                     [&] { col_.timestamps.push_back(kMissingTimestamp); });
        col_.timestamps.push_back(t);
        return true;
      }
      case ColumnType::kBoolean: {
        bool b = false;
        if (missing) {
          col_.codes.push_back(kMissingCode);
          return true;
        }
        if (!IsBoolToken(s, &b)) {
          double d;
          if (ParseNumber(s, &d) && (d == 0 || d == 1)) {
            b = d == 1;
          } else {
            return Bad(raw, row, "a boolean", error, [&] { col_.codes.push_back(kMissingCode); });
          }
        }
        col_.codes.push_back(b ? 1 : 0);
        return true;
      }
      case ColumnType::kCategorical: {
        if (missing) {
          col_.codes.push_back(kMissingCode);
          return true;
        }
        int32_t code = Lookup(s);
        if (code < 0) {
          code = static_cast<int32_t>(col_.dictionary.size());
          col_.dictionary.emplace_back(s);
          dictionary_rows_.push_back(row);
          if (!index_.empty()) index_.emplace(col_.dictionary.back(), code);
        }
        has_last_ = true;
        last_code_ = code;
        col_.codes.push_back(code);
        return true;
      }
    }
    return true;
  }

  void Reserve(size_t n) {
    if (col_.type == ColumnType::kContinuous) {
      col_.numbers.reserve(n);
    } else if (col_.type == ColumnType::kTimestamp) {
      col_.timestamps.reserve(n);
    } else {
      col_.codes.reserve(n);
    }
  }

  bool continuous() const { return col_.type == ColumnType::kContinuous; }
  // Appends a parsed number to a continuous column.
  void PushNumber(double v) { col_.numbers.push_back(v); }
  // Drops every cell after the first `rows` rows (undoing a partly added row).
  void Truncate(size_t rows) {
    if (col_.numbers.size() > rows) col_.numbers.resize(rows);
    if (col_.timestamps.size() > rows) col_.timestamps.resize(rows);
    if (col_.codes.size() > rows) col_.codes.resize(rows);
    while (!col_.unparseable_rows.empty() &&
           col_.unparseable_rows.back() >= static_cast<int64_t>(rows)) {
      col_.unparseable_rows.pop_back();
      --col_.unparseable;
    }
    // Categories first seen in the undone row.
    while (!dictionary_rows_.empty() && dictionary_rows_.back() > static_cast<int64_t>(rows)) {
      index_.erase(col_.dictionary.back());
      col_.dictionary.pop_back();
      dictionary_rows_.pop_back();
      has_last_ = false;
    }
  }

  Column Finish() { return std::move(col_); }
  const std::string& name() const { return col_.name; }

 private:
  template <typename F>
  bool Bad(std::string_view raw, int64_t row, const char* what, std::string* error,
           F push_missing) {
    if (strict_) {
      *error = fmt::format(
          "'{}' is not {}; the column's type was inferred as {} from the first rows "
          "(declare it under column_types to count such cells instead)",
          raw.substr(0, 60), what, ColumnTypeName(col_.type));
      return false;
    }
    push_missing();
    ++col_.unparseable;
    col_.unparseable_rows.push_back(row - 1);
    return true;
  }

  static constexpr size_t kLinearDictionary = 16;

  // The code of category `s`, or -1 when the dictionary does not hold it.
  int32_t Lookup(std::string_view s) {
    if (has_last_ && SameText(s, col_.dictionary[last_code_])) return last_code_;
    const size_t k = col_.dictionary.size();
    if (k <= kLinearDictionary) {
      // Few categories (the usual case): comparing beats hashing.
      for (size_t i = 0; i < k; ++i) {
        if (SameText(col_.dictionary[i], s)) return static_cast<int32_t>(i);
      }
      return -1;
    }
    if (index_.empty()) {
      for (size_t i = 0; i < k; ++i) index_.emplace(col_.dictionary[i], static_cast<int32_t>(i));
    }
    auto it = index_.find(s);
    return it != index_.end() ? it->second : -1;
  }

  Column col_;
  bool strict_;
  // Category -> code, built once the dictionary outgrows kLinearDictionary.
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> index_;
  std::vector<int64_t> dictionary_rows_;  // categorical: the row that added each category
  bool has_last_ = false;                 // the previous cell's category, tried first
  int32_t last_code_ = 0;
};

class CsvSource : public DataSource {
 public:
  ~CsvSource() override { Release(); }
  CsvSource(std::string path, std::string name, std::string text, bool loaded)
      : path_(std::move(path)),
        name_(std::move(name)),
        text_(std::move(text)),
        loaded_(loaded),
        reloadable_(!loaded) {}

  std::string Name() const override { return name_; }

  StatusOr<std::vector<std::string>> ColumnNames() override {
    RETURN_IF_ERROR(Load());
    return header_;
  }

  StatusOr<std::map<std::string, ColumnType>> InferTypes(const ReadOptions& options) override {
    RETURN_IF_ERROR(Load());
    ASSIGN_OR_RETURN(std::vector<size_t> idx, Resolve(options.columns));
    std::map<std::string, ColumnType> out;
    struct Flags {
      bool number = true, boolean = true, timestamp = true, any = false;
    };
    std::vector<Flags> flags(idx.size());
    Tokenizer tok(Text());
    Record rec;
    std::string error;
    tok.Next(&rec, &error);  // header
    for (int64_t r = 0; r < kInferenceRows && tok.Next(&rec, &error); ++r) {
      if (!error.empty() || rec.fields.size() != header_.size()) continue;
      for (size_t k = 0; k < idx.size(); ++k) {
        std::string_view s = Trim(rec.fields[idx[k]]);
        if (IsMissingToken(s)) continue;
        Flags& f = flags[k];
        f.any = true;
        double d;
        bool b;
        int64_t t;
        if (f.number && !ParseNumber(s, &d)) f.number = false;
        if (f.boolean && !IsBoolToken(s, &b)) f.boolean = false;
        if (f.timestamp && !f.number && !ParseTimestamp(s, &t)) f.timestamp = false;
      }
    }
    for (size_t k = 0; k < idx.size(); ++k) {
      const std::string& name = header_[idx[k]];
      auto declared = options.types.find(name);
      if (declared != options.types.end()) {
        out[name] = declared->second;
        continue;
      }
      const Flags& f = flags[k];
      ColumnType t = ColumnType::kCategorical;
      if (!f.any || f.number)
        t = ColumnType::kContinuous;
      else if (f.boolean)
        t = ColumnType::kBoolean;
      else if (f.timestamp)
        t = ColumnType::kTimestamp;
      out[name] = t;
    }
    return out;
  }

  StatusOr<Table> Read(const ReadOptions& options) override {
    RETURN_IF_ERROR(Load());
    ASSIGN_OR_RETURN(std::vector<size_t> idx, Resolve(options.columns));
    std::map<std::string, ColumnType> types = options.types;
    std::set<std::string> strict = options.strict_columns;
    bool need_inference = false;
    for (size_t i : idx) {
      if (!types.count(header_[i])) need_inference = true;
    }
    if (need_inference) {
      ReadOptions infer = options;
      ASSIGN_OR_RETURN(auto inferred, InferTypes(infer));
      for (auto& [name, type] : inferred) {
        if (!types.count(name)) {
          types[name] = type;
          strict.insert(name);
        }
      }
    }
    // Map file column -> builder slot (or -1).
    std::vector<int> slot(header_.size(), -1);
    std::vector<ColumnBuilder> builders;
    builders.reserve(idx.size());
    for (size_t k = 0; k < idx.size(); ++k) {
      const std::string& name = header_[idx[k]];
      slot[idx[k]] = static_cast<int>(k);
      builders.emplace_back(name, types.at(name), strict.count(name) > 0);
    }
    // The row count estimated from the first 256 KiB, with a margin, keeps the vectors from
    // reallocating in the usual case; capacity that is never written costs no memory.
    std::string_view text = Text();
    const size_t sample = std::min<size_t>(text.size(), 256 << 10);
    const size_t sample_lines = std::count(text.begin(), text.begin() + sample, '\n') + 1;
    const size_t approx_rows = static_cast<size_t>(
        1.25 * static_cast<double>(sample_lines) * static_cast<double>(text.size()) /
            static_cast<double>(std::max<size_t>(sample, 1)) +
        1024);
    for (auto& b : builders) b.Reserve(approx_rows);

    Table table;
    table.source = name_;
    Tokenizer tok(text);
    Record rec;
    std::string error;
    tok.Next(&rec, &error);  // header
    int64_t row = 0;
    const size_t ncols = header_.size();
    // One record from the general tokenizer: counted, skipped or added to the builders.
    auto take = [&]() -> Status {
      if (error.empty() && rec.fields.size() != ncols) {
        error = fmt::format("expected {} fields (as in the header), found {}", ncols,
                            rec.fields.size());
      }
      if (!error.empty()) {
        if (options.on_bad_rows == BadRowPolicy::kSkip) {
          ++table.skipped_rows;
          return OkStatus();
        }
        return InvalidArgument(
            fmt::format("{}:{}: malformed row: {} (use --on-bad-rows=skip to skip "
                        "and count such rows)",
                        name_, rec.line, error));
      }
      ++row;
      for (size_t f = 0; f < ncols; ++f) {
        int s = slot[f];
        if (s < 0) continue;
        if (!builders[s].Add(rec.fields[f], row, &error)) {
          return InvalidArgument(fmt::format("{}:{}: column '{}' (field {}): {}", name_, rec.line,
                                             builders[s].name(), f + 1, error));
        }
      }
      return OkStatus();
    };

    // Fast path: rows without quotes are split and parsed in one pass over their bytes, the
    // common numbers converted as they are scanned. Anything unusual in a row (a quote, a
    // wrong field count, a lone '\r', a cell a strict column rejects) undoes the row's cells
    // and hands the row to the general tokenizer above, so both paths give the same table
    // and the same errors. After many such rows the rest of the file takes the general path.
    const char* const base = text.data();
    const char* const end = base + text.size();
    const char* p = base + tok.pos();
    int64_t line = tok.line();
    int64_t slow_rows = 0;
    constexpr int64_t kMaxSlowRows = 1000;
    while (p < end && slow_rows < kMaxSlowRows) {
      if (*p == '\n') {  // blank lines (pandas' skip_blank_lines)
        ++line;
        ++p;
        continue;
      }
      if (*p == '\r') {
        ++p;
        continue;
      }
      const char* q = p;
      bool ok = true;
      for (size_t f = 0; f < ncols && ok; ++f) {
        if (q < end && *q == '"') {
          ok = false;
          break;
        }
        const int s = slot[f];
        const char* fe = nullptr;
        if (s >= 0 && builders[s].continuous()) {
          double v = 0;
          const char* r = ScanDecimal(q, end, &v);
          if (r != nullptr && (r == end || *r == ',' || *r == '\n' || *r == '\r')) {
            builders[s].PushNumber(v);
            fe = r;
          }
        }
        if (fe == nullptr) {
          fe = FieldEnd(q, end);
          if (s >= 0 && !builders[s].Add(std::string_view(q, fe - q), row + 1, &error)) {
            ok = false;
            break;
          }
        }
        if (f + 1 < ncols) {
          if (fe < end && *fe == ',')
            q = fe + 1;
          else
            ok = false;
        } else if (fe == end) {
          q = end;
        } else if (*fe == '\n') {
          q = fe + 1;
        } else if (*fe == '\r' && (fe + 1 == end || fe[1] == '\n')) {
          q = fe + 1 == end ? end : fe + 2;
        } else {
          ok = false;
        }
      }
      if (ok) {
        ++row;
        ++line;
        p = q;
        continue;
      }
      for (auto& b : builders) b.Truncate(static_cast<size_t>(row));
      ++slow_rows;
      tok.Seek(static_cast<size_t>(p - base), line);
      if (!tok.Next(&rec, &error)) break;
      RETURN_IF_ERROR(take());
      p = base + tok.pos();
      line = tok.line();
    }
    if (p < end) {
      tok.Seek(static_cast<size_t>(p - base), line);
      while (tok.Next(&rec, &error)) RETURN_IF_ERROR(take());
    }
    table.num_rows = static_cast<size_t>(row);
    for (auto& b : builders) table.columns.push_back(b.Finish());
    if (reloadable_) {
      // The bytes are no longer needed; a later call reads the file again.
      Release();
      loaded_ = false;
    }
    return table;
  }

 private:
  Status Load() {
    if (!loaded_) {
      RETURN_IF_ERROR(ReadWholeFile());
      loaded_ = true;
    }
    if (!header_parsed_) {
      Tokenizer tok(Text());
      Record rec;
      std::string error;
      if (!tok.Next(&rec, &error))
        return InvalidArgument(fmt::format("{}: empty file (no header row)", name_));
      if (!error.empty())
        return InvalidArgument(fmt::format("{}:1: malformed header: {}", name_, error));
      for (auto f : rec.fields) header_.emplace_back(Trim(f));
      for (size_t i = 0; i < header_.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (header_[i] == header_[j] && !header_[i].empty()) {
            return InvalidArgument(
                fmt::format("{}:1: duplicate column name '{}' (fields {} and {})", name_,
                            header_[i], j + 1, i + 1));
          }
        }
      }
      header_parsed_ = true;
    }
    return OkStatus();
  }

  Status ReadWholeFile() {
    FILE* f = std::fopen(path_.c_str(), "rb");
    if (f == nullptr) {
      return NotFound(fmt::format("{}: cannot open: {}", path_, std::strerror(errno)));
    }
    unsigned char magic[2] = {0, 0};
    size_t got = std::fread(magic, 1, 2, f);
    bool gz = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gz) {
      // Map plain files: no copy of the bytes and no zero-filled buffer.
      struct stat st;
      if (fstat(fileno(f), &st) != 0) {
        std::fclose(f);
        return Internal(fmt::format("{}: cannot stat: {}", path_, std::strerror(errno)));
      }
      size_t size = static_cast<size_t>(st.st_size);
      if (size > 0) {
        void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fileno(f), 0);
        if (m == MAP_FAILED) {
          std::fclose(f);
          return Internal(fmt::format("{}: cannot map: {}", path_, std::strerror(errno)));
        }
        madvise(m, size, MADV_SEQUENTIAL);
        map_ = m;
        map_size_ = size;
      }
      std::fclose(f);
      return OkStatus();
    }
    std::fclose(f);
    gzFile g = gzopen(path_.c_str(), "rb");
    if (g == nullptr) return NotFound(fmt::format("{}: cannot open", path_));
    gzbuffer(g, 1 << 20);
    constexpr size_t kBlock = 4 << 20;
    size_t used = 0;
    while (true) {
      text_.resize(used + kBlock);
      int n = gzread(g, text_.data() + used, static_cast<unsigned>(kBlock));
      if (n < 0) {
        int errnum = 0;
        std::string msg = gzerror(g, &errnum);
        gzclose(g);
        return InvalidArgument(fmt::format("{}: corrupt gzip data: {}", path_, msg));
      }
      used += static_cast<size_t>(n);
      if (n == 0) break;
    }
    gzclose(g);
    text_.resize(used);
    text_.shrink_to_fit();
    return OkStatus();
  }

  StatusOr<std::vector<size_t>> Resolve(const std::vector<std::string>& columns) {
    std::vector<size_t> idx;
    if (columns.empty()) {
      for (size_t i = 0; i < header_.size(); ++i) idx.push_back(i);
      return idx;
    }
    for (const auto& c : columns) {
      auto it = std::find(header_.begin(), header_.end(), c);
      if (it == header_.end()) {
        std::string have;
        for (size_t i = 0; i < header_.size() && i < 30; ++i) have += (i ? ", " : "") + header_[i];
        return NotFound(
            fmt::format("{}:1: unknown column '{}' (the header has: {})", name_, c, have));
      }
      idx.push_back(static_cast<size_t>(it - header_.begin()));
    }
    return idx;
  }

  std::string_view Text() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), map_size_)
                           : std::string_view(text_);
  }
  void Release() {
    std::string().swap(text_);
    if (map_ != nullptr) munmap(map_, map_size_);
    map_ = nullptr;
    map_size_ = 0;
  }

  std::string path_;
  std::string name_;
  std::string text_;     // gzip-decompressed or in-memory text
  void* map_ = nullptr;  // plain files are memory-mapped instead
  size_t map_size_ = 0;
  bool loaded_;
  bool reloadable_;
  bool header_parsed_ = false;
  std::vector<std::string> header_;
};

}  // namespace

bool IsMissingToken(std::string_view s) {
  // pandas' default na_values: "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN",
  // "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan",
  // "null". Dispatch on the first character so that ordinary cells are rejected at once.
  if (s.empty()) return true;
  if (s.size() > 8) return false;
  switch (s[0]) {
    case 'N':
      return s == "NA" || s == "NaN" || s == "NULL" || s == "None" || s == "N/A";
    case 'n':
      return s == "nan" || s == "null" || s == "n/a";
    case '#':
      return s == "#N/A" || s == "#NA" || s == "#N/A N/A";
    case '<':
      return s == "<NA>";
    case '-':
      return s.size() >= 4 && (s == "-NaN" || s == "-nan" || s == "-1.#IND" || s == "-1.#QNAN");
    case '1':
      return s.size() >= 5 && s[1] == '.' && (s == "1.#IND" || s == "1.#QNAN");
    default:
      return false;
  }
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  if (FastDecimal(s, out)) return true;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') ++b;
  if (b == e) return false;
  auto [ptr, ec] = std::from_chars(b, e, *out);
  if (ptr != e) return false;
  if (ec == std::errc::result_out_of_range) {
    // Overflow: from_chars leaves *out unchanged; follow strtod (±inf, or 0 on underflow).
    *out = std::strtod(std::string(s).c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

bool ParseTimestamp(std::string_view s, int64_t* nanos) {
  int y, mo, d;
  if (s.size() < 10 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  int64_t t = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400LL;
  int64_t frac_ns = 0;
  size_t p = 10;
  if (p < s.size()) {
    if (s[p] != ' ' && s[p] != 'T') return false;
    int h, mi, sec = 0;
    if (!Digits(s, p + 1, 2, &h) || p + 3 >= s.size() || s[p + 3] != ':' ||
        !Digits(s, p + 4, 2, &mi)) {
      return false;
    }
    p += 6;
    if (p < s.size() && s[p] == ':') {
      if (!Digits(s, p + 1, 2, &sec)) return false;
      p += 3;
      if (p < s.size() && s[p] == '.') {
        ++p;
        int64_t scale = 100000000;
        size_t start = p;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          if (scale > 0) frac_ns += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
        }
        if (p == start) return false;
      }
    }
    if (p < s.size() && s[p] == 'Z') ++p;
    if (p != s.size() || h > 23 || mi > 59 || sec > 60) return false;
    t += h * 3600LL + mi * 60LL + sec;
  }
  // Nanoseconds in int64 span 1677-09-21 .. 2262-04-11 (pandas' Timestamp range); anything
  // outside is not a timestamp.
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000LL - 1;
  if (t > kMaxSeconds || t < -kMaxSeconds) return false;
  *nanos = t * 1000000000LL + frac_ns;
  return true;
}

std::string FormatTimestamp(int64_t nanos) {
  if (nanos == kMissingTimestamp) return "";
  int64_t secs = nanos >= 0 ? nanos / 1000000000LL : -((-nanos + 999999999LL) / 1000000000LL);
  int64_t frac = nanos - secs * 1000000000LL;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  // civil_from_days
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  std::string out = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", y, m, d, rem / 3600,
                                (rem / 60) % 60, rem % 60);
  if (frac != 0) {
    if (frac % 1000 == 0)
      out += fmt::format(".{:06}", frac / 1000);
    else
      out += fmt::format(".{:09}", frac);
  }
  return out;
}

std::unique_ptr<DataSource> OpenCsvFile(std::string path) {
  std::string name = path;
  return std::make_unique<CsvSource>(std::move(path), std::move(name), std::string(), false);
}

std::unique_ptr<DataSource> CsvFromString(std::string text, std::string name) {
  return std::make_unique<CsvSource>(name, name, std::move(text), true);
}

}  // namespace cairn::monitor
