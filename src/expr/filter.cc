#include "expr/filter.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "expr/parser.h"
#include "expr/type_checker.h"

namespace ark::expr {

Result<Filter> Filter::Compile(std::string_view text, const SchemaResolver& schema,
                               const nlohmann::json* params) {
  Filter f;
  f.text_ = std::make_unique<std::string>(text);
  ARK_ASSIGN_OR_RETURN(f.root_, ParseFilter(*f.text_, params));
  if (f.root_ != nullptr) ARK_RETURN_IF_ERROR(CheckFilter(*f.text_, schema, f.root_.get()));
  return f;
}

namespace {

void Collect(const Node& n, std::vector<int>* out) {
  if (n.kind == NodeKind::kField) out->push_back(n.field_index);
  for (const auto& c : n.children) Collect(*c, out);
}

bool IsPkField(const Node& n, int pk) {
  return n.kind == NodeKind::kField && n.field_index == pk && n.path.empty() && !n.dynamic;
}

// Appends the keys `n` selects; false when `n` is not a key lookup.
bool CollectKeys(const Node& n, int pk, std::vector<Value>* keys, ExprType* pk_type) {
  switch (n.kind) {
    case NodeKind::kCompare:
      if (n.compare_op != CompareOp::kEq || !IsPkField(*n.children[0], pk) ||
          n.children[1]->kind != NodeKind::kLiteral) {
        return false;
      }
      keys->push_back(n.children[1]->literal);
      *pk_type = n.children[0]->type;
      return true;
    case NodeKind::kIn:
      if (n.negated || !IsPkField(*n.children[0], pk)) return false;
      for (const auto& e : n.children[1]->children) keys->push_back(e->literal);
      *pk_type = n.children[0]->type;
      return true;
    case NodeKind::kOr:
      for (const auto& c : n.children) {
        if (!CollectKeys(*c, pk, keys, pk_type)) return false;
      }
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<int> Filter::ReferencedFields() const {
  std::vector<int> out;
  if (root_) Collect(*root_, &out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Filter::ToString() const { return root_ ? NodeToString(*root_) : "<all>"; }

std::optional<PrimaryKeyList> ExtractPrimaryKeys(const Filter& filter, int pk_field_index) {
  const Node* root = filter.root();
  std::vector<Value> keys;
  ExprType pk_type = ExprType::kUnknown;
  if (root == nullptr || !CollectKeys(*root, pk_field_index, &keys, &pk_type)) {
    return std::nullopt;
  }
  // The checker guarantees the keys' kinds fit the pk field: numbers for an
  // Int key, strings for a VarChar key.
  if (pk_type == ExprType::kString) {
    std::vector<std::string> out;
    std::unordered_set<std::string_view> seen;
    for (const Value& v : keys) {
      if (v.kind == Value::Kind::kString && seen.insert(v.s).second) out.emplace_back(v.s);
    }
    return PrimaryKeyList(std::move(out));
  }
  std::vector<int64_t> out;
  std::unordered_set<int64_t> seen;
  for (const Value& v : keys) {
    int64_t k;
    if (v.kind == Value::Kind::kInt) {
      k = v.i;
    } else if (v.kind == Value::Kind::kDouble && std::trunc(v.d) == v.d &&
               v.d >= -9223372036854775808.0 && v.d < 9223372036854775808.0) {
      k = static_cast<int64_t>(v.d);  // 7.0 selects key 7; 7.5 selects nothing
    } else {
      continue;
    }
    if (seen.insert(k).second) out.push_back(k);
  }
  return PrimaryKeyList(std::move(out));
}

}  // namespace ark::expr
