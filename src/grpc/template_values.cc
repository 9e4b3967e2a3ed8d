#include "grpc/template_values.h"

#include <cmath>
#include <stdexcept>

#include "expr/ast.h"

namespace ark::rpc {
namespace {

namespace ms = milvus::proto::schema;
using json = nlohmann::json;

[[noreturn]] void Unsupported(const std::string& key, const std::string& why) {
  throw std::invalid_argument("expression template value '" + key + "' " + why);
}

double Finite(const std::string& key, double d) {
  // JSON has no NaN or infinity: nlohmann would carry them and then dump null.
  if (!std::isfinite(d)) Unsupported(key, "is not a finite number");
  return d;
}

// One element of a JSONArray: JSON text. Nesting is bounded here (the
// filter parser bounds it too, but only after this parse and copy).
json JsonElement(const std::string& key, const std::string& text) {
  json::parser_callback_t depth_check = [&key](int depth, json::parse_event_t, json&) {
    if (depth > expr::kMaxNestingDepth) Unsupported(key, "nests JSON too deeply");
    return true;
  };
  json v = json::parse(text, depth_check, /*allow_exceptions=*/false);
  if (v.is_discarded()) Unsupported(key, "holds JSON that does not parse: " + text.substr(0, 64));
  // An object is no value a filter compares with (exprParams can hold
  // numbers, strings, bools and lists only).
  if (v.is_object()) Unsupported(key, "holds a JSON object; filters take numbers, strings, bools and lists");
  if (v.is_null()) Unsupported(key, "holds a JSON null; filters take numbers, strings, bools and lists");
  return v;
}

json ArrayValue(const std::string& key, const ms::TemplateArrayValue& a, int depth) {
  if (depth > expr::kMaxNestingDepth) Unsupported(key, "nests arrays too deeply");
  json out = json::array();
  switch (a.data_case()) {
    case ms::TemplateArrayValue::kBoolData:
      for (bool b : a.bool_data().data()) out.push_back(b);
      break;
    case ms::TemplateArrayValue::kLongData:
      for (int64_t i : a.long_data().data()) out.push_back(i);
      break;
    case ms::TemplateArrayValue::kDoubleData:
      for (double d : a.double_data().data()) out.push_back(Finite(key, d));
      break;
    case ms::TemplateArrayValue::kStringData:
      for (const auto& s : a.string_data().data()) out.push_back(s);
      break;
    case ms::TemplateArrayValue::kArrayData:
      for (const auto& inner : a.array_data().data()) out.push_back(ArrayValue(key, inner, depth + 1));
      break;
    case ms::TemplateArrayValue::kJsonData:
      for (const auto& text : a.json_data().data()) out.push_back(JsonElement(key, text));
      break;
    case ms::TemplateArrayValue::DATA_NOT_SET:
      break;  // what the SDKs send for an empty list
  }
  return out;
}

json Value(const std::string& key, const ms::TemplateValue& v) {
  switch (v.val_case()) {
    case ms::TemplateValue::kBoolVal:
      return v.bool_val();
    case ms::TemplateValue::kInt64Val:
      return v.int64_val();
    case ms::TemplateValue::kFloatVal:
      return Finite(key, v.float_val());
    case ms::TemplateValue::kStringVal:
      return v.string_val();
    case ms::TemplateValue::kArrayVal:
      return ArrayValue(key, v.array_val(), 0);
    case ms::TemplateValue::kBytesVal:
      Unsupported(key, "is raw bytes (bytes_val, e.g. a Bloom or Roaring filter blob), which Ark's filters do not take");
    case ms::TemplateValue::VAL_NOT_SET:
      break;
  }
  Unsupported(key, "has no value");
}

}  // namespace

json ExprParamsFromTemplates(const google::protobuf::Map<std::string, ms::TemplateValue>& values) {
  json out = json::object();
  for (const auto& [key, value] : values) out[key] = Value(key, value);
  return out;
}

}  // namespace ark::rpc
