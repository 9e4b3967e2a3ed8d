#include "storage/s3_object_store.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <tinyxml2.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

namespace ark {
namespace {

std::string XmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Base64Md5(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

std::string StripQuotes(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// "2026-11-25T18:41:32.123Z" -> µs since the epoch (0 if unparsable).
uint64_t ParseIso8601(const char* text) {
  if (text == nullptr) return 0;
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) < 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t t = timegm(&tm);
  return t < 0 ? 0 : static_cast<uint64_t>(t) * 1000000u + static_cast<uint64_t>(millis) * 1000u;
}

const char* ChildText(const tinyxml2::XMLElement* e, const char* name) {
  const tinyxml2::XMLElement* c = e->FirstChildElement(name);
  return c != nullptr && c->GetText() != nullptr ? c->GetText() : "";
}

bool ValidBucketName(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  return true;
}

// Reads up to n bytes (fewer only at the end of the stream).
Result<std::string> ReadChunk(ObjectReader* reader, size_t n) {
  std::string chunk(n, '\0');
  size_t filled = 0;
  while (filled < n) {
    ARK_ASSIGN_OR_RETURN(size_t got, reader->Read(chunk.data() + filled, n - filled));
    if (got == 0) break;
    filled += got;
  }
  chunk.resize(filled);
  return chunk;
}

}  // namespace

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Open(S3Options options) {
  if (!ValidBucketName(options.bucket)) {
    return Status::InvalidArgument("S3 bucket name \"" + options.bucket +
                                   "\" is not 3-63 characters of a-z 0-9 . -");
  }
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("S3 bucket " + options.bucket +
                                   ": no credentials (set AWS_ACCESS_KEY_ID and "
                                   "AWS_SECRET_ACCESS_KEY or pass them in the options)");
  }
  if (!options.endpoint.empty() && options.endpoint.rfind("http://", 0) != 0 &&
      options.endpoint.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("S3 endpoint \"" + options.endpoint +
                                   "\" must start with http:// or https://");
  }
  if (options.endpoint.find('@') != std::string::npos) {
    return Status::InvalidArgument("S3 endpoint must not carry credentials (user@host)");
  }
  if (options.region.empty()) return Status::InvalidArgument("S3: empty region");
  if (!options.prefix.empty() && options.prefix.back() != '/') options.prefix += '/';
  if (options.part_size < (5ull << 20)) {
    return Status::InvalidArgument("S3 part_size " + std::to_string(options.part_size) +
                                   " is below the S3 minimum of 5 MiB");
  }
  if (options.max_parallel_parts < 1) options.max_parallel_parts = 1;
  if (options.delete_batch_size < 1 || options.delete_batch_size > 1000) {
    options.delete_batch_size = 1000;
  }
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(options)));
}

std::string S3ObjectStore::Describe() const {
  const auto& o = client_.options();
  std::string prefix = o.prefix;
  if (!prefix.empty()) prefix.pop_back();
  return "s3://" + o.bucket + (prefix.empty() ? "" : "/" + prefix);
}

Status S3ObjectStore::Put(const std::string& key, std::string_view data,
                          const PutOptions& options) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  if (data.size() <= client_.options().multipart_threshold) {
    return PutSingle(FullKey(key), data, options);
  }
  StringObjectReader reader(data);
  return PutStream(key, &reader, options);
}

Status S3ObjectStore::PutSingle(const std::string& full_key, std::string_view data,
                                const PutOptions& options) {
  S3Request req;
  req.method = "PUT";
  req.key = full_key;
  req.body = data;
  if (options.if_absent) {
    if (!client_.options().conditional_put) {
      return Status::NotSupported(Describe() + ": put-if-absent is disabled for this server");
    }
    req.headers.push_back("If-None-Match: *");
  }
  return client_.Execute(req, "PUT").status();
}

Status S3ObjectStore::PutStream(const std::string& key, ObjectReader* reader,
                                const PutOptions& options) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  if (options.if_absent && !client_.options().conditional_put) {
    return Status::NotSupported(Describe() + ": put-if-absent is disabled for this server");
  }
  const auto& o = client_.options();
  // Read until we know whether the object exceeds the multipart threshold.
  std::vector<std::string> head;
  uint64_t head_bytes = 0;
  bool done = false;
  while (!done && head_bytes <= o.multipart_threshold) {
    ARK_ASSIGN_OR_RETURN(std::string chunk, ReadChunk(reader, o.part_size));
    done = chunk.size() < o.part_size;
    head_bytes += chunk.size();
    if (!chunk.empty()) head.push_back(std::move(chunk));
  }
  if (head_bytes <= o.multipart_threshold) {
    if (head.size() == 1) return PutSingle(FullKey(key), head[0], options);
    std::string all;
    all.reserve(head_bytes);
    for (const auto& c : head) all += c;
    return PutSingle(FullKey(key), all, options);
  }
  return PutMultipart(FullKey(key), std::move(head), done, reader, options);
}

Status S3ObjectStore::PutMultipart(const std::string& full_key, std::vector<std::string> head,
                                   bool reader_done, ObjectReader* reader,
                                   const PutOptions& options) {
  const auto& o = client_.options();
  S3Request create;
  create.method = "POST";
  create.key = full_key;
  create.query = {{"uploads", ""}};
  ARK_ASSIGN_OR_RETURN(S3Response created, client_.Execute(create, "CreateMultipartUpload"));
  tinyxml2::XMLDocument doc;
  std::string upload_id;
  if (doc.Parse(created.body.data(), created.body.size()) == tinyxml2::XML_SUCCESS &&
      doc.FirstChildElement("InitiateMultipartUploadResult") != nullptr) {
    upload_id = ChildText(doc.FirstChildElement("InitiateMultipartUploadResult"), "UploadId");
  }
  if (upload_id.empty()) {
    return Status::IOError("S3 CreateMultipartUpload " + client_.Name(full_key) +
                           ": reply has no UploadId");
  }

  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;                // guarded by mu
  Status first_error;               // guarded by mu
  std::vector<std::string> etags;   // guarded by mu; index = part number - 1
  std::vector<std::thread> threads;

  auto launch = [&](std::string data) -> bool {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight < o.max_parallel_parts || !first_error.ok(); });
    if (!first_error.ok()) return false;
    ++in_flight;
    int number = static_cast<int>(etags.size()) + 1;
    etags.emplace_back();
    lock.unlock();
    threads.emplace_back([&, number, data = std::move(data)] {
      S3Request part;
      part.method = "PUT";
      part.key = full_key;
      part.query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}};
      part.body = data;
      auto r = client_.Execute(part, "UploadPart " + std::to_string(number));
      std::lock_guard<std::mutex> guard(mu);
      --in_flight;
      if (!r.ok()) {
        if (first_error.ok()) first_error = r.status();
      } else {
        auto it = r->headers.find("etag");
        if (it == r->headers.end() && first_error.ok()) {
          first_error = Status::IOError("S3 UploadPart " + std::to_string(number) + " " +
                                        client_.Name(full_key) + ": reply has no ETag");
        } else if (it != r->headers.end()) {
          etags[static_cast<size_t>(number - 1)] = it->second;
        }
      }
      cv.notify_all();
    });
    return true;
  };

  Status reader_error;
  bool ok = true;
  for (auto& chunk : head) {
    if (!(ok = launch(std::move(chunk)))) break;
  }
  while (ok && !reader_done) {
    auto chunk = ReadChunk(reader, o.part_size);
    if (!chunk.ok()) {
      reader_error = chunk.status();
      break;
    }
    reader_done = chunk->size() < o.part_size;
    if (chunk->empty()) break;
    ok = launch(std::move(*chunk));
  }
  for (auto& t : threads) t.join();

  Status s = !reader_error.ok() ? reader_error : first_error;
  if (s.ok()) s = CompleteMultipart(full_key, upload_id, etags, options);
  if (!s.ok()) {
    AbortMultipart(full_key, upload_id);
    return s.WithContext("multipart upload aborted");
  }
  return Status::OK();
}

Status S3ObjectStore::CompleteMultipart(const std::string& full_key, const std::string& upload_id,
                                        const std::vector<std::string>& etags,
                                        const PutOptions& options) {
  std::string xml = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < etags.size(); ++i) {
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
           XmlEscape(etags[i]) + "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  S3Request req;
  req.method = "POST";
  req.key = full_key;
  req.query = {{"uploadId", upload_id}};
  req.body = xml;
  req.content_type = "application/xml";
  if (options.if_absent) req.headers.push_back("If-None-Match: *");
  ARK_ASSIGN_OR_RETURN(S3Response r, client_.Execute(req, "CompleteMultipartUpload"));
  // S3 may answer 200 and report the failure in the body.
  S3ErrorInfo err = ParseS3Error(r.body);
  if (!err.code.empty()) {
    return Status::IOError("S3 CompleteMultipartUpload " + client_.Name(full_key) + ": " +
                           err.code + " (" + err.message + ")");
  }
  return Status::OK();
}

void S3ObjectStore::AbortMultipart(const std::string& full_key, const std::string& upload_id) {
  S3Request req;
  req.method = "DELETE";
  req.key = full_key;
  req.query = {{"uploadId", upload_id}};
  // Best effort: the upload was never completed, so nothing is visible either way.
  (void)client_.Execute(req, "AbortMultipartUpload", {200, 204, 404});
}

Status S3ObjectStore::GetStream(const std::string& key, ObjectWriter* writer,
                                std::optional<ByteRange> range) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  auto bounds_check = [&](uint64_t offset) -> Status {
    ARK_ASSIGN_OR_RETURN(ObjectInfo info, Head(key));
    if (offset > info.size) {
      return Status::InvalidArgument(Describe() + ": object \"" + key + "\": range offset " +
                                     std::to_string(offset) + " beyond size " +
                                     std::to_string(info.size));
    }
    return Status::OK();
  };
  if (range && range->length && *range->length == 0) return bounds_check(range->offset);
  S3Request req;
  req.method = "GET";
  req.key = FullKey(key);
  req.sink = writer;
  bool ranged = range && (range->offset > 0 || range->length);
  if (ranged) {
    std::optional<uint64_t> end;
    if (range->length) end = range->offset + *range->length - 1;
    req.range = std::make_pair(range->offset, end);
  }
  ARK_ASSIGN_OR_RETURN(S3Response r, client_.Execute(req, "GET", {200, 206, 416}));
  if (r.http_status == 416) return bounds_check(range ? range->offset : 0);
  // A 200 to a ranged request is fine only if the whole object lies within
  // the range (some servers answer so when the range covers everything).
  bool whole_fits = ranged && range->offset == 0 && r.http_status == 200 && range->length &&
                    r.headers.count("content-length") &&
                    std::strtoull(r.headers["content-length"].c_str(), nullptr, 10) <= *range->length;
  if (ranged && r.http_status != 206 && !whole_fits) {
    return Status::IOError(Describe() + ": object \"" + key +
                           "\": the server ignored the Range header (HTTP " +
                           std::to_string(r.http_status) + ")");
  }
  return Status::OK();
}

Result<ObjectInfo> S3ObjectStore::Head(const std::string& key) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  S3Request req;
  req.method = "HEAD";
  req.key = FullKey(key);
  ARK_ASSIGN_OR_RETURN(S3Response r, client_.Execute(req, "HEAD", {200}));
  ObjectInfo info;
  info.key = key;
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) {
    info.size = std::strtoull(it->second.c_str(), nullptr, 10);
  }
  if (auto it = r.headers.find("etag"); it != r.headers.end()) info.etag = StripQuotes(it->second);
  if (auto it = r.headers.find("last-modified"); it != r.headers.end()) {
    time_t t = curl_getdate(it->second.c_str(), nullptr);
    if (t > 0) info.mtime_micros = static_cast<uint64_t>(t) * 1000000u;
  }
  return info;
}

Result<ListPage> S3ObjectStore::List(const ListOptions& options) {
  if (options.max_keys < 1 || options.max_keys > 1000) {
    return Status::InvalidArgument(Describe() + ": list max_keys " +
                                   std::to_string(options.max_keys) + " not in 1..1000");
  }
  const std::string& base = client_.options().prefix;
  S3Request req;
  req.method = "GET";
  req.query = {{"list-type", "2"},
               {"max-keys", std::to_string(options.max_keys)},
               {"prefix", base + options.prefix}};
  if (!options.delimiter.empty()) req.query.emplace_back("delimiter", options.delimiter);
  if (!options.page_token.empty()) req.query.emplace_back("continuation-token", options.page_token);
  if (!options.start_after.empty()) req.query.emplace_back("start-after", base + options.start_after);
  ARK_ASSIGN_OR_RETURN(S3Response r, client_.Execute(req, "ListObjectsV2", {200}));

  tinyxml2::XMLDocument doc;
  const tinyxml2::XMLElement* root = nullptr;
  if (doc.Parse(r.body.data(), r.body.size()) == tinyxml2::XML_SUCCESS) {
    root = doc.FirstChildElement("ListBucketResult");
  }
  if (root == nullptr) {
    return Status::IOError("S3 ListObjectsV2 " + Describe() + ": unparsable reply");
  }
  auto strip = [&](std::string k) { return k.rfind(base, 0) == 0 ? k.substr(base.size()) : k; };
  ListPage page;
  for (auto* c = root->FirstChildElement("Contents"); c; c = c->NextSiblingElement("Contents")) {
    ObjectInfo info;
    info.key = strip(ChildText(c, "Key"));
    info.size = std::strtoull(ChildText(c, "Size"), nullptr, 10);
    info.etag = StripQuotes(ChildText(c, "ETag"));
    info.mtime_micros = ParseIso8601(ChildText(c, "LastModified"));
    page.objects.push_back(std::move(info));
  }
  for (auto* p = root->FirstChildElement("CommonPrefixes"); p;
       p = p->NextSiblingElement("CommonPrefixes")) {
    page.common_prefixes.push_back(strip(ChildText(p, "Prefix")));
  }
  if (std::string(ChildText(root, "IsTruncated")) == "true") {
    page.next_page_token = ChildText(root, "NextContinuationToken");
    if (page.next_page_token.empty()) {
      return Status::IOError("S3 ListObjectsV2 " + Describe() +
                             ": truncated reply without NextContinuationToken");
    }
  }
  return page;
}

Status S3ObjectStore::Delete(const std::string& key) {
  ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  S3Request req;
  req.method = "DELETE";
  req.key = FullKey(key);
  return client_.Execute(req, "DELETE", {200, 204, 404}).status();
}

Status S3ObjectStore::DeleteMany(const std::vector<std::string>& keys) {
  for (const auto& key : keys) ARK_RETURN_IF_ERROR(ValidateObjectKey(key).WithContext(Describe()));
  const size_t batch = static_cast<size_t>(client_.options().delete_batch_size);
  for (size_t start = 0; start < keys.size(); start += batch) {
    size_t end = std::min(keys.size(), start + batch);
    std::string xml = "<Delete><Quiet>true</Quiet>";
    for (size_t i = start; i < end; ++i) {
      xml += "<Object><Key>" + XmlEscape(FullKey(keys[i])) + "</Key></Object>";
    }
    xml += "</Delete>";
    S3Request req;
    req.method = "POST";
    req.query = {{"delete", ""}};
    req.body = xml;
    req.content_type = "application/xml";
    req.headers.push_back("Content-MD5: " + Base64Md5(xml));
    ARK_ASSIGN_OR_RETURN(S3Response r, client_.Execute(req, "DeleteObjects", {200}));
    tinyxml2::XMLDocument doc;
    if (doc.Parse(r.body.data(), r.body.size()) != tinyxml2::XML_SUCCESS) continue;
    const auto* root = doc.FirstChildElement("DeleteResult");
    if (root == nullptr) continue;
    for (auto* e = root->FirstChildElement("Error"); e; e = e->NextSiblingElement("Error")) {
      std::string code = ChildText(e, "Code");
      if (code == "NoSuchKey") continue;
      Status s = Status::IOError("S3 DeleteObjects " + client_.Name(ChildText(e, "Key")) + ": " +
                                 code + " (" + ChildText(e, "Message") + ")");
      if (code == "AccessDenied") s = Status::PermissionDenied(s.message());
      return s;
    }
  }
  return Status::OK();
}

}  // namespace ark
