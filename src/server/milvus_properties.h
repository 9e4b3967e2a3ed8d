// Milvus properties (string key -> string value) as databases/alter and
// collections/alter_properties take them, and as drop_properties names them:
// one parser for both, so a database and a collection refuse the same things.
//
//   properties   {key: value, ...}: a non-empty object; values are strings,
//                integers or booleans (kept as their text, like Milvus's
//                key-value pairs); an `ark.dr.*` key must hold a readable DR
//                tier or target (dr/drill/tiers.h), else code 1100 naming the
//                key and the choices, before anything is stored.
//   propertyKeys [key, ...]: a non-empty array of strings.
//
// Absent or null: code 1802 (missing parameter); anything else wrong: 1100.
// Both throw HandlerError (caught by HttpServer). Pure; thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ark::server {

std::map<std::string, std::string> PropertiesFromBody(const nlohmann::json& body);
std::vector<std::string> PropertyKeysFromBody(const nlohmann::json& body);

}  // namespace ark::server
