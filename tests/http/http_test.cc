#include <gtest/gtest.h>

#include <stdexcept>

#include "http/errors.h"
#include "http/router.h"
#include "http/server.h"

namespace cairn::http {
namespace {

Handler Echo(std::string tag) {
  return [tag](const Request& req) -> StatusOr<Response> {
    std::string body = tag;
    for (const auto& [k, v] : req.path_params) body += "|" + k + "=" + v;
    return Response::Text(body);
  };
}

Request Make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(RouterTest, LiteralsBeatCapturesAndRestCapturesTakeSlashes) {
  Router router;
  router.Add("GET", "/api/logged-models/{id}", Echo("get"));
  router.Add("POST", "/api/logged-models/search", Echo("search"));
  router.Add("GET", "/files/{path...}", Echo("file"));
  auto m = router.Match("POST", "/api/logged-models/search");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/logged-models/search");
  m = router.Match("GET", "/api/logged-models/m-123");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.path_params.at("id"), "m-123");
  m = router.Match("GET", "/files/a/b/c.txt");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.path_params.at("path"), "a/b/c.txt");
  m = router.Match("GET", "/files/");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.path_params.at("path"), "");
  EXPECT_EQ(router.Match("GET", "/api/logged-models").route, nullptr);
  EXPECT_EQ(router.Match("GET", "/api/logged-models/a/b").route, nullptr);
}

TEST(RouterTest, WrongMethodIsReportedSeparately) {
  Router router;
  router.Add("POST", "/x", Echo("x"));
  auto m = router.Match("GET", "/x");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_matched_other_method);
}

TEST(DispatchTest, NeverThrowsAndMapsErrors) {
  Router router;
  router.Add("GET", "/throws", [](const Request&) -> StatusOr<Response> {
    throw std::runtime_error("boom");
  });
  router.Add("GET", "/missing", [](const Request&) -> StatusOr<Response> {
    return NotFound("Run 'x' not found");
  });
  router.Add("GET", "/exists", [](const Request&) -> StatusOr<Response> {
    return AlreadyExists("dup");
  });
  Request r = Make("GET", "/throws");
  Response resp = Dispatch(router, r);
  EXPECT_EQ(resp.status, 500);
  EXPECT_NE(resp.body.find("INTERNAL_ERROR"), std::string::npos);
  r = Make("GET", "/missing");
  resp = Dispatch(router, r);
  EXPECT_EQ(resp.status, 404);
  EXPECT_EQ(resp.body,
            R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Run 'x' not found"})");
  r = Make("GET", "/exists");
  resp = Dispatch(router, r);
  EXPECT_EQ(resp.status, 400);
  EXPECT_NE(resp.body.find("RESOURCE_ALREADY_EXISTS"), std::string::npos);
  r = Make("GET", "/nothing");
  resp = Dispatch(router, r);
  EXPECT_EQ(resp.status, 404);
  EXPECT_NE(resp.body.find("ENDPOINT_NOT_FOUND"), std::string::npos);
  r = Make("POST", "/missing");
  resp = Dispatch(router, r);
  EXPECT_EQ(resp.status, 400);
}

TEST(ErrorsTest, EveryCodeHasAStatusAndNoCallerErrorIs5xx) {
  for (Code c : {Code::kInvalidArgument, Code::kNotFound, Code::kAlreadyExists,
                 Code::kFailedPrecondition, Code::kResourceExhausted, Code::kPermissionDenied}) {
    EXPECT_LT(HttpStatusFor(c), 500) << CodeName(c);
  }
  EXPECT_EQ(HttpStatusFor(Code::kInternal), 500);
  EXPECT_EQ(HttpStatusFor(Code::kUnavailable), 503);
  EXPECT_EQ(MlflowErrorCodeFor(InvalidArgument("x").WithMlflowCode("BAD_REQUEST")), "BAD_REQUEST");
}

TEST(PercentDecodeTest, DecodesAndRejectsMalformed) {
  EXPECT_EQ(*PercentDecode("a%2Fb%2e", false), "a/b.");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_FALSE(PercentDecode("%4", false).has_value());
  EXPECT_FALSE(PercentDecode("%zz", false).has_value());
  EXPECT_FALSE(PercentDecode("abc%", false).has_value());
}

TEST(QueryStringTest, RepeatedKeysKeepOrder) {
  auto q = ParseQueryString("run_ids=a&run_ids=b&metric_key=loss%20x&flag");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], std::make_pair(std::string("run_ids"), std::string("a")));
  EXPECT_EQ(q[1].second, "b");
  EXPECT_EQ(q[2].second, "loss x");
  EXPECT_EQ(q[3], std::make_pair(std::string("flag"), std::string("")));
}

TEST(RequestTest, ContentTypeIgnoresParametersAndCase) {
  Request r;
  r.headers["content-type"] = " Application/JSON; charset=utf-8";
  EXPECT_EQ(r.ContentType(), "application/json");
}

}  // namespace
}  // namespace cairn::http
