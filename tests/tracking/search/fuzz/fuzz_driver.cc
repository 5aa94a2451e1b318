// Replays inputs through LLVMFuzzerTestOneInput where libFuzzer is unavailable (g++): each
// file given on the command line, and each of its lines, under every entry-point selector.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
void Run(const std::string& body) {
  for (int selector = 0; selector < 8; ++selector) {
    std::string input(1, static_cast<char>(selector));
    input += body;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
}
}  // namespace

int main(int argc, char** argv) {
  size_t inputs = 0;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string content = ss.str();
    Run(content);
    ++inputs;
    std::istringstream lines(content);
    for (std::string line; std::getline(lines, line);) {
      Run(line);
      ++inputs;
    }
  }
  std::printf("replayed %zu inputs\n", inputs);
  return 0;
}
