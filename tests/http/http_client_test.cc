#include "http/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "http/router.h"
#include "http/server.h"

namespace cairn::http {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn-client-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "uploads");
    router_.Add("POST", "/echo", [](const Request& r) -> StatusOr<Response> {
      Response res = Response::Text(r.method + " " + r.target + " " + r.ContentType() + " " +
                                    r.Header("x-extra") + " " + r.body);
      res.headers.emplace_back("X-Answer", "42");
      return res;
    });
    router_.Add("GET", "/api/missing", [](const Request&) -> StatusOr<Response> {
      return NotFound("Run 'abc' not found");
    });
    router_.Add("GET", "/big", [](const Request&) -> StatusOr<Response> {
      return Response::Text(std::string(100'000, 'x'));
    });
    router_.Add("GET", "/slow", [](const Request&) -> StatusOr<Response> {
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      return Response::Text("late");
    });
    router_.Add(
        "PUT", "/upload",
        [this](const Request& r) -> StatusOr<Response> {
          fs::rename(r.body_file, dir_ / "uploads" / "got");
          return Response::Json("{\"size\":" + std::to_string(r.body_size) + "}");
        },
        RouteOptions{.stream_body_to_dir = (dir_ / "uploads").string()});
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.access_log = false;
    options.idle_timeout_ms = 200;
    server_ = std::make_unique<Server>(options, &router_);
    auto port = server_->Start();
    ASSERT_TRUE(port.ok()) << port.status().message();
    base_ = "http://127.0.0.1:" + std::to_string(*port);
  }
  void TearDown() override {
    server_->Stop();
    server_->Wait();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  Router router_;
  std::unique_ptr<Server> server_;
  std::string base_;
};

TEST(ParseHttpUrlTest, AcceptsHostPortPathAndRejectsTheRest) {
  auto url = ParseHttpUrl("http://example.org:8080/prefix/");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->host, "example.org");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->base_path, "/prefix");
  auto plain = ParseHttpUrl("http://localhost");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->base_path, "");
  auto v6 = ParseHttpUrl("http://[::1]:5000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 5000);
  EXPECT_EQ(ParseHttpUrl("https://x").status().code(), Code::kUnimplemented);
  for (const char* bad : {"ftp://x", "http://", "http://h:0", "http://h:65536", "http://h:8a",
                          "http://u:p@h", "http://h/p?q=1", "localhost:5000"}) {
    EXPECT_EQ(ParseHttpUrl(bad).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST(UrlEncodeTest, KeepsUnreservedAndEscapesTheRest) {
  EXPECT_EQ(UrlEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(UrlEncode("a b/c&d=é"), "a%20b%2Fc%26d%3D%C3%A9");
}

TEST(MlflowErrorTest, CarriesTheServersMessageAndMapsTheStatus) {
  ClientResponse r;
  r.status = 404;
  r.body = R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no such run"})";
  Status s = MlflowError(r);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "RESOURCE_DOES_NOT_EXIST: no such run");
  r.status = 502;
  r.body = "<html>bad gateway</html>";
  s = MlflowError(r);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("HTTP 502"), std::string::npos);
  r.status = 200;
  EXPECT_TRUE(MlflowError(r).ok());
}

TEST_F(HttpClientTest, SendsBodyHeadersAndReusesTheConnection) {
  auto client = HttpClient::Create(base_, ClientOptions{.headers = {{"X-Extra", "hdr"}}});
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 3; ++i) {
    auto res = (*client)->Request("POST", "/echo?i=" + std::to_string(i), "{\"a\":1}");
    ASSERT_TRUE(res.ok()) << res.status().message();
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "POST /echo?i=" + std::to_string(i) + " application/json hdr {\"a\":1}");
    EXPECT_EQ(res->Header("x-answer"), "42");
  }
  EXPECT_EQ(server_->requests_served(), 3u);
}

TEST_F(HttpClientTest, RetriesOnceWhenTheServerClosedAnIdleConnection) {
  auto client = HttpClient::Create(base_);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Request("POST", "/echo", "1").ok());
  // The server's idle timeout (200 ms) closes the kept-alive connection meanwhile.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto res = (*client)->Request("POST", "/echo", "2");
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->body, "POST /echo application/json  2");
}

TEST_F(HttpClientTest, ErrorAnswersAreResponsesNotFailures) {
  auto client = HttpClient::Create(base_ + "/api");
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Request("GET", "/missing");
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 404);
  Status s = MlflowError(*res);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_NE(s.message().find("Run 'abc' not found"), std::string::npos);
}

TEST_F(HttpClientTest, LimitsTheBodyItHolds) {
  auto client = HttpClient::Create(base_, ClientOptions{.max_body_bytes = 1000});
  ASSERT_TRUE(client.ok());
  auto res = (*client)->Request("GET", "/big");
  EXPECT_EQ(res.status().code(), Code::kResourceExhausted);
  // The client is usable again afterwards.
  auto again = (*client)->Request("POST", "/echo", "x");
  ASSERT_TRUE(again.ok()) << again.status().message();
}

TEST_F(HttpClientTest, AStalledServerIsADeadlineNotAHang) {
  auto client = HttpClient::Create(base_, ClientOptions{.timeout_ms = 100});
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Request("GET", "/slow").status().code(), Code::kDeadlineExceeded);
}

TEST_F(HttpClientTest, NobodyListeningIsUnavailable) {
  // Port 1 (tcpmux) is privileged and unused on any machine this runs on.
  auto client = HttpClient::Create("http://127.0.0.1:1");
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Request("GET", "/big").status().code(), Code::kUnavailable);
}

TEST_F(HttpClientTest, AStoppedServerNoLongerListens) {
  server_->Stop();
  server_->Wait();
  auto client = HttpClient::Create(base_, ClientOptions{.timeout_ms = 5'000});
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Request("GET", "/big").status().code(), Code::kUnavailable);
}

TEST_F(HttpClientTest, StreamsUploadsAndDownloads) {
  std::string payload(3 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 % 251);
  fs::path src = dir_ / "src.bin";
  std::ofstream(src, std::ios::binary) << payload;
  auto client = HttpClient::Create(base_, ClientOptions{.max_body_bytes = 1000});
  ASSERT_TRUE(client.ok());
  auto up = (*client)->UploadFile("PUT", "/upload", src.string());
  ASSERT_TRUE(up.ok()) << up.status().message();
  EXPECT_EQ(up->body, "{\"size\":" + std::to_string(payload.size()) + "}");
  EXPECT_EQ(ReadFile(dir_ / "uploads" / "got"), payload);

  fs::path dst = dir_ / "big.txt";
  auto down = (*client)->DownloadToFile("/big", dst.string());  // over max_body_bytes: streamed
  ASSERT_TRUE(down.ok()) << down.status().message();
  EXPECT_EQ(down->status, 200);
  EXPECT_EQ(ReadFile(dst), std::string(100'000, 'x'));

  fs::path missing = dir_ / "missing.txt";
  auto client2 = HttpClient::Create(base_ + "/api");
  ASSERT_TRUE(client2.ok());
  auto not_found = (*client2)->DownloadToFile("/missing", missing.string());
  ASSERT_TRUE(not_found.ok());
  EXPECT_EQ(not_found->status, 404);
  EXPECT_NE(not_found->body.find("not found"), std::string::npos);
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_EQ((*client)->UploadFile("PUT", "/upload", (dir_ / "nope").string()).status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace cairn::http
