// `ark objectstore ls|get|put|rm URL`: look into (and fix up) a repository in
// object storage by hand.
//
//   ark objectstore ls  [-r] [-l] [--page-size N] URL         list (URL = a store, optionally with a prefix)
//   ark objectstore get URL [FILE|-] [--range OFFSET:LENGTH]
//   ark objectstore put URL [FILE|-] [--if-absent]
//   ark objectstore rm  [-r] URL...            delete objects (-r: everything under a prefix)
//
// URLs are those of OpenObjectStore (docs/object-storage.md): a path or
// file:///path, or s3://bucket/key?endpoint=...; for get/put/rm the URL names
// one object: the last path segment (local) or the whole path (S3) is the key.
// S3 credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
// AWS_SESSION_TOKEN, the endpoint and region from AWS_ENDPOINT_URL / AWS_REGION
// or the URL.
#include <sys/stat.h>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "cli/command_registry.h"
#include "cli/time_format.h"
#include "storage/env.h"
#include "storage/object_store.h"
#include "storage/object_store_url.h"

namespace ark::cli {
namespace {

struct ObjectUrl {
  std::string store_url;  // opens the store
  std::string key;        // the object (or prefix) inside it
};

// Splits "s3://bucket/a/b?q" into ("s3://bucket?q", "a/b") and a local path
// "/x/y/z" into ("/x/y", "z"). With as_prefix the local path is the store itself.
ObjectUrl SplitUrl(const std::string& url, bool as_prefix) {
  if (url.rfind("s3://", 0) == 0) {
    std::string rest = url.substr(5), query;
    if (size_t q = rest.find('?'); q != std::string::npos) {
      query = rest.substr(q);
      rest = rest.substr(0, q);
    }
    size_t slash = rest.find('/');
    std::string bucket = rest.substr(0, slash);
    std::string key = slash == std::string::npos ? "" : rest.substr(slash + 1);
    return {"s3://" + bucket + query, key};
  }
  std::string path = url.rfind("file://", 0) == 0 ? url.substr(7) : url;
  std::string scheme = url.rfind("file://", 0) == 0 ? "file://" : "";
  if (as_prefix) return {url, ""};
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {scheme + ".", path};
  return {scheme + (slash == 0 ? "/" : path.substr(0, slash)), path.substr(slash + 1)};
}

class StdinReader final : public ObjectReader {
 public:
  Result<size_t> Read(char* buf, size_t n) override {
    size_t got = std::fread(buf, 1, n, stdin);
    if (got == 0 && std::ferror(stdin)) return Status::IOError("read standard input");
    return got;
  }
};

class StdoutWriter final : public ObjectWriter {
 public:
  Status Write(std::string_view data) override {
    if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
      return Status::IOError("write standard output");
    }
    return Status::OK();
  }
};

class FileWriter final : public ObjectWriter {
 public:
  explicit FileWriter(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}
  Status Write(std::string_view data) override { return file_->Append(data); }
  Status Finish() {
    ARK_RETURN_IF_ERROR(file_->Fsync());
    return file_->Close();
  }

 private:
  std::unique_ptr<WritableFile> file_;
};

Status Ls(const std::string& url, bool recursive, bool long_format, int page_size) {
  ObjectUrl u = SplitUrl(url, /*as_prefix=*/true);
  ARK_ASSIGN_OR_RETURN(auto store, OpenObjectStore(u.store_url));
  ListOptions options;
  options.prefix = u.key;
  options.max_keys = page_size;
  if (!recursive) options.delimiter = "/";
  for (;;) {
    ARK_ASSIGN_OR_RETURN(ListPage page, store->List(options));
    for (const auto& p : page.common_prefixes) std::printf("%32s  %s\n", "PRE", p.c_str());
    for (const auto& o : page.objects) {
      if (long_format) {
        std::printf("%12llu  %s  %s  %s\n", static_cast<unsigned long long>(o.size),
                    IsoTime(o.mtime_micros).c_str(), o.etag.c_str(), o.key.c_str());
      } else {
        std::printf("%12llu  %s  %s\n", static_cast<unsigned long long>(o.size),
                    IsoTime(o.mtime_micros).c_str(), o.key.c_str());
      }
    }
    if (page.next_page_token.empty()) break;
    options.page_token = page.next_page_token;
  }
  return Status::OK();
}

Status Get(const std::string& url, const std::string& file, const std::string& range) {
  ObjectUrl u = SplitUrl(url, false);
  ARK_ASSIGN_OR_RETURN(auto store, OpenObjectStore(u.store_url));
  std::optional<ByteRange> byte_range;
  if (!range.empty()) {
    size_t colon = range.find(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("--range \"" + range + "\": expected OFFSET:LENGTH");
    }
    byte_range = ByteRange{std::stoull(range.substr(0, colon)), std::nullopt};
    if (colon + 1 < range.size()) byte_range->length = std::stoull(range.substr(colon + 1));
  }
  if (file.empty() || file == "-") {
    StdoutWriter out;
    ARK_RETURN_IF_ERROR(store->GetStream(u.key, &out, byte_range));
    std::fflush(stdout);
    return Status::OK();
  }
  // Write beside the target and rename: a failed download leaves no half file.
  std::string tmp = file + ".ark-download";
  ARK_ASSIGN_OR_RETURN(auto f, Env::Default()->NewWritableFile(tmp));
  FileWriter out(std::move(f));
  Status s = store->GetStream(u.key, &out, byte_range);
  if (s.ok()) s = out.Finish();
  if (s.ok()) s = Env::Default()->RenameFile(tmp, file);
  if (!s.ok()) (void)Env::Default()->RemoveFile(tmp);
  return s;
}

Status Put(const std::string& url, const std::string& file, bool if_absent) {
  ObjectUrl u = SplitUrl(url, false);
  ARK_ASSIGN_OR_RETURN(auto store, OpenObjectStore(u.store_url));
  PutOptions options;
  options.if_absent = if_absent;
  if (file.empty() || file == "-") {
    StdinReader in;
    return store->PutStream(u.key, &in, options);
  }
  return store->PutFile(u.key, file, options);  // local store: copy_file_range
}

// `put FILE URL` (source first, like cp, aws s3 cp and this CLI's own get),
// or `put URL` reading stdin. The old order `put URL FILE` still works when
// it is unambiguous (the second argument is the file), with a warning.
Status PutArgs(const std::vector<std::string>& a, bool if_absent) {
  auto is_file = [](const std::string& p) {
    struct stat st;
    return p == "-" || (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode));
  };
  if (a.size() == 1) return Put(a[0], "-", if_absent);
  if (is_file(a[0])) return Put(a[1], a[0], if_absent);
  if (is_file(a[1])) {
    std::fprintf(stderr,
                 "ark objectstore put: the order URL FILE is deprecated; use put %s %s (source first, like cp)\n",
                 a[1].c_str(), a[0].c_str());
    return Put(a[0], a[1], if_absent);
  }
  return Status::InvalidArgument("ark objectstore put FILE URL: neither '" + a[0] + "' nor '" + a[1] +
                                 "' is a file to upload (FILE first, then the object's URL; - reads stdin)");
}

Status Rm(const std::vector<std::string>& urls, bool recursive) {
  for (const auto& url : urls) {
    ObjectUrl u = SplitUrl(url, recursive && url.rfind("s3://", 0) != 0);
    ARK_ASSIGN_OR_RETURN(auto store, OpenObjectStore(u.store_url));
    if (!recursive) {
      ARK_RETURN_IF_ERROR(store->Delete(u.key));
      continue;
    }
    ARK_ASSIGN_OR_RETURN(auto objects, store->ListAll(u.key));
    std::vector<std::string> keys;
    for (auto& o : objects) keys.push_back(o.key);
    ARK_RETURN_IF_ERROR(store->DeleteMany(keys));
    std::fprintf(stderr, "deleted %zu objects\n", keys.size());
  }
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_COMMAND(objectstore) {
  using namespace ark::cli;
  auto* cmd = app.add_subcommand("objectstore", "List, read, write and delete objects in a store");
  cmd->require_subcommand(1);

  struct Args {
    std::string url, file, range;
    std::vector<std::string> urls;
    bool recursive = false, long_format = false, if_absent = false;
    int page_size = 1000;
  };
  auto args = std::make_shared<Args>();

  auto* ls = cmd->add_subcommand("ls", "List objects under a URL (a store, optionally with a prefix)");
  ls->add_option("url", args->url, "path, file:///path or s3://bucket/prefix")->required();
  ls->add_flag("-r,--recursive", args->recursive, "Do not fold keys at '/'");
  ls->add_flag("-l,--long", args->long_format, "Show ETags too");
  ls->add_option("--page-size", args->page_size, "Keys per listing request (1..1000)");
  ls->callback([args] {
    if (auto s = Ls(args->url, args->recursive, args->long_format, args->page_size); !s.ok()) Fail(s);
  });

  auto* get = cmd->add_subcommand("get", "Download one object (to FILE, or stdout)");
  get->add_option("url", args->url, "the object's URL")->required();
  get->add_option("file", args->file, "destination file, - for stdout (default)");
  get->add_option("--range", args->range, "OFFSET:LENGTH (LENGTH empty = to the end)");
  get->callback([args] {
    if (auto s = Get(args->url, args->file, args->range); !s.ok()) Fail(s);
  });

  auto* put = cmd->add_subcommand("put", "Upload one object: put FILE URL (FILE - or left out: stdin)");
  put->add_option("FILE URL", args->urls, "the source file (- for stdin), then the object's URL")
      ->required()
      ->expected(1, 2);
  put->add_flag("--if-absent", args->if_absent, "Fail if the object exists");
  put->callback([args] {
    if (auto s = PutArgs(args->urls, args->if_absent); !s.ok()) Fail(s);
  });

  auto* rm = cmd->add_subcommand("rm", "Delete objects (missing ones are fine)");
  rm->add_option("urls", args->urls, "object URLs")->required();
  rm->add_flag("-r,--recursive", args->recursive, "Delete everything under each URL as a prefix");
  rm->callback([args] {
    if (auto s = Rm(args->urls, args->recursive); !s.ok()) Fail(s);
  });
}
