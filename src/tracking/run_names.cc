#include "tracking/run_names.h"

#include <iterator>

#include "common/ids.h"

namespace cairn::tracking {

namespace {
// cairn's own word lists (lowercase, no dashes inside a word).
constexpr const char* kAdjectives[] = {
    "amber",   "bold",    "brave",   "bright",  "calm",    "clever",  "crisp",   "daring",
    "eager",   "fancy",   "gentle",  "glad",    "golden",  "grand",   "happy",   "humble",
    "jolly",   "keen",    "kind",    "lively",  "lucky",   "merry",   "mighty",  "misty",
    "nimble",  "noble",   "polite",  "proud",   "quick",   "quiet",   "rapid",   "rustic",
    "serene",  "shiny",   "silent",  "smooth",  "snowy",   "steady",  "sunny",   "swift",
    "tidy",    "vivid",   "wise",    "witty",   "zesty",   "bouncy",  "cosmic",  "dapper"};
constexpr const char* kNouns[] = {
    "badger",  "bear",    "bison",   "cairn",   "comet",   "crane",   "deer",    "dolphin",
    "eagle",   "falcon",  "finch",   "fox",     "gecko",   "glacier", "hare",    "heron",
    "ibis",    "jaguar",  "kestrel", "koala",   "lark",    "lynx",    "meadow",  "mole",
    "moose",   "newt",    "otter",   "owl",     "panda",   "pebble",  "quail",   "raven",
    "river",   "robin",   "salmon",  "seal",    "sparrow", "stone",   "swan",    "tiger",
    "trout",   "turtle",  "valley",  "vole",    "walrus",  "whale",   "wren",    "yak"};
}  // namespace

std::string GenerateRunName() {
  uint64_t r = RandomU64();
  const size_t na = std::size(kAdjectives), nn = std::size(kNouns);
  std::string name = kAdjectives[r % na];
  r /= na;
  name += '-';
  name += kNouns[r % nn];
  r /= nn;
  name += '-';
  name += std::to_string(r % 1000);
  return name;
}

}  // namespace cairn::tracking
