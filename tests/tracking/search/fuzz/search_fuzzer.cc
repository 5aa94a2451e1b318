// libFuzzer target for the search grammar: the input's first byte picks the entry point, the
// rest is the filter / order_by / page token. Every call must return OK or kInvalidArgument
// and never crash, hang or trip a sanitizer.
//
// With clang:  clang++ -std=c++20 -fsanitize=fuzzer,address,undefined -Isrc
//                tests/tracking/search/fuzz/search_fuzzer.cc <cairn_tracking_search + deps>
// With g++ (no libFuzzer) the file links with fuzz_driver.cc, which replays files and the
// lines of files given on the command line (ctest runs it over the goldens).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tracking/search/search.h"

namespace {

using namespace cairn::tracking::search;

void Check(const cairn::Status& s) {
  if (!s.ok() && s.code() != cairn::Code::kInvalidArgument) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<std::string> order_by = {std::string(text)};
  for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres}) {
    switch (data[0] % 8) {
      case 0: Check(CompileRunSearch(text, {}, d).status()); break;
      case 1: Check(CompileExperimentSearch(text, {}, d).status()); break;
      case 2: Check(CompileRegisteredModelSearch(text, {}, d).status()); break;
      case 3: Check(CompileModelVersionSearch(text, {}, d).status()); break;
      case 4: Check(CompileLoggedModelSearch(text, {}, {}, d).status()); break;
      case 5:
        Check(CompileRunSearch("", order_by, d).status());
        Check(CompileExperimentSearch("", order_by, d).status());
        Check(CompileRegisteredModelSearch("", order_by, d).status());
        Check(CompileModelVersionSearch("", order_by, d).status());
        break;
      case 6:
        Check(DecodePageToken(text).status());
        Check(DecodeLoggedModelPageToken(text, {"1"}, "", {}).status());
        break;
      default:
        Check(CompileLoggedModelSearch("", {{std::string(text), false, {}, {}}}, {}, d).status());
        break;
    }
  }
  return 0;
}
