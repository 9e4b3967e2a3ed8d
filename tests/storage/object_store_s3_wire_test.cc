// The S3 backend's wire behaviour against a scripted HTTP server: canonical
// URLs and headers, retries (and their absence), timeouts, resumed reads,
// multipart abort, and error messages.
#include <chrono>

#include "core/hash.h"
#include "storage/fake_http_server.h"
#include "storage/object_store_test_util.h"
#include "storage/s3_object_store.h"

namespace ark::testing {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI-secret-never-printed";

S3Options Options(const FakeHttpServer& server) {
  S3Options o;
  o.bucket = "bkt";
  o.prefix = "pre";
  o.endpoint = server.endpoint();
  o.path_style = true;
  o.region = "eu-west-3";
  o.credentials = {"AKIDEXAMPLE", kSecret, ""};
  o.base_backoff_ms = 1;
  o.max_backoff_ms = 5;
  o.max_attempts = 4;
  return o;
}

HttpReply Ok(std::string body = "") {
  HttpReply r;
  r.body = std::move(body);
  r.headers = {{"ETag", "\"etag-1\""}};
  return r;
}

HttpReply Error(int status, const std::string& code) {
  HttpReply r;
  r.status = status;
  r.body = "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>scripted " + code +
           "</Message></Error>";
  return r;
}

TEST(S3Wire, RequestsAreCanonicalForSigV4) {
  FakeHttpServer server([](const HttpRequestRecord& req, int) {
    if (req.target.find("list-type") != std::string::npos) {
      return Ok("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
    }
    return Ok();
  });
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(Options(server)));
  ASSERT_OK(store->Put("dir/a b+c.txt", "hello"));
  ListOptions list;
  list.prefix = "x/y z";
  list.delimiter = "/";
  list.page_token = "tok+/=";
  ASSERT_OK(store->List(list).status());

  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(reqs[0].target, "/bkt/pre/dir/a%20b%2Bc.txt");
  EXPECT_EQ(reqs[0].headers["x-amz-content-sha256"], ToHex(Sha256("hello")));
  EXPECT_EQ(reqs[0].headers["content-type"], "application/octet-stream");
  EXPECT_EQ(reqs[0].body, "hello");
  const std::string& auth = reqs[0].headers["authorization"];
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/eu-west-3/s3/aws4_request"), std::string::npos) << auth;
  EXPECT_NE(auth.find("x-amz-content-sha256"), std::string::npos) << auth;
  EXPECT_EQ(auth.find(kSecret), std::string::npos);
  // Sorted parameters, every value percent-encoded.
  EXPECT_EQ(reqs[1].target,
            "/bkt?continuation-token=tok%2B%2F%3D&delimiter=%2F&list-type=2&max-keys=1000"
            "&prefix=pre%2Fx%2Fy%20z");
}

TEST(S3Wire, VirtualHostedUrls) {
  S3Options o;
  o.bucket = "my-bucket";
  o.region = "eu-central-1";
  o.credentials = {"k", "s", ""};
  S3Client client(o);
  S3Request req;
  req.key = "a/b c";
  req.query = {{"uploads", ""}};
  EXPECT_EQ(client.UrlFor(req), "https://my-bucket.s3.eu-central-1.amazonaws.com/a/b%20c?uploads=");
  o.endpoint = "http://minio.local:9000";
  o.path_style = true;
  S3Client path_client(o);
  EXPECT_EQ(path_client.UrlFor(req), "http://minio.local:9000/my-bucket/a/b%20c?uploads=");
}

TEST(S3Wire, RetriesServerErrorsAndThrottlingThenSucceeds) {
  FakeHttpServer server([](const HttpRequestRecord&, int i) {
    if (i == 0) return Error(503, "SlowDown");
    if (i == 1) return Error(429, "TooManyRequests");
    if (i == 2) return Error(500, "InternalError");
    return Ok();
  });
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(Options(server)));
  ASSERT_OK(store->Put("k", "v"));
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(S3Wire, GivesUpAfterMaxAttemptsWithUnavailable) {
  FakeHttpServer server([](const HttpRequestRecord&, int) { return Error(503, "SlowDown"); });
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(Options(server)));
  Status s = store->Put("k", "v");
  EXPECT_TRUE(s.Is(StatusCode::kUnavailable)) << s.ToString();
  EXPECT_TRUE(s.IsRetryable());
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_NE(s.message().find("after 4 attempts"), std::string::npos) << s.message();
}

TEST(S3Wire, ClientErrorsAreNotRetriedAndNameBucketKeyStatusAndCode) {
  FakeHttpServer server([](const HttpRequestRecord&, int) { return Error(403, "AccessDenied"); });
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(Options(server)));
  Status s = store->Put("some/key", "v");
  EXPECT_TRUE(s.Is(StatusCode::kPermissionDenied)) << s.ToString();
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_NE(s.message().find("s3://bkt/pre/some/key"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("HTTP 403"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("AccessDenied"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find(kSecret), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("AKIDEXAMPLE"), std::string::npos) << s.message();
}

TEST(S3Wire, BadRequestIsInvalidArgumentWithoutRetry) {
  FakeHttpServer server([](const HttpRequestRecord&, int) { return Error(400, "InvalidRequest"); });
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(Options(server)));
  EXPECT_TRUE(store->Get("k").status().Is(StatusCode::kInvalidArgument));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(S3Wire, ConnectionDropsAreRetried) {
  FakeHttpServer server([](const HttpRequestRecord&, int i) {
    if (i < 2) {
      HttpReply r;
      r.action = HttpReply::Action::kDropConnection;
      return r;
    }
    return Ok("payload");
  });
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(Options(server)));
  ASSERT_OK_AND_ASSIGN(std::string got, store->Get("k"));
  EXPECT_EQ(got, "payload");
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(S3Wire, HungServerTimesOutAndIsRetried) {
  FakeHttpServer server([](const HttpRequestRecord&, int i) {
    if (i == 0) {
      HttpReply r;
      r.action = HttpReply::Action::kHang;
      r.hang_millis = 5000;
      return r;
    }
    return Ok("late but fine");
  });
  S3Options o = Options(server);
  o.request_timeout_ms = 300;
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(o));
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(std::string got, store->Get("k"));
  EXPECT_EQ(got, "late but fine");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));

  o.max_attempts = 1;
  FakeHttpServer hung([](const HttpRequestRecord&, int) {
    HttpReply r;
    r.action = HttpReply::Action::kHang;
    r.hang_millis = 5000;
    return r;
  });
  o.endpoint = hung.endpoint();
  ASSERT_OK_AND_ASSIGN(auto store2, S3ObjectStore::Open(o));
  Status s = store2->Get("k").status();
  EXPECT_TRUE(s.Is(StatusCode::kTimedOut)) << s.ToString();
}

TEST(S3Wire, InterruptedDownloadResumesWithARange) {
  std::string data = RandomBytes(100'000, 9);
  FakeHttpServer server([&](const HttpRequestRecord& req, int i) {
    HttpReply r = Ok(data);
    if (i == 0) {
      r.action = HttpReply::Action::kTruncatedBody;  // sends 50,000 bytes then closes
      return r;
    }
    // "bytes=N-"
    uint64_t from = std::stoull(req.headers.at("range").substr(6));
    r.status = 206;
    r.body = data.substr(from);
    return r;
  });
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(Options(server)));
  ASSERT_OK_AND_ASSIGN(std::string got, store->Get("k"));
  EXPECT_TRUE(got == data);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].headers.count("range"), 0u);
  EXPECT_EQ(reqs[1].headers["range"], "bytes=50000-");
}

TEST(S3Wire, FailedPartAbortsTheMultipartUpload) {
  FakeHttpServer server([](const HttpRequestRecord& req, int) {
    if (req.method == "POST" && req.target.find("?uploads=") != std::string::npos) {
      return Ok("<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
                "</InitiateMultipartUploadResult>");
    }
    if (req.method == "PUT" && req.target.find("partNumber=3&") != std::string::npos) {
      return Error(400, "InvalidPart");
    }
    return Ok();
  });
  S3Options o = Options(server);
  o.part_size = 5u << 20;
  o.multipart_threshold = 5u << 20;
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(o));
  std::string data = RandomBytes(26u << 20, 10);  // 6 parts
  Status s = store->Put("big", data);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("InvalidPart"), std::string::npos) << s.message();
  bool aborted = false, completed = false;
  for (const auto& r : server.requests()) {
    if (r.method == "DELETE" && r.target == "/bkt/pre/big?uploadId=up-1") aborted = true;
    if (r.method == "POST" && r.target == "/bkt/pre/big?uploadId=up-1") completed = true;
    if (r.method == "PUT") {
      EXPECT_EQ(r.headers.at("x-amz-content-sha256"), ToHex(Sha256(r.body)));
    }
  }
  EXPECT_TRUE(aborted);
  EXPECT_FALSE(completed);
}

TEST(S3Wire, SuccessfulMultipartCompletesWithEveryPartInOrder) {
  FakeHttpServer server([](const HttpRequestRecord& req, int) {
    if (req.method == "POST" && req.target.find("?uploads=") != std::string::npos) {
      return Ok("<InitiateMultipartUploadResult><UploadId>u/2+</UploadId>"
                "</InitiateMultipartUploadResult>");
    }
    HttpReply r = Ok();
    size_t p = req.target.find("partNumber=");
    if (p != std::string::npos) {
      r.headers = {{"ETag", "\"e" + req.target.substr(p + 11, req.target.find('&', p) - p - 11) + "\""}};
    }
    return r;
  });
  S3Options o = Options(server);
  o.part_size = 5u << 20;
  o.multipart_threshold = 5u << 20;
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(o));
  ASSERT_OK(store->Put("big", RandomBytes((15u << 20) + 1, 11)));  // 4 parts
  std::string complete;
  int parts = 0;
  for (const auto& r : server.requests()) {
    if (r.method == "PUT") {
      ++parts;
      EXPECT_NE(r.target.find("&uploadId=u%2F2%2B"), std::string::npos) << r.target;
    }
    if (r.method == "POST" && r.target == "/bkt/pre/big?uploadId=u%2F2%2B") complete = r.body;
  }
  EXPECT_EQ(parts, 4);
  EXPECT_EQ(complete,
            "<CompleteMultipartUpload>"
            "<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>&quot;e2&quot;</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>&quot;e3&quot;</ETag></Part>"
            "<Part><PartNumber>4</PartNumber><ETag>&quot;e4&quot;</ETag></Part>"
            "</CompleteMultipartUpload>");
}

TEST(S3Wire, DeleteManyBatchesWithContentMd5) {
  FakeHttpServer server([](const HttpRequestRecord&, int) { return Ok("<DeleteResult/>"); });
  S3Options o = Options(server);
  o.delete_batch_size = 2;
  ASSERT_OK_AND_ASSIGN(auto store, S3ObjectStore::Open(o));
  ASSERT_OK(store->DeleteMany({"a", "b&<c>", "d"}));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/bkt?delete=");
  EXPECT_EQ(reqs[0].body,
            "<Delete><Quiet>true</Quiet><Object><Key>pre/a</Key></Object>"
            "<Object><Key>pre/b&amp;&lt;c&gt;</Key></Object></Delete>");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/xml");
  EXPECT_FALSE(reqs[0].headers["content-md5"].empty());
}

TEST(S3Wire, OpenRejectsUnusableOptionsWithoutLeakingSecrets) {
  S3Options o;
  o.bucket = "Bad_Bucket";
  o.credentials = {"k", kSecret, ""};
  auto r = S3ObjectStore::Open(o);
  EXPECT_TRUE(r.status().Is(StatusCode::kInvalidArgument));
  o.bucket = "good";
  o.credentials = {};
  EXPECT_TRUE(S3ObjectStore::Open(o).status().Is(StatusCode::kInvalidArgument));
  o.credentials = {"k", kSecret, ""};
  o.endpoint = "ftp://x";
  auto e = S3ObjectStore::Open(o);
  EXPECT_TRUE(e.status().Is(StatusCode::kInvalidArgument));
  EXPECT_EQ(e.status().message().find(kSecret), std::string::npos);
}

}  // namespace
}  // namespace ark::testing
