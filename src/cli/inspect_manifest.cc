// `ark inspect manifest PATH [--json]`: dump a manifest. PATH is a
// MANIFEST-<version> file, or a data directory (then CURRENT is followed).
// Prints the epoch history, the applied and checkpoint positions, and per
// collection its schema, files and flushed position. Damage: exit code 1.
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/command_registry.h"
#include "engine/manifest.h"
#include "engine/manifest_format.h"
#include "storage/env.h"

namespace ark::cli {
namespace {

Status InspectManifest(const std::string& path, bool as_json) {
  Env* env = Env::Default();
  Manifest m;
  std::string file = path;
  if (env->FileExists(JoinPath(path, manifest_format::kCurrentFile))) {
    std::string name;
    ARK_ASSIGN_OR_RETURN(m, LoadCurrentManifest(env, path, &name));
    file = JoinPath(path, name);
  } else {
    std::string data;
    ARK_RETURN_IF_ERROR(env->ReadFileToString(path, &data));
    ARK_ASSIGN_OR_RETURN(m, DecodeManifest(data, path));
  }
  if (as_json) {
    nlohmann::json j = ManifestToJson(m);
    j["path"] = file;
    std::printf("%s\n", j.dump(2).c_str());
    return Status::OK();
  }
  std::printf("manifest %s\n  version %llu  applied %s  checkpoint %s  next collection id %llu\n",
              file.c_str(), static_cast<unsigned long long>(m.version), m.applied.ToString().c_str(),
              m.checkpoint.ToString().c_str(), static_cast<unsigned long long>(m.next_collection_id));
  for (const auto& e : m.epochs) {
    std::printf("  epoch %llu from %s\n", static_cast<unsigned long long>(e.epoch), e.first.ToString().c_str());
  }
  for (const auto& c : m.collections) {
    uint64_t rows = 0;
    for (const auto& s : c.segments) rows += s.rows;
    std::printf("  collection %s.%s (id %llu)  created %s  flushed %s  %zu segments, %llu sealed rows, %zu tombstone files\n",
                c.database.c_str(), c.name.c_str(), static_cast<unsigned long long>(c.id),
                c.created.ToString().c_str(), c.flushed.ToString().c_str(), c.segments.size(),
                static_cast<unsigned long long>(rows), c.tombstone_files.size());
    std::string fields;
    for (const auto& f : c.schema.fields) {
      fields += " " + f.name + ":" + std::string(DataTypeName(f.type));
      if (f.type == DataType::kFloatVector) fields += "(" + std::to_string(f.dim) + ")";
      if (f.type == DataType::kVarChar) fields += "(" + std::to_string(f.max_length) + ")";
      if (f.is_primary_key) fields += "[pk]";
    }
    std::printf("    fields%s%s%s\n", fields.c_str(), c.schema.auto_id ? "  autoID" : "",
                c.schema.enable_dynamic_field ? "  dynamic" : "");
    for (const auto& s : c.segments) {
      std::printf("    segment %s  %llu rows  %llu bytes  lsn %llu..%llu\n", s.file.c_str(),
                  static_cast<unsigned long long>(s.rows), static_cast<unsigned long long>(s.bytes),
                  static_cast<unsigned long long>(s.min_lsn), static_cast<unsigned long long>(s.max_lsn));
      for (const auto& [field, files] : s.index_files) {
        for (const auto& f : files) std::printf("      index %s: %s\n", field.c_str(), f.c_str());
      }
    }
    for (const auto& t : c.tombstone_files) std::printf("    tombstones %s\n", t.c_str());
  }
  return Status::OK();
}

}  // namespace
}  // namespace ark::cli

ARK_CLI_INSPECT(manifest) {
  auto* cmd = inspect.add_subcommand("manifest", "Dump a manifest (a MANIFEST-* file or a data directory)");
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("PATH", *path, "a MANIFEST-<version> file, or a data directory")->required();
  cmd->add_flag("--json", *json, "print JSON instead of text");
  cmd->callback([path, json] {
    ark::Status s = ark::cli::InspectManifest(*path, *json);
    if (!s.ok()) ark::cli::Fail(s);
  });
}
